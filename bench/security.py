"""What TLS and a bearer token cost: unary latency, raw frame throughput and connection set-up, in one run.

Two services run side by side as separate processes (``python -m camera_grpc``, simulated 2448x2048
mono8 camera at CAMERA_FPS, exposure EXPOSURE_MS, captures as JPEG quality 95 written to disk),
started the same way but for their security settings:

* plaintext: no TLS, no tokens (the loopback default);
* TLS + token: ``TLS_CERT_FILE``/``TLS_KEY_FILE`` (an EC P-256 certificate from a CA made at start,
  ``tests/support/certs.py``) and ``TOKENS_FILE`` (one operator token); the client trusts the CA
  and sends the token with every call.

Each ROUND measures both, one after the other (which one goes first alternates between rounds), so
load from other processes on the machine hits both alike:

1. Unary latency: GETSETTINGS_PER_ROUND ``GetSettings`` (answered without touching the camera) and
   CAPTURES_PER_ROUND ``Capture`` calls through ``AsyncCameraClient`` on an open channel.
2. Connection set-up: HANDSHAKES_PER_ROUND times, a new ``AsyncCameraClient`` (its own subchannel
   pool, so each is a new TCP connection; no TLS session resumption) is created and the time until
   its first ``GetSettings`` answer is taken.
3. Raw throughput: one ``Frames`` subscriber (raw, LATEST) on a channel with the Python client's
   channel options and credentials, reading undecoded messages for THROUGHPUT_S; the camera runs
   faster than the transport moves frames, so the transport is the limit.

Reported: p50/p95 pooled over the rounds for latencies, the median over rounds for throughput, and
the ratios TLS + token / plaintext. Aim (issue 15): ``Capture`` p50 within 1.2x of plaintext.

Run: ``.venv/bin/python -m bench.security`` (writes docs/benchmarks.md; ``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from bench.report import machine, percentiles_ms, write_section
from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.client import AsyncCameraClient, channel_credentials, channel_options
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import ServiceProcess
from tests.support.certs import tls_files

WIDTH, HEIGHT = 2448, 2048
FRAME_BYTES = WIDTH * HEIGHT
#: Above what either transport moves (plain grpcio: ~290 frames/s of 5 MB here), so the camera is not the limit.
CAMERA_FPS = 400.0
EXPOSURE_MS = 0.01
QUALITY = 95
FRAMES_METHOD = "/camera.v1.CameraService/Frames"
#: A channel of its own for each new client: a new connection every time, never a pooled one.
NEW_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]
CAPTURE_AIM = 1.2
PLAIN, SECURE = "plaintext", "TLS + token"


@dataclass(frozen=True)
class Plan:
    rounds: int
    getsettings_per_round: int
    captures_per_round: int
    handshakes_per_round: int
    throughput_s: float


FULL = Plan(rounds=6, getsettings_per_round=200, captures_per_round=25, handshakes_per_round=40, throughput_s=4.0)
QUICK = Plan(rounds=3, getsettings_per_round=100, captures_per_round=10, handshakes_per_round=15, throughput_s=2.0)
WARMUP = 5


@dataclass
class Side:
    """One configuration: how to reach it, and what was measured."""

    name: str
    target: str
    ca: bytes | None = None
    token: str | None = None
    get_settings: list[float] = field(default_factory=list)
    capture: list[float] = field(default_factory=list)
    handshake: list[float] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)  # bytes/s, one per round

    def client(self, options: list[tuple[str, object]] | None = None) -> AsyncCameraClient:
        return AsyncCameraClient(self.target, ca=self.ca, token=self.token, options=options or ())


async def timed(call: object) -> float:
    started = time.perf_counter()
    await call  # type: ignore[misc]
    return time.perf_counter() - started


async def unary_round(side: Side, plan: Plan) -> None:
    async with side.client() as client:
        for _ in range(WARMUP):
            await client.get_settings()
            await client.capture(image_format=pb.IMAGE_FORMAT_JPEG, quality=QUALITY)
        side.get_settings += [await timed(client.get_settings()) for _ in range(plan.getsettings_per_round)]
        side.capture += [
            await timed(client.capture(image_format=pb.IMAGE_FORMAT_JPEG, quality=QUALITY))
            for _ in range(plan.captures_per_round)
        ]


async def handshake_round(side: Side, plan: Plan) -> None:
    for _ in range(plan.handshakes_per_round):
        started = time.perf_counter()
        client = side.client(NEW_CONNECTION)
        await client.get_settings()
        side.handshake.append(time.perf_counter() - started)
        await client.close()


async def throughput_round(side: Side, plan: Plan) -> None:
    """Bytes/s of raw frames one LATEST subscriber receives, reading undecoded messages."""
    credentials = channel_credentials(side.target, ca=side.ca, token=side.token)
    options = channel_options()
    channel = (
        grpc.aio.insecure_channel(side.target, options=options)
        if credentials is None
        else grpc.aio.secure_channel(side.target, credentials, options=options)
    )
    request = pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW, policy=pb.DELIVERY_POLICY_LATEST)
    async with channel:
        call = channel.unary_stream(FRAMES_METHOD)(request.SerializeToString())
        data_bytes, started = 0, None
        async for message in call:
            if started is None:  # first message: start the clock
                started = time.monotonic()
                continue
            data_bytes += len(message)
            if time.monotonic() - started >= plan.throughput_s:
                break
        call.cancel()
        assert started is not None
        side.throughput.append(data_bytes / (time.monotonic() - started))


def service(scratch: Path, name: str, security: dict[str, str]) -> ServiceProcess:
    folder = scratch / name
    folder.mkdir()
    env = {
        "CAMERA_BACKEND": "simulated",
        "REST_ENABLED": "false",
        "SIMULATED_FRAME_RATE": str(CAMERA_FPS),
        "DEFAULT_EXPOSURE": str(EXPOSURE_MS),
        "IMAGE_SAVE_PATH": str(folder / "captures"),
        "IMAGE_QUALITY": str(QUALITY),
        **security,
    }
    return ServiceProcess(env, cwd=folder)


async def measure(plan: Plan, plain: Side, secure: Side) -> None:
    for round_number in range(plan.rounds):
        order = (plain, secure) if round_number % 2 == 0 else (secure, plain)
        for side in order:
            await unary_round(side, plan)
        for side in order:
            await handshake_round(side, plan)
        for side in order:
            await throughput_round(side, plan)


def ratio(secure: float, plain: float) -> str:
    return f"{secure / plain:.2f}x"


def report(plan: Plan, plain: Side, secure: Side, quick: bool) -> str:
    rows = []
    for label, attribute in (("`GetSettings`", "get_settings"), ("`Capture` (JPEG q95)", "capture")):
        plain_p50, plain_p95 = percentiles_ms(getattr(plain, attribute))
        secure_p50, secure_p95 = percentiles_ms(getattr(secure, attribute))
        rows.append(
            f"| {label} | {plain_p50:.2f} | {plain_p95:.2f} | {secure_p50:.2f} | {secure_p95:.2f} "
            f"| {ratio(secure_p50, plain_p50)} | {ratio(secure_p95, plain_p95)} |"
        )
    plain_hs50, plain_hs95 = percentiles_ms(plain.handshake)
    secure_hs50, secure_hs95 = percentiles_ms(secure.handshake)
    rows.append(
        f"| new connection + first `GetSettings` | {plain_hs50:.2f} | {plain_hs95:.2f} | {secure_hs50:.2f} "
        f"| {secure_hs95:.2f} | {ratio(secure_hs50, plain_hs50)} | {ratio(secure_hs95, plain_hs95)} |"
    )
    capture_ratio = percentiles_ms(secure.capture)[0] / percentiles_ms(plain.capture)[0]
    verdict = "met" if capture_ratio <= CAPTURE_AIM else "not met"
    # Per-round ratios of Capture p50s: how much the headline ratio moves with the machine's load.
    round_ratios = [
        percentiles_ms(secure.capture[i : i + plan.captures_per_round])[0]
        / percentiles_ms(plain.capture[i : i + plan.captures_per_round])[0]
        for i in range(0, len(plain.capture), plan.captures_per_round)
    ]
    plain_bps, secure_bps = statistics.median(plain.throughput), statistics.median(secure.throughput)
    getsettings_extra = percentiles_ms(secure.get_settings)[0] - percentiles_ms(plain.get_settings)[0]
    setup_plain = plain_hs50 - percentiles_ms(plain.get_settings)[0]
    setup_secure = secure_hs50 - percentiles_ms(secure.get_settings)[0]
    throughput_runs = ", ".join(
        f"{p / 2**20:.0f}/{s / 2**20:.0f}" for p, s in zip(plain.throughput, secure.throughput, strict=True)
    )
    return f"""
`bench/security.py`: what TLS and a bearer token cost, against a plaintext service in the same run{
        " (quick run)" if quick else ""
    }. Method: see the script's docstring. Two services started the same way (`python -m camera_grpc`,
simulated camera 2448x2048 mono8 at {CAMERA_FPS:g} fps, exposure {EXPOSURE_MS:g} ms, captures JPEG quality
{QUALITY} written with their sidecar to disk), one plaintext without tokens, one with `TLS_CERT_FILE`/
`TLS_KEY_FILE` (EC P-256 certificate) and `TOKENS_FILE` (the client
sends an operator token with every call; no client certificate). Client: `AsyncCameraClient` in this
process, on loopback. {plan.rounds} rounds; in each, both configurations are measured one after the
other, the first alternating between rounds: {plan.getsettings_per_round} `GetSettings` and
{plan.captures_per_round} `Capture` on an open channel (after {WARMUP} warm-up calls each),
{plan.handshakes_per_round} new connections (a new client with its own subchannel pool: a new TCP
connection and a full TLS handshake each; time from creating the client to its first `GetSettings`
answer), and {plan.throughput_s:g} s of one raw `Frames` subscriber (LATEST, undecoded messages counted) on a channel
with the Python client's options (`channel_options()`: BDP probing off, so the flow-control window does not
grow; the "Live frames" section's raw figure uses gRPC's defaults, BDP probing on, and is
not comparable). Latencies are pooled over the rounds; throughput is the median of
the rounds. Machine: {machine()}, shared with a test suite running in a loop (hence the interleaving
and the ratios).

| call | plaintext p50 (ms) | p95 | TLS + token p50 (ms) | p95 | ratio p50 | ratio p95 |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

- Aim (issue 15): `Capture` p50 with TLS + token within {CAPTURE_AIM}x of plaintext: **{capture_ratio:.2f}x,
  {verdict}**. Per-round ratios of `Capture` p50s: {", ".join(f"{r:.2f}" for r in round_ratios)}.
- `GetSettings` (no camera work, so the RPC's own cost): TLS + token adds {getsettings_extra:+.2f} ms at p50:
  TLS record protection both ways, the client's call credentials attaching the token, and the server's
  token check, together (this benchmark does not measure them apart).
- Connection set-up (new connection + first answer, minus a `GetSettings` on an open channel): about
  {setup_plain:.1f} ms plaintext, {setup_secure:.1f} ms with TLS (the handshake: ECDHE key exchange and the
  certificate's signature check, and on the server a `stat` of the certificate files). No aim was set.
- Raw `Frames` throughput, one subscriber (median of {plan.rounds} rounds): plaintext
  **{plain_bps / 2**20:.0f} MiB/s** ({plain_bps / FRAME_BYTES:.0f} frames/s), TLS + token **{secure_bps / 2**20:.0f}
  MiB/s** ({secure_bps / FRAME_BYTES:.0f} frames/s): ratio **{secure_bps / plain_bps:.2f}**. Rounds (MiB/s,
  plaintext/TLS): {throughput_runs}. Both ends encrypt or decrypt every byte on the same 2 cores that also
  produce the frames. No aim was set.
"""


async def run(plan: Plan, quick: bool) -> str:
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        scratch_path = Path(scratch)
        files = tls_files(scratch_path / "pki")
        token = new_token()
        tokens_file = scratch_path / "tokens"
        tokens_file.write_text(token_line("bench", Role.OPERATOR, token))
        tokens_file.chmod(0o600)
        secure_env = {
            "TLS_CERT_FILE": str(files.server_cert),
            "TLS_KEY_FILE": str(files.server_key),
            "TOKENS_FILE": str(tokens_file),
        }
        with (
            service(scratch_path, "plain", {}) as plain_service,
            service(scratch_path, "secure", secure_env) as secure_service,
        ):
            plain = Side(PLAIN, f"127.0.0.1:{plain_service.wait_listening()}")
            secure = Side(SECURE, f"127.0.0.1:{secure_service.wait_listening()}", ca=files.ca.cert_pem, token=token)
            assert "security: no TLS, no tokens" in plain_service.log, plain_service.log
            assert "security: TLS, tokens from" in secure_service.log, secure_service.log
            await measure(plan, plain, secure)
    return report(plan, plain, secure, quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (3 rounds, fewer samples)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    args = parser.parse_args()
    started = time.monotonic()
    body = asyncio.run(run(QUICK if args.quick else FULL, args.quick))
    print(body)
    print(f"(took {time.monotonic() - started:.0f} s)")
    if not args.no_write:
        write_section("TLS and tokens", body)


if __name__ == "__main__":
    main()
