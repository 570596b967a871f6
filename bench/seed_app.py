"""A REST app written the way the legacy README suggests, for bench/rest.py to compare against.

FastAPI endpoints call a camera wrapper class directly (the legacy
``pixelink_camera.py``), here over the simulated camera, doing the same work
per capture as the camera service: grab one frame, encode JPEG, write the image
and its JSON sidecar (``CaptureStore.save``). Two variants:

* ``def``: plain ``def`` endpoints (FastAPI runs them on its thread pool); a lock
  keeps the camera, which is not thread-safe, to one caller at a time;
* ``async``: ``async def`` endpoints calling the camera directly on the event loop.

Run: ``python -m bench.seed_app --variant def|async --captures DIR`` (prints its URL).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from camera_grpc.core.storage import CaptureStore
from camera_grpc.device.simulated import SimulatedCamera


class CaptureBody(BaseModel):
    exposure: float | None = None
    gain: float | None = None


class PixelinkCamera:
    """The legacy wrapper: one camera, settings and captures, saved to disk."""

    def __init__(self, camera: SimulatedCamera, store: CaptureStore, quality: int) -> None:
        self.camera = camera
        self.store = store
        self.quality = quality
        self.lock = threading.Lock()

    def get_settings(self) -> dict[str, object]:
        with self.lock:
            geometry = self.camera.geometry()
            return {
                "exposure": self.camera.get_exposure_ms(),
                "gain": self.camera.get_gain_db(),
                "resolution": {"width": geometry.width, "height": geometry.height},
                "connected": self.camera.is_open,
            }

    def update_settings(self, exposure: float | None, gain: float | None) -> dict[str, object]:
        with self.lock:
            if exposure is not None:
                self.camera.set_exposure_ms(exposure)
            if gain is not None:
                self.camera.set_gain_db(gain)
        return self.get_settings()

    def capture(self, exposure: float | None, gain: float | None) -> dict[str, object]:
        with self.lock:
            if exposure is not None:
                self.camera.set_exposure_ms(exposure)
            if gain is not None:
                self.camera.set_gain_db(gain)
            self.camera.start_streaming()
            frame = self.camera.grab()
            self.camera.stop_streaming()
            saved = self.store.save(frame, "jpeg", self.quality, None)
        return {
            "filename": saved.filename,
            "path": str(saved.path),
            "exposure": saved.exposure_ms,
            "gain": saved.gain_db,
        }


def create_app(camera: PixelinkCamera, variant: str) -> FastAPI:
    """The seed-style app; ``variant`` is ``def`` or ``async``."""
    app = FastAPI(title=f"seed-style camera app ({variant})")
    if variant == "def":

        @app.get("/settings")
        def get_settings() -> dict[str, object]:
            return camera.get_settings()

        @app.put("/settings")
        def put_settings(body: CaptureBody) -> dict[str, object]:
            return camera.update_settings(body.exposure, body.gain)

        @app.post("/capture")
        def capture(body: CaptureBody) -> dict[str, object]:
            return camera.capture(body.exposure, body.gain)

    else:

        @app.get("/settings")
        async def get_settings_async() -> dict[str, object]:
            return camera.get_settings()

        @app.put("/settings")
        async def put_settings_async(body: CaptureBody) -> dict[str, object]:
            return camera.update_settings(body.exposure, body.gain)

        @app.post("/capture")
        async def capture_async(body: CaptureBody) -> dict[str, object]:
            return camera.capture(body.exposure, body.gain)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("def", "async"), required=True)
    parser.add_argument("--captures", type=Path, required=True, help="folder for the saved images")
    parser.add_argument("--exposure-ms", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=2448)
    parser.add_argument("--height", type=int, default=2048)
    parser.add_argument("--frame-rate", type=float, default=1000.0, help="simulated top frame rate, fps")
    parser.add_argument("--quality", type=int, default=95)
    args = parser.parse_args()

    simulated = SimulatedCamera(args.width, args.height, max_frame_rate_fps=args.frame_rate)
    simulated.open()
    simulated.set_exposure_ms(args.exposure_ms)
    store = CaptureStore(args.captures)
    store.ensure_writable()
    app = create_app(PixelinkCamera(simulated, store, args.quality), args.variant)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    print(f"seed app listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, ws="none"))
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
