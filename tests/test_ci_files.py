"""The `ci` answer renders one CI service's files, and every CI file is valid for its tool.
The CI files start the servers the other answers need as service containers, and build the
image when there is one.

The validators run offline: actionlint and shellcheck ship their binaries in their wheels,
check-jsonschema carries the GitLab CI, GitHub workflow, Dependabot and Renovate schemas, and
`pre-commit validate-config` reads the file only.
"""

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.context import SERVER_IMAGES
from extensions.naming import SUPPORTED_PYTHON_VERSIONS
from tests.conftest import TEMPLATE_ROOT, RenderWith, run_tool, tool, tool_env

pytestmark = pytest.mark.xdist_group("ci")

CI_FILES = {
    "github": {".github/workflows/ci.yml", ".github/dependabot.yml"},
    "gitlab": {".gitlab-ci.yml", "renovate.json"},
    "none": set(),
}
ALWAYS = {".pre-commit-config.yaml", ".editorconfig"}
# The builtin schema of check-jsonschema that each CI file must satisfy.
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "renovate.json": "vendor.renovate",
}
PRE_COMMIT_HOOKS = {
    "trailing-whitespace",
    "end-of-file-fixer",
    "check-yaml",
    "check-toml",
    "check-added-large-files",
    "check-merge-conflict",
    "ruff-check",
    "ruff-format",
    "mypy",
}
# What both pipelines run, in this order.
CHECKS = [
    "uv sync",
    "uv run ruff check",
    "uv run ruff format --check",
    "uv run mypy",
    "uv run pytest",
]

# Answers that need servers, and the servers the CI files must start for them.
SERVER_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "no-server": ({"docker": False}, []),
    "postgresql": ({"database": "postgresql"}, ["postgres"]),
    "redis": ({"cache": "redis"}, ["redis"]),
    "flask-celery": (
        {"framework": "flask", "database": "postgresql", "cache": "redis", "task_queue": "celery"},
        ["postgres", "redis", "rabbitmq"],
    ),
    "arq": ({"database": "postgresql", "task_queue": "arq"}, ["postgres", "redis"]),
}
# The variables the rendered tests read, with the URL of each server; `{host}` is localhost on
# GitHub (ports published on the runner) and the service's alias on GitLab.
SERVER_VARIABLES = {
    "postgres": (
        "TEST_DATABASE_URL",
        "postgresql+{driver}://postgres:postgres@{host}:5432/postgres",
    ),
    "redis": ("REDIS_URL", "redis://{host}:6379/0"),
    "rabbitmq": ("BROKER_URL", "amqp://guest:guest@{host}:5672//"),
}

RenderCi = Callable[..., Path]


@pytest.fixture(scope="module")
def render_ci(render_with: RenderWith) -> RenderCi:
    """Render the default answers with one `ci` choice and maybe other answers, once each."""

    def _render(ci: str, answers: dict[str, Any] | None = None) -> Path:
        return render_with({**(answers or {}), "ci": ci})

    return _render


def actionlint(workflow: Path) -> None:
    run_tool(workflow.parent, tool("actionlint"), "-shellcheck", tool("shellcheck"), workflow.name)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("ci", CI_FILES)
def test_only_the_chosen_services_files_are_rendered(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)
    every_ci_file = set().union(*CI_FILES.values())
    rendered = {path.relative_to(project).as_posix() for path in project.rglob("*")}

    assert rendered & every_ci_file == CI_FILES[ci]
    assert rendered >= ALWAYS
    if ci != "github":
        assert not (project / ".github").exists()


@pytest.mark.parametrize("ci", CI_FILES)
def test_ci_files_are_clean(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)

    for relative in sorted(CI_FILES[ci] | ALWAYS):
        text = (project / relative).read_text(encoding="utf-8")
        assert text.endswith("\n"), relative
        assert "\n\n\n" not in text, relative
        assert not re.search(r"[ \t]+$", text, re.MULTILINE), relative
        # GitHub's own `${{ }}` would trip the check that no Jinja survives a render.
        assert not re.search(r"\{\{|\{%|\{#", text), relative


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_files_match_their_schemas(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)

    for relative in sorted(CI_FILES[ci]):
        run_tool(project, tool("check-jsonschema"), "--builtin-schema", SCHEMAS[relative], relative)


def test_the_github_workflow_passes_actionlint(render_ci: RenderCi) -> None:
    actionlint(render_ci("github") / ".github" / "workflows" / "ci.yml")


def test_the_github_workflow_runs_every_check_on_the_projects_python(render_ci: RenderCi) -> None:
    project = render_ci("github")
    steps = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["check"]["steps"]
    actions = {step["uses"].split("@")[0]: step.get("with", {}) for step in steps if "uses" in step}

    assert actions["actions/setup-python"] == {"python-version-file": ".python-version"}
    assert actions["astral-sh/setup-uv"]["enable-cache"] is True
    assert [step["run"] for step in steps if "run" in step] == CHECKS


def expected_variables(servers: list[str], framework: str, host: str | None) -> dict[str, str]:
    driver = "asyncpg" if framework == "fastapi" else "psycopg"
    return {
        SERVER_VARIABLES[server][0]: SERVER_VARIABLES[server][1].format(
            driver=driver, host=host or server
        )
        for server in servers
    }


@pytest.mark.parametrize("case", SERVER_CASES)
def test_the_github_workflow_starts_the_servers_the_answers_need(
    render_ci: RenderCi, case: str
) -> None:
    answers, servers = SERVER_CASES[case]
    project = render_ci("github", answers)
    workflow = project / ".github" / "workflows" / "ci.yml"
    job = load_yaml(workflow)["jobs"]["check"]
    services = job.get("services", {})

    actionlint(workflow)
    run_tool(
        project,
        tool("check-jsonschema"),
        "--builtin-schema",
        SCHEMAS[".github/workflows/ci.yml"],
        str(workflow),
    )
    assert list(services) == servers
    for name, service in services.items():
        assert service["image"] == SERVER_IMAGES[name]
        assert "--health-cmd" in service["options"]
        assert len(service["ports"]) == 1
    framework = answers.get("framework", "fastapi")
    assert job.get("env", {}) == expected_variables(servers, framework, host="localhost")


@pytest.mark.parametrize("case", SERVER_CASES)
def test_the_gitlab_pipeline_starts_the_servers_the_answers_need(
    render_ci: RenderCi, case: str
) -> None:
    answers, servers = SERVER_CASES[case]
    project = render_ci("gitlab", answers)
    job = load_yaml(project / ".gitlab-ci.yml")["check"]
    services = job.get("services", [])

    run_tool(
        project,
        tool("check-jsonschema"),
        "--builtin-schema",
        SCHEMAS[".gitlab-ci.yml"],
        ".gitlab-ci.yml",
    )
    assert [service["alias"] for service in services] == servers
    for service in services:
        assert service["name"] == SERVER_IMAGES[service["alias"]]
    framework = answers.get("framework", "fastapi")
    assert job.get("variables", {}) == expected_variables(servers, framework, host=None)


# The job that lints the Dockerfile, checks compose.yaml and builds the image, in both CI files.
DOCKER_SCRIPT = [
    "docker run --rm --interactive hadolint/hadolint < Dockerfile",
    "docker compose config --quiet",
    "docker build --tag my-service:ci .",
]


@pytest.mark.parametrize("docker", [True, False])
def test_both_ci_files_build_the_image_when_there_is_one(render_ci: RenderCi, docker: bool) -> None:
    answers = SERVER_CASES["redis"][0] if docker else SERVER_CASES["no-server"][0]
    github = load_yaml(render_ci("github", answers) / ".github" / "workflows" / "ci.yml")["jobs"]
    gitlab = load_yaml(render_ci("gitlab", answers) / ".gitlab-ci.yml")

    dependabot = load_yaml(render_ci("github", answers) / ".github" / "dependabot.yml")
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}

    assert ("docker" in github) == docker
    assert ("docker" in gitlab) == docker
    assert ecosystems & {"docker", "docker-compose"} == (
        {"docker", "docker-compose"} if docker else set()
    )
    if docker:
        steps = github["docker"]["steps"]
        assert [step["run"] for step in steps if "run" in step] == DOCKER_SCRIPT
        assert gitlab["docker"]["script"] == DOCKER_SCRIPT
        assert gitlab["docker"]["services"] == [gitlab["docker"]["image"] + "-dind"]


def test_the_gitlab_pipeline_runs_every_check_with_a_uv_cache(render_ci: RenderCi) -> None:
    project = render_ci("gitlab")
    pipeline = load_yaml(project / ".gitlab-ci.yml")
    job = pipeline["check"]
    python_version = (project / ".python-version").read_text().strip()

    assert job["image"] == f"ghcr.io/astral-sh/uv:python{python_version}-trixie-slim"
    assert job["script"] == [*CHECKS, "uv cache prune --ci"]
    assert job["cache"]["paths"] == [pipeline["variables"]["UV_CACHE_DIR"]]


@pytest.mark.parametrize("ci", CI_FILES)
def test_pre_commit_config_is_valid(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)
    config = load_yaml(project / ".pre-commit-config.yaml")
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}

    run_tool(project, tool("pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert set(hooks) == PRE_COMMIT_HOOKS
    assert hooks["mypy"]["entry"] == "uv run mypy"
    assert hooks["mypy"]["pass_filenames"] is False


def test_the_templates_own_workflow_passes_actionlint() -> None:
    workflow = TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml"

    actionlint(workflow)
    run_tool(
        TEMPLATE_ROOT,
        tool("check-jsonschema"),
        *("--builtin-schema", "vendor.github-workflows", str(workflow)),
    )


def test_the_templates_own_tests_have_every_server() -> None:
    """The suite renders projects that need every server, and CI fails a test it would skip."""
    services = load_yaml(TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["test"][
        "services"
    ]

    assert {name: service["image"] for name, service in services.items()} == SERVER_IMAGES


def test_the_templates_own_workflow_runs_the_oldest_and_the_newest_python() -> None:
    """The suite runs on the oldest version a service may choose; a render on the newest runs
    its own checks on that version, with every server its answers need."""
    jobs = load_yaml(TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    oldest, newest = SUPPORTED_PYTHON_VERSIONS[0], SUPPORTED_PYTHON_VERSIONS[-1]
    job = jobs["newest-python"]
    steps = job["steps"]
    setup = next(
        step["with"] for step in steps if step.get("uses", "").startswith("actions/setup-p")
    )
    render = next(step["run"] for step in steps if step.get("name") == "Render")
    checks = [step["run"] for step in steps if step.get("working-directory")]

    for name in ("lint", "test"):
        setups = [step for step in jobs[name]["steps"] if "setup-python" in step.get("uses", "")]
        assert [step["with"]["python-version"] for step in setups] == [oldest], name
    assert setup["python-version"].split() == [newest, oldest]
    assert f"--data python_version={newest}" in render
    assert checks == CHECKS
    assert {name: service["image"] for name, service in job["services"].items()} == SERVER_IMAGES


def collected(*selections: list[str]) -> list[set[str]]:
    """The ids of the tests that `pytest <args>` would run for each selection, collected at once."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", *arguments],
            cwd=TEMPLATE_ROOT,
            env=tool_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for arguments in selections
    ]
    ids = []
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
        ids.append({line for line in output.splitlines() if "::" in line})
    return ids


def test_the_templates_ci_jobs_select_every_test_once() -> None:
    workflow = load_yaml(TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml")
    matrix = workflow["jobs"]["test"]["strategy"]["matrix"]["include"]

    every_test, *groups = collected([], *(shlex.split(entry["pytest-args"]) for entry in matrix))

    assert sum(len(group) for group in groups) == len(every_test), "a test runs in two jobs"
    assert set().union(*groups) == every_test
