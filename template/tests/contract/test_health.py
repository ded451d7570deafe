"""The health probes: liveness asks nothing, readiness asks every dependency by its role."""

import httpx
import pytest


def test_liveness_reports_the_version(client: httpx.Client) -> None:
    response = client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json()["message"] == "Service is alive"
    assert response.json()["data"]["status"] == "ok"
    assert response.json()["data"]["version"]


def test_readiness_reports_every_dependency(client: httpx.Client) -> None:
    response = client.get("/api/v1/health/ready")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "ok"
    assert data["checks"]["database"] == "ok"
    assert set(data["checks"].values()) == {"ok"}


@pytest.mark.usefixtures("unreachable_database")
def test_readiness_names_an_unreachable_database_by_its_role(client: httpx.Client) -> None:
    response = client.get("/api/v1/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["error_code"] == "SERVICE_UNAVAILABLE"
    assert body["message"] == "The database is unreachable. Try again shortly."
    assert body["errors"] == {"database": ["The database did not answer."]}
    for internal in ("missing-dir", "sqlite", "127.0.0.1", "localhost", "OperationalError"):
        assert internal not in response.text


@pytest.mark.usefixtures("unreachable_database")
def test_liveness_does_not_depend_on_the_database(client: httpx.Client) -> None:
    assert client.get("/api/v1/health/live").status_code == 200
