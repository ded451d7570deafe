"""Values derived from the answers, computed once here instead of in Jinja."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

# The sync/async device. FastAPI renders the framework-free layers (services, repositories,
# their tests) as coroutines on an AsyncSession; Flask renders the same lines as plain
# functions on a Session. Templates write `{{ async_ }}def`, `{{ await_ }}call()`,
# `{{ session_import }}` and `{{ session_class }}`; a type that a coroutine returns is written
# `{{ "None" | awaitable }}` (`Awaitable[None]` or `None`), after
# `from collections.abc import {{ abc_awaitable }}Callable`. The rate limits and the cache
# import their libraries' async or sync API from `{{ limits_module }}` and
# `{{ redis_module }}`, whose classes have the same names in both. Nothing else differs.
_ASYNC_DEVICE = {
    "async_": "async ",
    "await_": "await ",
    "session_import": "from sqlalchemy.ext.asyncio import AsyncSession",
    "session_class": "AsyncSession",
    "abc_awaitable": "Awaitable, ",
    "async_iterator": "AsyncIterator",
    "limits_module": "limits.aio",
    "redis_module": "redis.asyncio",
}
_SYNC_DEVICE = {
    "async_": "",
    "await_": "",
    "session_import": "from sqlalchemy.orm import Session",
    "session_class": "Session",
    "abc_awaitable": "",
    "async_iterator": "Iterator",
    "limits_module": "limits",
    "redis_module": "redis",
}
_ASYNC_FRAMEWORKS = {"fastapi"}

# The ownership device. With auth=jwt a project belongs to the user who created it, so every
# project function acts within one owner's projects; with auth=none the same lines render
# without a trace of owners. Services, routes and their tests are written once with these
# values; each renders to nothing under auth=none.
_OWNED = {
    # The end of a short signature, and the lines that end an exploded one.
    "owner_param": ", *, owner_id: int",
    "owner_params": "    *,\n    owner_id: int,\n",
    # Hands the owner on to the next call.
    "owner_kwarg": ", owner_id=owner_id",
    # A key that holds the owner, so that only its owner ever finds what it names.
    "owner_key": "{owner_id}:",
    # Route docstrings, which are the operations' descriptions in OpenAPI.
    "owner_phrase": " of the signed-in user",
    # The signed-in user's id, as a FastAPI route parameter and as a Flask view's argument.
    "owner_dependency": "    owner_id: OwnerId,\n",
    "owner_required": "@CurrentUser\n",
    "current_owner_kwarg": ", owner_id=current_owner_id()",
    "current_owner_argument": "            owner_id=current_owner_id(),\n",
}
_UNOWNED = dict.fromkeys(_OWNED, "")

# The image of each server, for compose.yaml and both CI files; the template's own workflow
# starts the same (tests/test_ci_files.py checks it).
SERVER_IMAGES = {
    "postgres": "postgres:17",
    "redis": "redis:8-alpine",
    "rabbitmq": "rabbitmq:4-alpine",
}


# The plugins with a `supervise(settings)` beside their `plug(resources)`.
SUPERVISING_PLUGINS = ("metrics",)


class ContextUpdater(ContextHook):
    """Add derived values to the rendering context."""

    def hook(self, context: dict[str, Any]) -> None:
        framework = context.get("framework")
        if framework is None:  # still answering questions
            return
        is_async = framework in _ASYNC_FRAMEWORKS
        context["is_async"] = is_async
        context.update(_ASYNC_DEVICE if is_async else _SYNC_DEVICE)
        context.update(_OWNED if context.get("auth") == "jwt" else _UNOWNED)
        context.update(database_values(context, is_async=is_async))
        python_version = str(context.get("python_version", "3.11"))
        context["python_target"] = "py" + python_version.replace(".", "")
        context["cli_name"] = context.get("project_slug", "")
        # The features that plug into the app: `bootstrap.PLUGINS` lists their `plug`.
        context["plugins"] = plugins(context)
        context["plugin_hooks"] = ", ".join(f"{name}.plug" for name in context["plugins"])
        # The features that also watch the processes that serve: `bootstrap.SUPERVISORS`.
        context["supervisor_hooks"] = ", ".join(
            f"{name}.supervise" for name in context["plugins"] if name in SUPERVISING_PLUGINS
        )
        # The features that watch every request of the app: `main.INSTRUMENTS`.
        context["instruments"] = chosen(
            {
                "metrics": context.get("observability", "none") != "none",
                "tracing": context.get("observability") == "otel",
            }
        )
        context["instrument_hooks"] = ", ".join(
            f"{name}.instrument" for name in context["instruments"]
        )
        # The setting that names the job queue's broker: RabbitMQ for Celery, Redis for ARQ.
        context["broker_setting"] = (
            "broker_url" if context.get("task_queue") == "celery" else "redis_url"
        )
        context["servers"] = servers(context)
        context["server_images"] = SERVER_IMAGES
        context.update(assembled_values(context))
        # For the rendered .env only: generated, so it is never an answer that Copier records.
        context["secret_key"] = secrets.token_urlsafe(48)


def database_values(context: dict[str, Any], *, is_async: bool) -> dict[str, str]:
    """The drivers, and the default URL and database name, of the `database` answer."""
    sqlite_driver = "sqlite+aiosqlite" if is_async else "sqlite+pysqlite"
    # The service's PostgreSQL driver: asyncpg on the event loop, psycopg 3 for sync code.
    postgresql_driver = "postgresql+asyncpg" if is_async else "postgresql+psycopg"
    package_name = context.get("package_name", "")
    drivers = {"sqlite_driver": sqlite_driver, "postgresql_driver": postgresql_driver}
    if context.get("database") == "postgresql":
        return {
            **drivers,
            "database_driver": postgresql_driver,
            "default_database_url": (
                f"{postgresql_driver}://postgres:postgres@localhost:5432/{package_name}"
            ),
            "default_database_name": package_name,
        }
    return {
        **drivers,
        "database_driver": sqlite_driver,
        "default_database_url": f"{sqlite_driver}:///./{package_name}.db",
        "default_database_name": f"./{package_name}.db",
    }


def assembled_values(context: dict[str, Any]) -> dict[str, list[str]]:
    """What the answers add to pyproject.toml, .env.example, the README and tests/conftest.py,
    as lists their templates loop over; the text of a piece is in fragments/ (see
    docs/template-design.md, "Files that are not Python")."""
    return {
        "runtime_requirements": toml_lines(runtime_requirements(context)),
        "dev_requirements": toml_lines(dev_requirements(context)),
        "setting_groups": setting_groups(context),
        "readme_run_and_test": readme_run_and_test(context),
        "readme_sections": readme_sections(context),
        "readme_updating": readme_updating(context),
        "conftest_plugins": conftest_plugins(context),
        "conftest_settings_fixtures": conftest_settings_fixtures(context),
        "conftest_settings_extras": conftest_settings_extras(context),
    }


def servers(context: dict[str, Any]) -> list[str]:
    """The servers the answers need beside the service, named as their images and hosts are:
    compose.yaml runs them and the CI files start them as service containers."""
    needed = {
        "postgres": context.get("database") == "postgresql",
        "redis": context.get("cache") == "redis" or context.get("task_queue") == "arq",
        "rabbitmq": context.get("task_queue") == "celery",
    }
    return [name for name, is_needed in needed.items() if is_needed]


def chosen(candidates: dict[str, bool]) -> list[str]:
    """The names whose condition holds, in the order they are written."""
    return [name for name, is_chosen in candidates.items() if is_chosen]


# pyproject.toml's requirements are written here as in a requirements file: "spec", "spec  # why"
# (the reason on the same line) or a "# why" line above its spec; `toml_lines` writes them out.


def runtime_requirements(context: dict[str, Any]) -> list[str]:
    """The service's requirements, in the order of pyproject.toml's `dependencies`."""
    fastapi = context.get("framework") == "fastapi"
    postgresql = context.get("database") == "postgresql"
    jwt = context.get("auth") == "jwt"
    redis = "redis" in servers(context)  # for the cache, ARQ or both
    celery = context.get("task_queue") == "celery"
    metrics = context.get("observability", "none") != "none"
    otel = context.get("observability") == "otel"
    return chosen(
        {
            "alembic>=1.16": True,
            "limits>=5.0": True,
            "pydantic>=2.14": True,
            "pydantic-settings>=2.10": True,
            "structlog>=25.4": True,
            "# The files of /docs, served by the service (those of swagger-ui-dist 5.31.0).": True,
            "swagger-ui-bundle-v2==5.31.0": True,
            "typer>=0.16": True,
            "prometheus-client>=0.22": metrics,
            "opentelemetry-sdk>=1.45": otel,
            "opentelemetry-exporter-otlp-proto-http>=1.45": otel,
            "opentelemetry-instrumentation-fastapi>=0.66b1": otel and fastapi,
            "opentelemetry-instrumentation-wsgi>=0.66b1": otel and not fastapi,
            "opentelemetry-instrumentation-sqlalchemy>=0.66b1": otel,
            "opentelemetry-instrumentation-httpx>=0.66b1": otel,
            "opentelemetry-instrumentation-redis>=0.66b1": otel and redis,
            "opentelemetry-instrumentation-celery>=0.66b1": otel and celery,
            "argon2-cffi>=23.1": jwt,
            "pyjwt>=2.10": jwt,
            "celery>=5.5": celery,
            "arq>=0.26": context.get("task_queue") == "arq",
            "# arq 0.26 and later need redis-py 5, which the cache supports too.": redis,
            "redis>=5.2": redis,
            "asyncpg>=0.32": fastapi and postgresql,
            "aiosqlite>=0.21": fastapi and not postgresql,
            "psycopg[binary]>=3.3.6": not fastapi and postgresql,
            "fastapi>=0.165": fastapi,
            "sqlalchemy[asyncio]>=2.0.40": fastapi,
            "# The SQL instrumentation imports sqlalchemy.ext.asyncio, which needs greenlet.": (
                otel and not fastapi
            ),
            "greenlet>=3.1": otel and not fastapi,
            "uvicorn[standard]>=0.35": fastapi,
            "flask>=3.1": not fastapi,
            "flask-cors>=6.0": not fastapi,
            "flask-openapi3>=4.2": not fastapi,
            "granian>=2.8": not fastapi,
            "sqlalchemy>=2.0.40": not fastapi,
        }
    )


def dev_requirements(context: dict[str, Any]) -> list[str]:
    """The tools and test libraries of pyproject.toml's `dev` group, in its order."""
    fastapi = context.get("framework") == "fastapi"
    sync_admin_driver = fastapi and context.get("database") == "postgresql"
    celery = context.get("task_queue") == "celery"
    return chosen(
        {
            "celery-types>=0.23  # Celery ships no type hints": celery,
            "httpx>=0.28": True,
            "mypy>=1.17": True,
            "# The tests create, empty and drop their PostgreSQL databases with a sync driver.": (
                sync_admin_driver
            ),
            "psycopg[binary]>=3.3.6": sync_admin_driver,
            "pre-commit>=4.0": True,
            "pytest>=8.4": True,
            "pytest-asyncio>=1.1": fastapi,
            "ruff>=0.17": True,
            "schemathesis>=4.0": True,
        }
    )


def toml_lines(requirements: list[str]) -> list[str]:
    """Requirements as the lines of a TOML array: each spec quoted, with its comment kept."""
    lines = []
    for requirement in requirements:
        spec, separator, why = requirement.partition("  # ")
        if requirement.startswith("#"):
            lines.append(requirement)
        else:
            lines.append(f'"{spec}",' + (f"  # {why}" if separator else ""))
    return lines


def setting_groups(context: dict[str, Any]) -> list[str]:
    """The groups of settings after RATE_LIMIT, in the order .env.example and the README's table
    list them; each is a file of fragments/settings/ with a macro for each of the two."""
    return chosen(
        {
            "auth": context.get("auth") == "jwt",
            "database": True,
            "redis": "redis" in servers(context),
            "cache": context.get("cache") == "redis",
            "broker": "rabbitmq" in servers(context),
            "task_queue": context.get("task_queue") != "none",
            "metrics": context.get("observability", "none") != "none",
        }
    )


def readme_run_and_test(context: dict[str, Any]) -> list[str]:
    """The paragraphs of the README's "Run and test": the first steps (git, uv.lock,
    pre-commit), how to run on the chosen database, then what Redis is for; each is a file of
    fragments/readme/run-and-test/."""
    database = str(context.get("database"))
    return ["setup", database, *chosen({"redis": context.get("cache") == "redis"})]


def readme_sections(context: dict[str, Any]) -> list[str]:
    """The sections the answers add to the README after "Configuration"; each is a file of
    fragments/readme/."""
    return chosen(
        {
            "docker": bool(context.get("docker")),
            "cache": context.get("cache") == "redis",
            "observability": context.get("observability", "none") != "none",
        }
    )


def readme_updating(context: dict[str, Any]) -> list[str]:
    """The paragraph of the README's "Updating from the template" on the CI job that proposes
    the template's releases, a file of fragments/readme/updating/; none without CI."""
    ci = context.get("ci")
    return chosen({"github": ci == "github", "gitlab": ci == "gitlab"})


def conftest_plugins(context: dict[str, Any]) -> list[str]:
    """The fixture modules tests/conftest.py loads: the database's and the app's, then each
    feature's."""
    return chosen(
        {
            "tests.database_fixtures": True,
            "tests.app_fixtures": True,
            "tests.auth_fixtures": context.get("auth") == "jwt",
            "tests.cache_fixtures": context.get("cache") == "redis",
            "tests.job_fixtures": context.get("task_queue") != "none",
        }
    )


def conftest_settings_fixtures(context: dict[str, Any]) -> list[str]:
    """The fixtures whose settings the tests' `settings` fixture adds to every test's."""
    return chosen({"cache_settings": context.get("cache") == "redis"})


def conftest_settings_extras(context: dict[str, Any]) -> list[str]:
    """What the tests' `settings` fixture unpacks into every test's settings, before the
    test's own overrides: a feature's fixture or constant."""
    return chosen(
        {
            "cache_settings": context.get("cache") == "redis",
            "JOB_QUEUE_SETTINGS": context.get("task_queue") != "none",
        }
    )


def plugins(context: dict[str, Any]) -> list[str]:
    """The modules of the rendered `plugins` package, one per feature the answers switched on:
    each wires its feature into the app (`bootstrap.PLUGINS` lists them)."""
    return chosen(
        {
            "cache": context.get("cache") == "redis",
            "job_queue": context.get("task_queue", "none") != "none",
            "metrics": context.get("observability", "none") != "none",
            "tracing": context.get("observability") == "otel",
        }
    )


@pass_context
def awaitable(context: Context, type_name: str) -> str:
    """What a function of the device returns: `Awaitable[T]` when it is a coroutine."""
    return f"Awaitable[{type_name}]" if context.get("is_async") else type_name


def with_absolute_src_path(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to record, with a template copied from a relative local path (`copier copy
    ../template my-service`) recorded by its absolute path: `copier update` runs inside the
    project, where the relative path names nothing. Copier renders in the directory it was
    started in, so the path resolves as the user meant it. URLs, `gh:` sources and absolute
    paths are kept as they are."""
    source = Path(str(answers.get("_src_path", "")))
    if not source.parts or source.is_absolute() or not source.is_dir():
        return answers
    return {**answers, "_src_path": str(source.resolve())}


class DeviceExtension(Extension):
    """The filter of the sync/async device, and the one of the answers file."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["awaitable"] = awaitable
        environment.filters["with_absolute_src_path"] = with_absolute_src_path
