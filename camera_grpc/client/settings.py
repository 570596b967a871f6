"""Settings by field path for the clients: partial updates (``FieldMask``), values typed by the proto, presets.

The paths are those of ``camera.v1.CameraSettings`` and its ``update_mask``: ``exposure_ms``, ``roi``
(the whole region) or ``roi.width`` (one part), ``white_balance.mode``. Everything here is read from
the generated descriptors, so a field added to the proto needs no change:

- :func:`update_request` builds an ``UpdateSettingsRequest`` from ``{path: value}``, where a value is a
  message (the whole field), a mapping (its parts, each a path of its own in the mask), an enum by
  its short name (``"once"``, ``"mono8"``, as ``FeatureDescription.choices`` spells them) or number,
  or a plain number or boolean;
- a list (``gpio``) is replaced whole: its value is a list of messages or of mappings of their parts;
- :func:`parse_value` turns the text of a command line (``roi.width=640``) into the field's type;
- :func:`preset_name` makes ``presets/{id}`` of an id.

Bad input raises :class:`SettingsValueError` (a ``ValueError`` naming the path and what it allows),
before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: The prefix of preset resource names (AIP-122): ``presets/{preset_id}``.
PRESET_COLLECTION = "presets/"
#: Spellings of booleans on a command line.
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_UNSIGNED_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
    }
)
_FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


class SettingsValueError(ValueError):
    """A setting the client cannot send: an unknown path, or a value not of the field's type."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        #: The field path (``roi.width``).
        self.path = path


def setting_paths(descriptor: Descriptor = pb.CameraSettings.DESCRIPTOR, prefix: str = "") -> tuple[str, ...]:
    """Every path of CameraSettings (messages and their parts), in the proto's order."""
    paths: list[str] = []
    for field in descriptor.fields:
        path = prefix + field.name
        paths.append(path)
        if field.message_type is not None and field.message_type.file.package != "google.protobuf":
            paths.extend(setting_paths(field.message_type, path + "."))
    return tuple(paths)


def field_at(path: str) -> FieldDescriptor:
    """The CameraSettings field a path names (``roi.width``: Region.width), else SettingsValueError."""
    descriptor: Descriptor | None = pb.CameraSettings.DESCRIPTOR
    field: FieldDescriptor | None = None
    for part in path.split("."):
        field = descriptor.fields_by_name.get(part) if descriptor is not None else None
        if field is None:
            top_level = ", ".join(f.name for f in pb.CameraSettings.DESCRIPTOR.fields)
            raise SettingsValueError(path, f"not a setting (the settings: {top_level}; parts as roi.width)")
        descriptor = field.message_type
    assert field is not None
    return field


def enum_choices(enum: EnumDescriptor) -> tuple[str, ...]:
    """The short names of an enum's values (``off``, ``continuous``, ``once``), as GetCameraInfo lists choices."""
    return tuple(_short_name(enum, value.name) for value in enum.values if value.number != 0)


def enum_name(enum: EnumDescriptor, number: int) -> str:
    """The short name of an enum value (``AUTO_MODE_ONCE`` -> ``once``); the number if it has none."""
    value = enum.values_by_number.get(number)
    return str(number) if value is None else _short_name(enum, value.name)


def _enum_prefix(enum: EnumDescriptor) -> str:
    return enum.values_by_number[0].name.removesuffix("UNSPECIFIED")  # AUTO_MODE_UNSPECIFIED -> AUTO_MODE_


def _short_name(enum: EnumDescriptor, name: str) -> str:
    return name.removeprefix(_enum_prefix(enum)).lower()


def enum_number(path: str, enum: EnumDescriptor, value: object) -> int:
    """An enum value given by short name (``once``), full name (``AUTO_MODE_ONCE``) or number."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value in enum.values_by_number:
            return value
    elif isinstance(value, str):
        found = enum.values_by_name.get(value) or enum.values_by_name.get(_enum_prefix(enum) + value.upper())
        if found is not None and found.number != 0:
            return int(found.number)
    raise SettingsValueError(path, f"must be one of {', '.join(enum_choices(enum))}, not {value!r}")


def parse_value(path: str, text: str) -> Any:
    """The value of ``path`` written as text on a command line, in the field's type.

    Numbers as numbers (``nan`` and ``inf`` are left for the service to refuse, naming the range),
    whole numbers for counts and pixels, booleans as true/false (yes/no, on/off, 1/0), enums by short name.
    A message field takes its parts (``roi.width=640``), not a value of its own; a list (``gpio``) is given
    whole as a JSON list of objects.
    """
    field = field_at(path)
    if field.is_repeated:  # a list (gpio), given whole as JSON: [{"line": 1, "mode": "strobe"}, ...]
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            parts = ", ".join(part.name for part in field.message_type.fields)
            raise SettingsValueError(path, f"is a list: give it whole as a JSON list of objects (with {parts})")
        return items
    if field.message_type is not None:
        parts = ", ".join(f"{path}.{part.name}" for part in field.message_type.fields)
        raise SettingsValueError(path, f"is a group of settings: set its parts ({parts})")
    if field.enum_type is not None:
        return enum_number(path, field.enum_type, text.strip())
    if field.type == FieldDescriptor.TYPE_BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise SettingsValueError(path, f"must be true or false, not {text!r}")
    if field.type in _INTEGER_TYPES:
        try:
            number = int(text.strip())
        except ValueError:
            raise SettingsValueError(path, f"must be a whole number, not {text!r}") from None
        if field.type in _UNSIGNED_TYPES and number < 0:
            raise SettingsValueError(path, f"must not be negative, not {number}")
        return number
    if field.type in _FLOAT_TYPES:
        try:
            return float(text.strip())
        except ValueError:
            raise SettingsValueError(path, f"must be a number, not {text!r}") from None
    return text


def update_request(values: Mapping[str, Any], *, expected_revision: int | None = None) -> pb.UpdateSettingsRequest:
    """An UpdateSettingsRequest changing the settings given (``{path: value}``), its FieldMask naming each.

    A message value (``pb.Region(...)``) replaces the whole field (mask ``roi``); a mapping
    (``{"width": 640}``) sets only its parts (mask ``roi.width``). ``None`` values are left out.
    """
    settings = pb.CameraSettings()
    paths: list[str] = []
    for path, value in values.items():
        if value is not None:
            _set(settings, path, value, paths)
    if not paths:
        raise SettingsValueError("update_mask", "no setting given")
    return pb.UpdateSettingsRequest(
        settings=settings, update_mask=field_mask_pb2.FieldMask(paths=paths), expected_revision=expected_revision
    )


def _set(settings: pb.CameraSettings, path: str, value: Any, paths: list[str]) -> None:
    field = field_at(path)
    if field.is_repeated:
        _set_list(settings, path, field, value)
        paths.append(path)
        return
    if field.message_type is not None:
        if isinstance(value, Message):
            if value.DESCRIPTOR is not field.message_type:
                raise SettingsValueError(
                    path, f"must be a {field.message_type.full_name}, not a {value.DESCRIPTOR.name}"
                )
            _holder(settings, path).CopyFrom(value)
            paths.append(path)
        elif isinstance(value, Mapping):
            if not value:
                raise SettingsValueError(path, "no part given")
            for part, part_value in value.items():
                if part_value is not None:
                    _set(settings, f"{path}.{part}", part_value, paths)
        else:
            raise SettingsValueError(
                path, f"must be a {field.message_type.full_name} or a mapping of its parts, not {value!r}"
            )
        return
    parent_path, _, name = path.rpartition(".")
    parent = _holder(settings, parent_path) if parent_path else settings
    setattr(parent, name, _scalar(path, field, value))
    paths.append(path)


def _set_list(settings: pb.CameraSettings, path: str, field: FieldDescriptor, value: Any) -> None:
    """A list (``gpio``): replaced whole, its items messages or mappings of all their parts."""
    if isinstance(value, (str, bytes, Mapping, Message)) or not isinstance(value, Iterable):
        raise SettingsValueError(
            path, f"is a list: give all its items (a list of {field.message_type.name}), not {value!r}"
        )
    holder = _holder(settings, path)
    del holder[:]
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if isinstance(item, Message):
            if item.DESCRIPTOR is not field.message_type:
                raise SettingsValueError(
                    item_path, f"must be a {field.message_type.full_name}, not a {item.DESCRIPTOR.name}"
                )
            holder.add().CopyFrom(item)
        elif isinstance(item, Mapping):
            message = holder.add()
            for name, part in item.items():
                part_field = field.message_type.fields_by_name.get(name)
                if part_field is None:
                    parts = ", ".join(f.name for f in field.message_type.fields)
                    raise SettingsValueError(f"{item_path}.{name}", f"not a part of {path} (its parts: {parts})")
                if part is not None:
                    setattr(message, name, _scalar(f"{path}.{name}", part_field, part))
        else:
            raise SettingsValueError(item_path, f"must be a {field.message_type.full_name} or a mapping, not {item!r}")


def _holder(settings: Message, path: str) -> Any:
    holder: Any = settings
    for part in path.split("."):
        holder = getattr(holder, part)
    return holder


def _scalar(path: str, field: FieldDescriptor, value: Any) -> Any:
    if field.enum_type is not None:
        return enum_number(path, field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        raise SettingsValueError(path, f"must be true or false, not {value!r}")
    if field.type in _INTEGER_TYPES:
        if isinstance(value, int) and not isinstance(value, bool):
            if field.type in _UNSIGNED_TYPES and value < 0:
                raise SettingsValueError(path, f"must not be negative, not {value}")
            return value
        raise SettingsValueError(path, f"must be a whole number, not {value!r}")
    if field.type in _FLOAT_TYPES:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)  # NaN and infinities go to the service, which names the valid range
        raise SettingsValueError(path, f"must be a number, not {value!r}")
    return value


def preset_name(preset: str) -> str:
    """``presets/{id}`` for a preset id (a full name is kept as it is)."""
    return preset if preset.startswith(PRESET_COLLECTION) else PRESET_COLLECTION + preset


def preset_id(name: str) -> str:
    """The id of a preset resource name (``presets/day`` -> ``day``)."""
    return name.removeprefix(PRESET_COLLECTION)


def features_by_name(info: pb.GetCameraInfoResponse) -> dict[str, pb.FeatureDescription]:
    """The camera's features (GetCameraInfo), by field path, in the order the service gave them."""
    return {feature.name: feature for feature in info.features}
