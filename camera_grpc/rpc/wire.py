"""Wire encoding helpers for camera.v1 responses that are too large to build the usual way."""

from __future__ import annotations

from google.protobuf.message import Message

from camera_grpc.core.statistics import FrameStatistics
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: FramesResponse.data: appended to each message already serialized (see with_bytes_field).
FRAMES_DATA_FIELD = pb.FramesResponse.DESCRIPTOR.fields_by_name["data"].number
#: Protobuf wire type of length-delimited fields (bytes, strings, messages).
WIRE_TYPE_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint encoding of a non-negative integer."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def with_bytes_field(
    message: Message, field_number: int, payload: bytes | memoryview, *, wrap_field: int | None = None
) -> bytes:
    """``message`` serialized with the bytes field ``field_number`` set to ``payload``; with ``wrap_field``,
    a message whose field ``wrap_field`` holds that one (an embedded message is length-delimited too).

    Protobuf parsers merge concatenated encodings, so the big payload is appended to the
    small serialized fields with one copy, instead of being copied into the message and
    again by serialization (measured: 0.1 ms instead of 8.8 ms per 5 MB frame).
    """
    head = b"".join((message.SerializeToString(), _tag(field_number), _varint(len(payload))))
    if wrap_field is not None:
        head = b"".join((_tag(wrap_field), _varint(len(head) + len(payload)), head))
    return b"".join((head, payload))


def _tag(field_number: int) -> bytes:
    return _varint((field_number << 3) | WIRE_TYPE_LENGTH_DELIMITED)


def serialize(response: Message | bytes) -> bytes:
    """Response serializer that passes already-serialized messages through."""
    return response if isinstance(response, bytes) else response.SerializeToString()


def statistics_to_proto(statistics: FrameStatistics) -> pb.FrameStatistics:
    """``camera.v1.FrameStatistics`` of a frame's statistics."""
    return pb.FrameStatistics(
        channels=[
            pb.ChannelStatistics(
                channel=channel.channel,
                histogram=channel.histogram.tolist(),
                min=channel.minimum,
                max=channel.maximum,
                mean=channel.mean,
                saturated_fraction=channel.saturated_fraction,
            )
            for channel in statistics.channels
        ],
        focus_score=statistics.focus_score,
        subsample_step=statistics.subsample_step,
        bit_depth=statistics.bit_depth,
    )
