"""Pre-serialized Frames messages parse exactly like messages serialized by protobuf; statistics as messages."""

from __future__ import annotations

import numpy as np
import pytest

from camera_grpc.core.statistics import frame_statistics
from camera_grpc.formats import PixelFormat
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.rpc.wire import FRAMES_DATA_FIELD, statistics_to_proto, with_bytes_field


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16_383, 16_384, 5_013_504])
def test_appended_bytes_field_round_trips(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    fields = pb.FramesResponse(frame_number=2**40, sequence_number=7, missed_frames=3, width=2448, height=2048)
    wire = with_bytes_field(fields, FRAMES_DATA_FIELD, payload)
    expected = pb.FramesResponse()
    expected.CopyFrom(fields)
    expected.data = payload
    parsed = pb.FramesResponse.FromString(wire)
    assert parsed == expected
    if size:  # (proto3 omits an empty bytes field; an explicit empty one parses the same)
        assert len(wire) == len(expected.SerializeToString())


def test_statistics_become_their_message_field_by_field() -> None:
    mosaic = np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) % 4096
    stats = frame_statistics(mosaic, PixelFormat.BAYER16_RGGB, 12, 8)
    message = statistics_to_proto(stats)
    assert (message.subsample_step, message.bit_depth, message.focus_score) == (1, 12, stats.focus_score)
    for channel, parsed in zip(stats.channels, message.channels, strict=True):
        assert parsed.channel == channel.channel and list(parsed.histogram) == channel.histogram.tolist()
        assert (parsed.min, parsed.max, parsed.mean) == (channel.minimum, channel.maximum, channel.mean)
        assert parsed.saturated_fraction == channel.saturated_fraction
    assert pb.FrameStatistics.FromString(message.SerializeToString()) == message
