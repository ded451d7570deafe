"""Checks of the response envelope, applied to every response the test client receives."""

from typing import Any

import httpx

SUCCESS_KEYS = {"status", "status_code", "message", "data"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
# Set by the docs page and its assets themselves, which the request middleware keeps.
OWN_HEADERS = {"cache-control", "content-security-policy"}
FAILURE_KEYS = {"status", "status_code", "message", "error_code", "errors"}


def assert_success_envelope(body: dict[str, Any], status_code: int) -> None:
    assert set(body) - {"meta"} == SUCCESS_KEYS, body
    assert body["status"] == "success"
    assert body["status_code"] == status_code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["data"], dict), "data is always an object"
    if "meta" in body:
        assert set(body["meta"]) == {"page", "per_page", "total"}
        assert isinstance(body["data"]["items"], list)


def assert_failure_envelope(body: dict[str, Any], status_code: int) -> None:
    assert set(body) == FAILURE_KEYS, body
    assert body["status"] == "failure"
    assert body["status_code"] == status_code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["error_code"].isupper()
    assert isinstance(body["errors"], dict | list)


def check_envelope(response: httpx.Response) -> None:
    """The envelope every response must have; 204 and the docs page and files have no JSON body.

    Every response, whatever its kind, carries the security headers and a request id.
    """
    response.read()
    docs = response.request.url.path.startswith("/docs")
    for name, value in SECURITY_HEADERS.items():
        if docs and name in OWN_HEADERS:
            assert response.headers.get(name), (name, response.request.url)
            continue
        assert response.headers.get(name) == value, (name, response.request.url)
    assert response.headers.get("x-request-id")
    if response.status_code == 204 or response.request.method == "HEAD":
        assert response.content == b""
        return
    path = response.request.url.path
    if path == "/openapi.json" or (path.startswith("/docs") and response.is_success):
        return  # the document, and the docs page and its files
    if response.request.method == "OPTIONS" and response.is_success:
        return  # a CORS preflight answer: headers only
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if response.is_success:
        assert_success_envelope(body, response.status_code)
    else:
        assert_failure_envelope(body, response.status_code)
