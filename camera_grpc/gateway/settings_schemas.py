"""The full camera settings in JSON (issue 12), and their translation to and from ``camera.v1.CameraSettings``.

JSON names are the proto's field names (units in the names: ``exposure_ms``, ``black_level_pct``), nested the
same way (``roi.width``), so a JSON path, a ``FieldMask`` path, a ``FeatureDescription.name`` and an error's
field all name a setting the same way. Enum values are lower-case names without their type's prefix
(``AUTO_MODE_ONCE`` -> ``once``, ``PIXEL_FORMAT_BAYER16_RGGB`` -> ``bayer16_rggb``), as in
``FeatureDescription.choices``.

The translation walks the message descriptors, so it follows the proto; the pydantic models below document
the JSON for OpenAPI and validate requests (tests/gateway/test_settings_rest.py checks that they name the
proto's fields).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, Literal

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from camera_grpc.client.settings import enum_choices, enum_name, update_request
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: Messages set as a whole (a FieldMask path ends at them): the auto-exposure limits need both bounds.
WHOLE_MESSAGES: dict[str, type[Message]] = {"exposure_auto_limits_ms": pb.ValueRange}

AutoModeName = Literal[enum_choices(pb.AutoMode.DESCRIPTOR)]  # type: ignore[valid-type]
AddressingModeName = Literal[enum_choices(pb.AddressingMode.DESCRIPTOR)]  # type: ignore[valid-type]
FrameRateModeName = Literal[enum_choices(pb.FrameRateMode.DESCRIPTOR)]  # type: ignore[valid-type]
PixelFormatName = Literal[enum_choices(pb.PixelFormat.DESCRIPTOR)]  # type: ignore[valid-type]
TriggerSourceName = Literal[enum_choices(pb.TriggerSource.DESCRIPTOR)]  # type: ignore[valid-type]
TriggerModeName = Literal[enum_choices(pb.TriggerMode.DESCRIPTOR)]  # type: ignore[valid-type]
TriggerEdgeName = Literal[enum_choices(pb.TriggerEdge.DESCRIPTOR)]  # type: ignore[valid-type]
GpioModeName = Literal[enum_choices(pb.GpioMode.DESCRIPTOR)]  # type: ignore[valid-type]
#: Largest value of a uint32 field (region offsets and sizes, addressing factors, channels).
UINT32_MAX = 2**32 - 1


def message_json(message: Message) -> dict[str, Any]:
    """Every field of ``message`` as JSON values: enums by short name (``once``), unset optional fields and
    messages None, lists as lists, timestamps as UTC datetimes."""
    values: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        if field.is_repeated:
            values[field.name] = [_value_json(field, item) for item in getattr(message, field.name)]
        elif field.has_presence and not message.HasField(field.name):
            values[field.name] = None
        else:
            values[field.name] = _value_json(field, getattr(message, field.name))
    return values


def _value_json(field: FieldDescriptor, value: Any) -> Any:
    if field.message_type is not None:
        if field.message_type.full_name == Timestamp.DESCRIPTOR.full_name:
            return value.ToDatetime(tzinfo=UTC)
        return message_json(value)
    if field.enum_type is not None:
        return enum_name(field.enum_type, value)
    return value


# -- models --------------------------------------------------------------------------------------------------------


class Region(BaseModel):
    """A rectangle of the sensor in sensor pixels (before pixel addressing, unflipped)."""

    offset_x: int = Field(description="Left edge, pixels from the sensor's left", examples=[0])
    offset_y: int = Field(description="Top edge, pixels from the sensor's top", examples=[0])
    width: int = Field(description="Width in sensor pixels", examples=[2448])
    height: int = Field(description="Height in sensor pixels", examples=[2048])


class PixelAddressing(BaseModel):
    """Binning or decimation: horizontal x vertical sensor pixels make one image pixel."""

    mode: str = Field(description="decimate, average, bin or resample (as the camera offers)", examples=["bin"])
    horizontal: int = Field(description="Sensor pixels per image pixel across (1: none)", examples=[1])
    vertical: int = Field(description="Sensor pixels per image pixel down (1: none)", examples=[1])


class FrameRate(BaseModel):
    """The frame-rate target."""

    mode: str = Field(description="free (as fast as exposure and region allow) or fixed", examples=["free"])
    fps: float = Field(description="Target in frames per second when mode is fixed", examples=[30.0])


class ValueRange(BaseModel):
    """A closed interval, in the unit of the field holding it."""

    minimum: float
    maximum: float


class WhiteBalance(BaseModel):
    """Colour balance of a colour camera."""

    mode: str = Field(description="off (the gains are used) or once (balance once on the scene)", examples=["off"])
    red: float = Field(description="Red channel gain (1.0 is unity)", examples=[1.0])
    green: float = Field(description="Green channel gain (1.0 is unity)", examples=[1.0])
    blue: float = Field(description="Blue channel gain (1.0 is unity)", examples=[1.0])


class Flip(BaseModel):
    """Mirroring."""

    horizontal: bool = Field(description="Mirror left-right")
    vertical: bool = Field(description="Mirror top-bottom")


class Trigger(BaseModel):
    """What starts an exposure (issue 13): free-running, a software trigger (POST /trigger) or a hardware edge."""

    source: str = Field(description="free_running, software or hardware", examples=["free_running"])
    mode: str = Field(description="edge, pulse_width, burst or sequence (as the camera offers)", examples=["edge"])
    edge: str = Field(description="Hardware: rising or falling", examples=["rising"])
    delay_ms: float = Field(description="From the trigger to the start of the exposure, milliseconds", examples=[0.0])
    frames_per_trigger: int = Field(description="Burst and sequence: frames per trigger", examples=[1])


class Gpio(BaseModel):
    """One GPIO line's configuration."""

    line: int = Field(description="Line number, 1-based, as the camera numbers them", examples=[1])
    mode: str = Field(description="off, strobe, normal, pulse, busy, flash or input (as the camera offers)")
    active_high: bool = Field(description="Whether the active level is high")
    delay_ms: float = Field(description="Strobe: delay after the exposure starts, milliseconds")
    duration_ms: float = Field(description="Strobe, pulse: pulse length, milliseconds")
    pulse_count: int = Field(description="Pulse: number of pulses")
    interval_ms: float = Field(description="Pulse: time between pulse starts, milliseconds")


class FullSettings(BaseModel):
    """Every camera setting as the camera applied it (``camera.v1.CameraSettings``), with its revision.

    Settings the camera lacks are null (``white_balance`` on a mono camera, ``gamma``, ...). Null as well,
    all of them, from a camera service older than this gateway.
    """

    exposure_ms: float | None = Field(None, description="Exposure in milliseconds (the camera's choice in auto)")
    gain_db: float | None = Field(None, description="Gain in decibels (the camera's choice in auto)")
    roi: Region | None = Field(None, description="Region of interest in sensor pixels")
    pixel_addressing: PixelAddressing | None = None
    pixel_format: str | None = Field(None, description="The camera's pixel format", examples=["mono8"])
    frame_rate: FrameRate | None = None
    exposure_auto: str | None = Field(None, description="off, continuous or once", examples=["off"])
    exposure_auto_limits_ms: ValueRange | None = Field(
        None, description="The range auto exposure stays within, milliseconds (null: the camera has no limits)"
    )
    gain_auto: str | None = Field(None, description="off, continuous or once", examples=["off"])
    white_balance: WhiteBalance | None = Field(None, description="Colour cameras only")
    black_level_pct: float | None = Field(None, description="Black level in percent")
    gamma: float | None = Field(None, description="Gamma (1.0 is linear)")
    flip: Flip | None = None
    saturation_pct: float | None = Field(None, description="Colour saturation in percent")
    bit_depth: int | None = Field(None, description="Significant bits per sample of delivered frames", examples=[8])
    actual_frame_rate_fps: float | None = Field(
        None, description="The frame rate the camera achieves now, frames per second (0: it cannot say)"
    )
    revision: int | None = Field(
        None, description='Increases with every change; send it back as If-Match: "<revision>"', examples=[7]
    )
    delivered_pixel_format: str | None = Field(
        None, description="Pixel format of delivered frames (mono12_packed is delivered as mono16)", examples=["mono8"]
    )
    trigger: Trigger | None = Field(None, description="What starts an exposure (free-running by default)")
    gpio: list[Gpio] | None = Field(None, description="The GPIO lines' configurations, one per line the camera has")

    @classmethod
    def values_from_proto(cls, message: pb.CameraSettings | None) -> dict[str, Any]:
        """The JSON values of these fields from a ``CameraSettings`` (all null without one)."""
        if message is None:
            return {}
        values = message_json(message)
        return {name: values[name] for name in cls.model_fields if name in values}


class _Patch(BaseModel):
    """A part of a settings change: unknown fields and values of the wrong JSON type are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class RegionPatch(_Patch):
    """Parts of the region to change (sensor pixels, within the camera's limits and steps, see GET /camera)."""

    offset_x: int | None = Field(None, ge=0, le=UINT32_MAX)
    offset_y: int | None = Field(None, ge=0, le=UINT32_MAX)
    width: int | None = Field(None, ge=0, le=UINT32_MAX)
    height: int | None = Field(None, ge=0, le=UINT32_MAX)


class PixelAddressingPatch(_Patch):
    """Parts of the pixel addressing to change."""

    mode: AddressingModeName | None = None
    horizontal: int | None = Field(None, ge=0, le=UINT32_MAX)
    vertical: int | None = Field(None, ge=0, le=UINT32_MAX)


class FrameRatePatch(_Patch):
    """Parts of the frame-rate target to change."""

    mode: FrameRateModeName | None = None
    fps: float | None = Field(None, allow_inf_nan=False, description="frames per second")


class ValueRangePatch(_Patch):
    """A range, given whole."""

    minimum: float = Field(allow_inf_nan=False)
    maximum: float = Field(allow_inf_nan=False)


class WhiteBalancePatch(_Patch):
    """Parts of the white balance to change."""

    mode: AutoModeName | None = None
    red: float | None = Field(None, allow_inf_nan=False)
    green: float | None = Field(None, allow_inf_nan=False)
    blue: float | None = Field(None, allow_inf_nan=False)


class FlipPatch(_Patch):
    """Parts of the mirroring to change."""

    horizontal: bool | None = None
    vertical: bool | None = None


class TriggerPatch(_Patch):
    """Parts of the trigger configuration to change (a stopped stream is restarted, as for the region)."""

    source: TriggerSourceName | None = None
    mode: TriggerModeName | None = None
    edge: TriggerEdgeName | None = None
    delay_ms: float | None = Field(None, allow_inf_nan=False, description="milliseconds")
    frames_per_trigger: int | None = Field(None, ge=0, le=UINT32_MAX)


class GpioPatch(_Patch):
    """One GPIO line, given whole (fields left out take their neutral value: mode off, times 0)."""

    line: int = Field(ge=0, le=UINT32_MAX, description="Line number, 1-based")
    mode: GpioModeName | None = None
    active_high: bool | None = None
    delay_ms: float | None = Field(None, allow_inf_nan=False, description="milliseconds")
    duration_ms: float | None = Field(None, allow_inf_nan=False, description="milliseconds")
    pulse_count: int | None = Field(None, ge=0, le=UINT32_MAX)
    interval_ms: float | None = Field(None, allow_inf_nan=False, description="milliseconds")


class SettingsPatch(_Patch):
    """The settings to change (``PATCH /settings``), in the shape of GET /settings' full settings.

    Only the fields present are changed (nested objects: only their fields present, ``{"roi": {"width": 640}}``
    changes the width alone); null or absent leaves a setting as it is. All or nothing. Valid values are the
    camera's (GET /camera ``features``); the camera may round to its step and answers what it applied.
    """

    exposure_ms: float | None = Field(None, allow_inf_nan=False, description="milliseconds", examples=[20.0])
    gain_db: float | None = Field(None, allow_inf_nan=False, description="decibels")
    roi: RegionPatch | None = None
    pixel_addressing: PixelAddressingPatch | None = None
    pixel_format: PixelFormatName | None = Field(None, description="The camera's pixel format")
    frame_rate: FrameRatePatch | None = None
    exposure_auto: AutoModeName | None = None
    exposure_auto_limits_ms: ValueRangePatch | None = Field(None, description="milliseconds, both bounds")
    gain_auto: AutoModeName | None = None
    white_balance: WhiteBalancePatch | None = None
    black_level_pct: float | None = Field(None, allow_inf_nan=False, description="percent")
    gamma: float | None = Field(None, allow_inf_nan=False, description="1.0 is linear")
    flip: FlipPatch | None = None
    saturation_pct: float | None = Field(None, allow_inf_nan=False, description="percent")
    trigger: TriggerPatch | None = None
    gpio: list[GpioPatch] | None = Field(
        None, description="GPIO lines, each given whole; the list replaces the whole setting (list every line)"
    )

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"roi": {"width": 640, "height": 480}, "exposure_auto": "once"}]},
    )

    def paths(self) -> dict[str, Any]:
        """The settings given, by top-level path: nested objects as mappings of their parts (each part a path of
        its own in the FieldMask), :data:`WHOLE_MESSAGES` as messages (one path), lists (``gpio``) as lists of
        mappings (one path: a list is replaced whole)."""
        values = self.model_dump(exclude_none=True)
        for name, message_type in WHOLE_MESSAGES.items():
            if name in values:
                values[name] = message_type(**values[name])
        if self.gpio is not None:  # a list: replaced whole (one path), even by an empty one
            values["gpio"] = list(values["gpio"])
        return {name: value for name, value in values.items() if value != {}}

    def to_request(self, expected_revision: int | None) -> pb.UpdateSettingsRequest | None:
        """The UpdateSettingsRequest (None when the body names no setting: an empty mask would mean "every
        field set")."""
        values = self.paths()
        return update_request(values, expected_revision=expected_revision) if values else None


# -- capabilities ----------------------------------------------------------------------------------------------------


class Feature(BaseModel):
    """One setting as the camera reports it (``camera.v1.FeatureDescription``)."""

    name: str = Field(description="Field path of the setting, as in PATCH /settings", examples=["roi.width"])
    supported: bool = Field(description="Whether the camera has it; setting an unsupported one is a 409")
    minimum: float | None = Field(None, description="Smallest valid value, in unit")
    maximum: float | None = Field(None, description="Largest valid value, in unit")
    step: float | None = Field(None, description="Valid values are minimum + k * step (null: any in range)")
    choices: list[str] = Field(description="Allowed values of an enum setting", examples=[["mono8", "mono16"]])
    values: list[float] = Field(description="Allowed discrete numbers (addressing factors)", examples=[[1, 2, 4]])
    unit: str = Field(description="Unit of minimum, maximum and step (empty: counts, pixels)", examples=["dB"])
    settable_while_streaming: bool = Field(description="False: changing it restarts acquisition (streams go on)")

    @classmethod
    def from_proto(cls, message: pb.FeatureDescription) -> Feature:
        return cls.model_validate(message_json(message))
