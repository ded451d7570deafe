"""A database that takes the connection but does not answer (a hung server, a file locked by
another process) is a 503 after DATABASE_CONNECT_TIMEOUT, not a request that hangs."""

import time

import httpx
import pytest

from tests.contract.test_outages import PROJECTS, assert_database_unavailable

# Far below what the drivers wait by default (a minute for asyncpg, forever for libpq).
PATIENCE_SECONDS = 10


@pytest.mark.usefixtures("silent_database")
def test_a_database_that_does_not_answer_is_503_after_the_connect_timeout(
    client: httpx.Client,
) -> None:
    started = time.monotonic()
    response = client.get(PROJECTS)
    waited = time.monotonic() - started

    assert_database_unavailable(response)
    assert 1 <= waited < PATIENCE_SECONDS
