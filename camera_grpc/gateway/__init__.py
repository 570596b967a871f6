"""The REST gateway: the legacy HTTP API, recordings, storage and a viewer page in front of the camera.v1
services (CameraService, RecordingService, StorageService).

In the style of grpc-gateway, the gateway is only a gRPC client: it holds no
camera state, translates JSON to protobuf and back, and gRPC status codes to
HTTP (in one place, :mod:`camera_grpc.gateway.errors`). Build it with
:func:`camera_grpc.gateway.app.create_app`; run it with
:mod:`camera_grpc.gateway.server`. Importing this package starts nothing.
"""
