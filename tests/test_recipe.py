"""docs/recipes.md, followed on a fresh render: every file block, every edit, every command."""

import re
from pathlib import Path

import pytest
from pytest_copie.plugin import Copie

from tests.conftest import TEMPLATE_ROOT, copy_variant, run_tool, tool_env

pytestmark = [pytest.mark.rendered, pytest.mark.xdist_group("recipe")]

RECIPE = TEMPLATE_ROOT / "docs" / "recipes.md"
# A fenced block that names the file it holds: ```python title="src/my_service/...".
FILE_BLOCK = re.compile(r'^```python title="(?P<path>[^"]+)"\n(?P<code>.*?)^```$', re.M | re.S)


def recipe_files() -> dict[str, str]:
    return {match["path"]: match["code"] for match in FILE_BLOCK.finditer(RECIPE.read_text())}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the recipe's edit no longer applies to {path}"
    path.write_text(text.replace(old, new))


def add_route_module(routes: Path, module: str) -> None:
    """Add a module to the routes' import (its names kept sorted) and include its router."""
    text = routes.read_text()
    imported = re.search(r"^from my_service\.api\.routes import (.+)$", text, re.M)
    assert imported, f"the recipe's edit no longer applies to {routes}"
    names = sorted({*imported[1].split(", "), module})
    text = text.replace(imported[0], f"from my_service.api.routes import {', '.join(names)}")
    routes.write_text(f"{text}api_router.include_router({module}.router)\n")


@pytest.fixture(scope="module")
def project(copie_session: Copie) -> Path:
    """The default FastAPI render with the recipe's `clients` resource added and migrated."""
    project = copy_variant(copie_session, "fastapi-default")
    for relative, code in recipe_files().items():
        (project / relative).write_text(code)
    package = project / "src" / "my_service"
    edit(
        package / "models" / "domain" / "__init__.py",
        "from my_service.models.domain.projects",
        "from my_service.models.domain.clients import Client\n"
        "from my_service.models.domain.projects",
    )
    edit(package / "models" / "domain" / "__init__.py", '["Base", ', '["Base", "Client", ')
    add_route_module(package / "api" / "routes" / "__init__.py", "clients")
    edit(
        project / "tests" / "contract" / "test_openapi.py",
        'PATHS = {\n    "/api/v1/health/live",',
        'PATHS = {\n    "/api/v1/clients",\n    "/api/v1/clients/{client_id}",\n'
        '    "/api/v1/health/live",',
    )
    env = {**tool_env(), "DATABASE_URL": f"sqlite+aiosqlite:///{project / 'recipe.db'}"}
    run_tool(project, "uv", "sync")
    run_tool(project, "uv", "run", "my-service", "db", "upgrade", env=env)
    run_tool(project, "uv", "run", "my-service", "db", "revision", "-m", "create clients", env=env)
    run_tool(project, "uv", "run", "my-service", "db", "upgrade", env=env)
    return project


def test_the_recipe_names_every_layer() -> None:
    assert set(recipe_files()) == {
        "src/my_service/models/domain/clients.py",
        "src/my_service/models/schemas/clients.py",
        "src/my_service/repositories/clients.py",
        "src/my_service/services/clients.py",
        "src/my_service/api/routes/clients.py",
        "tests/services/test_clients.py",
    }


def test_alembic_writes_a_migration_for_the_new_table(project: Path) -> None:
    (migration,) = (project / "migrations" / "versions").glob("*_create_clients.py")

    assert 'op.create_table(\n        "clients"' in migration.read_text()


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy",),
        ("pytest", "-q", "-p", "no:cacheprovider"),
    ],
    ids=["ruff-check", "ruff-format", "mypy", "pytest"],
)
def test_the_project_passes_its_checks(project: Path, command: tuple[str, ...]) -> None:
    run_tool(project, "uv", "run", *command)
