"""Bad answers are refused with a message that says what to type, and nothing is written."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy

from extensions import naming
from tests.conftest import CUSTOM_ANSWERS, FRAMEWORKS, TEMPLATE_ROOT, tool_env

BAD_ANSWERS = [
    ({"project_name": ""}, "project_name", 'Type a name for the project, for example "Billing'),
    ({"project_name": "   "}, "project_name", "Type a name for the project"),
    ({"project_name": "123 Go"}, "project_name", "Start the name with a letter"),
    ({"project_slug": "My Service"}, "project_slug", 'for example "my-service"'),
    ({"project_slug": "my--service"}, "project_slug", "single hyphens"),
    ({"package_name": "class"}, "package_name", '"class" is a Python keyword'),
    ({"package_name": "typing"}, "package_name", "would shadow the standard library"),
    ({"package_name": "json"}, "package_name", "would shadow the standard library"),
    ({"package_name": "fastapi"}, "package_name", "would shadow a package the project depends"),
    ({"package_name": "test"}, "package_name", "would shadow"),
    ({"package_name": "my-service"}, "package_name", "Use lowercase ASCII letters, digits"),
    ({"package_name": "_private"}, "package_name", "Start the package name with a letter"),
    ({"package_name": "a" * 41}, "package_name", "Use at most 40 characters"),
    ({"project_slug": "a" * 41}, "project_slug", "Use at most 40 characters"),
    ({"author_email": "not-an-email"}, "author_email", "Type an email address such as"),
    ({"author_email": "a@b"}, "author_email", "Type an email address"),
    ({"author_name": " "}, "author_name", "Type a person or team name"),
    ({"description": ""}, "description", "Type one sentence"),
    ({"python_version": "3.10"}, "python_version", "'3.10' is not in ['3.11', '3.12', '3.13',"),
    ({"python_version": "3.16"}, "python_version", "is not in ['3.11', '3.12', '3.13', '3.14',"),
    ({"framework": "django"}, "framework", "'django' is not in ['fastapi', 'flask']"),
    ({"auth": "oauth"}, "auth", "'oauth' is not in ['jwt', 'none']"),
    ({"ci": "jenkins"}, "ci", "'jenkins' is not in ['github', 'gitlab', 'none']"),
    ({"database": "mysql"}, "database", "'mysql' is not in ['sqlite', 'postgresql']"),
    ({"cache": "memcached"}, "cache", "'memcached' is not in ['none', 'redis']"),
    ({"task_queue": "rq"}, "task_queue", "'rq' is not in ['none', 'celery', 'arq']"),
    (
        {"observability": "traces"},
        "observability",
        "'traces' is not in ['none', 'metrics', 'otel']",
    ),
    (
        {"framework": "flask", "task_queue": "arq"},
        "task_queue",
        'ARQ is asyncio-only and works with the FastAPI framework. With Flask, type "celery"',
    ),
]


@pytest.mark.parametrize(
    ("answers", "question", "message"),
    BAD_ANSWERS,
    ids=[f"{question}={next(iter(answers.values()))!r}" for answers, question, _ in BAD_ANSWERS],
)
def test_bad_answer_is_refused_and_nothing_is_written(
    tmp_path: Path, answers: dict[str, Any], question: str, message: str
) -> None:
    destination = tmp_path / "service"

    with pytest.raises(ValueError, match=question) as refused:
        run_copy(
            str(TEMPLATE_ROOT),
            destination,
            data=answers,
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )

    assert message in str(refused.value)
    assert not destination.exists() or not any(destination.iterdir())


def test_the_command_line_shows_the_message_and_fails(tmp_path: Path) -> None:
    destination = tmp_path / "service"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "--data",
            "package_name=import",
            str(TEMPLATE_ROOT),
            str(destination),
        ],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert '"import" is a Python keyword. Choose another name' in result.stderr
    assert not destination.exists() or not any(destination.iterdir())


def test_python_choices_match_the_extension() -> None:
    questions = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())

    assert questions["python_version"]["choices"] == list(naming.SUPPORTED_PYTHON_VERSIONS)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("My Service", "my-service"),
        ("  Acme   Inventory & Orders!", "acme-inventory-orders"),
        ("Zoë's Café API", "zoe-s-cafe-api"),
        ("HTTP2 Gateway", "http2-gateway"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert naming.slugify(text) == slug
    assert naming.slug_error(slug) == ""
    assert naming.package_name_error(naming.package_name(slug)) == ""


def test_default_python_version_is_one_this_machine_has() -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    default = naming.default_python_version()

    assert default in naming.SUPPORTED_PYTHON_VERSIONS
    assert default == running or naming.is_interpreter_on_path(f"python{default}")


def test_a_script_on_the_path_is_no_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyenv's shim for a version it has not selected is a script that fails when run."""
    shim = tmp_path / "python3.13"
    shim.write_text('#!/usr/bin/env bash\nexec pyenv exec "$0" "$@"\n')
    shim.chmod(0o755)
    (tmp_path / "python3.14").symlink_to(Path(sys.executable).resolve())
    monkeypatch.setenv("PATH", str(tmp_path))

    assert not naming.is_interpreter_on_path("python3.13")
    assert naming.is_interpreter_on_path("python3.14")
    assert not naming.is_interpreter_on_path("python3.15")


@pytest.mark.parametrize(
    ("running", "on_path", "default"),
    [
        ("3.11", set(), "3.11"),
        ("3.11", {"python3.13"}, "3.13"),
        ("3.13", {"python3.11", "python3.12"}, "3.13"),
        ("3.12", {"python3.15", "python3.16"}, "3.15"),
        ("3.10", set(), "3.14"),
        ("3.16", {"python3.10"}, "3.14"),
    ],
)
def test_default_python_version_is_the_newest_installed_else_3_14(
    running: str, on_path: set[str], default: str
) -> None:
    assert naming.newest_python_version(running, on_path.__contains__) == default


FREE_TEXTS = ['Tracks "stock" & orders; it\'s fast.', "Zoë's \\ API", 'say "hi"', "tab\there"]


@pytest.mark.parametrize("text", FREE_TEXTS)
def test_quoted_text_is_valid_toml_and_yaml(text: str) -> None:
    literal = naming.quoted(text)

    assert tomllib.loads(f"value = {literal}")["value"] == text
    assert yaml.safe_load(f"value: {literal}")["value"] == text


@pytest.mark.parametrize("text", FREE_TEXTS)
def test_python_string_round_trips_with_ruffs_quotes(text: str) -> None:
    literal = naming.python_string(text)

    assert ast.literal_eval(literal) == text
    expected_quote = "'" if text.count('"') > text.count("'") else '"'
    assert literal[0] == literal[-1] == expected_quote


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_suites_unusual_answers_pass_every_validator(tmp_path: Path, framework: str) -> None:
    destination = tmp_path / "service"

    run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data={**CUSTOM_ANSWERS, "framework": framework},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )

    assert (destination / "src" / CUSTOM_ANSWERS["package_name"] / "main.py").is_file()
