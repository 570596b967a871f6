"""camera-grpc: a gRPC service that owns one PixeLINK (or simulated) camera.

Importing this package has no side effects: it does not load the camera SDK,
read ``.env`` or start threads. See :mod:`camera_grpc.cli` for the entry point.
"""

__version__ = "0.1.0"
