"""HTTP itself, the same on both frameworks: HEAD, Allow, 204, default headers, rate limits."""

from typing import Any

import httpx
import pytest

from tests.conftest import BOOM_PATH
from tests.factories import project_payload

# Headers that differ from one request to the next whatever the method.
PER_REQUEST = {"x-request-id", "date"}
GET_PATHS = [
    "/api/v1/health/live",
    "/api/v1/health/ready",
    "/api/v1/projects",
    "/api/v1/projects?page=0",  # a 422
    "/api/v1/projects/999999",  # a 404
    "/openapi.json",
    "/nope",
]
DEFAULT_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "server": "api",
}


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_is_answered_like_get_without_a_body(client: httpx.Client, path: str) -> None:
    got = client.get(path)
    head = client.head(path)

    assert head.status_code == got.status_code
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(got.content)
    without = PER_REQUEST | {"content-length"}
    assert {k: v for k, v in head.headers.items() if k not in without} == {
        k: v for k, v in got.headers.items() if k not in without
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/api/v1/health/live", "GET, HEAD"),
        ("DELETE", "/api/v1/health/ready", "GET, HEAD"),
        ("PUT", "/api/v1/projects", "GET, HEAD, POST"),
        ("POST", "/api/v1/projects/1", "GET, HEAD, PATCH, DELETE"),
    ],
)
def test_allow_lists_head_wherever_get_is_allowed(
    client: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed


def test_204_has_no_body_and_no_content_type(client: httpx.Client) -> None:
    created = client.post("/api/v1/projects", json=project_payload())

    response = client.delete(f"/api/v1/projects/{created.json()['data']['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert response.headers.get("content-length", "0") == "0"


@pytest.mark.parametrize("path", ["/api/v1/health/live", "/nope", BOOM_PATH])
def test_every_response_carries_the_default_headers(client: httpx.Client, path: str) -> None:
    # The client's envelope check asserts them too; this names the 500 and the 404 outright.
    response = client.post(path) if path == "/nope" else client.get(path)

    for name, value in DEFAULT_HEADERS.items():
        assert response.headers.get_list(name) == [value], name


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": "2/minute"}])
def test_probes_are_never_rate_limited(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    api = [client.get("/api/v1/projects").status_code for _ in range(3)]
    probes = [client.get(f"/api/v1/health/{probe}") for probe in ("live", "ready") * 5]

    assert api == [200, 200, 429]
    assert [probe.status_code for probe in probes] == [200] * 10
    assert client.head("/api/v1/health/live").status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit": "2/minute"}])
def test_an_untrusted_peer_cannot_pick_its_address(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    statuses = [
        client.get("/api/v1/projects", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    "settings_overrides", [{"rate_limit": "2/minute", "trusted_proxies": ["127.0.0.0/8"]}]
)
def test_a_trusted_proxy_names_the_client(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    def status_of(forwarded_for: str) -> int:
        response = client.get("/api/v1/projects", headers={"X-Forwarded-For": forwarded_for})
        return response.status_code

    # Each client has its own count; what a client wrote left of its address is not believed.
    first = [status_of(f"198.51.100.{n}, 203.0.113.1") for n in range(3)]
    second = [status_of("203.0.113.2") for _ in range(3)]

    assert first == [200, 200, 429]
    assert second == [200, 200, 429]
