"""`copier update` keeps the user's work, on tagged releases this suite makes of the template."""

from pathlib import Path

import pytest
import yaml
from copier.errors import UserMessageError

from tests.conftest import FRAMEWORKS, run_tool
from tests.update_support import (
    TemplateRepository,
    commit_all,
    copy_project,
    files_with_conflicts,
    git,
    update_project,
)

PACKAGE = "src/my_service"
CONFIG = f"{PACKAGE}/core/config.py"
TEMPLATE_CONFIG = "template/src/{{ package_name }}/core/config.py.jinja"
RATE_LIMIT_LINE = 'rate_limit: str = Field(default="120/minute"'


def answers_of(project: Path) -> dict[str, object]:
    answers: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepository:
    return TemplateRepository.from_working_tree(tmp_path / "template", "1.0.0")


# -- 1. An update keeps the user's work ----------------------------------------------------------

STATS_SCHEMA = '''"""What the stats endpoint reports."""

from pydantic import BaseModel


class StatsRead(BaseModel):
    projects: int
'''

STATS_SERVICE = {
    "fastapi": '''"""Figures about the signed-in user's projects."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from my_service.models.domain.projects import Project


async def count_projects(session: AsyncSession, *, owner_id: int) -> int:
    query = select(func.count()).select_from(Project).where(Project.owner_id == owner_id)
    return await session.scalar(query) or 0
''',
    "flask": '''"""Figures about the signed-in user's projects."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from my_service.models.domain.projects import Project


def count_projects(session: Session, *, owner_id: int) -> int:
    query = select(func.count()).select_from(Project).where(Project.owner_id == owner_id)
    return session.scalar(query) or 0
''',
}

STATS_ROUTE = {
    "fastapi": '''"""Figures about the signed-in user's work."""

from fastapi import APIRouter

from my_service.api.dependencies import SessionDep
from my_service.api.openapi import error_responses
from my_service.api.security import CurrentUser
from my_service.core.responses import SuccessResponse, success
from my_service.models.schemas.stats import StatsRead
from my_service.services import stats as stats_service

router = APIRouter(prefix="/stats", tags=["stats"], responses=error_responses(401))


@router.get("", response_model=SuccessResponse[StatsRead])
async def read_stats(user: CurrentUser, session: SessionDep) -> SuccessResponse[StatsRead]:
    """Count the signed-in user's projects."""
    total = await stats_service.count_projects(session, owner_id=user.id)
    return success(StatsRead(projects=total), message="Stats retrieved")
''',
    "flask": '''"""Figures about the signed-in user's work."""

from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from my_service.api.dependencies import unit_of_work
from my_service.api.openapi import BEARER_SECURITY, error_responses
from my_service.api.responses import respond
from my_service.api.security import CurrentUser, get_current_user
from my_service.core.responses import SuccessResponse, success
from my_service.models.schemas.stats import StatsRead
from my_service.services import stats as stats_service

router = APIBlueprint(
    "stats",
    __name__,
    url_prefix="/stats",
    abp_tags=[Tag(name="stats")],
    abp_security=BEARER_SECURITY,
    abp_responses=error_responses(401, 429, 500),
)


@router.get("", responses={200: SuccessResponse[StatsRead]})
@CurrentUser
def read_stats() -> Response:
    """Count the signed-in user's projects."""
    owner_id = get_current_user().id
    with unit_of_work() as session:
        total = stats_service.count_projects(session, owner_id=owner_id)
        return respond(success(StatsRead(projects=total), message="Stats retrieved"))
''',
}

STATS_TEST = '''"""The stats endpoint counts the signed-in user's projects."""

import httpx

from tests.factories import project_payload


def test_stats_count_the_users_projects(client: httpx.Client) -> None:
    client.post("/api/v1/projects", json=project_payload())

    response = client.get("/api/v1/stats")

    assert response.status_code == 200
    assert response.json()["data"] == {"projects": 1}
'''

BACKFILL_MIGRATION = '''"""Give every project without a description an empty one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE projects SET description = '' WHERE description IS NULL")


def downgrade() -> None:
    """Nothing to undo: an empty description reads as none."""
'''

GET_PROJECT_DOCSTRING = '    """Ours: another user\'s project does not exist for this one."""\n'
COOP_HEADER = '    ("Cross-Origin-Opener-Policy", "same-origin"),\n'
SECURITY_POLICY = (
    "# Security\n\nReport a vulnerability to security@example.com, never in an issue.\n"
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def make_user_changes(project: Path, framework: str) -> dict[str, str]:
    """What a team writes in its first weeks: a new route, service, schema, test and migration,
    an edited service function and a changed setting default. Returns each file it wrote."""
    written = {
        f"{PACKAGE}/models/schemas/stats.py": STATS_SCHEMA,
        f"{PACKAGE}/services/stats.py": STATS_SERVICE[framework],
        f"{PACKAGE}/api/routes/stats.py": STATS_ROUTE[framework],
        "tests/contract/test_stats.py": STATS_TEST,
        "migrations/versions/0003_backfill_descriptions.py": BACKFILL_MIGRATION,
    }
    for relative, text in written.items():
        (project / relative).write_text(text)
    routes = project / PACKAGE / "api" / "routes" / "__init__.py"
    edit(
        routes,
        "import auth, health, projects, users",
        "import auth, health, projects, stats, users",
    )
    if framework == "fastapi":
        routes.write_text(routes.read_text() + "api_router.include_router(stats.router)\n")
    else:
        edit(routes, "auth.router, users.router)", "auth.router, users.router, stats.router)")
    edit(
        project / "tests" / "contract" / "test_openapi.py",
        '    "/api/v1/projects",\n',
        '    "/api/v1/projects",\n    "/api/v1/stats",\n',
    )
    edit(
        project / PACKAGE / "services" / "projects.py",
        ") -> Project:\n    project = ",
        f") -> Project:\n{GET_PROJECT_DOCSTRING}    project = ",
    )
    edit(project / CONFIG, RATE_LIMIT_LINE, RATE_LIMIT_LINE.replace("120", "600"))
    changed = [*written, f"{PACKAGE}/api/routes/__init__.py", "tests/contract/test_openapi.py"]
    changed += [f"{PACKAGE}/services/projects.py", CONFIG]
    return {relative: (project / relative).read_text() for relative in changed}


def release_practice_changes(template: TemplateRepository) -> None:
    """Version 1.1.0: a new file, a new header in a file users leave alone, and a new default
    on the line the user changed too."""
    template.file("template/SECURITY.md").write_text(SECURITY_POLICY)
    template.edit(
        "template/src/{{ package_name }}/core/headers.py",
        '    ("Referrer-Policy", "no-referrer"),\n',
        '    ("Referrer-Policy", "no-referrer"),\n' + COOP_HEADER,
    )
    template.edit(TEMPLATE_CONFIG, RATE_LIMIT_LINE, RATE_LIMIT_LINE.replace("120", "100"))
    template.release("1.1.0")


@pytest.mark.rendered
@pytest.mark.parametrize(
    "framework",
    [pytest.param(name, marks=pytest.mark.xdist_group(f"update-{name}")) for name in FRAMEWORKS],
)
def test_an_update_keeps_the_users_work_and_conflicts_only_where_both_changed(
    template: TemplateRepository, tmp_path: Path, framework: str
) -> None:
    project = copy_project(template, tmp_path / "service", "1.0.0", framework=framework)
    ours = make_user_changes(project, framework)
    commit_all(project, "Our first weeks of work")
    release_practice_changes(template)

    update_project(project)

    assert answers_of(project)["_commit"] == "1.1.0"
    assert (project / "SECURITY.md").read_text() == SECURITY_POLICY
    headers = (project / PACKAGE / "core" / "headers.py").read_text()
    assert COOP_HEADER in headers
    assert files_with_conflicts(project) == {CONFIG}
    config = (project / CONFIG).read_text()
    assert RATE_LIMIT_LINE.replace("120", "600") in config
    assert RATE_LIMIT_LINE.replace("120", "100") in config
    for relative, text in ours.items():
        if relative != CONFIG:
            assert (project / relative).read_text() == text, f"the update changed our {relative}"

    # Resolve the one conflict as the team would, keeping its own default, and run the checks.
    (project / CONFIG).write_text(ours[CONFIG])
    run_tool(project, "uv", "sync")
    run_tool(project, "uv", "run", "ruff", "check", ".")
    run_tool(project, "uv", "run", "ruff", "format", "--check", ".")
    run_tool(project, "uv", "run", "mypy")
    run_tool(project, "uv", "run", "pytest", "-q", "-p", "no:randomly")
