"""Settings between the domain model and camera.v1: CameraSettings, FieldMask updates, features, presets;
and (issue 13) frame metadata, events and the I/O status.

Translation only: no camera logic. The update rules (AIP-134) live in :func:`update_from_request`:

* legacy ``exposure_ms`` / ``gain_db`` fields, or ``settings`` with ``update_mask`` (not both);
* ``"*"`` names every settable field (the optional ones only when the request sets them);
* an empty mask with ``settings`` names the top-level fields that are set (non-default);
* a path that is not a setting, or an output-only one, is INVALID_ARGUMENT naming it;
* an enum left UNSPECIFIED in a field the mask names is INVALID_ARGUMENT listing the choices, except an
  auto mode inside a named message (``white_balance``), which keeps its current mode (proto comment).
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from camera_grpc.core.controller import ALL_SETTINGS, SettingsSnapshot
from camera_grpc.core.events import Event, EventType
from camera_grpc.core.settings_store import Preset, check_preset_id
from camera_grpc.core.storage import FrameMetadata, StorageLocation, StorageState
from camera_grpc.device.events import IoStatus
from camera_grpc.device.settings import (
    FEATURE_NAMES,
    LIST_FIELDS,
    SETTING_FIELDS,
    AddressingMode,
    AutoMode,
    CameraSettings,
    FeatureInfo,
    Features,
    Flip,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
    PixelAddressing,
    Range,
    Region,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerSource,
    WhiteBalance,
    get_path,
    is_known_path,
)
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import PIXEL_FORMAT_BY_PROTO, PixelFormat
from camera_grpc.gen.camera.v1 import camera_pb2 as pb


def _by_name(domain: type[enum.Enum], proto_enum: Any, prefix: str) -> dict[enum.Enum, int]:
    """Domain enum member -> proto value, by the naming convention ``PREFIX_NAME``."""
    return {member: proto_enum.Value(f"{prefix}_{member.name}") for member in domain}


AUTO_MODES: dict[enum.Enum, int] = _by_name(AutoMode, pb.AutoMode, "AUTO_MODE")
ADDRESSING_MODES: dict[enum.Enum, int] = _by_name(AddressingMode, pb.AddressingMode, "ADDRESSING_MODE")
FRAME_RATE_MODES: dict[enum.Enum, int] = _by_name(FrameRateMode, pb.FrameRateMode, "FRAME_RATE_MODE")
TRIGGER_SOURCES: dict[enum.Enum, int] = _by_name(TriggerSource, pb.TriggerSource, "TRIGGER_SOURCE")
TRIGGER_MODES: dict[enum.Enum, int] = _by_name(TriggerMode, pb.TriggerMode, "TRIGGER_MODE")
TRIGGER_EDGES: dict[enum.Enum, int] = _by_name(TriggerEdge, pb.TriggerEdge, "TRIGGER_EDGE")
GPIO_MODES: dict[enum.Enum, int] = _by_name(GpioMode, pb.GpioMode, "GPIO_MODE")
EVENT_TYPES: dict[enum.Enum, int] = _by_name(EventType, pb.EventType, "EVENT_TYPE")
STORAGE_STATES: dict[enum.Enum, int] = _by_name(StorageState, pb.StorageState, "STORAGE_STATE")
#: WatchEventsRequest.types -> the hub's event types.
EVENT_TYPE_REQUESTS: dict[int, EventType] = {number: member for member, number in EVENT_TYPES.items()}  # type: ignore[misc]
#: CameraSettings fields a client may not set.
OUTPUT_ONLY_FIELDS = frozenset(
    {"width", "height", "bit_depth", "actual_frame_rate_fps", "revision", "delivered_pixel_format"}
)
#: Settings that may be absent (a camera without the feature): set only when the request has them.
OPTIONAL_SETTINGS = frozenset(field.name for field in dataclasses.fields(CameraSettings) if field.default is None)
#: Resource names of presets: "presets/{preset_id}".
PRESET_COLLECTION = "presets/"
#: The enum types of the settings, their API names listed in errors.
_ENUM_CHOICES: dict[type[enum.Enum], str] = {
    kind: ", ".join(member.value for member in kind)
    for kind in (
        AutoMode,
        AddressingMode,
        FrameRateMode,
        PixelFormat,
        TriggerSource,
        TriggerMode,
        TriggerEdge,
        GpioMode,
    )
}


# -- domain -> camera.v1 ------------------------------------------------------------------------------


def settings_to_proto(settings: CameraSettings) -> pb.CameraSettings:
    """The settable fields of ``settings`` (features the camera lacks stay unset)."""
    message = pb.CameraSettings(
        exposure_ms=settings.exposure_ms,
        gain_db=settings.gain_db,
        roi=pb.Region(**dataclasses.asdict(settings.roi)),
        pixel_addressing=pb.PixelAddressing(
            mode=ADDRESSING_MODES[settings.pixel_addressing.mode],
            horizontal=settings.pixel_addressing.horizontal,
            vertical=settings.pixel_addressing.vertical,
        ),
        pixel_format=settings.pixel_format.proto,
        frame_rate=pb.FrameRate(mode=FRAME_RATE_MODES[settings.frame_rate.mode], fps=settings.frame_rate.fps),
        exposure_auto=AUTO_MODES[settings.exposure_auto],
        gain_auto=AUTO_MODES[settings.gain_auto],
        flip=pb.Flip(horizontal=settings.flip.horizontal, vertical=settings.flip.vertical),
        trigger=trigger_to_proto(settings.trigger),
        gpio=[gpio_to_proto(line) for line in settings.gpio],
    )
    limits = settings.exposure_auto_limits_ms
    if limits is not None:
        message.exposure_auto_limits_ms.CopyFrom(pb.ValueRange(minimum=limits.minimum, maximum=limits.maximum))
    balance = settings.white_balance
    if balance is not None:
        message.white_balance.CopyFrom(
            pb.WhiteBalance(mode=AUTO_MODES[balance.mode], red=balance.red, green=balance.green, blue=balance.blue)
        )
    for name in ("black_level_pct", "gamma", "saturation_pct"):
        value = getattr(settings, name)
        if value is not None:
            setattr(message, name, value)
    return message


def trigger_to_proto(trigger: Trigger) -> pb.Trigger:
    return pb.Trigger(
        source=TRIGGER_SOURCES[trigger.source],
        mode=TRIGGER_MODES[trigger.mode],
        edge=TRIGGER_EDGES[trigger.edge],
        delay_ms=trigger.delay_ms,
        frames_per_trigger=trigger.frames_per_trigger,
    )


def gpio_to_proto(line: Gpio) -> pb.Gpio:
    return pb.Gpio(
        line=line.line,
        mode=GPIO_MODES[line.mode],
        active_high=line.active_high,
        delay_ms=line.delay_ms,
        duration_ms=line.duration_ms,
        pulse_count=line.pulse_count,
        interval_ms=line.interval_ms,
    )


def snapshot_to_proto(snapshot: SettingsSnapshot) -> pb.CameraSettings:
    """The settings with their output-only fields (geometry, actual rate, revision)."""
    message = settings_to_proto(snapshot.settings)
    message.width = snapshot.geometry.width
    message.height = snapshot.geometry.height
    message.bit_depth = snapshot.geometry.bit_depth
    message.actual_frame_rate_fps = snapshot.actual_frame_rate_fps
    message.revision = snapshot.revision
    message.delivered_pixel_format = snapshot.geometry.pixel_format.proto
    return message


def legacy_settings_fields(snapshot: SettingsSnapshot) -> dict[str, Any]:
    """The fields of GetSettingsResponse / UpdateSettingsResponse: the legacy flat ones and ``settings``."""
    return {
        "exposure_ms": snapshot.exposure_ms,
        "gain_db": snapshot.gain_db,
        "width": snapshot.width,
        "height": snapshot.height,
        "pixel_format": snapshot.pixel_format.proto,
        "connected": snapshot.connected,
        "settings": snapshot_to_proto(snapshot),
    }


def feature_to_proto(info: FeatureInfo) -> pb.FeatureDescription:
    """One feature as the camera reports it, with its unit."""
    message = pb.FeatureDescription(
        name=info.name,
        supported=info.supported,
        choices=list(info.choices),
        values=list(info.values),
        settable_while_streaming=info.settable_while_streaming,
        unit=info.unit,
    )
    for name in ("minimum", "maximum", "step"):
        value = getattr(info, name)
        if value is not None:
            setattr(message, name, value)
    return message


def features_to_proto(features: Features) -> list[pb.FeatureDescription]:
    """Every feature the camera describes or lacks, in FEATURE_NAMES order."""
    return [feature_to_proto(features[name]) for name in features]


def preset_to_proto(preset: Preset) -> pb.Preset:
    return pb.Preset(
        name=PRESET_COLLECTION + preset.preset_id,
        settings=settings_to_proto(preset.settings),
        create_time=timestamp(preset.create_time),
    )


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def frame_metadata_to_proto(metadata: FrameMetadata) -> pb.FrameMetadata:
    return pb.FrameMetadata(
        frame_number=metadata.frame_number,
        camera_time_s=metadata.camera_time_s or 0.0,
        camera_clock=metadata.camera_clock if metadata.camera_time_s is not None else "",
        received_at=timestamp(metadata.received_at),
        trigger_source=TRIGGER_SOURCES[metadata.trigger_source],
        trigger_count=metadata.trigger_count,
        trigger_frame_index=metadata.trigger_frame_index,
    )


def event_to_proto(event: Event) -> pb.Event:
    return pb.Event(
        sequence_number=event.sequence_number,
        type=EVENT_TYPES[event.type],
        time=timestamp(event.time),
        camera_time_s=event.camera_time_s or 0.0,
        camera_clock=event.camera_clock,
        message=event.message,
        settings_revision=event.settings_revision,
        cause=event.cause,
        edge=TRIGGER_EDGES[event.edge] if event.edge is not None else pb.TRIGGER_EDGE_UNSPECIFIED,
        count=event.count,
        filename=event.filename,
        temperature_c=event.temperature_c or 0.0,
        line=event.line,
        high=event.high,
        recording=event.recording,
        bucket=event.bucket,
        object_key=event.object_key,
        free_bytes=event.free_bytes,
    )


def location_to_proto(location: StorageLocation) -> pb.StorageLocation:
    """Where a capture or a recording's file is kept (local folder, spool, object store)."""
    return pb.StorageLocation(
        state=STORAGE_STATES[location.state], bucket=location.bucket, object_key=location.object_key
    )


def io_status_to_proto(status: IoStatus) -> pb.GetIoStatusResponse:
    message = pb.GetIoStatusResponse(
        lines=[pb.GpioLineState(line=line.line, mode=GPIO_MODES[line.mode], high=line.high) for line in status.lines]
    )
    if status.sensor_temperature_c is not None:
        message.sensor_temperature_c = status.sensor_temperature_c
    if status.body_temperature_c is not None:
        message.body_temperature_c = status.body_temperature_c
    return message


def event_types_from_request(request: pb.WatchEventsRequest) -> frozenset[EventType]:
    """The types a WatchEvents request asks for (empty: all); INVALID_ARGUMENT for an unknown or UNSPECIFIED one."""
    types = set()
    for number in request.types:
        if number not in EVENT_TYPE_REQUESTS:
            choices = ", ".join(pb.EventType.Name(value) for value in sorted(EVENT_TYPE_REQUESTS))
            raise InvalidArgumentError("types", number, reason=f"must be one of {choices}")
        types.add(EVENT_TYPE_REQUESTS[number])
    return frozenset(types)


# -- camera.v1 -> domain ------------------------------------------------------------------------------


def preset_id_of(name: str, field: str = "name") -> str:
    """The id of a preset resource name ``presets/{preset_id}``; INVALID_ARGUMENT otherwise."""
    if not name.startswith(PRESET_COLLECTION):
        raise InvalidArgumentError(field, name, reason="must be presets/{preset_id}")
    preset_id = name.removeprefix(PRESET_COLLECTION)
    try:
        return check_preset_id(preset_id)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(field, name, reason=f"must be presets/{{preset_id}}; the id {exc.reason}") from None


def update_from_request(request: pb.UpdateSettingsRequest) -> tuple[CameraSettings, tuple[str, ...]]:
    """The patch and field paths an UpdateSettingsRequest asks for (see the module docstring)."""
    legacy = [name for name in ("exposure_ms", "gain_db") if request.HasField(name)]
    mask = list(request.update_mask.paths)
    if legacy:
        if mask or request.HasField("settings"):
            raise InvalidArgumentError(
                "update_mask",
                mask or "settings",
                reason=f"give either the legacy {' and '.join(legacy)} or settings with update_mask, not both",
            )
        message = pb.CameraSettings(**{name: getattr(request, name) for name in legacy})
        return settings_from_proto(message), tuple(legacy)
    if not request.HasField("settings"):
        if mask:
            raise InvalidArgumentError("settings", None, reason="update_mask names settings but settings is not set")
        return settings_from_proto(request.settings), ()
    return settings_from_proto(request.settings), resolve_mask(request.settings, mask)


def resolve_mask(message: pb.CameraSettings, mask: list[str]) -> tuple[str, ...]:
    """The settings paths a mask names (AIP-134), checked against ``message``."""
    if ALL_SETTINGS in mask:
        if len(mask) > 1:
            raise InvalidArgumentError("update_mask", mask, reason=f"'{ALL_SETTINGS}' must be the only path")
        named = [name for name in SETTING_FIELDS if name not in OPTIONAL_SETTINGS or message.HasField(name)]
        explicit: set[str] = set()
    elif not mask:
        set_fields = {field.name for field, _ in message.ListFields()}
        named = [name for name in SETTING_FIELDS if name in set_fields]
        explicit = set()
    else:
        for path in mask:
            if path.partition(".")[0] in OUTPUT_ONLY_FIELDS:
                raise InvalidArgumentError("update_mask", path, reason="is output only and cannot be set")
            if path.partition(".")[0] in LIST_FIELDS and "." in path:
                raise InvalidArgumentError(
                    "update_mask", path, reason=f"{path.partition('.')[0]} is a list: name it whole (AIP-134)"
                )
            if not is_known_path(path):
                raise InvalidArgumentError(
                    "update_mask", path, reason=f"is not a setting; settings are {', '.join(FEATURE_NAMES)}"
                )
            top = path.partition(".")[0]
            if top in OPTIONAL_SETTINGS and not message.HasField(top):
                raise InvalidArgumentError(path, None, reason="is named in update_mask but not set in settings")
        named = list(dict.fromkeys(mask))
        explicit = set(named)
    domain = settings_from_proto(message)
    paths: list[str] = []
    for path in named:
        paths.extend(_without_unspecified(domain, path, explicit))
    return tuple(paths)


def _without_unspecified(domain: CameraSettings, path: str, explicit: set[str]) -> list[str]:
    """``path``, or its parts without an auto mode left UNSPECIFIED; INVALID_ARGUMENT for another unspecified enum."""
    value = get_path(domain, path)
    if isinstance(value, _Unspecified):
        if value.kind is AutoMode and path not in explicit:
            return []  # an auto mode not named itself: left as it is
        raise InvalidArgumentError(path, "unspecified", reason=f"must be one of {_ENUM_CHOICES[value.kind]}")
    if dataclasses.is_dataclass(value) and not isinstance(value, Range):
        parts: list[str] = []
        for field in dataclasses.fields(value):
            part = f"{path}.{field.name}"
            kept = _without_unspecified(domain, part, explicit)
            parts.extend(kept)
        if len(parts) == len(dataclasses.fields(value)):
            return [path]  # nothing left out: the whole message
        return parts
    return [path]


@dataclasses.dataclass(frozen=True)
class _Unspecified:
    """An enum left at its UNSPECIFIED value (only valid where the mask does not reach it)."""

    kind: type[enum.Enum]


def _enum(table: dict[enum.Enum, int], kind: type[enum.Enum], number: int, path: str) -> Any:
    if number == 0:
        return _Unspecified(kind)
    for member, value in table.items():
        if value == number:
            return member
    raise InvalidArgumentError(path, number, reason=f"must be one of {_ENUM_CHOICES[kind]}")


def _pixel_format(number: int) -> Any:
    if number == 0:
        return _Unspecified(PixelFormat)
    if number not in PIXEL_FORMAT_BY_PROTO:
        raise InvalidArgumentError("pixel_format", number, reason=f"must be one of {_ENUM_CHOICES[PixelFormat]}")
    return PIXEL_FORMAT_BY_PROTO[number]


def settings_from_proto(message: pb.CameraSettings) -> CameraSettings:
    """Every settable field of ``message`` as domain values (absent optional ones None, UNSPECIFIED enums
    marked); only the paths a mask names are ever read from it."""
    addressing = message.pixel_addressing
    rate = message.frame_rate
    balance = message.white_balance
    limits = message.exposure_auto_limits_ms
    return CameraSettings(
        exposure_ms=message.exposure_ms,
        gain_db=message.gain_db,
        roi=Region(message.roi.offset_x, message.roi.offset_y, message.roi.width, message.roi.height),
        pixel_addressing=PixelAddressing(
            # Unspecified: DECIMATE (proto comment).
            mode=_enum(ADDRESSING_MODES, AddressingMode, addressing.mode, "pixel_addressing.mode")
            if addressing.mode
            else AddressingMode.DECIMATE,
            horizontal=addressing.horizontal,
            vertical=addressing.vertical,
        ),
        pixel_format=_pixel_format(message.pixel_format),
        frame_rate=FrameRate(
            mode=_enum(FRAME_RATE_MODES, FrameRateMode, rate.mode, "frame_rate.mode")
            if rate.mode
            else FrameRateMode.FREE,
            fps=rate.fps,
        ),
        exposure_auto=_enum(AUTO_MODES, AutoMode, message.exposure_auto, "exposure_auto"),
        exposure_auto_limits_ms=Range(limits.minimum, limits.maximum)
        if message.HasField("exposure_auto_limits_ms")
        else None,
        gain_auto=_enum(AUTO_MODES, AutoMode, message.gain_auto, "gain_auto"),
        white_balance=WhiteBalance(
            mode=_enum(AUTO_MODES, AutoMode, balance.mode, "white_balance.mode"),
            red=balance.red,
            green=balance.green,
            blue=balance.blue,
        )
        if message.HasField("white_balance")
        else None,
        black_level_pct=message.black_level_pct if message.HasField("black_level_pct") else None,
        gamma=message.gamma if message.HasField("gamma") else None,
        flip=Flip(horizontal=message.flip.horizontal, vertical=message.flip.vertical),
        saturation_pct=message.saturation_pct if message.HasField("saturation_pct") else None,
        trigger=Trigger(
            # Unspecified: the defaults (proto comments).
            source=_enum_or(TRIGGER_SOURCES, TriggerSource, message.trigger.source, "trigger.source", Trigger.source),
            mode=_enum_or(TRIGGER_MODES, TriggerMode, message.trigger.mode, "trigger.mode", Trigger.mode),
            edge=_enum_or(TRIGGER_EDGES, TriggerEdge, message.trigger.edge, "trigger.edge", Trigger.edge),
            delay_ms=message.trigger.delay_ms,
            frames_per_trigger=message.trigger.frames_per_trigger or Trigger.frames_per_trigger,
        ),
        gpio=tuple(
            Gpio(
                line=line.line,
                mode=_enum_or(GPIO_MODES, GpioMode, line.mode, "gpio.mode", GpioMode.OFF),
                active_high=line.active_high,
                delay_ms=line.delay_ms,
                duration_ms=line.duration_ms,
                pulse_count=line.pulse_count,
                interval_ms=line.interval_ms,
            )
            for line in message.gpio
        ),
    )


def _enum_or(table: dict[enum.Enum, int], kind: type[enum.Enum], number: int, path: str, default: Any) -> Any:
    """An enum whose UNSPECIFIED value means its default (documented so in the proto)."""
    return _enum(table, kind, number, path) if number else default
