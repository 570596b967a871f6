"""The controller over the whole CameraSettings, on the simulated camera: partial updates by field path, all or
nothing, conditional updates, revisions and watchers, persistence and re-apply, presets, camera channels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from grpc_health.v1 import health_pb2

from camera_grpc.core.controller import CameraController, Cause, SettingsSnapshot
from camera_grpc.device.settings import AutoMode, CameraSettings, Region, set_path
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.errors import (
    InvalidArgumentError,
    InvalidSettingError,
    PresetNotFoundError,
    RevisionMismatchError,
    SettingsConflictError,
)
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import RunningService, ServiceFactory, eventually

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SMALL_CAMERA: dict[str, object] = {"width": 640, "height": 480, "max_frame_rate_fps": 200}
#: A gain inside the advertised range that RefusingCamera refuses when it is set.
REFUSED_GAIN_DB = 5.0


class RefusingCamera(SimulatedCamera):
    """Refuses one in-range gain at the moment it is set (after the settings before it were written)."""

    def write_setting(self, name: str, value: Any) -> None:
        if name == "gain_db" and value == REFUSED_GAIN_DB:
            raise InvalidSettingError("gain_db", value, reason="is refused by the camera in its current mode")
        super().write_setting(name, value)


def controller_of(service: RunningService) -> CameraController:
    return service.runtime.controller


def saved_requested(service: RunningService) -> dict[str, Any]:
    document = json.loads((service.settings.state_path / "settings.json").read_text())
    return document["requested"]  # type: ignore[no-any-return]


async def change(camera: CameraController, *changes: tuple[str, Any], **kwargs: Any) -> SettingsSnapshot:
    """update_settings with ``(path, value)`` pairs, over the current settings."""
    patch: CameraSettings = (await camera.get_settings()).settings
    for path, value in changes:
        patch = set_path(patch, path, value)
    return await camera.update_settings(patch, [path for path, _ in changes], **kwargs)


async def next_with(watch: AsyncIterator[SettingsSnapshot], *causes: Cause) -> SettingsSnapshot:
    """The next snapshot of ``watch`` with one of ``causes`` (others skipped)."""
    async for snapshot in watch:
        if snapshot.cause in causes:
            return snapshot
    raise AssertionError(f"the watch ended before a {' or '.join(cause.value for cause in causes)} snapshot")


async def test_a_nested_path_changes_that_part_only_and_persists_only_what_was_asked_for(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    before = await camera.get_settings()
    applied = await change(camera, ("roi.width", 320), ("roi.offset_x", 64))
    assert applied.settings.roi == Region(64, 0, 320, before.settings.roi.height)
    assert (applied.width, applied.height) == (320, before.height)  # the geometry follows
    assert applied.settings.exposure_ms == before.settings.exposure_ms
    assert applied.settings.pixel_format is before.settings.pixel_format
    assert applied.revision == before.revision + 1
    assert service.camera.read_settings().settings.roi == applied.settings.roi  # the camera itself
    assert set(saved_requested(service)) == {"roi"}  # not pixel_format, flip, nor the configured exposure
    assert saved_requested(service)["roi"] == {"offset_x": 64, "offset_y": 0, "width": 320, "height": 480}


async def test_a_refused_value_changes_nothing_even_after_another_was_written(start_service: ServiceFactory) -> None:
    service = await start_service(driver=RefusingCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    before = await camera.get_settings()
    saved_before = saved_requested(service) if (service.settings.state_path / "settings.json").exists() else None
    with pytest.raises(InvalidSettingError, match="refused by the camera"):
        await change(camera, ("roi.width", 320), ("exposure_ms", 50.0), ("gain_db", REFUSED_GAIN_DB))
    after = await camera.get_settings()
    assert after == before  # same revision, same values
    reading = service.camera.read_settings().settings
    assert (reading.roi, reading.exposure_ms) == (before.settings.roi, before.settings.exposure_ms)
    now_saved = saved_requested(service) if (service.settings.state_path / "settings.json").exists() else None
    assert now_saved == saved_before


async def test_a_value_outside_the_cameras_features_is_refused_before_any_camera_work(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    before = await camera.get_settings()
    with pytest.raises(InvalidSettingError) as caught:
        await change(camera, ("roi.width", 321))
    assert caught.value.field == "roi.width" and "step 8" in str(caught.value)
    with pytest.raises(InvalidArgumentError) as unknown:
        await camera.update_settings(before.settings, ["roi.depth"])
    assert unknown.value.field == "update_mask"
    assert await camera.get_settings() == before


async def test_an_expected_revision_that_is_not_current_is_aborted_and_changes_nothing(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    first = await change(camera, ("exposure_ms", 5.0))
    second = await change(camera, ("exposure_ms", 6.0), expected_revision=first.revision)
    assert second.revision == first.revision + 1
    with pytest.raises(RevisionMismatchError) as caught:
        await change(camera, ("exposure_ms", 7.0), expected_revision=first.revision)
    assert caught.value.current == second.revision
    assert await camera.get_settings() == second
    assert service.camera.get_exposure_ms() == pytest.approx(6.0)


async def test_every_cause_of_a_change_gets_a_new_revision_in_order(start_service: ServiceFactory) -> None:
    driver = SimulatedCamera(**SMALL_CAMERA)
    service = await start_service(driver=driver)
    camera = controller_of(service)
    watch = camera.watch_settings()
    initial = await anext(watch)
    assert initial.cause is Cause.INITIAL
    seen = [initial.revision]

    await change(camera, ("gain_db", 3.0))
    seen.append((await next_with(watch, Cause.UPDATE)).revision)

    await camera.create_preset("bright")
    await change(camera, ("gain_db", 6.0))
    seen.append((await next_with(watch, Cause.UPDATE)).revision)
    preset = await camera.apply_preset("bright")
    assert preset.settings.gain_db == pytest.approx(3.0)
    seen.append((await next_with(watch, Cause.PRESET)).revision)

    await camera.save_to_camera_channel(1)
    loaded = await camera.load_from_camera_channel(0)  # factory defaults
    assert loaded.settings.gain_db == 0.0
    seen.append((await next_with(watch, Cause.CAMERA_CHANNEL)).revision)

    driver.unplug()
    gone = await next_with(watch, Cause.DISCONNECT)
    assert not gone.connected and gone.revision == seen[-1]  # not a change of the settings
    driver.replug()
    back = await next_with(watch, Cause.RECONNECT)
    assert back.connected
    seen.append(back.revision)

    frames = service.stub.Frames(pb.FramesRequest(max_width=64, encoding=pb.FRAME_ENCODING_JPEG))
    await frames.read()  # acquisition runs: auto exposure adjusts on the frames
    await change(camera, ("exposure_auto", AutoMode.CONTINUOUS))
    # (the camera may adjust before this watcher reads: a slow watcher gets the newest snapshot)
    newest = await next_with(watch, Cause.UPDATE, Cause.AUTO)
    seen.append(newest.revision)
    if newest.cause is Cause.UPDATE:
        seen.append((await next_with(watch, Cause.AUTO)).revision)
    frames.cancel()
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


async def test_a_slow_watcher_gets_the_newest_settings_never_a_backlog(start_service: ServiceFactory) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    watch = camera.watch_settings()
    await anext(watch)
    results = [await change(camera, ("gain_db", float(gain))) for gain in range(1, 6)]
    newest = await anext(watch)  # the watcher read nothing while the five changes were made
    assert (newest.revision, newest.settings.gain_db) == (results[-1].revision, 5.0)
    following = await change(camera, ("gain_db", 7.0))
    assert (await anext(watch)).revision == following.revision  # the skipped ones never come later


async def test_requested_settings_survive_a_restart_and_are_re_applied_after_a_replug(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    state = tmp_path / "shared-state"
    first = await start_service(driver=SimulatedCamera(**SMALL_CAMERA), state_path=state)
    await change(controller_of(first), ("roi.width", 256), ("roi.height", 128), ("exposure_ms", 9.0))
    await first.runtime.aclose()  # the first service is gone

    driver = SimulatedCamera(**SMALL_CAMERA)
    second = await start_service(driver=driver, state_path=state, image_save_path=tmp_path / "captures-2")
    await second.wait_for_health(SERVING)
    settings = (await controller_of(second).get_settings()).settings
    assert (settings.roi.width, settings.roi.height, settings.exposure_ms) == (256, 128, pytest.approx(9.0))
    assert driver.read_settings().settings.roi.width == 256  # on the camera, not only in the report

    driver.unplug()
    await second.wait_for_health(NOT_SERVING)
    driver.replug()
    await second.wait_for_health(SERVING)
    reading = driver.read_settings().settings  # the camera came back at its power-up values; re-applied
    assert (reading.roi.width, reading.roi.height, reading.exposure_ms) == (256, 128, pytest.approx(9.0))


async def test_a_persisted_roi_a_smaller_camera_cannot_take_is_a_conflict_not_a_silent_change(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    state = tmp_path / "shared-state"
    first = await start_service(driver=SimulatedCamera(**SMALL_CAMERA), state_path=state)
    await change(controller_of(first), ("roi.width", 600))
    await first.runtime.aclose()

    small = SimulatedCamera(width=320, height=240, max_frame_rate_fps=200)
    second = await start_service(driver=small, state_path=state, image_save_path=tmp_path / "captures-2")
    camera = controller_of(second)
    await eventually(lambda: camera.conflict is not None, what="the conflict reported")
    assert not camera.ready and await second.health_status() == NOT_SERVING
    assert camera.conflict is not None and camera.conflict.fields == ("roi",)
    assert "roi.width=600" in str(camera.conflict)
    reported = await camera.get_settings()
    assert (reported.connected, reported.settings.roi.width) == (False, 600)  # what was asked for
    with pytest.raises(SettingsConflictError):
        await camera.capture()

    with pytest.raises(InvalidSettingError) as still:  # the rest of the requested region is still too large
        await change(camera, ("roi.width", 320))
    assert still.value.field == "roi.height"
    fitted = await change(camera, ("roi.width", 320), ("roi.height", 240))
    assert fitted.connected and (fitted.settings.roi.width, fitted.settings.roi.height) == (320, 240)
    await second.wait_for_health(SERVING)


async def test_presets_are_kept_across_restarts_and_apply_all_or_nothing(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    state = tmp_path / "shared-state"
    first = await start_service(driver=SimulatedCamera(**SMALL_CAMERA), state_path=state)
    camera = controller_of(first)
    await change(camera, ("exposure_ms", 4.0), ("roi.width", 320))
    created = await camera.create_preset("day-1")
    assert created.settings.roi.width == 320
    with pytest.raises(InvalidArgumentError) as bad:
        await camera.create_preset("Day_1")
    assert bad.value.field == "preset_id" and "AIP-122" in str(bad.value)
    await camera.create_preset("night")
    assert [preset.preset_id for preset in await camera.list_presets()] == ["day-1", "night"]
    await camera.delete_preset("night")
    with pytest.raises(PresetNotFoundError):
        await camera.delete_preset("night")
    with pytest.raises(PresetNotFoundError):
        await camera.get_preset("night")
    await first.runtime.aclose()

    second = await start_service(
        driver=SimulatedCamera(**SMALL_CAMERA), state_path=state, image_save_path=tmp_path / "captures-2"
    )
    camera = controller_of(second)
    assert [preset.preset_id for preset in await camera.list_presets()] == ["day-1"]
    await change(camera, ("exposure_ms", 8.0), ("roi.width", 640))
    applied = await camera.apply_preset("day-1")
    assert (applied.settings.exposure_ms, applied.settings.roi.width) == (pytest.approx(4.0), 320)
    with pytest.raises(RevisionMismatchError):
        await camera.apply_preset("day-1", expected_revision=applied.revision - 1)


async def test_camera_channels_save_and_load_and_refuse_a_channel_out_of_range(start_service: ServiceFactory) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    channels = (await camera.info()).settings_channels
    await change(camera, ("exposure_ms", 7.0), ("roi.width", 320))
    await camera.save_to_camera_channel(1)
    await change(camera, ("exposure_ms", 9.0))
    loaded = await camera.load_from_camera_channel(1)
    assert (loaded.cause, loaded.settings.exposure_ms, loaded.settings.roi.width) == (
        Cause.CAMERA_CHANNEL,
        pytest.approx(7.0),
        320,
    )
    assert saved_requested(service)["exposure_ms"] == pytest.approx(7.0)
    for bad in (channels + 1, 0):
        with pytest.raises(InvalidArgumentError) as caught:
            await camera.save_to_camera_channel(bad)
        assert (caught.value.field, caught.value.minimum, caught.value.maximum) == ("channel", 1, channels)
    with pytest.raises(InvalidArgumentError, match=f"between 0 and {channels}"):
        await camera.load_from_camera_channel(channels + 1)


async def test_the_end_of_a_once_adjustment_is_observed_and_becomes_the_requested_value(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    frames = service.stub.Frames(pb.FramesRequest(max_width=64, encoding=pb.FRAME_ENCODING_JPEG))
    await frames.read()  # acquisition runs: the camera adjusts exposure on its frames
    watch = camera.watch_settings()
    await anext(watch)
    await change(camera, ("exposure_ms", 0.05))  # far too dark, also in the frames already in flight
    await frames.read()
    await change(camera, ("exposure_auto", AutoMode.ONCE))
    ended: SettingsSnapshot | None = None
    async for snapshot in watch:
        if snapshot.settings.exposure_auto is AutoMode.OFF:
            ended = snapshot
            break
    frames.cancel()
    assert ended is not None and ended.cause in (Cause.AUTO, Cause.UPDATE)
    assert ended.settings.exposure_ms != pytest.approx(0.05)  # the value the adjustment found
    assert camera.requested["exposure_auto"] is AutoMode.OFF
    assert camera.requested["exposure_ms"] == pytest.approx(ended.settings.exposure_ms)
    await eventually(lambda: saved_requested(service)["exposure_auto"] == "off", what="the end persisted")


async def test_watches_end_when_the_service_stops(start_service: ServiceFactory) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))
    camera = controller_of(service)
    watch = camera.watch_settings()
    await anext(watch)
    waiting = asyncio.ensure_future(anext(watch, None))
    camera.close_watches()
    assert await waiting is None
