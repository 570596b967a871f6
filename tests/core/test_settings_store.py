"""The files under STATE_PATH: written atomically, read back exactly, and a damaged one does not stop the service."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from camera_grpc.core.settings_store import Preset, PresetStore, Requested, SettingsStore
from camera_grpc.device.settings import (
    AutoMode,
    CameraSettings,
    FrameRate,
    FrameRateMode,
    PixelAddressing,
    Range,
    Region,
    WhiteBalance,
)
from camera_grpc.errors import InvalidArgumentError, PresetNotFoundError
from camera_grpc.formats import PixelFormat

SETTINGS = CameraSettings(
    exposure_ms=12.5,
    gain_db=3.0,
    roi=Region(8, 4, 320, 240),
    pixel_addressing=PixelAddressing(horizontal=2, vertical=2),
    pixel_format=PixelFormat.MONO12_PACKED,
    frame_rate=FrameRate(FrameRateMode.FIXED, 25.0),
    exposure_auto=AutoMode.CONTINUOUS,
    exposure_auto_limits_ms=Range(1.0, 50.0),
    white_balance=WhiteBalance(AutoMode.OFF, 1.5, 1.0, 2.0),
    gamma=2.2,
)


def test_the_requested_settings_are_read_back_exactly_and_only_those_asked_for(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    requested = Requested.of({"exposure_ms": 100.0, "gain_db": 0.0}).with_values(
        {"roi": SETTINGS.roi, "pixel_format": SETTINGS.pixel_format, "white_balance": SETTINGS.white_balance}
    )
    store.save(requested, revision=7)
    values, revision = store.load()
    assert revision == 7
    assert values == {
        "roi": SETTINGS.roi,
        "pixel_format": PixelFormat.MONO12_PACKED,
        "white_balance": SETTINGS.white_balance,
    }
    assert json.loads(store.path.read_text())["requested"]["pixel_format"] == "mono12_packed"  # the API's names
    assert [path.name for path in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left


def test_a_damaged_settings_file_is_moved_aside_and_the_defaults_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SettingsStore(tmp_path)
    store.path.write_text('{"version": 1, "requested": {"roi": ')  # torn (as no atomic write would leave it)
    with caplog.at_level(logging.ERROR):
        assert store.load() == ({}, 0)
    assert not store.path.exists() and (tmp_path / "settings.json.unreadable").exists()
    assert "starting from the defaults" in caplog.text


def test_a_value_that_no_longer_parses_is_left_out_and_the_others_kept(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.path.write_text(
        json.dumps({"version": 1, "revision": 3, "requested": {"gain_db": 6.0, "pixel_format": "mono99", "nope": 1}})
    )
    assert store.load() == ({"gain_db": 6.0}, 3)


def test_presets_round_trip_and_refuse_bad_ids(tmp_path: Path) -> None:
    presets = PresetStore(tmp_path)
    created = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    presets.save(Preset("night-2", SETTINGS, created))
    assert presets.get("night-2") == Preset("night-2", SETTINGS, created)
    assert [preset.preset_id for preset in presets.list()] == ["night-2"]
    (presets.directory / "broken.json").write_text("{")  # an unreadable file is skipped, not fatal
    assert [preset.preset_id for preset in presets.list()] == ["night-2"]
    for bad in ("", "2night", "night_2", "Night", "night-", "n" * 64, "../x"):
        with pytest.raises(InvalidArgumentError) as caught:
            presets.get(bad)
        assert caught.value.field == "preset_id"
    presets.delete("night-2")
    with pytest.raises(PresetNotFoundError):
        presets.get("night-2")
    assert sorted(path.name for path in presets.directory.iterdir()) == ["broken.json"]
