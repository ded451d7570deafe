"""Values derived from the answers, computed once here instead of in Jinja."""

from __future__ import annotations

import secrets
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
    "limits_module": "limits.aio",
    "redis_module": "redis.asyncio",
}
_SYNC_DEVICE = {
    "async_": "",
    "await_": "",
    "session_import": "from sqlalchemy.orm import Session",
    "session_class": "Session",
    "abc_awaitable": "",
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
        context["plugins"] = plugins(context)
        context["plugin_hooks"] = ", ".join(f"{name}.plug" for name in context["plugins"])
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
            context["default_database_name"] = package_name
        else:
            context["database_driver"] = context["sqlite_driver"]
            context["default_database_url"] = f"{context['sqlite_driver']}:///./{package_name}.db"
            context["default_database_name"] = f"./{package_name}.db"
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


def plugins(context: dict[str, Any]) -> list[str]:
    """The modules of the rendered `plugins` package, one per feature the answers switched on:
    each wires its feature into the app (`plugins/__init__.py` lists them)."""
    chosen = {
        "cache": context.get("cache") == "redis",
        "job_queue": context.get("task_queue", "none") != "none",
    }
    return [name for name, is_chosen in chosen.items() if is_chosen]


@pass_context
def awaitable(context: Context, type_name: str) -> str:
    """What a function of the device returns: `Awaitable[T]` when it is a coroutine."""
    return f"Awaitable[{type_name}]" if context.get("is_async") else type_name


class DeviceExtension(Extension):
    """The filter of the sync/async device."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["awaitable"] = awaitable
