"""The service's Prometheus metrics, read from its registry while it serves real clients over TCP."""

from __future__ import annotations

import asyncio
import shutil
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2

from camera_grpc.client import channel_options
from camera_grpc.contract import CAMERA_SERVICE, CAMERA_SERVICE_NAME
from camera_grpc.core.events import EventType
from camera_grpc.core.metrics import CAPTURE_STAGES, DROP_REASONS, POLICIES, PROTOCOLS, TRIGGER_SOURCES, ServiceMetrics
from camera_grpc.formats import Encoding
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import RunningService, ServiceFactory, eventually

SMALL_CAMERA = {"simulated_width": 320, "simulated_height": 240, "simulated_frame_rate": 100.0, "default_exposure": 1.0}
FRAME_BYTES = 320 * 240
QUEUE = pb.DELIVERY_POLICY_QUEUE
LATEST = pb.DELIVERY_POLICY_LATEST
GRPC_CODES = {code.name for code in grpc.StatusCode}


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_CAMERA)


def metrics_of(service: RunningService) -> ServiceMetrics:
    metrics = service.runtime.metrics
    assert metrics is not None
    return metrics


def value(running: RunningService, name: str, **labels: str) -> float:
    """A sample's value now (0 if the series does not exist yet)."""
    found = metrics_of(running).registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def requests(service: RunningService, method: str, code: str, grpc_service: str = CAMERA_SERVICE_NAME) -> float:
    return value(service, "camera_grpc_rpc_requests_total", service=grpc_service, method=method, code=code)


async def test_calls_are_counted_by_method_and_code_with_their_latency(small: RunningService) -> None:
    for _ in range(7):
        await small.stub.GetSettings(pb.GetSettingsRequest())
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError):
            await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=-1.0))
    with pytest.raises(grpc.aio.AioRpcError):
        await small.stub.GetCapture(pb.GetCaptureRequest(filename="capture_nothing.jpg"))
    await small.health.Check(health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME))
    with pytest.raises(grpc.aio.AioRpcError):  # the health servicer aborts by itself (context.abort)
        await small.health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    unknown = small.channel.unary_unary("/camera.v1.CameraService/NoSuchMethod")
    with pytest.raises(grpc.aio.AioRpcError):
        await unknown(b"")

    assert requests(small, "GetSettings", "OK") == 7
    assert requests(small, "UpdateSettings", "INVALID_ARGUMENT") == 2
    assert requests(small, "UpdateSettings", "OK") == 0
    assert requests(small, "GetCapture", "NOT_FOUND") == 1
    assert requests(small, "Check", "OK", grpc_service="grpc.health.v1.Health") == 1
    assert requests(small, "Check", "NOT_FOUND", grpc_service="grpc.health.v1.Health") == 1
    assert requests(small, "unknown", "UNIMPLEMENTED", grpc_service="unknown") == 1
    count = value(small, "camera_grpc_rpc_duration_seconds_count", service=CAMERA_SERVICE_NAME, method="GetSettings")
    assert count == 7
    total = value(small, "camera_grpc_rpc_duration_seconds_sum", service=CAMERA_SERVICE_NAME, method="GetSettings")
    assert 0 < total < 7 * 1.0
    assert value(small, "camera_grpc_rpc_active", service=CAMERA_SERVICE_NAME, method="GetSettings") == 0


async def test_streams_are_counted_when_they_end_with_their_code(start_service: ServiceFactory) -> None:
    service = await start_service(**SMALL_CAMERA, grpc_max_streams=2)
    done = [message async for message in service.stub.Frames(pb.FramesRequest(max_frames=3))]
    assert len(done) == 3
    assert requests(service, "Frames", "OK") == 1

    open_stream = service.stub.Frames(pb.FramesRequest())
    await open_stream.read()
    watch = service.health.Watch(health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME))
    await watch.read()
    assert value(service, "camera_grpc_rpc_active", service=CAMERA_SERVICE_NAME, method="Frames") == 1
    assert requests(service, "Frames", "CANCELLED") == 0  # not counted while it runs
    refused = service.stub.Frames(pb.FramesRequest())  # a third long-lived stream: over GRPC_MAX_STREAMS
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refused.read()
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert requests(service, "Frames", "RESOURCE_EXHAUSTED") == 1

    open_stream.cancel()
    watch.cancel()
    await eventually(lambda: requests(service, "Frames", "CANCELLED") == 1, what="a cancelled stream counted")
    await eventually(lambda: requests(service, "Watch", "CANCELLED", grpc_service="grpc.health.v1.Health") == 1)
    assert value(service, "camera_grpc_rpc_active", service=CAMERA_SERVICE_NAME, method="Frames") == 0
    lifetime = value(service, "camera_grpc_rpc_duration_seconds_count", service=CAMERA_SERVICE_NAME, method="Frames")
    assert lifetime == 3


async def test_dropped_frames_are_counted_under_their_reason(start_service: ServiceFactory) -> None:
    service = await start_service(**SMALL_CAMERA, frames_subscriber_budget_bytes=2 * FRAME_BYTES)
    dropped = {reason: value(service, "camera_grpc_frames_dropped_total", reason=reason) for reason in DROP_REASONS}
    assert dropped == dict.fromkeys(DROP_REASONS, 0.0)  # every reason is a series from the start

    # max_fps: a subscriber asking for 5 fps of a 100 fps camera is not offered most frames.
    paced = service.stub.Frames(pb.FramesRequest(max_fps=5.0))
    # policy: a LATEST subscriber that stops reading has its buffered frame replaced by each newer one.
    stalled_latest = service.stub.Frames(pb.FramesRequest(policy=LATEST))
    # budget: a deep QUEUE subscriber that stops reading holds at most 2 frames' bytes (its budget).
    stalled_queue = service.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=64))
    for call in (paced, stalled_latest, stalled_queue):
        await call.read()
    await eventually(lambda: value(service, "camera_grpc_frames_dropped_total", reason="max_fps") >= 5)
    await eventually(lambda: value(service, "camera_grpc_frames_dropped_total", reason="policy") >= 5)
    await eventually(lambda: value(service, "camera_grpc_frames_dropped_total", reason="budget") >= 5)
    assert value(service, "camera_grpc_frames_dropped_total", reason="camera") == 0  # the camera kept up

    # camera: the camera thread held up for 0.2 s (10 frame times): the camera's numbers skip those frames.
    held_up = []

    def hold_up_once(frame: object) -> None:
        if not held_up:
            held_up.append(frame)
            time.sleep(0.2)

    service.runtime.worker.add_frame_listener(hold_up_once)
    await eventually(lambda: value(service, "camera_grpc_frames_dropped_total", reason="camera") >= 5)
    assert value(service, "camera_grpc_frames_dropped_total", reason="camera") <= 25
    assert value(service, "camera_grpc_frames_produced_total") > 10
    for call in (paced, stalled_latest, stalled_queue):
        call.cancel()


async def test_a_reconnected_camera_and_restarted_acquisition_are_not_counted_as_camera_drops(
    small: RunningService,
) -> None:
    for _ in range(2):
        await anext(aiter(small.stub.Frames(pb.FramesRequest(max_frames=1))))
        await eventually(lambda: not small.runtime.worker.is_acquiring)  # stopped after the linger
        await small.stub.Capture(pb.CaptureRequest())  # takes frames while no stream runs: numbers move on
    small.camera.unplug()
    await eventually(lambda: value(small, "camera_grpc_camera_connected") == 0)
    small.camera.replug()
    await eventually(lambda: value(small, "camera_grpc_camera_connected") == 1)
    await eventually(lambda: value(small, "camera_grpc_camera_ready") == 1)
    messages = [message async for message in small.stub.Frames(pb.FramesRequest(max_frames=5))]
    assert len(messages) == 5
    assert value(small, "camera_grpc_frames_dropped_total", reason="camera") == 0
    assert value(small, "camera_grpc_camera_reconnects_total") == 1


async def test_capture_stages_are_observed(small: RunningService) -> None:
    for _ in range(3):
        await small.stub.Capture(pb.CaptureRequest(exposure_ms=5.0))
    for stage in CAPTURE_STAGES:
        assert value(small, "camera_grpc_capture_stage_seconds_count", stage=stage) == 3, stage
        assert value(small, "camera_grpc_capture_stage_seconds_sum", stage=stage) > 0, stage
    # grab: at least the exposure of each frame
    assert value(small, "camera_grpc_capture_stage_seconds_sum", stage="grab") >= 3 * 0.005


async def test_subscribers_by_kind_and_queued_bytes(small: RunningService) -> None:
    jpeg_queue = small.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_JPEG, policy=QUEUE, queue_depth=16))
    raw_latest = small.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW, policy=LATEST))
    for call in (jpeg_queue, raw_latest):
        await call.read()

    def subscribers(encoding: str, policy: str) -> float:
        return value(small, "camera_grpc_frames_subscribers", encoding=encoding, policy=policy)

    assert subscribers("jpeg", "queue") == 1
    assert subscribers("raw", "latest") == 1
    assert subscribers("png", "latest") == 0  # every kind is a series from the start
    # The stalled QUEUE reader's backlog is held by the hub, in bytes.
    await eventually(lambda: value(small, "camera_grpc_frames_queued_bytes") >= 4 * FRAME_BYTES)
    assert value(small, "camera_grpc_frames_queued_bytes") == small.runtime.frames.held_bytes
    assert value(small, "camera_grpc_frames_budget_bytes") == small.settings.frames_budget_bytes
    jpeg_queue.cancel()
    raw_latest.cancel()
    await eventually(lambda: subscribers("jpeg", "queue") == 0 and subscribers("raw", "latest") == 0)
    assert value(small, "camera_grpc_frames_queued_bytes") == 0


async def test_camera_connected_and_reconnects(small: RunningService) -> None:
    assert value(small, "camera_grpc_camera_connected") == 1
    assert value(small, "camera_grpc_camera_ready") == 1
    assert value(small, "camera_grpc_camera_reconnects_total") == 0
    for round_number in (1, 2):
        small.camera.unplug()
        await eventually(lambda: value(small, "camera_grpc_camera_connected") == 0)
        assert value(small, "camera_grpc_camera_ready") == 0
        small.camera.replug()
        await eventually(lambda: value(small, "camera_grpc_camera_connected") == 1)
        assert value(small, "camera_grpc_camera_reconnects_total") == round_number


async def test_open_grpc_connections_are_counted(small: RunningService) -> None:
    await small.stub.GetSettings(pb.GetSettingsRequest())  # the fixture's own channel
    before = value(small, "camera_grpc_open_connections", protocol="grpc")
    assert before >= 1
    channels = [
        grpc.aio.insecure_channel(small.address, options=[*channel_options(), ("grpc.use_local_subchannel_pool", 1)])
        for _ in range(3)
    ]
    for channel in channels:
        await camera_pb2_grpc.CameraServiceStub(channel).GetSettings(pb.GetSettingsRequest())
    assert value(small, "camera_grpc_open_connections", protocol="grpc") == before + 3
    for channel in channels:
        await channel.close()
    await eventually(lambda: value(small, "camera_grpc_open_connections", protocol="grpc") == before)


async def test_disk_space_and_process_series(small: RunningService) -> None:
    await small.stub.Capture(pb.CaptureRequest())
    usage = shutil.disk_usage(small.captures)
    assert value(small, "camera_grpc_captures_disk_size_bytes") == usage.total
    assert abs(value(small, "camera_grpc_captures_disk_free_bytes") - usage.free) < 64 * 1024 * 1024
    assert value(small, "process_open_fds") > 0
    assert value(small, "process_max_fds") > 0


async def test_label_sets_stay_bounded(small: RunningService) -> None:
    """Whatever clients send (unknown methods, request ids, stream options), labels take known values only."""
    for index in range(40):
        unknown = small.channel.unary_unary(f"/camera.v1.CameraService/Method{index}")
        with pytest.raises(grpc.aio.AioRpcError):
            await unknown(b"", metadata=(("x-request-id", f"id-{index}"),))
        other_service = small.channel.unary_unary(f"/evil.Service{index}/Call")
        with pytest.raises(grpc.aio.AioRpcError):
            await other_service(b"")
        await small.stub.GetSettings(pb.GetSettingsRequest(), metadata=(("x-request-id", f"id-{index}"),))
        with pytest.raises(grpc.aio.AioRpcError):
            await small.stub.GetCapture(pb.GetCaptureRequest(filename=f"capture_{index}.jpg"))
    streams = [
        small.stub.Frames(pb.FramesRequest(encoding=encoding, policy=policy, max_frames=2, max_width=width))
        for encoding in (pb.FRAME_ENCODING_RAW, pb.FRAME_ENCODING_JPEG, pb.FRAME_ENCODING_PNG)
        for policy in (LATEST, QUEUE)
        for width in (64, 100)
    ]

    async def drain(call: grpc.aio.UnaryStreamCall) -> list[pb.FramesResponse]:
        return [message async for message in call]

    await asyncio.gather(*(drain(call) for call in streams))

    methods = {method.name for method in CAMERA_SERVICE.methods} | {"Check", "Watch", "ServerReflectionInfo"}
    allowed = {
        "service": {CAMERA_SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
        | {"unknown"},
        "method": methods | {"unknown"},
        "code": GRPC_CODES,
        "reason": set(DROP_REASONS),
        "stage": set(CAPTURE_STAGES),
        "encoding": {encoding.value for encoding in Encoding},
        "policy": set(POLICIES),
        "protocol": set(PROTOCOLS),
        "type": {event_type.value for event_type in EventType},
        "source": set(TRIGGER_SOURCES),
    }
    series = 0
    for family in metrics_of(small).registry.collect():
        if not family.name.startswith("camera_grpc_"):
            continue
        for sample in family.samples:
            series += 1
            for label, label_value in sample.labels.items():
                if label == "le":  # histogram buckets: fixed
                    continue
                assert label in allowed, f"{sample.name}: unexpected label {label}"
                assert label_value in allowed[label], f"{sample.name}: {label}={label_value!r}"
    assert series < 400
    assert requests(small, "unknown", "UNIMPLEMENTED", grpc_service="unknown") == 80


async def test_metrics_can_be_turned_off(start_service: ServiceFactory) -> None:
    service = await start_service(**SMALL_CAMERA, metrics_enabled=False)
    assert service.runtime.metrics is None
    await service.stub.GetSettings(pb.GetSettingsRequest())
    assert [message async for message in service.stub.Frames(pb.FramesRequest(max_frames=2))]
    await service.stub.Capture(pb.CaptureRequest())
