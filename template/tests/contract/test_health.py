"""The health endpoint reports the service and its database."""

import httpx
import pytest


def test_health_reports_ok(client: httpx.Client) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["version"]


@pytest.mark.usefixtures("unreachable_database")
def test_health_reports_an_unreachable_database(client: httpx.Client) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 503
    body = response.json()
    assert body["error_code"] == "SERVICE_UNAVAILABLE"
    assert body["message"] == "The database is unreachable. Try again shortly."
    assert body["errors"] == {"database": ["The database did not answer."]}
    for internal in ("missing-dir", "sqlite", "OperationalError"):
        assert internal not in response.text
