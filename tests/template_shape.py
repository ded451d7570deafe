"""The shape of the template, measured: the template files that render to the same path, the
`{% if %}` inside Python functions, and the `{% if %}` of each template file.

`tests/test_template_shape.py` keeps these counts within the bars of docs/template-design.md;
`uv run python -m tests.template_shape` prints them.
"""

import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# Everything that renders: the Jinja tree, and the pieces its templates include.
TEMPLATE_DIRS = (TEMPLATE_ROOT / "template", TEMPLATE_ROOT / "fragments")

NAME_CONDITION = re.compile(r"\{%-?\s*if\s+(?P<condition>.*?)\s*-?%\}")
NAME_MARKER = re.compile(r"\{%-?\s*(?:if\s+.*?|endif)\s*-?%\}")
ANSWER = re.compile(r"\b(?P<answer>[a-z_]+)\s*(?:==|!=|\bin\b)|\bif\s+(?P<flag>[a-z_]+)\s*$")
STATEMENT = re.compile(r"\{%-?\s*(?P<keyword>if|elif|else|endif)\b.*?-?%\}", re.S)
JINJA_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
INLINE_IF = re.compile(r"\{\{[^}]*\bif\b[^}]*\}\}")
FUNCTION = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s")


def template_files() -> Iterator[Path]:
    for directory in TEMPLATE_DIRS:
        if directory.is_dir():
            yield from sorted(path for path in directory.rglob("*") if path.is_file())


def relative(path: Path) -> str:
    return path.relative_to(TEMPLATE_ROOT).as_posix()


def rendered_path(path: Path) -> str:
    """The path a template file renders to, with the conditions of its name taken out."""
    return NAME_MARKER.sub("", relative(path)).removesuffix(".jinja")


def name_clauses(path: Path) -> set[str]:
    """The clauses of the conditions in a template file's name, such as `auth == 'jwt'`."""
    return {
        clause.strip()
        for condition in NAME_CONDITION.finditer(relative(path))
        for clause in re.split(r"\band\b|\bor\b", condition["condition"])
    }


def answer_of(clause: str) -> str:
    found = ANSWER.search(clause)
    return (found["answer"] or found["flag"]) if found else clause


def differing_answers(paths: list[Path]) -> set[str]:
    """The answers whose test tells alternatives of one rendered path apart: those tested in
    some of their names and not in the same way in all."""
    clauses = [name_clauses(path) for path in paths]
    common = set.intersection(*clauses)
    return {answer_of(clause) for clause in set.union(*clauses) - common}


def alternatives() -> dict[str, list[Path]]:
    """Each rendered path that more than one template file renders to, with those files."""
    by_path: defaultdict[str, list[Path]] = defaultdict(list)
    for path in template_files():
        by_path[rendered_path(path)].append(path)
    return {target: paths for target, paths in by_path.items() if len(paths) > 1}


def jinja_files() -> Iterator[Path]:
    return (path for path in template_files() if path.name.endswith(".jinja"))


@dataclass(frozen=True)
class IfCount:
    total: int
    nested: int


def count_ifs(text: str) -> IfCount:
    """The `{% if %}` statements of a template's text, and those inside another `{% if %}`."""
    depth = total = nested = 0
    for statement in STATEMENT.finditer(text):
        keyword = statement["keyword"]
        if keyword == "if":
            total += 1
            nested += depth > 0
            depth += 1
        elif keyword == "endif":
            depth -= 1
    return IfCount(total, nested)


def code_of(line: str) -> str:
    """A line as Python sees it once rendered: Jinja statements and comments taken out, and the
    sync/async device's `{{ async_ }}` read as the `async ` it may render to."""
    return JINJA_TAG.sub("", line).replace("{{ async_ }}", "async ")


def function_of_each_line(lines: list[str]) -> dict[int, int | None]:
    """For each line of code (by number): the function it belongs to (its `def`'s line number),
    or None at module and class level. Blank lines and Jinja-only lines are left out."""
    owner: dict[int, int | None] = {}
    open_functions: list[tuple[int, int]] = []  # (indent, def line), innermost last
    in_signature = False
    depth = 0
    for number, line in enumerate(lines, start=1):
        code = code_of(line)
        if not code.strip():
            continue
        indent = len(code) - len(code.lstrip())
        if not in_signature:
            while open_functions and indent <= open_functions[-1][0]:
                open_functions.pop()
            started = FUNCTION.match(code)
            if started:
                open_functions.append((len(started["indent"]), number))
                in_signature, depth = True, 0
        owner[number] = open_functions[-1][1] if open_functions else None
        if in_signature:
            depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
            in_signature = not (depth <= 0 and code.rstrip().endswith(":"))
    return owner


def ifs_in_functions(text: str) -> list[int]:
    """The line numbers of the `{% if %}` (and the `{{ a if b else c }}`) that sit inside a
    Python function's signature or body.

    A function opens at its `def` line and lasts while the lines of code after its signature
    are indented deeper than the `def`. An `{% if %}` on a line of its own is inside when the
    lines of code before and after it both belong to the same open function."""
    lines = text.splitlines()
    owner = function_of_each_line(lines)
    code_lines = sorted(owner)
    inside: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not re.search(r"\{%-?\s*if\b", line):
            if number in owner and owner[number] is not None and INLINE_IF.search(line):
                inside.append(number)  # `{{ a if b else c }}` is a branch too
            continue
        if number in owner:  # on a line of code
            if owner[number] is not None:
                inside.append(number)
            continue
        before = [n for n in code_lines if n < number]
        after = [n for n in code_lines if n > number]
        function = owner[before[-1]] if before else None
        if function is not None and after and owner[after[0]] == function:
            inside.append(number)
    return inside


def python_templates() -> Iterator[Path]:
    return (path for path in jinja_files() if rendered_path(path).endswith(".py"))


def report() -> str:
    """The counts, as `python -m tests.template_shape` prints them."""
    files = list(template_files())
    lines = sum(len(path.read_text().splitlines()) for path in files)
    alternative = alternatives()
    in_functions = {
        relative(path): found
        for path in python_templates()
        if (found := ifs_in_functions(path.read_text()))
    }
    ifs = {relative(path): count_ifs(path.read_text()) for path in jinja_files()}
    most = max(ifs.items(), key=lambda item: item[1].total)
    out = [
        f"template files: {len(files)}, lines: {lines}",
        f"rendered paths with alternatives: {len(alternative)} "
        f"({sum(len(paths) for paths in alternative.values())} files)",
    ]
    out += [
        f"  {len(paths)} {target}: told apart by {sorted(differing_answers(paths))}"
        for target, paths in sorted(alternative.items())
    ]
    out.append(f"{{% if %}} inside Python functions: {sum(map(len, in_functions.values()))}")
    out += [f"  {name}: lines {found}" for name, found in sorted(in_functions.items())]
    out.append(f"most {{% if %}} in one file: {most[1].total} ({most[0]})")
    out.append(f"nested {{% if %}}: {sum(count.nested for count in ifs.values())}")
    out += [f"  {name}: {count.total}" for name, count in sorted(ifs.items()) if count.total > 6]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(report() + "\n")
