"""The documentation cannot drift from copier.yml, and the site builds without a warning."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from docs.hooks.questions import choice_values, load_questions, yaml_literal
from tests.conftest import TEMPLATE_ROOT, tool_env

QUESTIONS_PAGE = TEMPLATE_ROOT / "docs" / "questions.md"


def documented_sections() -> dict[str, str]:
    """Each `## question` section of the questions page, its text on one line."""
    parts = re.split(r"^## (\w+)$", QUESTIONS_PAGE.read_text(), flags=re.MULTILINE)
    return {
        name: " ".join(text.split()) for name, text in zip(parts[1::2], parts[2::2], strict=True)
    }


def test_every_question_is_documented() -> None:
    assert list(documented_sections()) == list(load_questions())


@pytest.mark.parametrize("question", list(load_questions()))
def test_the_section_names_every_choice_and_the_default(question: str) -> None:
    spec = load_questions()[question]
    section = documented_sections()[question]
    default = spec.get("default", "{{")
    literal_default = [] if "{{" in str(default) else [yaml_literal(default)]

    missing = [
        value for value in [*choice_values(spec), *literal_default] if f"`{value}`" not in section
    ]

    assert missing == [], f"docs/questions.md, section {question}, does not name {missing}"


@pytest.mark.xdist_group("docs")
def test_the_site_builds_strictly_with_the_questions_table(tmp_path: Path) -> None:
    site = tmp_path / "site"

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=TEMPLATE_ROOT,
        env={**tool_env(), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    page = (site / "questions" / "index.html").read_text()
    rows = re.findall(r'<td><a href="#(\w+)">', page)
    assert rows == list(load_questions())
    assert (site / "architecture" / "index.html").read_text().count('class="mermaid"') == 1
    assert not (site / "hooks").exists()


def relative_links(page: Path) -> list[str]:
    """The targets of a Markdown page's links that name a file, without their anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [
        target.partition("#")[0]
        for target in targets
        if not re.match(r"[a-z]+:|#", target)  # a URL, an email address, or an anchor
    ]


@pytest.mark.parametrize(
    "page",
    [TEMPLATE_ROOT / "README.md", *sorted((TEMPLATE_ROOT / "docs").glob("*.md"))],
    ids=lambda page: page.relative_to(TEMPLATE_ROOT).as_posix(),
)
def test_every_relative_link_names_a_file_of_the_repository(page: Path) -> None:
    broken = [
        target
        for target in relative_links(page)
        if not (page.parent / target).resolve().is_relative_to(TEMPLATE_ROOT)
        or not (page.parent / target).resolve().exists()
    ]

    assert broken == [], f"{page.name} links outside the repository or to nothing: {broken}"


def test_every_release_in_the_changelog_is_a_pep_440_version_newest_first() -> None:
    headings = re.findall(r"^## (\S+)", (TEMPLATE_ROOT / "CHANGELOG.md").read_text(), re.M)
    releases = [heading for heading in headings if heading != "Unreleased"]

    versions = [Version(release) for release in releases]
    assert [str(version) for version in versions] == releases
    assert versions == sorted(versions, reverse=True)
