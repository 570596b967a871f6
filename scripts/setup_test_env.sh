#!/usr/bin/env bash
# Installs what the test suite needs beyond the Python packages of .venv:
# Debian packages (only those missing) and Node packages (from lock files).
# Idempotent and quiet when everything is already there. Called by `make test`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Debian packages the tests use, as "command:package" pairs.
debian_needs=(
  "gcc:gcc"            # builds the SDK emulator (libPxLApi.so) from emulator/
  "node:nodejs"        # the NestJS client's tests (clients/nestjs)
  "npm:npm"
  "curl:curl"          # the REST gateway tests run the legacy README's curl commands
  "chromium:chromium"  # the viewer page test (Python playwright drives Debian's chromium, headless)
  "systemd-analyze:systemd"  # tests/test_deploy.py: systemd-analyze verify/security and systemd-sysusers on deploy/systemd
  "prometheus:prometheus"  # the metrics test scrapes the service with a real Prometheus server
)

missing=()
for need in "${debian_needs[@]}"; do
  command -v "${need%%:*}" >/dev/null 2>&1 || missing+=("${need#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node packages of the NestJS client, exactly as locked (again only when the lock file changed).
nestjs="clients/nestjs"
if [ ! -d "$nestjs/node_modules" ] || [ "$nestjs/package-lock.json" -nt "$nestjs/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in $nestjs" >&2
  (cd "$nestjs" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
