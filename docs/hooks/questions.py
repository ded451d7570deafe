"""MkDocs hook: the questions page gets its summary table from copier.yml, so it cannot drift.

The table replaces the line ``<!-- questions from copier.yml -->`` in docs/questions.md.
"""

from pathlib import Path
from typing import Any

import yaml

COPIER_YML = Path(__file__).resolve().parents[2] / "copier.yml"
MARKER = "<!-- questions from copier.yml -->"


def load_questions(path: Path = COPIER_YML) -> dict[str, dict[str, Any]]:
    """The questions of copier.yml in the order Copier asks them; settings start with `_`."""
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def code(text: str) -> str:
    # Python-Markdown's tables keep a pipe inside a code span in its cell.
    return f"`{text}`"


def questions_table(questions: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| question | what it asks | accepts | default |",
        "|---|---|---|---|",
    ]
    for name, spec in questions.items():
        values = choice_values(spec)
        accepts = ", ".join(code(value) for value in values) if values else "text"
        default = code(yaml_literal(spec["default"])) if "default" in spec else ""
        rows.append(f"| [{name}](#{name}) | {spec.get('help', '')} | {accepts} | {default} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, questions_table(load_questions()))
