"""The rows of the table: each endpoint of the service and the yardstick it is compared
with, and the counts of requests of the memory row."""

from __future__ import annotations

from dataclasses import dataclass

# The memory rows: one worker's resident size after the first count, and again after the second.
MEMORY_COUNTS = (10_000, 50_000)


@dataclass(frozen=True)
class Row:
    """One endpoint of the service and the yardstick it is compared with."""

    name: str  # as `--rows` selects it
    path: str  # the service's; {id} stands for the project's id
    baseline: str  # which app of benchmarks/baselines: bare or handwritten
    yardstick: str  # how the table names it
    yardstick_path: str
    authenticated: bool


ROWS = (
    Row("health", "/api/v1/health/live", "bare", "bare route", "/bare", authenticated=False),
    Row(
        "read",
        "/api/v1/projects/{id}",
        "handwritten",
        "hand-written read",
        "/projects/{id}",
        authenticated=True,
    ),
    Row(
        "list",
        "/api/v1/projects",
        "handwritten",
        "hand-written list",
        "/projects",
        authenticated=True,
    ),
)
ROW_NAMES = (*(row.name for row in ROWS), "memory")
