"""CORS: exactly the origins in ALLOWED_ORIGINS."""

from __future__ import annotations

from tests.gateway.conftest import GatewayFactory

ALLOWED = ["http://localhost:5173", "https://ui.example.test"]


async def test_cors_allows_exactly_the_configured_origins(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(allowed_origins=ALLOWED)
    for origin in ALLOWED:
        preflight = await gateway.http.options(
            "/settings",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        response = await gateway.http.get("/settings", headers={"Origin": origin})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin

    for origin in ["http://localhost:3000", "https://evil.example.test", "http://localhost:5173.evil.test", "null"]:
        preflight = await gateway.http.options(
            "/settings", headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}
        )
        assert preflight.status_code == 400, origin
        assert "access-control-allow-origin" not in preflight.headers
        response = await gateway.http.get("/settings", headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers, origin


async def test_the_default_origins_are_the_legacy_front_ends(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway()
    for origin, allowed in [("http://localhost:3000", True), ("http://localhost:5173", True), ("http://x.test", False)]:
        response = await gateway.http.get("/health", headers={"Origin": origin})
        assert (response.headers.get("access-control-allow-origin") == origin) is allowed
