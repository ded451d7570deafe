"""Values derived from the answers, computed once here instead of in Jinja."""

from __future__ import annotations

import secrets
from typing import Any

from copier_template_extensions import ContextHook

# The sync/async device. FastAPI renders the framework-free layers (services, repositories,
# their tests) as coroutines on an AsyncSession; Flask renders the same lines as plain
# functions on a Session. Templates write `{{ async_ }}def`, `{{ await_ }}call()`,
# `{{ session_import }}` and `{{ session_class }}`; the rate limits and the cache import their
# libraries' async or sync API from `{{ limits_module }}` and `{{ redis_module }}`, whose
# classes have the same names in both. Nothing else differs.
_ASYNC_DEVICE = {
    "async_": "async ",
    "await_": "await ",
    "session_import": "from sqlalchemy.ext.asyncio import AsyncSession",
    "session_class": "AsyncSession",
    "limits_module": "limits.aio",
    "redis_module": "redis.asyncio",
}
_SYNC_DEVICE = {
    "async_": "",
    "await_": "",
    "session_import": "from sqlalchemy.orm import Session",
    "session_class": "Session",
    "limits_module": "limits",
    "redis_module": "redis",
}
_ASYNC_FRAMEWORKS = {"fastapi"}

# The image of each server, for compose.yaml and both CI files; the template's own workflow
# starts the same (tests/test_ci_files.py checks it).
SERVER_IMAGES = {
    "postgres": "postgres:17",
    "redis": "redis:8-alpine",
    "rabbitmq": "rabbitmq:4-alpine",
}


class ContextUpdater(ContextHook):
    """Add derived values to the rendering context."""

    def hook(self, context: dict[str, Any]) -> None:
        framework = context.get("framework")
        if framework is None:  # still answering questions
            return
        is_async = framework in _ASYNC_FRAMEWORKS
        context["is_async"] = is_async
        context.update(_ASYNC_DEVICE if is_async else _SYNC_DEVICE)
        context["sqlite_driver"] = "sqlite+aiosqlite" if is_async else "sqlite+pysqlite"
        # The service's PostgreSQL driver: asyncpg on the event loop, psycopg 3 for sync code.
        postgresql_driver = "postgresql+asyncpg" if is_async else "postgresql+psycopg"
        context["postgresql_driver"] = postgresql_driver
        package_name = context.get("package_name", "")
        if context.get("database") == "postgresql":
            context["database_driver"] = postgresql_driver
            context["default_database_url"] = (
                f"{postgresql_driver}://postgres:postgres@localhost:5432/{package_name}"
            )
        else:
            context["database_driver"] = context["sqlite_driver"]
            context["default_database_url"] = f"{context['sqlite_driver']}:///./{package_name}.db"
        python_version = str(context.get("python_version", "3.11"))
        context["python_target"] = "py" + python_version.replace(".", "")
        context["cli_name"] = context.get("project_slug", "")
        context["postgresql_driver"] = "postgresql+asyncpg" if is_async else "postgresql+psycopg"
        context["servers"] = servers(context)
        context["server_images"] = SERVER_IMAGES
        # For the rendered .env only: generated, so it is never an answer that Copier records.
        context["secret_key"] = secrets.token_urlsafe(48)


def servers(context: dict[str, Any]) -> list[str]:
    """The servers the answers need beside the service, named as their images and hosts are:
    compose.yaml runs them and the CI files start them as service containers."""
    needed = {
        "postgres": context.get("database") == "postgresql",
        "redis": context.get("cache") == "redis" or context.get("task_queue") == "arq",
        "rabbitmq": context.get("task_queue") == "celery",
    }
    return [name for name, is_needed in needed.items() if is_needed]
