"""The answer check that keeps an update from converting half a project.

`copier update -d framework=flask` rewrites the template's FastAPI files as Flask ones, but it
cannot port the modules a team wrote itself: they would still import FastAPI, and the project
would no longer start. The `framework` question's validator refuses such a change before the
update writes anything, and names the files that stand in the way.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from jinja2 import Environment
from jinja2.ext import Extension

ANSWERS_FILE = ".copier-answers.yml"
# What a module of each framework's projects imports, and nothing of the other's does.
FRAMEWORK_MODULES = {
    "fastapi": frozenset({"fastapi", "starlette", "uvicorn"}),
    "flask": frozenset({"flask", "flask_openapi3", "werkzeug", "granian"}),
}
FRAMEWORK_TITLES = {"fastapi": "FastAPI", "flask": "Flask"}
_JINJA_BLOCK = re.compile(r"{%.*?%}")


def template_paths(template: Path, package_name: str) -> set[str]:
    """Every path the template can render, whatever the answers, relative to the project."""
    root = template / "template"
    return {
        _JINJA_BLOCK.sub("", path.relative_to(root).as_posix())
        .replace("{{ package_name }}", package_name)
        .removesuffix(".jinja")
        for path in root.rglob("*")
        if path.is_file()
    }


def imported_modules(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


def framework_change_error(
    framework: str, project: object, template: object, package_name: str
) -> str:
    """Refuse a framework change when the project's own modules import the framework it has.

    Copier renders each answer into a new empty folder too, where there is nothing to check.
    """
    answers_file = Path(str(project)) / ANSWERS_FILE
    if not answers_file.is_file():
        return ""
    recorded = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    current = recorded.get("framework")
    if current == framework or current not in FRAMEWORK_MODULES:
        return ""
    ours = template_paths(Path(str(template)), package_name)
    root = Path(str(project))
    theirs = sorted(
        path.relative_to(root).as_posix()
        for folder in ("src", "tests", "migrations")
        for path in (root / folder).rglob("*.py")
        if path.relative_to(root).as_posix() not in ours
        and imported_modules(path) & FRAMEWORK_MODULES[current]
    )
    if not theirs:
        return ""
    return (
        f"The framework stays {current}: an update converts the template's files only, and "
        f"these files of yours import {FRAMEWORK_TITLES[current]}: {', '.join(theirs)}. "
        f'Type "{current}" to keep it. To switch anyway, move those files out of the project '
        "and commit, update, then port them and bring them back."
    )


class LifecycleExtension(Extension):
    """Register the update checks with Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["framework_change_error"] = framework_change_error
