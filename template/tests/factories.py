"""Test data in one place."""

import itertools
from typing import Any

_sequence = itertools.count(1)


def project_payload(**overrides: Any) -> dict[str, Any]:
    """A valid create request body with a unique name."""
    payload: dict[str, Any] = {
        "name": f"Project {next(_sequence)}",
        "description": "A project made by the tests.",
        "budget": 15_000,
    }
    payload.update(overrides)
    return payload
