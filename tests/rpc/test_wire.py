"""Pre-serialized Frames messages parse exactly like messages serialized by protobuf."""

from __future__ import annotations

import pytest

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.rpc.wire import FRAMES_DATA_FIELD, with_bytes_field


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
