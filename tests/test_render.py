"""What a render contains, before any of its tools run."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from pytest_copie.plugin import Copie

from tests.conftest import (
    CUSTOM_ANSWERS,
    FRAMEWORKS,
    Render,
    answer_set_params,
    variant,
    variant_params,
)

# The layout of ../shared/PRACTICES.md section 1, with the example resource.
LAYOUT = [
    "src/{package}/__init__.py",
    "src/{package}/main.py",
    "src/{package}/cli.py",
    "src/{package}/api/routes/__init__.py",
    "src/{package}/api/routes/health.py",
    "src/{package}/api/routes/projects.py",
    "src/{package}/api/dependencies.py",
    "src/{package}/api/middleware.py",
    "src/{package}/api/exception_handlers.py",
    "src/{package}/core/config.py",
    "src/{package}/core/exceptions.py",
    "src/{package}/core/responses.py",
    "src/{package}/core/logging.py",
    "src/{package}/models/domain/projects.py",
    "src/{package}/models/schemas/projects.py",
    "src/{package}/services/projects.py",
    "src/{package}/repositories/projects.py",
    "src/{package}/infrastructure/database.py",
    "migrations/env.py",
    "migrations/versions/0001_create_projects.py",
    "src/{package}/server.py",
    "tests/conftest.py",
    "tests/app_fixtures.py",
    "tests/api/test_app.py",
    "tests/contract/test_projects.py",
    "tests/services/test_projects.py",
    "pyproject.toml",
    "alembic.ini",
    ".env.example",
    ".gitignore",
    ".python-version",
    ".copier-answers.yml",
    "README.md",
]
FRAMEWORK_FREE_LAYERS = ("core", "models", "services", "repositories")


def text_files(project: Path) -> list[Path]:
    return [path for path in sorted(project.rglob("*")) if path.is_file()]


@pytest.mark.parametrize("variant", variant_params())
def test_no_jinja_survives_and_files_are_clean(render: Render, variant: str) -> None:
    project = render(variant)

    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(project)
        assert "{{" not in text, relative
        assert "{%" not in text, relative
        assert "{#" not in text, relative
        assert not text or text.endswith("\n"), f"{relative} does not end with a newline"
        assert "\n\n\n\n" not in text, f"{relative} has blank-line debris"
        assert not re.search(r"[ \t]+$", text, re.MULTILINE), f"{relative} has trailing spaces"
        assert "{" not in str(relative), f"an unrendered file name: {relative}"


@pytest.mark.parametrize("variant", variant_params())
def test_layout_follows_the_practices(render: Render, variant: str) -> None:
    project = render(variant)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = answers["package_name"]

    missing = [entry for entry in LAYOUT if not (project / entry.format(package=package)).is_file()]

    assert missing == []


@pytest.mark.parametrize("variant", variant_params())
def test_framework_free_layers_import_no_framework(render: Render, variant: str) -> None:
    project = render(variant)
    package_dir = next((project / "src").iterdir())

    for layer in FRAMEWORK_FREE_LAYERS:
        for module in (package_dir / layer).rglob("*.py"):
            source = module.read_text()
            for framework in ("fastapi", "starlette", "flask", "werkzeug"):
                assert not re.search(rf"^\s*(from|import) {framework}\b", source, re.MULTILINE), (
                    f"{module.relative_to(project)} imports {framework}"
                )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_custom_answers_reach_the_metadata(render: Render, framework: str) -> None:
    project = render(variant(framework, "custom"))

    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]

    assert metadata["name"] == CUSTOM_ANSWERS["project_slug"]
    assert metadata["description"] == CUSTOM_ANSWERS["description"]
    assert metadata["authors"] == [
        {"name": CUSTOM_ANSWERS["author_name"], "email": CUSTOM_ANSWERS["author_email"]}
    ]
    assert metadata["scripts"] == {
        CUSTOM_ANSWERS["project_slug"]: f"{CUSTOM_ANSWERS['package_name']}.cli:app"
    }
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {key: answers[key] for key in CUSTOM_ANSWERS} == CUSTOM_ANSWERS
    assert answers["framework"] == framework
    assert answers["_src_path"]


def test_defaults_are_derived_from_the_name(render: Render) -> None:
    project = render(variant("fastapi", "default"))

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert answers["project_name"] == "My Service"
    assert answers["project_slug"] == "my-service"
    assert answers["package_name"] == "my_service"
    assert (project / "src" / "my_service" / "main.py").is_file()


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13"])
def test_python_version_sets_every_tool(copie: Copie, python_version: str) -> None:
    result = copie.copy(extra_answers={"python_version": python_version})
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    project = result.project_dir

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert pyproject["project"]["requires-python"] == f">={python_version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python_version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == python_version
    assert (project / ".python-version").read_text().strip() == python_version


# Files whose text must not depend on the framework: the contract suite (black-box HTTP
# tests) and the layers that hold no sync/async difference. core/config.py differs in one
# line only: the default database URL names the sync or the async SQLite driver.
SHARED_TREES = ("tests/contract", "src/{package}/core", "src/{package}/models")
DRIVER_SPECIFIC = {"config.py"}
# Imports that must not appear in the other framework's render.
FOREIGN_IMPORTS = {
    "fastapi": ("flask", "flask_openapi3", "werkzeug", "granian"),
    "flask": ("fastapi", "starlette", "uvicorn", "aiosqlite"),
}


def tree_texts(project: Path, tree: str) -> dict[str, str]:
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    root = project / tree.format(package=package)
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*.py"))
        if path.name not in DRIVER_SPECIFIC
    }


@pytest.mark.parametrize("answer_set", answer_set_params())
@pytest.mark.parametrize("tree", SHARED_TREES)
def test_shared_files_are_identical_for_both_frameworks(
    render: Render, answer_set: str, tree: str
) -> None:
    fastapi = tree_texts(render(variant("fastapi", answer_set)), tree)
    flask = tree_texts(render(variant("flask", answer_set)), tree)

    assert fastapi
    assert fastapi == flask


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_render_carries_only_its_own_framework(render: Render, framework: str) -> None:
    project = render(variant(framework, "default"))
    foreign = "|".join(FOREIGN_IMPORTS[framework])
    pattern = re.compile(rf"^\s*(from|import) ({foreign})\b", re.MULTILINE)

    offenders = [
        str(path.relative_to(project))
        for path in project.rglob("*.py")
        if pattern.search(path.read_text())
    ]

    assert offenders == []
    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    for name in FOREIGN_IMPORTS[framework]:
        assert name.replace("_", "-") not in dependencies
