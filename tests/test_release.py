"""The release command tags each CHANGELOG.md version on the commit that cut it, and only that."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy

from tests.conftest import TEMPLATE_ROOT

COMMAND = [sys.executable, str(TEMPLATE_ROOT / "tools" / "release.py")]
HEADER = "# Changelog\n\n## Unreleased\n\n"


def git(repository: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments], cwd=repository, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit_changelog(repository: Path, *versions: str) -> str:
    """Write a changelog with these releases (newest first), commit it; the commit."""
    sections = "".join(f"## {version} (2026-11-22)\n\n- Changes.\n\n" for version in versions)
    (repository / "CHANGELOG.md").write_text(HEADER + sections, encoding="utf-8")
    git(repository, "add", "CHANGELOG.md")
    git(repository, "commit", "--quiet", "--message", f"Release {versions[0]}")
    return git(repository, "rev-parse", "HEAD")


def release(repository: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *arguments], cwd=repository, capture_output=True, text=True, check=False
    )


def tag_commit(repository: Path, name: str) -> str:
    return git(repository, "rev-list", "-n", "1", name)


def configure_identity(repository: Path) -> None:
    """Who commits and tags in a test's repository, whatever the machine's git configuration."""
    git(repository, "config", "user.email", "release@example.org")
    git(repository, "config", "user.name", "Release")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch", "main")
    configure_identity(tmp_path)
    (tmp_path / "README.md").write_text("A template.\n", encoding="utf-8")
    git(tmp_path, "add", "README.md")
    git(tmp_path, "commit", "--quiet", "--message", "Start")
    return tmp_path


def test_each_version_is_tagged_where_it_was_cut(repository: Path) -> None:
    first = commit_changelog(repository, "0.1.0")
    (repository / "README.md").write_text("A template, improved.\n", encoding="utf-8")
    git(repository, "commit", "--quiet", "--all", "--message", "Work after 0.1.0")
    second = commit_changelog(repository, "0.2.0", "0.1.0")

    result = release(repository)

    assert result.returncode == 0, result.stderr
    assert tag_commit(repository, "0.1.0") == first
    assert tag_commit(repository, "0.2.0") == second
    assert "git push --tags" in result.stdout


def test_a_second_run_changes_nothing(repository: Path) -> None:
    commit_changelog(repository, "0.1.0")
    release(repository)
    tags = git(repository, "show-ref", "--tags")

    result = release(repository)

    assert result.returncode == 0
    assert "tagged already" in result.stdout
    assert git(repository, "show-ref", "--tags") == tags


def test_a_dry_run_tags_nothing(repository: Path) -> None:
    commit_changelog(repository, "0.1.0")

    result = release(repository, "--dry-run")

    assert result.returncode == 0
    assert "would tag 0.1.0" in result.stdout
    assert git(repository, "tag", "--list") == ""


def test_uncommitted_changes_are_refused(repository: Path) -> None:
    commit_changelog(repository, "0.1.0")
    (repository / "README.md").write_text("Half done.\n", encoding="utf-8")

    result = release(repository)

    assert result.returncode == 1
    assert "uncommitted changes" in result.stderr
    assert git(repository, "tag", "--list") == ""


def test_a_version_older_than_a_tagged_one_is_refused(repository: Path) -> None:
    commit_changelog(repository, "0.2.0")
    release(repository)
    # A release slipped in below the newest one, after that one was published.
    commit_changelog(repository, "0.2.0", "0.1.5")

    result = release(repository)

    assert result.returncode == 1
    assert "0.1.5 is not newer than 0.2.0" in result.stderr
    assert git(repository, "tag", "--list") == "0.2.0"


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        (("0.1.0", "0.2.0"), "but not newer"),
        (("one",), "does not name a PEP 440 version"),
    ],
)
def test_a_changelog_out_of_order_is_refused(
    repository: Path, versions: tuple[str, ...], message: str
) -> None:
    commit_changelog(repository, *versions)

    result = release(repository)

    assert result.returncode == 1
    assert message in result.stderr


def test_a_tag_on_another_commit_is_refused(repository: Path) -> None:
    git(repository, "tag", "0.1.0")  # on the first commit, before the release was cut
    commit_changelog(repository, "0.1.0")

    result = release(repository)

    assert result.returncode == 1
    assert "tag 0.1.0 names" in result.stderr


def test_this_repository_has_its_releases_cut(tmp_path: Path) -> None:
    """Every release of this template's own changelog has a commit on main to be tagged at, and
    once tagged, Copier can render it."""
    if git(TEMPLATE_ROOT, "rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("a shallow clone holds no history to find the releases in")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--no-local", str(TEMPLATE_ROOT), str(clone))
    for name in git(clone, "tag", "--list").splitlines():
        git(clone, "tag", "--delete", name)
    configure_identity(clone)

    result = release(clone)

    assert result.returncode == 0, result.stderr
    assert "tagged 0.1.0 at" in result.stdout
    # The release can be pinned: Copier renders it and records its version.
    copy = tmp_path / "service"
    run_copy(str(clone), copy, vcs_ref="0.1.0", defaults=True, unsafe=True, quiet=True)
    answers = yaml.safe_load((copy / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "0.1.0"
