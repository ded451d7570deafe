"""Tagged releases of this template and projects rendered from them, for `copier update` tests.

A clone of the template may have no tags, and the tests need versions they can change, so each
test builds its own template repository from the working tree (uncommitted changes included),
commits it, and cuts releases as a maintainer does: a CHANGELOG.md heading, tagged by
tools/release.py.
"""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copier import run_copy, run_update

from tests.conftest import TEMPLATE_ROOT

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}
CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")
CHANGELOG_START = "# Changelog\n\n## Unreleased\n\n"


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--allow-empty", "-m", message)


class TemplateRepository:
    """A git copy of this template whose versions a test releases."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_working_tree(cls, path: Path, version: str | None) -> "TemplateRepository":
        """Copy every file git would keep (tracked or new, not ignored) and commit it, released
        as `version` unless that is None."""
        copy_working_tree(path)
        # Its own history starts here: none of this template's releases are in it.
        (path / "CHANGELOG.md").write_text(CHANGELOG_START)
        git(path, "init", "--quiet", "--initial-branch=main")
        repository = cls(path)
        if version is None:
            commit_all(path, "The template as it is")
        else:
            repository.release(version)
        return repository

    @classmethod
    def after_its_releases(cls, path: Path, version: str) -> "TemplateRepository":
        """A clone of this template with its releases tagged by tools/release.py, then the
        working tree committed on top and released as `version`."""
        git(path.parent, "clone", "--quiet", "--no-local", str(TEMPLATE_ROOT), str(path))
        for name in git(path, "tag", "--list").split():
            git(path, "tag", "--delete", name)
        repository = cls(path)
        repository.tag_releases()
        git(path, "rm", "-r", "--quiet", ".")
        copy_working_tree(path)
        repository.release(version)
        return repository

    def file(self, relative: str) -> Path:
        return self.path / relative

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.file(relative)
        text = path.read_text()
        assert old in text, f"{relative} no longer holds {old!r}"
        path.write_text(text.replace(old, new, 1))

    def release(self, version: str) -> None:
        """Commit what changed under a CHANGELOG heading for `version`, and let the release
        command tag it."""
        changelog = self.file("CHANGELOG.md")
        heading = f"## {version} ({datetime.now(UTC):%Y-%m-%d})\n\n- Changes made by a test.\n\n"
        changelog.write_text(
            changelog.read_text().replace("## Unreleased\n\n", "## Unreleased\n\n" + heading, 1)
        )
        commit_all(self.path, f"Release {version}")
        self.tag_releases()
        assert git(self.path, "tag", "--points-at", "HEAD").split() == [version]

    def tag_releases(self) -> None:
        subprocess.run(
            [sys.executable, str(TEMPLATE_ROOT / "tools" / "release.py")],
            cwd=self.path,
            env={**os.environ, **GIT_IDENTITY},
            capture_output=True,
            text=True,
            check=True,
        )


def copy_working_tree(path: Path) -> None:
    """Every file of this template that git would keep: tracked or new, not ignored."""
    listed = git(TEMPLATE_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / relative
        if source.is_file():
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def copy_project(
    template: TemplateRepository, destination: Path, version: str, **answers: Any
) -> Path:
    """Render `version` and commit it, as a user does right after `copier copy`."""
    run_copy(
        str(template.path),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        vcs_ref=version,
        quiet=True,
    )
    git(destination, "init", "--quiet", "--initial-branch=main")
    commit_all(destination, "Render the service")
    return destination


def update_project(
    project: Path, version: str | None = None, *, answers: dict[str, Any] | None = None
) -> None:
    """`copier update --trust --defaults [-d answer=...]`, conflicts as inline markers."""
    run_update(
        project,
        data=answers or {},
        defaults=True,
        overwrite=True,
        unsafe=True,
        vcs_ref=version,
        conflict="inline",
        quiet=True,
    )


def files_with_conflicts(project: Path) -> set[str]:
    """The files an update left conflict markers in."""
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return {
        relative
        for relative in filter(None, listed.split("\0"))
        if (project / relative).is_file()
        and any(
            line.startswith(CONFLICT_MARKERS)
            for line in (project / relative).read_text(errors="replace").splitlines()
        )
    }


def tree(project: Path) -> dict[str, str]:
    """Every file of a project but git's own, the virtual environment and caches, by path."""
    ignored = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
    return {
        path.relative_to(project).as_posix(): path.read_text(errors="replace")
        for path in sorted(project.rglob("*"))
        if path.is_file() and not ignored.intersection(path.relative_to(project).parts)
    }
