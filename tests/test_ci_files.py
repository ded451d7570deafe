"""The `ci` answer renders one CI service's files, and every CI file is valid for its tool.
The CI files start the servers the other answers need as service containers, and build the
image when there is one.

The validators run offline: actionlint and shellcheck ship their binaries in their wheels,
check-jsonschema carries the GitLab CI, GitHub workflow, Dependabot and Renovate schemas, and
`pre-commit validate-config` reads the file only.
"""

import re
import shlex
import shutil
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
from tests.update_support import GIT_IDENTITY, TemplateRepository, commit_all, copy_project, git

pytestmark = pytest.mark.xdist_group("ci")

UPDATE_WORKFLOW = ".github/workflows/template-update.yml"
UPDATE_SCRIPT = "scripts/update-from-template.sh"
CI_FILES = {
    "github": {
        ".github/workflows/ci.yml",
        UPDATE_WORKFLOW,
        ".github/dependabot.yml",
        UPDATE_SCRIPT,
    },
    "gitlab": {".gitlab-ci.yml", "renovate.json", UPDATE_SCRIPT},
    "none": set(),
}
ALWAYS = {".pre-commit-config.yaml", ".editorconfig"}
# The builtin schema of check-jsonschema that each CI file must satisfy.
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    UPDATE_WORKFLOW: "vendor.github-workflows",
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
    "conflict-markers",
    "ruff-check",
    "ruff-format",
    "mypy",
}
# The lines that open or close a conflict, for the pre-commit hook and both pipelines.
CONFLICT_MARKERS = "^(<<<<<<<|>>>>>>>)( |$)"
# What both pipelines run, in this order, after refusing conflict markers.
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
        # GitHub's own `${{ }}` may stay; no Jinja may.
        assert not re.search(r"(?<!\$)\{\{|\{%|\{#", text), relative


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_files_match_their_schemas(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)

    for relative in sorted(CI_FILES[ci] & SCHEMAS.keys()):
        run_tool(project, tool("check-jsonschema"), "--builtin-schema", SCHEMAS[relative], relative)


@pytest.mark.parametrize("workflow", [".github/workflows/ci.yml", UPDATE_WORKFLOW])
def test_the_github_workflows_pass_actionlint(render_ci: RenderCi, workflow: str) -> None:
    actionlint(render_ci("github") / workflow)


def test_the_github_workflow_runs_every_check_on_the_projects_python(render_ci: RenderCi) -> None:
    project = render_ci("github")
    steps = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["check"]["steps"]
    actions = {step["uses"].split("@")[0]: step.get("with", {}) for step in steps if "uses" in step}

    assert actions["actions/setup-python"] == {"python-version-file": ".python-version"}
    assert actions["astral-sh/setup-uv"]["enable-cache"] is True
    marker_check, *checks = [step["run"] for step in steps if "run" in step]
    assert checks == CHECKS
    assert f"git grep -nIE '{CONFLICT_MARKERS}'" in marker_check
    assert "exit 1" in marker_check


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
    marker_check, *checks = job["script"]
    assert checks == [*CHECKS, "uv cache prune --ci"]
    assert f"grep -rnIE --exclude-dir=.git --exclude-dir=.uv-cache '{CONFLICT_MARKERS}' ." in (
        marker_check
    )
    assert "exit 1" in marker_check
    assert job["cache"]["paths"] == [pipeline["variables"]["UV_CACHE_DIR"]]


# -- Conflict markers ---------------------------------------------------------------------------

COPIER_CONFLICT = """root = true
<<<<<<< before updating
# ours
=======
# theirs
>>>>>>> after updating
"""
# `=======` alone underlines a title in Markdown and reStructuredText: no conflict there.
UNDERLINED = {
    "docs/updates.md": "Updates\n=======\n\n> A quote, and a nested one:\n>> here.\n",
    "docs/updates.rst": "=======\nUpdates\n=======\n",
}


def marker_check(project: Path, ci: str) -> str:
    """The first thing each pipeline does: the shell text that refuses conflict markers."""
    if ci == "github":
        steps = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["check"]["steps"]
        return str(next(step["run"] for step in steps if "run" in step))
    return str(load_yaml(project / ".gitlab-ci.yml")["check"]["script"][0])


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_and_the_hook_refuse_conflict_markers_and_nothing_else(
    render_ci: RenderCi, tmp_path: Path, ci: str
) -> None:
    project = tmp_path / "service"
    shutil.copytree(render_ci(ci), project)
    hooks = load_yaml(project / ".pre-commit-config.yaml")["repos"]
    (pattern,) = [
        hook["entry"]
        for repo in hooks
        for hook in repo["hooks"]
        if hook["id"] == "conflict-markers"
    ]
    check = marker_check(project, ci)
    git(project, "init", "--quiet")

    def refused() -> tuple[subprocess.CompletedProcess[str], set[str]]:
        git(project, "add", "--all")
        ran = subprocess.run(
            ["bash", "-e", "-c", check], cwd=project, capture_output=True, text=True, check=False
        )
        matched = subprocess.run(
            ["git", "grep", "-lIE", pattern],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        return ran, set(matched.stdout.split())

    # The fresh render passes, though its CI files and hook name the markers.
    for relative, text in UNDERLINED.items():
        (project / relative).parent.mkdir(exist_ok=True)
        (project / relative).write_text(text)
    ran, matched = refused()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert matched == set()

    (project / ".editorconfig").write_text(COPIER_CONFLICT)
    ran, matched = refused()
    assert ran.returncode == 1
    assert ".editorconfig:2:<<<<<<< before updating" in ran.stdout
    assert ".editorconfig:6:>>>>>>> after updating" in ran.stdout
    assert "Conflict markers, left by a merge or copier update" in ran.stdout
    assert matched == {".editorconfig"}


# -- The job that proposes the template's latest release ------------------------------------------

UPDATE_COMMANDS = [
    "uvx --with copier-template-extensions copier",
    '"${copier[@]}" check-update --output-format json',
    'git switch --quiet --force-create "$branch"',
    '"${copier[@]}" update --trust --defaults --conflict inline',
    "uv lock",
    "git add --all",
    'git commit --quiet --message "$title" --message "$body"',
]


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_update_script_checks_updates_locks_and_commits_in_this_order(
    render_ci: RenderCi, ci: str
) -> None:
    project = render_ci(ci)
    script = (project / UPDATE_SCRIPT).read_text()
    lines = [line.strip() for line in script.splitlines()]

    run_tool(project, tool("shellcheck"), UPDATE_SCRIPT)
    found = [
        next(i for i, line in enumerate(lines) if command in line) for command in UPDATE_COMMANDS
    ]
    assert found == sorted(found)
    assert f"markers='{CONFLICT_MARKERS}'" in lines


def test_the_github_update_workflow_runs_weekly_and_writes_in_its_job_only(
    render_ci: RenderCi,
) -> None:
    project = render_ci("github")
    workflow = load_yaml(project / UPDATE_WORKFLOW)
    ci_steps = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["check"]["steps"]
    # PyYAML reads the key `on` as True.
    triggers = workflow[True]
    (job,) = workflow["jobs"].values()
    checkout, setup_python, install_uv, update, publish = job["steps"]

    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert [len(entry["cron"].split()) for entry in triggers["schedule"]] == [5]
    assert workflow["permissions"] == {}
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    # No action but these two, pinned as in ci.yml.
    assert [checkout["uses"].split("@")[0], setup_python["uses"].split("@")[0]] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    assert {checkout["uses"], setup_python["uses"]} <= {step.get("uses") for step in ci_steps}
    assert checkout["with"] == {"persist-credentials": False}
    assert setup_python["with"] == {"python-version-file": ".python-version"}
    assert install_uv["run"] == "python -m pip install uv"
    # The template's code runs without the token; only publishing has it.
    assert "env" not in update
    assert "title=$(bash scripts/update-from-template.sh)" in update["run"]
    assert publish["if"] == "steps.update.outputs.title != ''"
    assert publish["env"] == {
        "GH_TOKEN": "${{ github.token }}",
        "TITLE": "${{ steps.update.outputs.title }}",
    }
    for command in ("git push --force origin template-update", "gh pr edit", "gh pr create"):
        assert command in publish["run"]


def test_the_gitlab_update_job_runs_alone_in_its_schedule(
    render_ci: RenderCi, tmp_path: Path
) -> None:
    project = render_ci("gitlab", SERVER_CASES["redis"][0])
    pipeline = load_yaml(project / ".gitlab-ci.yml")
    job = pipeline["template-update"]
    python_version = (project / ".python-version").read_text().strip()
    script = tmp_path / "template-update.sh"
    script.write_text("\n".join(job["script"]) + "\n")

    assert job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" && $TEMPLATE_UPDATE == "true"'}
    ]
    for other in ("check", "docker"):
        assert pipeline[other]["rules"][0] == {"if": '$TEMPLATE_UPDATE == "true"', "when": "never"}
    # Copier needs git, which the slim image lacks, and a checkout without uv's cache in it.
    assert job["image"] == f"ghcr.io/astral-sh/uv:python{python_version}-trixie"
    assert job["variables"]["UV_CACHE_DIR"].startswith("/")
    run_tool(project, tool("shellcheck"), "--shell=bash", str(script))
    assert "title=$(bash scripts/update-from-template.sh)" in job["script"]
    push = job["script"][-1]
    assert push.startswith("git push --force -o merge_request.create")
    assert '-o merge_request.target="$CI_DEFAULT_BRANCH"' in push
    assert "${TEMPLATE_UPDATE_TOKEN}@" in push


@pytest.mark.parametrize("ci", CI_FILES)
def test_the_readme_says_how_to_turn_the_update_job_on(render_ci: RenderCi, ci: str) -> None:
    readme = (render_ci(ci) / "README.md").read_text()
    updating = readme.split("## Updating from the template\n")[1].split("\n## ")[0]

    assert "conflict-markers" in updating
    assert ("Allow GitHub Actions to create and approve pull requests" in updating) == (
        ci == "github"
    )
    assert ("`TEMPLATE_UPDATE_TOKEN`" in updating and "`write_repository`" in updating) == (
        ci == "gitlab"
    )
    assert ("update-from-template.sh" in updating) == (ci != "none")


@pytest.mark.rendered
@pytest.mark.xdist_group("template-update")
def test_the_update_script_commits_a_newer_release_and_lists_its_conflicts(
    tmp_path: Path,
) -> None:
    template = TemplateRepository.from_working_tree(tmp_path / "template", "1.0.0")
    project = copy_project(template, tmp_path / "service", "1.0.0", ci="github")
    env = {**tool_env(), **GIT_IDENTITY}

    def propose() -> str:
        return run_tool(project, "bash", UPDATE_SCRIPT, env=env).stdout

    assert propose() == ""
    assert git(project, "branch", "--show-current") == "main\n"
    assert git(project, "status", "--porcelain") == ""

    editorconfig = project / ".editorconfig"
    editorconfig.write_text(editorconfig.read_text().replace("root = true", "root = true\n# ours"))
    commit_all(project, "Our editor settings")
    template.edit("template/.editorconfig", "root = true", "root = true\n# theirs")
    template.release("1.1.0")

    assert propose() == "Update from the template to 1.1.0\n"
    assert git(project, "branch", "--show-current") == "template-update\n"
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s%n%b") == (
        "Update from the template to 1.1.0\n"
        "Made by `copier update --trust --defaults --conflict inline` and `uv lock`. "
        "Conflict markers to resolve before merging: `.editorconfig`.\n\n"
    )
    assert editorconfig.read_text().startswith(
        "# Editor settings that match ruff format and the pre-commit hooks.\n" + COPIER_CONFLICT
    )
    changed = git(project, "diff", "--name-only", "main", "HEAD").split()
    assert changed == [".copier-answers.yml", ".editorconfig", "uv.lock"]
    assert "_commit: 1.1.0\n" in (project / ".copier-answers.yml").read_text()


@pytest.mark.parametrize("ci", CI_FILES)
def test_pre_commit_config_is_valid(render_ci: RenderCi, ci: str) -> None:
    project = render_ci(ci)
    config = load_yaml(project / ".pre-commit-config.yaml")
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}

    run_tool(project, tool("pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert set(hooks) == PRE_COMMIT_HOOKS
    assert hooks["mypy"]["entry"] == "uv run mypy"
    assert hooks["mypy"]["pass_filenames"] is False
    assert hooks["conflict-markers"]["language"] == "pygrep"
    assert hooks["conflict-markers"]["entry"] == CONFLICT_MARKERS


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
