"""docs/recipes.md's "Add a resource", followed on a fresh render of each framework: every file
block (from the tab of the framework, where the frameworks differ), every command, then the
project's own checks."""

import re
import shlex
from pathlib import Path

import pytest
from pytest_copie.plugin import Copie

from tests.conftest import FRAMEWORKS, TEMPLATE_ROOT, copy_variant, run_tool, tool_env, variant

pytestmark = pytest.mark.rendered

RECIPE = TEMPLATE_ROOT / "docs" / "recipes.md"
# The tab of each framework, where a block differs: === "FastAPI" (MkDocs Material's tabs).
TABS = {"FastAPI": "fastapi", "Flask": "flask"}
TAB = re.compile(r'^=== "(?P<label>[^"]+)"$')
# A fenced block, at the margin or indented in a tab: ```python title="src/my_service/...".
FENCE = re.compile(r'^(?P<indent> *)```(?P<language>\w+)(?: title="(?P<path>[^"]+)")?$')
LAYERS = ("models/domain", "models/schemas", "repositories", "services", "api/routes")


def recipe_section() -> str:
    """The "Add a resource" section of the recipes page."""
    text = RECIPE.read_text()
    start = text.index("## Add a resource\n")
    return text[start : text.index("\n## ", start)]


def recipe_blocks() -> list[tuple[str | None, str, str | None, str]]:
    """Every fenced block of the section, in order: (framework of its tab or None, language,
    title, code)."""
    blocks = []
    framework: str | None = None
    lines = iter(recipe_section().splitlines())
    for line in lines:
        if tab := TAB.match(line):
            framework = TABS[tab["label"]]
        elif line and not line.startswith(" "):
            framework = None  # text at the margin ends the tabs
        if fence := FENCE.match(line):
            indent = fence["indent"]
            code = []
            for inner in lines:
                if inner == f"{indent}```":
                    break
                code.append(inner.removeprefix(indent))
            blocks.append((framework, fence["language"], fence["path"], "\n".join(code) + "\n"))
    return blocks


def recipe_files(framework: str) -> dict[str, str]:
    """The files the recipe writes with this framework, by path."""
    files: dict[str, str] = {}
    for tab, _, path, code in recipe_blocks():
        if path is not None and tab in (None, framework):
            assert path not in files, f"{path} is written twice for {framework}"
            files[path] = code
    return files


def recipe_commands() -> list[list[list[str]]]:
    """The commands of each shell block, in order; `a && b` is two commands."""
    return [
        [shlex.split(command) for line in code.splitlines() for command in line.split(" && ")]
        for _, language, _, code in recipe_blocks()
        if language == "bash"
    ]


# The last shell block runs the project's checks; the others build the resource.
*_STEP_BLOCKS, CHECKS = recipe_commands()
STEPS = [command for block in _STEP_BLOCKS for command in block]


def recipe_env() -> dict[str, str]:
    """The project's own settings (its .env), not this suite's."""
    return {key: value for key, value in tool_env().items() if key != "DATABASE_URL"}


@pytest.fixture(
    scope="module",
    params=[
        # One render per framework, on a worker of its own; its checks run on the same worker.
        pytest.param(name, marks=pytest.mark.xdist_group(f"recipe-{name}"))
        for name in FRAMEWORKS
    ],
)
def project(request: pytest.FixtureRequest, copie_session: Copie) -> Path:
    """The default render of a framework with the recipe's `clients` resource added and
    migrated, as the recipe says."""
    framework: str = request.param
    project = copy_variant(copie_session, variant(framework, "default"))
    for relative, code in recipe_files(framework).items():
        (project / relative).write_text(code)
    run_tool(project, "uv", "sync")
    for command in STEPS:
        run_tool(project, *command, env=recipe_env())
    return project


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_recipe_writes_the_five_layers_and_the_tests(framework: str) -> None:
    assert set(recipe_files(framework)) == {
        *(f"src/my_service/{layer}/clients.py" for layer in LAYERS),
        "tests/services/test_clients.py",
        "tests/contract/test_clients.py",
    }


def test_the_recipe_migrates_and_runs_every_check() -> None:
    assert STEPS == [
        ["uv", "run", "my-service", "db", "upgrade"],
        ["uv", "run", "my-service", "db", "revision", "-m", "create clients"],
        ["uv", "run", "my-service", "db", "upgrade"],
    ]
    assert CHECKS == [
        ["uv", "run", "ruff", "check"],
        ["uv", "run", "ruff", "format", "--check"],
        ["uv", "run", "mypy"],
        ["uv", "run", "pytest"],
    ]


def test_alembic_writes_a_migration_for_the_new_table(project: Path) -> None:
    (migration,) = (project / "migrations" / "versions").glob("*_create_clients.py")

    assert 'op.create_table(\n        "clients"' in migration.read_text()


# The tests a new resource can break: its own, the fuzzing of every operation and the OpenAPI
# contract. The whole suite of a render with a resource of its own added runs in
# test_lifecycle.py (and the default render's in test_rendered_project.py).
RESOURCE_TESTS = (
    "tests/contract/test_clients.py",
    "tests/services/test_clients.py",
    "tests/contract/test_openapi.py",
    "tests/fuzz",
)


@pytest.mark.parametrize("command", CHECKS, ids=[" ".join(command[2:]) for command in CHECKS])
def test_the_project_passes_its_checks(project: Path, command: list[str]) -> None:
    if command == ["uv", "run", "pytest"]:
        command = [*command, *RESOURCE_TESTS]
    run_tool(project, *command)
