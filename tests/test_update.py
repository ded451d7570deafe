"""`copier update` keeps the user's work, on tagged releases this suite makes of the template."""

import re
from pathlib import Path

import pytest
from copier.errors import UserMessageError

from tests.conftest import FRAMEWORKS, run_tool, tool, tool_env
from tests.live_servers import answers_of
from tests.update_support import (
    GIT_IDENTITY,
    TemplateRepository,
    commit_all,
    copy_project,
    files_with_conflicts,
    git,
    tree,
    update_project,
)

PACKAGE = "src/my_service"
CONFIG = f"{PACKAGE}/core/config.py"
TEMPLATE_CONFIG = "template/src/{{ package_name }}/core/config.py.jinja"
RATE_LIMIT_LINE = 'rate_limit: str = Field(default="120/minute"'


# The slow update tests of one framework share a worker, those of the other run beside them.
with_each_framework_on_its_own_worker = pytest.mark.parametrize(
    "framework",
    [pytest.param(name, marks=pytest.mark.xdist_group(f"update-{name}")) for name in FRAMEWORKS],
)


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
Revises: 0004
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0004"
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
    edit(
        project / PACKAGE / "services" / "projects.py",
        ") -> Project:\n    project = ",
        f") -> Project:\n{GET_PROJECT_DOCSTRING}    project = ",
    )
    edit(project / CONFIG, RATE_LIMIT_LINE, RATE_LIMIT_LINE.replace("120", "600"))
    changed = [*written, f"{PACKAGE}/services/projects.py", CONFIG]
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
@with_each_framework_on_its_own_worker
def test_an_update_keeps_the_users_work_and_conflicts_only_where_both_changed(
    template: TemplateRepository,
    tmp_path: Path,
    framework: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    project = copy_project(template, tmp_path / "service", "1.0.0", framework=framework)
    ours = make_user_changes(project, framework)
    commit_all(project, "Our first weeks of work")
    release_practice_changes(template)
    capfd.readouterr()

    update_project(project)

    printed = capfd.readouterr().out
    assert f"The update left conflicts in 1 file(s):\n  {CONFIG}\n" in printed

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
    # The tests of what both sides changed (test_lifecycle.py runs a whole updated suite).
    changed = ["tests/contract/test_stats.py", "tests/contract/test_projects.py", "tests/core"]
    changed += ["tests/contract/test_hardening.py", "tests/test_migrations.py"]
    run_tool(project, "uv", "run", "pytest", "-q", "-p", "no:randomly", *changed)


# -- 2. A renamed question and a renamed choice keep the user's answer ---------------------------

# From here on the tests touch files that are the same whatever the framework (the answers, .env,
# the README, the first migration, the CI files): they run on the default render alone.

OLD_CI_QUESTION = """continuous_integration:
  type: str
  help: The CI service that lints, type-checks and tests every push
  choices:
    GitHub Actions: github-actions
    GitLab CI/CD: gitlab
    None: none
  default: github-actions
"""
ANSWER_MIGRATION = """_migrations:
  - version: "1.1.0"
    when: "{{ _stage == 'before' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/extensions/migrate_answers.py"
      - --rename
      - continuous_integration=ci
      - --replace
      - ci:github-actions=github
"""


def rename_in_tree(root: Path, old: str, new: str) -> None:
    """Rename `old` to `new` in every file name and text under `root`, deepest paths first."""
    for path in sorted(root.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if path.is_file():
            path.write_text(path.read_text().replace(old, new))
        if old in path.name:
            path.rename(path.with_name(path.name.replace(old, new)))


def test_a_renamed_question_and_choice_keep_the_answer(tmp_path: Path) -> None:
    # 1.0.0 asked `continuous_integration` with the choice `github-actions`; 1.1.0 asks `ci`
    # with `github`, and its migration rewrites the recorded answers before the update.
    template = TemplateRepository.from_working_tree(tmp_path / "template", None)
    copier_yml = template.file("copier.yml")
    current = copier_yml.read_text()
    question_start = current.index("\nci:\n") + 1
    question_end = current.index("\n\n", question_start) + 1
    old_config = current[:question_start] + OLD_CI_QUESTION + current[question_end:]
    copier_yml.write_text(old_config)
    rename_in_tree(
        template.file("template"),
        "{% if ci == 'github' %}",
        "{% if continuous_integration == 'github-actions' %}",
    )
    rename_in_tree(
        template.file("template"),
        "{% if ci == 'gitlab' %}",
        "{% if continuous_integration == 'gitlab' %}",
    )
    template.release("1.0.0")
    project = copy_project(template, tmp_path / "service", "1.0.0")
    assert answers_of(project)["continuous_integration"] == "github-actions"
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text()

    git(template.path, "revert", "--no-edit", "HEAD")
    copier_yml.write_text(current.replace("_migrations: []\n", ANSWER_MIGRATION))
    template.release("1.1.0")
    update_project(project)

    answers = answers_of(project)
    assert answers["ci"] == "github"
    assert "continuous_integration" not in answers
    assert answers["_commit"] == "1.1.0"
    assert (project / ".github" / "workflows" / "ci.yml").read_text() == workflow
    assert not (project / ".gitlab-ci.yml").exists()


# -- 3. Files the project owns are never rewritten ---------------------------------------------

OUR_NOTES = "Deploys go through the platform team's pipeline; ask in #billing.\n"


def test_files_the_project_owns_are_never_rewritten(
    template: TemplateRepository, tmp_path: Path
) -> None:
    project = copy_project(template, tmp_path / "service", "1.0.0")
    env = project / ".env"
    env.write_text(env.read_text() + "LOG_LEVEL=DEBUG\n")
    ours_env = env.read_text()
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n" + OUR_NOTES)
    first_migration = project / "migrations" / "versions" / "0001_create_projects.py"
    applied = first_migration.read_text()
    commit_all(project, "Our notes")

    template.edit("template/.env.example.jinja", "LOG_LEVEL=INFO\n", "LOG_LEVEL=WARNING\n")
    template.edit(
        "template/README.md.jinja",
        "## Updating from the template\n",
        "## Updating from the template\n\nRead the template's CHANGELOG first.\n",
    )
    template.edit(
        "template/migrations/versions/0001_create_projects.py",
        '"""',
        '"""Fixed in 1.1.0. ',
    )
    template.release("1.1.0")
    update_project(project)

    assert files_with_conflicts(project) == set()
    assert env.read_text() == ours_env
    assert readme.read_text().endswith(OUR_NOTES)
    assert "Read the template's CHANGELOG first." in readme.read_text()
    assert first_migration.read_text() == applied
    assert "LOG_LEVEL=WARNING" in (project / ".env.example").read_text()


# -- 4. Secrets reach neither the answers file nor git --------------------------------------------


def test_the_secret_key_is_generated_into_an_ignored_env_file(
    template: TemplateRepository, tmp_path: Path
) -> None:
    project = copy_project(template, tmp_path / "service", "1.0.0")
    other = copy_project(template, tmp_path / "other", "1.0.0")

    env = (project / ".env").read_text()
    (secret,) = re.findall(r"^SECRET_KEY=(.+)$", env, flags=re.MULTILINE)
    assert len(secret) >= 32
    assert secret not in (other / ".env").read_text()
    # Nothing an answer decides: the settings class and .env.example hold the defaults.
    settings = [line for line in env.splitlines() if line and not line.startswith("#")]
    assert settings == [f"SECRET_KEY={secret}"]
    assert git(project, "check-ignore", ".env").strip() == ".env"
    assert ".env" not in git(project, "ls-files").split()
    assert secret not in git(project, "log", "--all", "--patch")
    assert secret not in (project / ".copier-answers.yml").read_text()
    questions = [key for key in answers_of(project) if not key.startswith("_")]
    assert [key for key in questions if re.search("secret|password|token|key", key)] == []


# -- 5. A refused update says why and changes nothing -------------------------------------------


def released_twice(template: TemplateRepository) -> None:
    template.file("template/SECURITY.md").write_text(SECURITY_POLICY)
    template.release("1.1.0")


@pytest.mark.parametrize(
    ("case", "rendered", "target", "message"),
    [
        ("dirty", "1.0.0", "1.1.0", "Destination repository is dirty; cannot continue."),
        (
            "no_answers",
            "1.0.0",
            "1.1.0",
            "Cannot update because cannot obtain old template references",
        ),
        ("downgrade", "1.1.0", "1.0.0", "You are downgrading from 1.1.0 to 1.0.0."),
    ],
)
def test_a_refused_update_says_why_and_changes_nothing(
    template: TemplateRepository,
    tmp_path: Path,
    case: str,
    rendered: str,
    target: str,
    message: str,
) -> None:
    released_twice(template)
    project = copy_project(template, tmp_path / "service", rendered)
    if case == "dirty":
        edit(project / "README.md", "# ", "# Our own title, not committed: ")
    elif case == "no_answers":
        git(project, "rm", "--quiet", ".copier-answers.yml")
        commit_all(project, "Lose the answers")
    before = tree(project)
    status = git(project, "status", "--porcelain")

    with pytest.raises(UserMessageError, match=re.escape(message)):
        update_project(project, target)

    assert tree(project) == before
    assert git(project, "status", "--porcelain") == status


# -- 6. A template copied from a relative path can be updated -----------------------------------


UPDATED_README = "## Updating from the template\n\nRead the template's CHANGELOG first.\n"


def test_a_copy_from_a_relative_path_records_the_absolute_one_and_updates(
    template: TemplateRepository, tmp_path: Path
) -> None:
    """`copier copy ../template my-service`, then `copier update` inside the project, as a user
    types them: the relative path would name nothing from there."""
    workspace = tmp_path / "projects"
    workspace.mkdir()
    env = {**tool_env(), **GIT_IDENTITY}
    run_tool(
        workspace, tool("copier"), "copy", "--trust", "--defaults", "../template", "svc", env=env
    )
    project = workspace / "svc"
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Render the service")
    template.edit("template/README.md.jinja", "## Updating from the template\n", UPDATED_README)
    template.release("1.1.0")

    update = run_tool(project, tool("copier"), "update", "--trust", "--defaults", env=env)

    assert answers_of(project)["_src_path"] == str(template.path)
    assert answers_of(project)["_commit"] == "1.1.0", update.stdout + update.stderr
    assert UPDATED_README in (project / "README.md").read_text()
