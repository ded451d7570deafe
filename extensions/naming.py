"""Naming filters and answer checks used by ``copier.yml``.

Validators in ``copier.yml`` stay one line long: each calls a filter here that
returns an empty string for a good answer, or a message that says what to type
instead.
"""

from __future__ import annotations

import json
import keyword
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

SUPPORTED_PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14", "3.15")
# The default on a machine that has none of them: the version most services start on now.
FALLBACK_PYTHON_VERSION = "3.14"
# The first bytes of an executable file: ELF, Mach-O (64-bit, either byte order; universal), PE.
# A script starts with "#!".
_EXECUTABLE_MAGIC = (
    b"\x7fELF",
    b"\xcf\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xca\xfe\xba\xbe",
    b"MZ",
)

# Import names a rendered project depends on, or that its tools treat as special.
# A package of the same name would shadow them.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "app_tests",
        "argon2",
        "arq",
        "asyncpg",
        "celery",
        "click",
        "email_validator",
        "fastapi",
        "flask",
        "httptools",
        "httpx",
        "jwt",
        "limits",
        "migrations",
        "mypy",
        "pre_commit",
        "psycopg",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "redis",
        "ruff",
        "schemathesis",
        "sqlalchemy",
        "src",
        "starlette",
        "structlog",
        "test",
        "tests",
        "typer",
        "uvicorn",
        "uvloop",
        "werkzeug",
    }
)

# Longer names push the rendered imports past the line length the formatter keeps.
MAX_NAME_LENGTH = 40

_SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def slugify(value: str) -> str:
    """Turn free text into a kebab-case slug: ``"My Shop API"`` -> ``"my-shop-api"``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)


def package_name(slug: str) -> str:
    """Turn a slug into an import name: ``"my-shop-api"`` -> ``"my_shop_api"``."""
    return slug.replace("-", "_")


def quoted(value: str) -> str:
    """Quote text as a double-quoted string valid in TOML and YAML."""
    return json.dumps(value, ensure_ascii=False)


def python_string(value: str) -> str:
    """Quote text as a Python string literal, with the quotes ``ruff format`` would choose.

    ruff prefers double quotes unless the text holds more double than single quotes.
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"{quote}{escaped}{quote}"


def project_name_error(value: str) -> str:
    """Explain what is wrong with a project name, or return ``""``."""
    if not value.strip():
        return 'Type a name for the project, for example "Billing Service".'
    if not slugify(value):
        return 'Use at least one ASCII letter or digit in the name, for example "Billing Service".'
    if not slugify(value)[0].isalpha():
        return 'Start the name with a letter, for example "Billing Service".'
    return ""


def slug_error(value: str) -> str:
    """Explain what is wrong with a project slug, or return ``""``."""
    if len(value) > MAX_NAME_LENGTH:
        return f'Use at most {MAX_NAME_LENGTH} characters, for example "{value[:20].strip("-")}".'
    if _SLUG_PATTERN.match(value):
        return ""
    suggestion = slugify(value) or "billing-service"
    if not suggestion[0].isalpha():
        suggestion = "billing-service"
    return (
        "Use lowercase letters, digits and single hyphens, starting with a letter, "
        f'for example "{suggestion}".'
    )


def package_name_error(value: str) -> str:
    """Explain what is wrong with a Python package name, or return ``""``."""
    suggestion = "billing_service"
    if not value.isidentifier() or not value.isascii() or value != value.lower():
        return (
            "Use lowercase ASCII letters, digits and underscores, starting with a letter, "
            f'for example "{suggestion}".'
        )
    if value.startswith("_"):
        return f'Start the package name with a letter, for example "{suggestion}".'
    if len(value) > MAX_NAME_LENGTH:
        return f'Use at most {MAX_NAME_LENGTH} characters, for example "{value[:20].strip("_")}".'
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f'"{value}" is a Python keyword. Choose another name, for example "{value}_service".'
    if value in sys.stdlib_module_names:
        return (
            f'"{value}" would shadow the standard library module of the same name. '
            f'Choose another name, for example "{value}_service".'
        )
    if value in RESERVED_PACKAGE_NAMES:
        return (
            f'"{value}" would shadow a package the project depends on or a folder it uses. '
            f'Choose another name, for example "{value}_service".'
        )
    return ""


def email_error(value: str) -> str:
    """Explain what is wrong with an email address, or return ``""``."""
    if _EMAIL_PATTERN.match(value.strip()):
        return ""
    return 'Type an email address such as "jane@example.com".'


def task_queue_error(task_queue: str, framework: str) -> str:
    """ARQ runs jobs as coroutines on asyncio; a Flask service has no event loop to share."""
    if task_queue == "arq" and framework != "fastapi":
        return (
            "ARQ is asyncio-only and works with the FastAPI framework. With Flask, type "
            '"celery" (Celery on RabbitMQ) or "none".'
        )
    return ""


def newest_python_version(running: str, on_path: Callable[[str], bool]) -> str:
    """The newest supported version that is `running` or whose `python3.X` is on the PATH
    (`on_path` answers whether a command is there), else the fallback."""
    installed = [
        version
        for version in SUPPORTED_PYTHON_VERSIONS
        if version == running or on_path(f"python{version}")
    ]
    return installed[-1] if installed else FALLBACK_PYTHON_VERSION


def is_interpreter_on_path(command: str) -> bool:
    """Whether `command` is on the PATH as an executable file, not a script that stands for
    one: a pyenv shim exists for every version pyenv knows of, installed and selected or not.
    The file's first bytes tell them apart; nothing is run."""
    found = shutil.which(command)
    if found is None:
        return False
    try:
        with Path(found).resolve().open("rb") as executable:
            return executable.read(4).startswith(_EXECUTABLE_MAGIC)
    except OSError:
        return False


def default_python_version() -> str:
    """The newest supported version this machine has: the interpreter running Copier, or a
    `python3.X` interpreter on the PATH, where uv finds it too. Else 3.14.

    Copier runs on the machine that will run the project, so this default makes the
    first render work where it is made.
    """
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return newest_python_version(running, is_interpreter_on_path)


class NamingExtension(Extension):
    """Register the naming filters and globals with Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["package_name"] = package_name
        environment.filters["quoted"] = quoted
        environment.filters["python_string"] = python_string
        environment.filters["project_name_error"] = project_name_error
        environment.filters["slug_error"] = slug_error
        environment.filters["package_name_error"] = package_name_error
        environment.filters["email_error"] = email_error
        environment.filters["task_queue_error"] = task_queue_error
        environment.globals["default_python_version"] = default_python_version
