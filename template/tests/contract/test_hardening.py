"""Limits on what a client may send, and the headers every response carries."""

from typing import Any

import httpx
import pytest

from tests.factories import project_payload

ORIGIN = "https://app.example.com"


def test_security_headers_are_on_every_response(client: httpx.Client) -> None:
    # The client's envelope check asserts them on every response; HSTS waits for production.
    response = client.get("/api/v1/health/live")

    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    "settings_overrides", [{"environment": "production", "secret_key": "s" * 48}]
)
def test_production_adds_hsts(client: httpx.Client, settings_overrides: dict[str, Any]) -> None:
    for path in ("/api/v1/health/live", "/nope"):
        response = client.get(path)

        assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("settings_overrides", [{"max_body_size": 2048}])
def test_a_body_over_the_limit_is_refused(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    response = client.post("/api/v1/projects", json=project_payload(description="d" * 4096))

    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": "3/minute"}])
def test_requests_over_the_rate_limit_are_refused(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    statuses = [client.get("/api/v1/projects").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/projects")
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    wait = "1 second" if retry_after == 1 else f"{retry_after} seconds"
    assert refused.json()["message"] == f"Too many requests. Try again in {wait}."


@pytest.mark.parametrize("settings_overrides", [{"cors_origins": [ORIGIN]}])
def test_an_allowed_origin_may_call_the_api(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    simple = client.get("/api/v1/health/live", headers={"Origin": ORIGIN})
    preflight = client.options(
        "/api/v1/projects",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )

    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("settings_overrides", [{"cors_origins": [ORIGIN]}])
def test_another_origin_is_not_allowed(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    response = client.get("/api/v1/health/live", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers


def test_without_origins_no_cors_headers_are_sent(client: httpx.Client) -> None:
    response = client.get("/api/v1/health/live", headers={"Origin": ORIGIN})

    assert "access-control-allow-origin" not in response.headers
