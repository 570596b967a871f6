"""The rpc layer: the camera.v1 servicer, error-to-status mapping, wire encoding and the server factory."""
