"""Carry a project's answers across a release that renamed a question or one of its choices.

Copier runs this from `_migrations` in copier.yml, in the project being updated, before it
reads the recorded answers, so the user's choice survives the rename:

    python migrate_answers.py --rename old_question=new_question
    python migrate_answers.py --replace question:old_value=new_value

Renames apply first, so a `--replace` names the question by its new name.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ANSWERS_FILE = Path(".copier-answers.yml")


def pair(text: str) -> tuple[str, str]:
    old, separator, new = text.partition("=")
    if not separator or not old or not new:
        raise argparse.ArgumentTypeError(f"write {text!r} as old=new")
    return old, new


def replacement(text: str) -> tuple[str, str, str]:
    question, separator, values = text.partition(":")
    if not separator or not question:
        raise argparse.ArgumentTypeError(f"write {text!r} as question:old=new")
    return (question, *pair(values))


def migrate(
    answers: dict[str, Any],
    renames: list[tuple[str, str]],
    replacements: list[tuple[str, str, str]],
) -> dict[str, Any]:
    migrated = dict(answers)
    for old, new in renames:
        if old in migrated:
            migrated[new] = migrated.pop(old)
    for question, old, new in replacements:
        if migrated.get(question) == old:
            migrated[question] = new
    return migrated


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rename", type=pair, action="append", default=[])
    parser.add_argument("--replace", type=replacement, action="append", default=[])
    arguments = parser.parse_args(argv)
    text = ANSWERS_FILE.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    answers = migrate(yaml.safe_load(text), arguments.rename, arguments.replace)
    body = yaml.safe_dump(answers, sort_keys=True, allow_unicode=True)
    ANSWERS_FILE.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
