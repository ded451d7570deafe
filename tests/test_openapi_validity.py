"""The OpenAPI documents of the renders are valid, by tools nobody here wrote:
openapi-spec-validator (PyPI) and Spectral's `spectral:oas` ruleset (npm, in tests/tools/),
for both frameworks with both auth answers (the default and the custom answer sets)."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import FRAMEWORKS, TEMPLATE_ROOT, Render, variant
from tests.openapi_documents import printed_document

pytestmark = pytest.mark.rendered
TOOLS = TEMPLATE_ROOT / "tests" / "tools"
SPECTRAL = TOOLS / "node_modules" / ".bin" / "spectral"
# auth=jwt in the defaults, auth=none in the custom answers.
ANSWER_SETS = ("default", "custom")
with_each_document = pytest.mark.parametrize(
    "name",
    [
        pytest.param(variant(framework, answer_set), marks=pytest.mark.xdist_group(answer_set))
        for answer_set in ANSWER_SETS
        for framework in FRAMEWORKS
    ],
)


def spectral() -> str:
    assert SPECTRAL.is_file(), (
        f"Spectral is missing from {TOOLS}: run `npm ci --ignore-scripts` there (.ci/run does)"
    )
    return str(SPECTRAL)


@with_each_document
def test_openapi_spec_validator_accepts_the_document(synced: Render, name: str) -> None:
    validate(printed_document(synced(name)))


@with_each_document
def test_spectral_reports_no_problem(synced: Render, name: str, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(printed_document(synced(name))))
    report = tmp_path / "spectral.json"
    result = subprocess.run(
        [
            *(spectral(), "lint", str(document), "--ruleset", str(TOOLS / ".spectral.yaml")),
            *("--format", "json", "--output", str(report), "--fail-severity", "hint"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    problems: list[dict[str, Any]] = json.loads(report.read_text()) if report.exists() else []

    assert problems == [], json.dumps(problems, indent=2)
    assert result.returncode == 0, result.stdout + result.stderr
