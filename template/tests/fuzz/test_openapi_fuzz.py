"""Schema-driven fuzzing of every operation in the app's own OpenAPI document.

schemathesis generates requests from the document, valid and invalid, and checks that no
response is a 500, that every response matches what the document declares for it (status,
content type, schema), that invalid requests are refused and valid ones accepted. On top, no
error body may name internals. A larger run: `FUZZ_EXAMPLES=500 uv run pytest tests/fuzz`.
"""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.core.result import Ok
from schemathesis.schemas import BaseSchema

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
INTERNALS = ("Traceback", 'File "', "sqlalchemy", "sqlite", "psycopg", "asyncpg", "Error:")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """The fuzzer sends many requests from one address, and its logs are not read."""
    return {"rate_limit": "1000000/minute", "log_level": "WARNING"}


def test_every_operation_keeps_the_contract(api_schema: BaseSchema) -> None:
    results = list(api_schema.get_all_operations())
    invalid = [str(result.err()) for result in results if not isinstance(result, Ok)]
    assert results
    assert invalid == [], "the document itself breaks OpenAPI"

    for operation in (result.ok() for result in results if isinstance(result, Ok)):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same examples on every run: CI stays repeatable
            suppress_health_check=list(HealthCheck),
        )
        def keeps_the_contract(case: Case[Any]) -> None:
            response = case.call_and_validate()
            for internal in INTERNALS:
                assert internal not in response.text, (case.operation.label, response.text)

        keeps_the_contract()
