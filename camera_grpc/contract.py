"""Names from the camera.v1 contract that more than one layer needs (defined once, from the descriptor)."""

from __future__ import annotations

from camera_grpc.gen.camera.v1 import camera_pb2, storage_pb2

#: The service descriptor of ``camera.v1.CameraService``.
CAMERA_SERVICE = camera_pb2.DESCRIPTOR.services_by_name["CameraService"]
#: Its full name: the name under which health is reported and reflection lists it.
CAMERA_SERVICE_NAME: str = CAMERA_SERVICE.full_name

#: The service descriptor of ``camera.v1.StorageService`` (where captures and recordings are kept).
STORAGE_SERVICE = storage_pb2.DESCRIPTOR.services_by_name["StorageService"]
#: Its full name.
STORAGE_SERVICE_NAME: str = STORAGE_SERVICE.full_name
