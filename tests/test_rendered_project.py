"""Each rendered variant passes its own linters, type checker and tests."""

from pathlib import Path

import pytest

from tests.conftest import run_tool, variant_params

pytestmark = [
    pytest.mark.rendered,
    pytest.mark.parametrize("project", variant_params(), indirect=True),
]


def test_ruff_check_is_clean(project: Path) -> None:
    run_tool(project, "uv", "run", "ruff", "check", ".")


def test_ruff_format_leaves_every_file_unchanged(project: Path) -> None:
    run_tool(project, "uv", "run", "ruff", "format", "--check", ".")


def test_mypy_strict_is_clean(project: Path) -> None:
    result = run_tool(project, "uv", "run", "mypy")

    assert "Success: no issues found" in result.stdout


def test_its_test_suite_passes(project: Path) -> None:
    result = run_tool(project, "uv", "run", "pytest", "-q", "-p", "no:cacheprovider")

    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 80, summary
