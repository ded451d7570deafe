"""Renders shared by the suite: each variant is rendered (and synced) once per worker."""

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pytest_copie.plugin import Copie

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]

# Answers unlike the defaults in every way that could break a render: the longest package name
# (line lengths), quotes and non-ASCII in free text (string escaping), no auth (the defaults
# render auth=jwt) and metrics alone (the defaults render no observability, the services otel),
# so that the renders cover both frameworks with every auth and observability answer.
CUSTOM_ANSWERS: dict[str, Any] = {
    "project_name": "Acme Inventory & Orders",
    "project_slug": "northwind-inventory-and-order-management",
    "package_name": "northwind_inventory_and_order_management",
    "description": 'Tracks "stock" & orders; it\'s fast.',
    "author_name": "Zoë O'Brien",
    "author_email": "zoe.obrien@example.org",
    "auth": "none",
    "observability": "metrics",
}

# The real servers of this machine (PostgreSQL, Redis, RabbitMQ) behind every service answer:
# each framework with Celery, and ARQ, which runs with FastAPI only; with traces, which follow
# a request through those servers to the job in the worker.
SERVICES_ANSWERS: dict[str, Any] = {
    "database": "postgresql",
    "cache": "redis",
    "task_queue": "celery",
    "observability": "otel",
}
# ARQ with the Redis cache: one Redis server behind both, under auth=none.
ARQ_ANSWERS: dict[str, Any] = {
    "database": "postgresql",
    "cache": "redis",
    "task_queue": "arq",
    "auth": "none",
    "observability": "otel",
    "docker": False,
}

FRAMEWORKS = ("fastapi", "flask")
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "custom": CUSTOM_ANSWERS,
    "services": SERVICES_ANSWERS,
    "arq": ARQ_ANSWERS,
}
# The frameworks each answer set renders with, where not both.
ONLY_FRAMEWORKS: dict[str, tuple[str, ...]] = {"arq": ("fastapi",)}
# Every framework with every answer set: "fastapi-default", "flask-custom", ...
VARIANTS: dict[str, dict[str, Any]] = {
    f"{framework}-{answer_set}": {**answers, "framework": framework}
    for answer_set, answers in ANSWER_SETS.items()
    for framework in ONLY_FRAMEWORKS.get(answer_set, FRAMEWORKS)
}


def variant(framework: str, answer_set: str) -> str:
    return f"{framework}-{answer_set}"


def variant_params() -> list[Any]:
    """One parameter per variant. The renders of one answer set share an xdist group, so one
    worker renders and syncs them once and can compare the two frameworks."""
    return [
        pytest.param(name, marks=pytest.mark.xdist_group(name.split("-")[1])) for name in VARIANTS
    ]


def answer_set_params() -> list[Any]:
    """The answer sets that render with both frameworks, for comparing the two."""
    return [
        pytest.param(name, marks=pytest.mark.xdist_group(name))
        for name in ANSWER_SETS
        if name not in ONLY_FRAMEWORKS
    ]


# The groups that take longest on one worker (see --durations), in that order. A free worker
# takes the next group in the collection's order, so these go first and the short ones fill in
# around them; otherwise a worker would start the longest one last and run it alone.
LONGEST_GROUPS = ("services", "lifecycle-fastapi", "lifecycle-flask", "default", "quickstart")


def group_rank(item: pytest.Item) -> int:
    marker = item.get_closest_marker("xdist_group")
    group = marker.args[0] if marker and marker.args else None
    return LONGEST_GROUPS.index(group) if group in LONGEST_GROUPS else len(LONGEST_GROUPS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=group_rank)  # stable: the tests of a group keep their order


@pytest.fixture(scope="session", autouse=True)
def shared_mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One mypy cache for every render this worker checks. The renders share their third-party
    packages (FastAPI, SQLAlchemy, pydantic...), which are most of what mypy reads: a render
    after the first checks in two seconds what took it ten or more. mypy checks again every
    module whose source (by its hash) or whose dependencies' interfaces differ from what it
    cached, as in any incremental run, so sharing hides no error. One cache per worker, since
    two mypy processes writing one cache at once could break it."""
    os.environ["MYPY_CACHE_DIR"] = str(tmp_path_factory.mktemp("mypy-cache"))


def tool_env() -> dict[str, str]:
    """The environment for a rendered project's tools, free of this suite's own venv and pytest."""
    hidden = ("VIRTUAL_ENV", "PYTEST_", "UV_RUN_RECURSION_DEPTH")
    return {key: value for key, value in os.environ.items() if not key.startswith(hidden)}


def run_tool(
    project: Path, *command: str, timeout: float = 900, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one command in a rendered project and fail with its output when it fails."""
    result = subprocess.run(
        command,
        cwd=project,
        env=dict(env or tool_env()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join(command)}` exited with {result.returncode} in {project}\n"
        f"--- stdout ---\n{result.stdout[-20000:]}\n--- stderr ---\n{result.stderr[-20000:]}"
    )
    return result


Render = Callable[[str], Path]
RenderWith = Callable[[dict[str, Any]], Path]
# The command-line tools of the template's own environment (hadolint, actionlint, ...).
TOOLS = Path(sys.executable).parent


def tool(name: str) -> str:
    path = TOOLS / name
    assert path.is_file(), f"{name} is missing from the template's environment: run `uv sync`"
    return str(path)


def copy_variant(copie: Copie, variant: str) -> Path:
    result = copie.copy(extra_answers=VARIANTS[variant])
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    return result.project_dir


@pytest.fixture(scope="session")
def render(copie_session: Copie) -> Render:
    """Render a variant by name, once per worker; its files stay as rendered."""
    return functools.cache(functools.partial(copy_variant, copie_session))


@pytest.fixture(scope="session")
def render_with(copie_session: Copie) -> RenderWith:
    """Render the defaults with some answers changed, once per set of answers and worker.
    Render only: for tests of the files, which need no environment of the project's."""
    renders: dict[str, Path] = {}

    def _render(answers: dict[str, Any]) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in renders:
            result = copie_session.copy(extra_answers=answers)
            assert result.exception is None, result.exception
            assert result.project_dir is not None
            renders[key] = result.project_dir
        return renders[key]

    return _render


@pytest.fixture(scope="session")
def synced(copie_session: Copie) -> Render:
    """Render a variant apart from `render` and sync it with uv, once per worker."""

    @functools.cache
    def _synced(variant: str) -> Path:
        path = copy_variant(copie_session, variant)
        run_tool(path, "uv", "sync")
        return path

    return _synced


@pytest.fixture(scope="session")
def project(request: pytest.FixtureRequest, synced: Render) -> Path:
    """A synced variant, for running its tools (parametrize indirectly with variant_params)."""
    return synced(request.param)
