"""Each rendered variant passes its own linters, type checker and tests."""

from pathlib import Path

import pytest

from tests.conftest import (
    FRAMEWORKS,
    Render,
    answer_set_params,
    run_tool,
    variant,
    variant_params,
)
from tests.openapi_documents import difference, printed_document, printed_text

pytestmark = pytest.mark.rendered
with_each_variant = pytest.mark.parametrize("project", variant_params(), indirect=True)


@with_each_variant
def test_ruff_check_is_clean(project: Path) -> None:
    run_tool(project, "uv", "run", "ruff", "check", ".")


@with_each_variant
def test_ruff_format_leaves_every_file_unchanged(project: Path) -> None:
    run_tool(project, "uv", "run", "ruff", "format", "--check", ".")


@with_each_variant
def test_mypy_strict_is_clean(project: Path) -> None:
    result = run_tool(project, "uv", "run", "mypy")

    assert "Success: no issues found" in result.stdout


@with_each_variant
def test_its_test_suite_passes(project: Path) -> None:
    result = run_tool(project, "uv", "run", "pytest", "-q", "-p", "no:cacheprovider")

    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary
    # The project's pytest turns warnings into errors; none may be filtered away silently either.
    assert "warning" not in summary
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 85, summary


@pytest.mark.parametrize("answer_set", answer_set_params())
def test_both_frameworks_serve_the_same_openapi_document(synced: Render, answer_set: str) -> None:
    """The whole documents, prose and operationIds included, so that clients generated from
    either are the same clients."""
    projects = {framework: synced(variant(framework, answer_set)) for framework in FRAMEWORKS}
    documents = {framework: printed_document(project) for framework, project in projects.items()}

    assert documents["fastapi"] == documents["flask"], difference(documents)
    # Byte for byte: the same order of paths, methods and keys too.
    assert printed_text(projects["fastapi"]) == printed_text(projects["flask"])
