"""What clients asked for, kept on disk, and named presets: files under ``STATE_PATH``.

* ``STATE_PATH/settings.json``: the requested settings (only the top-level settings a client set,
  by name) and the revision they were saved at. Re-applied at start-up and after every reconnect.
* ``STATE_PATH/presets/{preset_id}.json``: one preset each (full settings and their creation time).

Every file is written atomically (a temporary file in the same folder, flushed and fsynced, renamed
over the old one, then the folder fsynced), so a crash or power cut leaves the old or the new file,
never a torn one. Values are stored as JSON through pydantic's adapters of the domain dataclasses
(:mod:`camera_grpc.device.settings`), so the file names every value as the API does (``mono8``,
``continuous``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError

from camera_grpc.core.atomic import fsync_directory, replace_atomically
from camera_grpc.device.settings import SETTING_FIELDS, CameraSettings
from camera_grpc.errors import (
    InvalidArgumentError,
    PresetNotFoundError,
    StorageFullError,
    StorageUnavailableError,
    echo,
)

log = logging.getLogger(__name__)

#: The file of the requested settings, inside STATE_PATH.
SETTINGS_FILE = "settings.json"
#: The folder of the presets, inside STATE_PATH.
PRESETS_FOLDER = "presets"
#: Written in every file; a file of another version is not read.
FORMAT_VERSION = 1
#: A preset id (AIP-122): 1 to 63 characters, lower-case letters, digits and "-", starting with a
#: letter, not ending with "-".
PRESET_ID_PATTERN = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
PRESET_ID_RULE = (
    "must be 1 to 63 characters: lower-case letters, digits and '-', starting with a letter and not ending "
    "with '-' (AIP-122)"
)


# -- values as JSON -----------------------------------------------------------------------------------


@functools.cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(get_type_hints(CameraSettings)[name])


@functools.cache
def _settings_adapter() -> TypeAdapter[CameraSettings]:
    return TypeAdapter(CameraSettings)


def settings_to_json(settings: CameraSettings) -> dict[str, Any]:
    """Full settings as a JSON-ready dict."""
    return _settings_adapter().dump_python(settings, mode="json")  # type: ignore[no-any-return]


def settings_from_json(document: Any) -> CameraSettings:
    """Full settings from :func:`settings_to_json`'s form (pydantic's ValidationError if it is not)."""
    return _settings_adapter().validate_python(document)


def values_to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level settings by name as a JSON-ready dict."""
    return {name: _field_adapter(name).dump_python(value, mode="json") for name, value in values.items()}


# -- the requested settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    """What clients asked for: values of top-level settings (names of ``SETTING_FIELDS``). Immutable.

    ``values`` also holds the service's defaults (DEFAULT_EXPOSURE, DEFAULT_GAIN) until a client sets them;
    ``asked`` names the settings clients set, the only ones persisted.
    """

    values: Mapping[str, Any]
    asked: frozenset[str] = frozenset()

    @classmethod
    def of(cls, values: Mapping[str, Any], asked: Collection[str] = ()) -> Requested:
        """A snapshot of ``values`` (in ``SETTING_FIELDS`` order; None values are left out)."""
        ordered = {name: values[name] for name in SETTING_FIELDS if name in values and values[name] is not None}
        return cls(MappingProxyType(ordered), frozenset(name for name in asked if name in ordered))

    def with_values(self, changes: Mapping[str, Any]) -> Requested:
        """These values, with ``changes`` (asked for by a client) replacing or adding some."""
        return Requested.of({**self.values, **changes}, self.asked | set(changes))

    @property
    def asked_values(self) -> dict[str, Any]:
        """The values clients set (what is persisted)."""
        return {name: value for name, value in self.values.items() if name in self.asked}

    def over(self, settings: CameraSettings) -> CameraSettings:
        """``settings`` (e.g. the camera's power-up values) with the requested values in place."""
        return replace(settings, **self.values)


class SettingsStore:
    """The requested settings in ``STATE_PATH/settings.json``. Not thread-safe: one writer (the camera thread)."""

    def __init__(self, state_path: Path) -> None:
        self.path = state_path.expanduser() / SETTINGS_FILE

    def load(self) -> tuple[dict[str, Any], int]:
        """The saved values by name and the revision they were saved at (empty and 0 without a file).

        A file that cannot be read is moved aside (``settings.json.unreadable``) and logged, and a value
        that no longer parses is left out (logged): the service starts from the defaults rather than not at all.
        """
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
                raise ValueError(f"not a version {FORMAT_VERSION} settings file")
            saved = document.get("requested", {})
            revision = int(document.get("revision", 0))
            if not isinstance(saved, dict):
                raise ValueError("'requested' is not an object")
        except FileNotFoundError:
            return {}, 0
        except (OSError, ValueError, TypeError) as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            log.error(
                "cannot read the saved settings %s (%s); moved to %s, starting from the defaults", self.path, exc, aside
            )
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            return {}, 0
        values: dict[str, Any] = {}
        for name, value in saved.items():
            if name not in SETTING_FIELDS:
                log.error("saved settings %s: %s is not a setting; ignored", self.path, echo(name))
                continue
            try:
                values[name] = _field_adapter(name).validate_python(value)
            except ValidationError as exc:
                log.error("saved settings %s: %s=%s does not parse (%s); ignored", self.path, name, echo(value), exc)
        return values, revision

    def save(self, requested: Requested, revision: int) -> None:
        """Replace the file atomically with ``requested`` at ``revision``."""
        write_json_atomically(
            self.path,
            {"version": FORMAT_VERSION, "revision": revision, "requested": values_to_json(requested.asked_values)},
        )


# -- presets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """Named settings kept by the service."""

    preset_id: str
    settings: CameraSettings
    create_time: datetime  #: UTC, timezone-aware


def check_preset_id(preset_id: str) -> str:
    """``preset_id`` if it is a valid AIP-122 id, else InvalidArgumentError naming the rule."""
    if not isinstance(preset_id, str) or not PRESET_ID_PATTERN.fullmatch(preset_id):
        raise InvalidArgumentError("preset_id", preset_id, reason=PRESET_ID_RULE)
    return preset_id


class PresetStore:
    """Presets as ``STATE_PATH/presets/{preset_id}.json``, one atomic file each. Safe from any thread."""

    def __init__(self, state_path: Path) -> None:
        self.directory = state_path.expanduser() / PRESETS_FOLDER

    def _file(self, preset_id: str) -> Path:
        return self.directory / f"{check_preset_id(preset_id)}.json"

    def save(self, preset: Preset) -> Preset:
        """Create or replace ``preset``."""
        write_json_atomically(
            self._file(preset.preset_id),
            {
                "version": FORMAT_VERSION,
                "preset_id": preset.preset_id,
                "create_time": preset.create_time.isoformat(),
                "settings": settings_to_json(preset.settings),
            },
        )
        return preset

    def get(self, preset_id: str) -> Preset:
        """The preset of that id; PresetNotFoundError if there is none."""
        path = self._file(preset_id)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return Preset(
                preset_id=preset_id,
                settings=settings_from_json(document["settings"]),
                create_time=datetime.fromisoformat(document["create_time"]),
            )
        except FileNotFoundError:
            raise PresetNotFoundError(f"no preset named presets/{preset_id}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("preset file %s cannot be read: %s", path, exc)
            raise StorageUnavailableError(f"preset presets/{preset_id} cannot be read (see the service's log)") from exc

    def list(self) -> list[Preset]:
        """Every readable preset, sorted by id (unreadable files are logged and skipped)."""
        if not self.directory.is_dir():
            return []
        presets = []
        for path in sorted(self.directory.glob("*.json")):
            preset_id = path.stem
            if not PRESET_ID_PATTERN.fullmatch(preset_id):
                continue
            try:
                presets.append(self.get(preset_id))
            except (PresetNotFoundError, StorageUnavailableError):
                continue  # deleted meanwhile, or logged
        return presets

    def delete(self, preset_id: str) -> None:
        """Delete the preset; PresetNotFoundError if there is none."""
        path = self._file(preset_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise PresetNotFoundError(f"no preset named presets/{preset_id}") from None
        fsync_directory(path.parent)


# -- atomic files -------------------------------------------------------------------------------------


def write_json_atomically(path: Path, document: Any) -> None:
    """Write ``document`` as JSON to ``path``, atomically (:func:`camera_grpc.core.atomic.replace_atomically`)."""
    data = json.dumps(document, indent=2).encode("utf-8") + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, data)
    except OSError as exc:
        error = StorageFullError if exc.errno in (errno.ENOSPC, errno.EDQUOT) else StorageUnavailableError
        raise error(f"cannot write {path}: {exc.strerror or exc}") from exc
