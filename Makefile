# camera-grpc: the two commands a fresh machine needs.
#   make run    set up .venv (runtime dependencies) and run the service on the simulated camera
#   make test   set up .venv (+ dev dependencies and test tools) and run the whole test suite
# Everything is installed from the lock files; nothing needs to be installed by hand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PYTEST_ARGS ?=
NESTJS_MODULES := clients/nestjs/node_modules/.package-lock.json

.PHONY: run test lint protos protos-check emulator bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(RUNTIME_STAMP) $@

$(NESTJS_MODULES): clients/nestjs/package-lock.json
	scripts/setup_test_env.sh

# exec: the shell make starts becomes camera-grpc, so make's SIGTERM/SIGINT reach it (a graceful
# stop) instead of leaving it running. make itself always exits 2 when a recipe fails; it names
# camera-grpc's own status in its message ("Error 78": a bad setting).
run: $(RUNTIME_STAMP)
	CAMERA_BACKEND=$${CAMERA_BACKEND:-simulated} exec $(BIN)/camera-grpc

test: $(DEV_STAMP)
	scripts/setup_test_env.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

protos: $(DEV_STAMP) $(NESTJS_MODULES)
	PYTHON=$(BIN)/python scripts/gen_protos.sh
	cd clients/nestjs && npm run --silent generate

protos-check: $(DEV_STAMP) $(NESTJS_MODULES)
	PYTHON=$(BIN)/python scripts/gen_protos.sh --check
	cd clients/nestjs && npm run --silent generate:check

emulator:
	scripts/build_emulator.sh

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.capture
	$(BIN)/python -m bench.frames
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.abuse
	$(BIN)/python -m bench.freshness
	$(BIN)/python -m bench.security
	$(BIN)/python -m bench.settings
	$(BIN)/python -m bench.triggering
	$(BIN)/python -m bench.recording
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.statistics

clean:
	rm -rf $(VENV) build .pytest_cache
