"""Values derived from the answers, computed once here instead of in Jinja."""

from __future__ import annotations

from typing import Any

from copier_template_extensions import ContextHook


class ContextUpdater(ContextHook):
    """Add derived values to the rendering context.

    ``async_def`` and ``await_`` are the one device that lets the framework-free
    layers (services, repositories) be written once: FastAPI renders them async,
    a synchronous framework renders the same lines as plain functions.
    """

    def hook(self, context: dict[str, Any]) -> None:
        framework = context.get("framework")
        if framework is None:  # still answering questions
            return
        is_async = framework == "fastapi"
        context["is_async"] = is_async
        context["async_def"] = "async def" if is_async else "def"
        context["await_"] = "await " if is_async else ""
        python_version = str(context.get("python_version", "3.11"))
        context["python_target"] = "py" + python_version.replace(".", "")
        context["cli_name"] = context.get("project_slug", "")
