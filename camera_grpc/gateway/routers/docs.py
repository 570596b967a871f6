"""``GET /docs``: Swagger UI, served by the gateway itself, so it works offline and under a same-origin policy.

FastAPI's own ``/docs`` loads Swagger UI from a public CDN (a blank page offline, and scripts from
another site). Here the page is FastAPI's, pointed at the copy of Swagger UI that the
``fastapi-offline`` package ships (mounted under :data:`ASSETS_URL` by the app). Its one inline
script (the ``SwaggerUIBundle({...})`` call) is allowed by its hash in the page's
Content-Security-Policy; everything else must come from this origin. ``/redoc`` is not served.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter()

#: The package folder with Swagger UI's files (swagger-ui-bundle.js, swagger-ui.css, favicon.png).
ASSETS_PACKAGE = ("fastapi_offline", "static")
#: Where the app serves them.
ASSETS_URL = "/static/docs"
#: Swagger UI options: no online validator badge (it would load an image from swagger.io).
SWAGGER_UI_PARAMETERS: dict[str, object] = {"validatorUrl": None}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """A Content-Security-Policy for ``html``: this origin only, plus its inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI for this gateway's OpenAPI document."""
    root = request.scope.get("root_path", "").rstrip("/")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    html = bytes(page.body).decode("utf-8")
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_policy(html), "Cache-Control": "no-cache"})
