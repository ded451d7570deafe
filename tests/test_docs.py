"""The documentation cannot drift from copier.yml."""

import re

import yaml

from tests.conftest import TEMPLATE_ROOT


def test_every_question_is_documented() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    questions = [key for key in config if not key.startswith("_")]
    documented = re.findall(
        r"^## (\w+)$", (TEMPLATE_ROOT / "docs" / "questions.md").read_text(), re.MULTILINE
    )

    assert documented == questions
