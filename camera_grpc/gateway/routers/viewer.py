"""``GET /``: the viewer page (static HTML, JavaScript and CSS from ``static/``; no build step, no CDN)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["viewer"])

#: The package folder with the page's files (served under /static by the app).
STATIC_PACKAGE = ("camera_grpc.gateway", "static")


@router.get("/", summary="Viewer page", response_class=HTMLResponse)
def viewer() -> HTMLResponse:
    """Live view, exposure and gain controls, capture button and camera status, in a browser."""
    page = resources.files(STATIC_PACKAGE[0]).joinpath(STATIC_PACKAGE[1], "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
