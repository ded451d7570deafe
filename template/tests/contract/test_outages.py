"""A database that stops answering: every request that needs it is a 503 naming the database,
never a 500, and the service recovers by itself when the database is back.

The outage is real: tests/database_fixtures.py takes the test's database away (a server behind
a proxy that cuts every connection, or a SQLite file whose directory is moved) and brings it
back, while the same app keeps running.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from tests.database_fixtures import DatabaseOutage
from tests.factories import project_payload

PROJECTS = "/api/v1/projects"
READY = "/api/v1/health/ready"
INTERNALS = ("sqlalchemy", "sqlite", "postgres", "asyncpg", "psycopg", "127.0.0.1", "Error")


@pytest.fixture
def settings_overrides(database_outage: DatabaseOutage) -> dict[str, Any]:
    """The app of each test here talks to the database the test can take away."""
    return {"database_url": database_outage.url}


@contextmanager
def outage_at_commit(outage: DatabaseOutage) -> Iterator[None]:
    """Within the block, the database goes away as a unit of work commits: after its changes
    were sent, before they are kept."""

    def begin(session: Session) -> None:
        outage.begin()

    event.listen(Session, "before_commit", begin, once=True)
    try:
        yield
    finally:
        if event.contains(Session, "before_commit", begin):
            event.remove(Session, "before_commit", begin)


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error_code"] == "SERVICE_UNAVAILABLE"
    assert body["message"] == "The database is unreachable. Try again shortly."
    assert body["errors"] == {"database": ["The database did not answer."]}
    for internal in INTERNALS:
        assert internal not in response.text


def test_the_service_starts_without_its_database_and_recovers_when_it_comes(
    client: httpx.Client, database_outage: DatabaseOutage
) -> None:
    database_outage.begin()

    with capture_logs() as logs:
        for response in (
            client.get(READY),
            client.get(PROJECTS),
            client.post(PROJECTS, json=project_payload()),
        ):
            assert_database_unavailable(response)
    database_outage.end()

    warnings = [entry for entry in logs if entry["event"] == "dependency_unreachable"]
    assert warnings
    assert {entry["dependency"] for entry in warnings} == {"database"}
    assert {entry["log_level"] for entry in warnings} == {"warning"}
    assert client.get(READY).status_code == 200
    assert client.post(PROJECTS, json=project_payload()).status_code == 201
    assert client.get(PROJECTS).json()["meta"]["total"] == 1


def test_a_write_during_an_outage_is_503_and_the_next_one_after_it_succeeds(
    client: httpx.Client, database_outage: DatabaseOutage
) -> None:
    kept = client.post(PROJECTS, json=project_payload()).json()["data"]

    database_outage.begin()
    assert_database_unavailable(client.post(PROJECTS, json=project_payload()))
    database_outage.end()

    assert client.post(PROJECTS, json=project_payload()).status_code == 201
    listed = client.get(PROJECTS).json()
    assert listed["meta"]["total"] == 2
    assert kept["id"] in {project["id"] for project in listed["data"]["items"]}


def test_a_commit_the_database_cannot_take_is_503_and_nothing_is_kept(
    client: httpx.Client, database_outage: DatabaseOutage
) -> None:
    with outage_at_commit(database_outage):
        response = client.post(PROJECTS, json=project_payload())
    database_outage.end()

    assert_database_unavailable(response)
    assert client.get(PROJECTS).json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    "settings_overrides",
    [{"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 0.1}],
)
@pytest.mark.usefixtures("occupied_pool")
def test_a_request_that_finds_no_free_connection_in_time_is_503(client: httpx.Client) -> None:
    with capture_logs() as logs:
        assert_database_unavailable(client.get(PROJECTS))

    warnings = [entry for entry in logs if entry["event"] == "dependency_unreachable"]
    assert [entry["dependency"] for entry in warnings] == ["database"]
