"""Tag the template's releases from CHANGELOG.md, so that `copier copy --vcs-ref 0.1.0` works.

Only the main branch of this repository travels: its tags do not. Whoever publishes the template
runs this command in a clone of main, then pushes the tags (`git push --tags`). Each version
heading of CHANGELOG.md (`## 0.1.0 (2026-11-22)`) is tagged on the commit that wrote it there,
which is the commit the release was cut at. Running it again changes nothing. It refuses a
working tree with uncommitted changes, a tag that names another commit, and a new version that
is not newer than every version already tagged.

    uv run python tools/release.py            # tag every version not tagged yet
    uv run python tools/release.py --dry-run  # say what it would tag
"""

import argparse
import itertools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

CHANGELOG = "CHANGELOG.md"
# `## 0.1.0 (2026-11-22)`: a release; `## Unreleased` is not one.
RELEASE_HEADING = re.compile(r"^## (?P<version>\S+) \((?P<date>\d{4}-\d{2}-\d{2})\)$", re.MULTILINE)


class ReleaseError(Exception):
    """A reason not to tag, said to whoever runs the command."""


@dataclass(frozen=True)
class Release:
    version: Version
    heading: str  # as written in CHANGELOG.md


def git(repository: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["git", *arguments], cwd=repository, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ReleaseError(f"`git {' '.join(arguments)}` failed: {result.stderr.strip()}")
    return result.stdout.strip()


def releases(changelog: str) -> list[Release]:
    """The releases of a changelog, newest first as written; each must be a PEP 440 version,
    newer than the one below it."""
    found = []
    for match in RELEASE_HEADING.finditer(changelog):
        try:
            version = Version(match["version"])
        except InvalidVersion:
            raise ReleaseError(f"{match[0]!r} does not name a PEP 440 version") from None
        found.append(Release(version, match[0]))
    for newer, older in itertools.pairwise(found):
        if newer.version <= older.version:
            raise ReleaseError(f"{newer.heading!r} is above {older.heading!r} but not newer")
    return found


def cut_at(repository: Path, release: Release) -> str:
    """The commit that wrote the release's heading into CHANGELOG.md."""
    commits = git(
        repository, "log", "--reverse", "--format=%H", "-S", release.heading, "--", CHANGELOG
    )
    if not commits:
        raise ReleaseError(f"no commit of main wrote {release.heading!r}")
    return commits.splitlines()[0]


def tagged(repository: Path) -> dict[str, str]:
    """Every tag of the repository and the commit it names."""
    listed = git(
        repository, "tag", "--list", "--format=%(refname:short) %(*objectname)%(objectname)"
    )
    tags = {}
    for line in listed.splitlines():
        name, objects = line.split(" ", 1)
        tags[name] = objects[:40]  # an annotated tag's commit comes first
    return tags


def plan(repository: Path) -> list[tuple[Release, str]]:
    """The releases still to tag, oldest first, each with its commit."""
    if git(repository, "status", "--porcelain"):
        raise ReleaseError("the working tree has uncommitted changes: commit or stash them first")
    changelog = (repository / CHANGELOG).read_text(encoding="utf-8")
    tags = tagged(repository)
    newest_tagged = max((Version(name) for name in tags if _is_version(name)), default=Version("0"))
    to_tag = []
    for release in reversed(releases(changelog)):
        commit = cut_at(repository, release)
        name = str(release.version)
        if name in tags:
            if tags[name] != commit:
                raise ReleaseError(
                    f"tag {name} names {tags[name][:12]}, but {release.heading!r} was cut at "
                    f"{commit[:12]}: delete the tag or fix the changelog"
                )
            continue
        if release.version <= newest_tagged:
            raise ReleaseError(f"{name} is not newer than {newest_tagged}, already tagged")
        to_tag.append((release, commit))
    return to_tag


def _is_version(name: str) -> bool:
    try:
        Version(name)
    except InvalidVersion:
        return False
    return True


def tag(repository: Path, *, dry_run: bool = False) -> list[str]:
    """Tag every release not tagged yet; what was (or would be) tagged, as lines to print."""
    done = []
    for release, commit in plan(repository):
        name = str(release.version)
        if not dry_run:
            git(repository, "tag", "--annotate", name, commit, "--message", f"Release {name}")
        done.append(f"{'would tag' if dry_run else 'tagged'} {name} at {commit[:12]}")
    return done


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would be tagged")
    options = parser.parse_args(arguments)
    try:
        repository = Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))
        done = tag(repository, dry_run=options.dry_run)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print("\n".join(done) or "release: every version of CHANGELOG.md is tagged already")
    if done and not options.dry_run:
        print("Publish them with: git push --tags")
    return 0


if __name__ == "__main__":
    sys.exit(main())
