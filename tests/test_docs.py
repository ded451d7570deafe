"""The documentation cannot drift from copier.yml, and the site builds without a warning."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from packaging.version import Version

from extensions.naming import FALLBACK_PYTHON_VERSION, NamingExtension
from tests.conftest import TEMPLATE_ROOT, tool_env

QUESTIONS_PAGE = TEMPLATE_ROOT / "docs" / "questions.md"
# The pages with a summary table of the questions: one row each, in the order Copier asks them.
SUMMARIES = [TEMPLATE_ROOT / "README.md", QUESTIONS_PAGE]
# A row: | `name` (or a link to its section) | choices | default | what it sets |
SUMMARY_ROW = re.compile(r"^\| \[?`(\w+)`(?:\]\(#\w+\))? \| (.*?) \| (.*?) \| .*\|$", re.M)


def load_questions() -> dict[str, dict[str, Any]]:
    """The questions of copier.yml in the order Copier asks them; settings start with `_`."""
    config: dict[str, Any] = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    return {name: spec for name, spec in config.items() if not name.startswith("_")}


def yaml_literal(value: object) -> str:
    """A value as a user types it: `true`, not Python's `True`."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def choice_values(spec: dict[str, Any]) -> list[str]:
    """The values a question accepts; `choices` is a list or a mapping of label to value."""
    if spec.get("type") == "bool":
        return ["true", "false"]
    choices = spec.get("choices", [])
    values = choices.values() if isinstance(choices, dict) else choices
    return [str(value) for value in values]


def shown_defaults() -> dict[str, str]:
    """Each question's default as Copier offers it when every earlier answer kept its default,
    on a machine with none of the Pythons offered: a default written in Jinja is rendered with
    the template's own filters."""
    environment = jinja2.Environment(extensions=[NamingExtension], autoescape=False)  # noqa: S701
    environment.globals["default_python_version"] = lambda: FALLBACK_PYTHON_VERSION
    shown: dict[str, str] = {}
    for name, spec in load_questions().items():
        default = spec.get("default", "")
        is_jinja = isinstance(default, str) and "{{" in default
        shown[name] = (
            environment.from_string(default).render(shown) if is_jinja else (yaml_literal(default))
        )
    return shown


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


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


@pytest.mark.parametrize("page", SUMMARIES, ids=lambda page: page.name)
def test_the_summary_table_agrees_with_copier_yml(page: Path) -> None:
    """Names in order; the choices as values, none for a free answer; the default first, as
    Copier shows it, whatever words explain it."""
    questions = load_questions()
    defaults = shown_defaults()

    rows = {name: cells for name, *cells in SUMMARY_ROW.findall(page.read_text())}

    assert list(rows) == list(questions)
    for name, (choices, default) in rows.items():
        assert code_spans(choices) == choice_values(questions[name]), f"{page.name}: {name}"
        assert code_spans(default)[:1] == [defaults[name]], f"{page.name}: {name}"


def test_jinja_defaults_are_shown_as_copier_offers_them() -> None:
    defaults = shown_defaults()

    assert defaults["project_slug"] == "my-service"
    assert defaults["package_name"] == "my_service"
    assert defaults["python_version"] == "3.14"
    assert defaults["docker"] == "true"


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
