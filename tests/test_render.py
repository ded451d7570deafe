"""What a render contains, before any of its tools run."""

import ast
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from pytest_copie.plugin import Copie

from extensions.naming import SUPPORTED_PYTHON_VERSIONS
from tests.conftest import (
    CUSTOM_ANSWERS,
    FRAMEWORKS,
    Render,
    answer_set_params,
    variant,
    variant_params,
)

# The layout of ../shared/PRACTICES.md section 1, with the example resource.
LAYOUT = [
    "src/{package}/__init__.py",
    "src/{package}/main.py",
    "src/{package}/cli.py",
    "src/{package}/api/routes/__init__.py",
    "src/{package}/api/routes/health.py",
    "src/{package}/api/routes/projects.py",
    "src/{package}/api/dependencies.py",
    "src/{package}/api/middleware.py",
    "src/{package}/api/exception_handlers.py",
    "src/{package}/core/config.py",
    "src/{package}/core/exceptions.py",
    "src/{package}/core/responses.py",
    "src/{package}/core/logging.py",
    "src/{package}/models/domain/projects.py",
    "src/{package}/models/schemas/projects.py",
    "src/{package}/services/projects.py",
    "src/{package}/repositories/projects.py",
    "src/{package}/infrastructure/database.py",
    "migrations/env.py",
    "migrations/versions/0001_create_projects.py",
    "src/{package}/server.py",
    "tests/conftest.py",
    "tests/app_fixtures.py",
    "tests/api/test_app.py",
    "tests/contract/test_projects.py",
    "tests/services/test_projects.py",
    "pyproject.toml",
    "alembic.ini",
    ".env.example",
    ".gitignore",
    ".python-version",
    ".copier-answers.yml",
    "README.md",
]
FRAMEWORK_FREE_LAYERS = ("core", "models", "services", "repositories")


def text_files(project: Path) -> list[Path]:
    return [path for path in sorted(project.rglob("*")) if path.is_file()]


def files_naming(words: re.Pattern[str], project: Path, under: tuple[str, ...] = ()) -> list[str]:
    """The files of a render (below `under`, if given) whose path or text matches `words`."""
    named = []
    for path in text_files(project):
        relative = path.relative_to(project)
        if under and relative.parts[0] not in under:
            continue
        if words.search(str(relative)) or words.search(path.read_text(encoding="utf-8")):
            named.append(str(relative))
    return named


@pytest.mark.parametrize("variant", variant_params())
def test_no_jinja_survives_and_files_are_clean(render: Render, variant: str) -> None:
    project = render(variant)

    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(project)
        # GitHub's expressions (`${{ github.token }}`) are not Jinja, nor are the label names
        # of the Grafana dashboard's legends (`{{route}}`).
        if relative.parts[0] == "grafana":
            text = re.sub(r"\{\{\w+\}\}", "", text)
        assert not re.search(r"(?<!\$)\{\{", text), relative
        assert "{%" not in text, relative
        assert "{#" not in text, relative
        assert not text or text.endswith("\n"), f"{relative} does not end with a newline"
        assert "\n\n\n\n" not in text, f"{relative} has blank-line debris"
        assert not re.search(r"[ \t]+$", text, re.MULTILINE), f"{relative} has trailing spaces"
        assert "{" not in str(relative), f"an unrendered file name: {relative}"


@pytest.mark.parametrize("variant", variant_params())
def test_no_directory_is_empty(render: Render, variant: str) -> None:
    project = render(variant)

    empty = [
        str(path.relative_to(project))
        for path in sorted(project.rglob("*"))
        if path.is_dir() and not any(path.iterdir())
    ]

    assert empty == [], "a directory with nothing for these answers must not render"


@pytest.mark.parametrize("variant", variant_params())
def test_layout_follows_the_practices(render: Render, variant: str) -> None:
    project = render(variant)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = answers["package_name"]

    missing = [entry for entry in LAYOUT if not (project / entry.format(package=package)).is_file()]

    assert missing == []


# Small pieces (PRACTICES.md): modules well under 400 lines, functions under 40.
MOST_MODULE_LINES = 400
MOST_FUNCTION_LINES = 40


@pytest.mark.parametrize("variant", variant_params())
def test_modules_and_functions_stay_small(render: Render, variant: str) -> None:
    project = render(variant)
    too_long = []

    for path in sorted(project.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(project)
        if len(text.splitlines()) > MOST_MODULE_LINES:
            too_long.append(f"{relative}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MOST_FUNCTION_LINES:
                    too_long.append(f"{relative}: {node.name}() has {lines} lines")

    assert too_long == []


@pytest.mark.parametrize("variant", variant_params())
def test_framework_free_layers_import_no_framework(render: Render, variant: str) -> None:
    project = render(variant)
    package_dir = next((project / "src").iterdir())

    for layer in FRAMEWORK_FREE_LAYERS:
        for module in (package_dir / layer).rglob("*.py"):
            source = module.read_text()
            for framework in ("fastapi", "starlette", "flask", "werkzeug"):
                assert not re.search(rf"^\s*(from|import) {framework}\b", source, re.MULTILINE), (
                    f"{module.relative_to(project)} imports {framework}"
                )


# What auth=jwt adds to the layout (the default answer set renders it).
AUTH_LAYOUT = [
    "src/{package}/core/security.py",
    "src/{package}/models/domain/users.py",
    "src/{package}/models/schemas/users.py",
    "src/{package}/repositories/users.py",
    "src/{package}/services/users.py",
    "src/{package}/models/domain/sessions.py",
    "src/{package}/repositories/sessions.py",
    "src/{package}/services/sessions.py",
    "src/{package}/api/security.py",
    "src/{package}/api/routes/auth.py",
    "src/{package}/api/routes/users.py",
    "src/{package}/cli_users.py",
    "migrations/versions/0002_create_users.py",
    "migrations/versions/0004_create_login_sessions.py",
    "tests/auth_fixtures.py",
    "tests/contract/test_auth.py",
    "tests/contract/test_auth_logs.py",
    "tests/contract/test_ownership.py",
    "tests/contract/test_sessions.py",
    "tests/contract/test_users.py",
    "tests/services/test_users.py",
]
# Words no file of an auth=none render may hold, in its name or its text. ("password" is not
# one: the contract suite's unexpected error carries a fake one, to show it never leaks.)
AUTH_WORDS = re.compile(
    r"\busers\b|\buser_(?!agent)|jwt|argon2|bearer|owner_id|access_token|refresh_token|lockout"
    r"|login_session",
    re.IGNORECASE,
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_auth_jwt_renders_users_and_tokens(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    paths = [project / entry.format(package="my_service") for entry in AUTH_LAYOUT]

    missing = [str(path.relative_to(project)) for path in paths if not path.is_file()]

    assert missing == []
    dependencies = " ".join(pyproject["project"]["dependencies"])
    assert "pyjwt" in dependencies
    assert "argon2-cffi" in dependencies
    assert "AUTH_RATE_LIMIT=10/minute" in (project / ".env.example").read_text()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_auth_none_renders_no_trace_of_users(render: Render, framework: str) -> None:
    project = render(variant(framework, "custom"))

    assert files_naming(AUTH_WORDS, project) == []
    assert not list((project / "migrations" / "versions").glob("0002_*"))
    assert not list((project / "migrations" / "versions").glob("0004_*"))


# What cache=redis adds to the layout (the services answer set renders it).
CACHE_LAYOUT = [
    "src/{package}/infrastructure/cache.py",
    "tests/cache_fixtures.py",
    "tests/servers.py",
    "tests/contract/test_cache.py",
    "tests/contract/test_cache_outage.py",
    "tests/services/test_project_cache.py",
]
# Code and settings only: the CI files say where a Redis service would go, whatever the answer.
# (`Cache-Control`, the HTTP header every response carries, is not the cache.)
CACHE_WORDS = re.compile(
    r"(?i:redis)|infrastructure\.cache|plugins\.cache|\bCache\b(?!-Control)|cache_key"
)
CODE_AND_SETTINGS = ("src", "tests", "pyproject.toml", ".env.example", "README.md")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cache_redis_renders_the_cache(render: Render, framework: str) -> None:
    project = render(variant(framework, "services"))
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]

    missing = [
        entry
        for entry in CACHE_LAYOUT
        if not (project / entry.format(package="my_service")).is_file()
    ]

    assert missing == []
    assert any(name.startswith("redis") for name in dependencies["dependencies"])
    assert "CACHE_KEY_PREFIX=my-service" in (project / ".env.example").read_text()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cache_none_renders_no_trace_of_redis(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))

    assert files_naming(CACHE_WORDS, project, under=CODE_AND_SETTINGS) == []


def test_first_migration_is_the_same_for_both_auth_answers(render: Render) -> None:
    first = "migrations/versions/0001_create_projects.py"

    with_auth = (render(variant("fastapi", "default")) / first).read_text()
    without_auth = (render(variant("fastapi", "custom")) / first).read_text()

    assert with_auth == without_auth


# The PostgreSQL driver each framework's service uses, and the SQLite one it then leaves out.
POSTGRESQL_DRIVERS = {"fastapi": "asyncpg", "flask": "psycopg"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_database_postgresql_renders_its_driver_and_test_databases(
    render: Render, framework: str
) -> None:
    project = render(variant(framework, "services"))
    driver = POSTGRESQL_DRIVERS[framework]

    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    config = (project / "src" / "my_service" / "core" / "config.py").read_text()
    fixtures = (project / "tests" / "database_fixtures.py").read_text()

    assert driver in dependencies
    assert "aiosqlite" not in dependencies
    assert f"postgresql+{driver}://postgres:postgres@localhost:5432/my_service" in config
    assert "TEST_DATABASE_URL" in fixtures
    assert (project / "tests" / "contract" / "test_server_outages.py").is_file()
    assert f"DATABASE_URL=postgresql+{driver}://" in (project / ".env.example").read_text()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_database_sqlite_needs_no_server(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))

    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    fixtures = (project / "tests" / "database_fixtures.py").read_text()

    assert not any("asyncpg" in name or "psycopg" in name for name in metadata["dependencies"])
    assert "sqlite" in fixtures
    assert "TEST_DATABASE_URL" not in fixtures
    assert not (project / "tests" / "servers.py").exists()
    assert not (project / "tests" / "contract" / "test_server_outages.py").exists()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_custom_answers_reach_the_metadata(render: Render, framework: str) -> None:
    project = render(variant(framework, "custom"))

    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]

    assert metadata["name"] == CUSTOM_ANSWERS["project_slug"]
    assert metadata["description"] == CUSTOM_ANSWERS["description"]
    assert metadata["authors"] == [
        {"name": CUSTOM_ANSWERS["author_name"], "email": CUSTOM_ANSWERS["author_email"]}
    ]
    assert metadata["scripts"] == {
        CUSTOM_ANSWERS["project_slug"]: f"{CUSTOM_ANSWERS['package_name']}.cli:app"
    }
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {key: answers[key] for key in CUSTOM_ANSWERS} == CUSTOM_ANSWERS
    assert answers["framework"] == framework
    assert answers["_src_path"]


def test_defaults_are_derived_from_the_name(render: Render) -> None:
    project = render(variant("fastapi", "default"))

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert answers["project_name"] == "My Service"
    assert answers["project_slug"] == "my-service"
    assert answers["package_name"] == "my_service"
    assert (project / "src" / "my_service" / "main.py").is_file()


@pytest.mark.parametrize("python_version", SUPPORTED_PYTHON_VERSIONS)
def test_python_version_sets_every_tool(copie: Copie, python_version: str) -> None:
    result = copie.copy(extra_answers={"python_version": python_version})
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    project = result.project_dir

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert pyproject["project"]["requires-python"] == f">={python_version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python_version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == python_version
    assert (project / ".python-version").read_text().strip() == python_version


# Files whose text must not depend on the framework: the contract suite (black-box HTTP
# tests) and the layers that hold no sync/async difference. core/config.py differs in one
# line only: the default database URL names the sync or the async driver. The modules of core/
# that wait on something (the rate limits' storage, the event bus's handlers, the views' loads)
# are written once with the sync/async device, so the two renders differ by the device's words
# alone, which DEVICE_WORDS takes back out of the FastAPI one.
SHARED_TREES = ("tests/contract", "src/{package}/core", "src/{package}/models")
DRIVER_SPECIFIC = {"config.py"}
DEVICE_WRITTEN = {"events.py", "rate_limit.py", "views.py"}
DEVICE_WORDS = [
    (r"limits\.aio\.", "limits."),
    (r"sqlalchemy\.ext\.asyncio import AsyncSession", "sqlalchemy.orm import Session"),
    (r"AsyncSession", "Session"),
    (r"Awaitable, ", ""),
    (r"Awaitable\[(\w+)\]", r"\1"),
    (r"async def ", "def "),
    (r"await ", ""),
]
# Imports that must not appear in the other framework's render.
FOREIGN_IMPORTS = {
    "fastapi": ("flask", "flask_openapi3", "werkzeug", "granian"),
    "flask": ("fastapi", "starlette", "uvicorn", "aiosqlite"),
}


def tree_texts(project: Path, tree: str) -> dict[str, str]:
    """The files of the tree by path, the device-written ones with the device's words out."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    root = project / tree.format(package=answers["package_name"])
    texts = {}
    for path in sorted(root.rglob("*.py")):
        if path.name in DRIVER_SPECIFIC:
            continue
        text = path.read_text()
        if path.name in DEVICE_WRITTEN:
            for word, sync_word in DEVICE_WORDS:
                text = re.sub(word, sync_word, text)
        texts[str(path.relative_to(root))] = text
    return texts


@pytest.mark.parametrize("answer_set", answer_set_params())
@pytest.mark.parametrize("tree", SHARED_TREES)
def test_shared_files_are_identical_for_both_frameworks(
    render: Render, answer_set: str, tree: str
) -> None:
    fastapi = tree_texts(render(variant("fastapi", answer_set)), tree)
    flask = tree_texts(render(variant("flask", answer_set)), tree)

    assert fastapi
    assert fastapi == flask


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_render_carries_only_its_own_framework(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))
    foreign = "|".join(FOREIGN_IMPORTS[framework])
    pattern = re.compile(rf"^\s*(from|import) ({foreign})\b", re.MULTILINE)

    offenders = [
        str(path.relative_to(project))
        for path in project.rglob("*.py")
        if pattern.search(path.read_text())
    ]

    assert offenders == []
    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    for name in FOREIGN_IMPORTS[framework]:
        assert name.replace("_", "-") not in dependencies


# What a task queue adds to the layout (the services and arq answer sets render one).
JOB_LAYOUT = [
    "src/{package}/infrastructure/jobs.py",
    "src/{package}/worker.py",
    "src/{package}/services/jobs.py",
    "src/{package}/services/notifications.py",
    "src/{package}/repositories/notifications.py",
    "src/{package}/models/domain/notifications.py",
    "migrations/versions/0003_create_notifications.py",
    "tests/job_queue.py",
    "tests/job_fixtures.py",
    "tests/jobs/test_broker.py",
    "tests/jobs/test_enqueue.py",
    "tests/jobs/test_retries.py",
    "tests/jobs/test_worker.py",
    "tests/services/test_notifications.py",
]
# Words no file of a task_queue=none render may hold, in its name or its text.
JOB_WORDS = re.compile(r"celery|\barq\b|broker|notification|job_queue|task_queue_name", re.I)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(name.split("-")[1]))
        for name in ("fastapi-services", "flask-services", "fastapi-arq")
    ],
)
def test_a_task_queue_renders_its_jobs_and_worker(render: Render, variant: str) -> None:
    project = render(variant)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = answers["package_name"]

    missing = [
        entry for entry in JOB_LAYOUT if not (project / entry.format(package=package)).is_file()
    ]

    assert missing == []
    migration = (project / "migrations/versions/0003_create_notifications.py").read_text()
    previous = "0002" if answers["auth"] == "jwt" else "0001"
    assert f'down_revision: str | None = "{previous}"' in migration
    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    assert answers["task_queue"] in dependencies


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_task_queue_none_renders_no_trace_of_jobs(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))

    assert files_naming(JOB_WORDS, project) == []


# What observability=metrics adds (the custom answer set renders it), and what otel adds to
# that (the services and arq answer sets).
METRICS_LAYOUT = [
    "src/{package}/infrastructure/metrics.py",
    "src/{package}/plugins/metrics.py",
    "src/{package}/api/metrics.py",
    "grafana/dashboard.json",
    "tests/test_grafana_dashboard.py",
]
TRACING_LAYOUT = [
    "src/{package}/plugins/tracing.py",
    "src/{package}/api/tracing.py",
]
# The variants with observability on: metrics (custom), otel (services, arq).
OBSERVED_VARIANTS = (
    "fastapi-custom",
    "flask-custom",
    "fastapi-services",
    "flask-services",
    "fastapi-arq",
)
# No file of an observability=none render may hold these, in its name or its text.
OBSERVABILITY_WORDS = re.compile(
    r"prometheus|opentelemetry|otel|metrics|tracing|trace_id|span_id", re.IGNORECASE
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_observability_none_renders_no_trace_of_it(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))
    config = (project / "src/my_service/core/config.py").read_text()

    assert files_naming(OBSERVABILITY_WORDS, project) == []
    assert "METRICS_" not in (project / ".env.example").read_text()
    assert "metrics_" not in config
    assert not (project / "grafana").exists()


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(name.split("-")[1]))
        for name in OBSERVED_VARIANTS
    ],
)
def test_observability_renders_its_files(render: Render, variant: str) -> None:
    project = render(variant)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = answers["package_name"]
    otel = answers["observability"] == "otel"
    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    metrics = [entry.format(package=package) for entry in METRICS_LAYOUT]
    tracing = [entry.format(package=package) for entry in TRACING_LAYOUT]

    missing = [entry for entry in metrics if not (project / entry).is_file()]

    assert missing == []
    assert "prometheus-client" in dependencies
    assert ("opentelemetry" in dependencies) == otel
    assert [entry for entry in tracing if (project / entry).is_file()] == (tracing if otel else [])
    assert "METRICS_PORT=9464" in (project / ".env.example").read_text()
    assert "## Observability" in (project / "README.md").read_text()
