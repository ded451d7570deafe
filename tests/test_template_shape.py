"""The template composes instead of copying: the counts of tests/template_shape.py stay within
the bars that docs/template-design.md sets, so the shape cannot drift back."""

import pytest

from tests.template_shape import (
    alternatives,
    count_ifs,
    differing_answers,
    ifs_in_functions,
    jinja_files,
    python_templates,
    relative,
)

# Where a rendered path may have alternatives: the framework, or a chosen backend.
ALTERNATIVES_BY = {"framework", "database", "task_queue"}
MOST_IFS_IN_A_FILE = 6


def test_a_rendered_path_has_two_alternatives_at_most() -> None:
    over = {target: len(paths) for target, paths in alternatives().items() if len(paths) > 2}

    assert not over, f"more than two template files render to: {over}"


def test_alternatives_differ_by_the_framework_or_a_backend_only() -> None:
    told_apart = {target: differing_answers(paths) for target, paths in alternatives().items()}
    wrong = {target: answers for target, answers in told_apart.items() if answers - ALTERNATIVES_BY}

    assert not wrong, f"alternatives told apart by other answers (write them once): {wrong}"


def test_no_if_inside_a_python_function() -> None:
    found = {
        relative(path): lines
        for path in python_templates()
        if (lines := ifs_in_functions(path.read_text()))
    }

    assert not found, f"{{% if %}} inside a function's signature or body, by line: {found}"


def test_a_template_file_has_few_ifs_and_none_nested() -> None:
    counts = {relative(path): count_ifs(path.read_text()) for path in jinja_files()}
    many = {name: count.total for name, count in counts.items() if count.total > MOST_IFS_IN_A_FILE}
    nested = [name for name, count in counts.items() if count.nested]

    assert not many, f"over {MOST_IFS_IN_A_FILE} {{% if %}}: {many}"
    assert not nested, f"an {{% if %}} inside another: {nested}"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (
            "def f(\n    a: int,\n{%- if x %}\n    b: int,\n{%- endif %}\n) -> None:\n    pass\n",
            [3],
        ),
        ("def f() -> None:\n    a = 1\n{%- if x %}\n    b = 2\n{%- endif %}\n", [3]),
        ("{{ async_ }}def f() -> None:\n    return {% if x %}1{% else %}2{% endif %}\n", [2]),
        ("def f() -> None:\n    return {{ 1 if x else 2 }}\n", [2]),
        ("def f() -> None:\n    pass\n{%- if x %}\n\n\ndef g() -> None:\n    pass\n", []),
        ("class A:\n    def f(self) -> None:\n        pass\n{%- if x %}\n    b = 1\n", []),
        ("import a\n{%- if x %}\nimport b\n{%- endif %}\n", []),
    ],
    ids=[
        "signature",
        "body",
        "inline",
        "inline-expression",
        "between-functions",
        "class-level",
        "module-level",
    ],
)
def test_ifs_in_functions_are_found(text: str, lines: list[int]) -> None:
    assert ifs_in_functions(text) == lines


def test_nested_ifs_are_counted() -> None:
    text = (
        "{% if a %}{% if b %}x{% endif %}{% elif c %}y{% else %}z{% endif %}{% if d %}{% endif %}"
    )

    assert count_ifs(text).total == 3
    assert count_ifs(text).nested == 1
