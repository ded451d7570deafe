"""The OpenAPI documents of the rendered services, as their CLI prints them, and a readable
difference between two of them."""

import difflib
import functools
import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_tool


def project_slug(project: Path) -> str:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    slug: str = answers["project_slug"]
    return slug


@functools.cache
def printed_text(project: Path) -> str:
    """What `<slug> openapi` prints in a synced render, once per render and worker."""
    return run_tool(project, "uv", "run", project_slug(project), "openapi").stdout


def printed_document(project: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(printed_text(project))
    return document


def difference(documents: dict[str, dict[str, Any]]) -> str:
    """A unified diff of two documents, keys sorted, so that a failure shows what differs."""
    first, second = documents
    lines = {
        name: json.dumps(document, indent=2, sort_keys=True).splitlines()
        for name, document in documents.items()
    }
    diff = difflib.unified_diff(lines[first], lines[second], first, second, lineterm="")
    return "\n".join(diff)
