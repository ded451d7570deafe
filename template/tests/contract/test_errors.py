"""Errors raised by the framework, the router and the server end in the same envelope."""

import httpx
import pytest
from structlog.testing import capture_logs

from tests.conftest import BOOM_PATH

INTERNALS = ("Traceback", "RuntimeError", "sqlalchemy", "secret-table", 'File "')


def test_unknown_route_is_not_found(client: httpx.Client) -> None:
    response = client.get("/nope")

    assert response.status_code == 404
    body = response.json()
    assert body["error_code"] == "NOT_FOUND"
    assert body["message"] == "The requested resource was not found."
    assert body["errors"] == {}


def test_trailing_slash_is_not_redirected(client: httpx.Client) -> None:
    response = client.get("/api/v1/projects/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/projects", {"GET", "POST"}),
        ("POST", "/api/v1/projects/1", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/api/v1/health/live", {"GET"}),
    ],
)
def test_wrong_method_is_not_allowed(
    client: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)

    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"
    # HEAD is answered wherever GET is, by frameworks that do so on their own.
    listed = set(response.headers["allow"].replace(" ", "").split(",")) - {"HEAD"}
    assert listed == allowed


@pytest.mark.parametrize("content", [b"{not json", b'{"name": "a",}', b"\xff\xfe"])
def test_malformed_json_is_invalid_input(client: httpx.Client, content: bytes) -> None:
    response = client.post(
        "/api/v1/projects", content=content, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_INPUT"
    assert body["errors"] == {}


@pytest.mark.parametrize("body", [[{"name": "x"}], "a string", 42])
def test_a_body_that_is_not_an_object_is_a_validation_error(
    client: httpx.Client, body: object
) -> None:
    response = client.post("/api/v1/projects", json=body)

    assert response.status_code == 422
    assert response.json()["message"] == "The request body must be a JSON object."
    assert response.json()["errors"] == {}


def test_unexpected_error_hides_its_internals(client: httpx.Client) -> None:
    with capture_logs() as logs:
        response = client.get(BOOM_PATH, headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert body["message"] == "Something went wrong on our side. Try again later."
    assert body["errors"] == {}
    assert response.headers["x-request-id"] == "req-500"
    for internal in (*INTERNALS, "hunter2", "5432", "boom"):
        assert internal not in response.text
    logged = [entry for entry in logs if entry["event"] == "unhandled_exception"]
    assert len(logged) == 1
    assert isinstance(logged[0]["exc_info"], RuntimeError)
    request_log = next(entry for entry in logs if entry["event"] == "http_request")
    assert request_log["status"] == 500
