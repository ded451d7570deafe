"""What Copier runs in a project after every `copier update` (copier.yml, `_migrations`).

Migrations are history: a database that applied one must find it again, as it was. So
Copier's changes to the project's migrations are undone: a `down_revision` that the answers
decide is never rewritten, and when an update turns a feature off, Copier's deletion of the
feature's migration is undone too, and a migration
that reverses it is added at the head of the project's chain; when a feature comes back, a
migration that redoes it is added. A feature migration the update adds for the first time is
chained after the project's own migrations, so the chain keeps one head.

Then it names the files the update left conflict markers in (copier.yml's
`_message_after_update` says what to run next).

    python after_update.py <template directory>
"""

import ast
import subprocess
import sys
import uuid
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import yaml

ANSWERS_FILE = ".copier-answers.yml"
VERSIONS = Path("migrations/versions")
TEMPLATE_VERSIONS = Path("template/migrations/versions")
CONFLICT_MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class Migration:
    path: Path
    revision: str
    down_revisions: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> "Migration | None":
        """The migration in `path`, or None for a module that names no revision (or does not
        parse, which Alembic will report itself)."""
        try:
            body = ast.parse(path.read_bytes()).body
        except (SyntaxError, ValueError):
            return None
        values: dict[str, Any] = {}
        for node in body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in {"revision", "down_revision"}:
                values[target.id] = ast.literal_eval(value)
        if not isinstance(values.get("revision"), str):
            return None
        down = values.get("down_revision")
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        return cls(path, values["revision"], downs)


def the_head(excluding: Set[Path] = frozenset()) -> Migration | None:
    """The one head of the project's migrations, or None (and why) when there are several."""
    read = (Migration.read(path) for path in sorted(VERSIONS.glob("*.py")) if path not in excluding)
    migrations = [migration for migration in read if migration is not None]
    below = {down for migration in migrations for down in migration.down_revisions}
    heads = [migration for migration in migrations if migration.revision not in below]
    if len(heads) == 1:
        return heads[0]
    print(
        f"The migrations in {VERSIONS} have {len(heads)} heads, so this update added nothing to "
        "them. Join them with `uv run alembic merge heads`, then update again.",
        file=sys.stderr,
    )
    return None


def point_at(path: Path, head: Migration) -> None:
    """Make the migration at `path` revise `head`: it is new, no database has applied it."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("Revises:"):
            lines[index] = f"Revises: {head.revision}\n"
        elif line.startswith("down_revision"):
            annotation = line.partition("=")[0]
            lines[index] = f'{annotation}= "{head.revision}"\n'
    path.write_text("".join(lines), encoding="utf-8")


def append_migration(feature: Path, head: Migration, *, undo: bool) -> Path:
    """Add a migration after `head` that undoes (or redoes) the feature migration `feature`:
    the same imports, upgrade and downgrade, swapped when it undoes, under its own revision."""
    source = feature.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    functions = {
        node.name: "".join(lines[node.lineno - 1 : node.end_lineno])
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    import_block = "".join(lines[imports[0].lineno - 1 : imports[-1].end_lineno])
    revision = uuid.uuid4().hex[-12:]
    verb = "Undo" if undo else "Redo"
    upgrade, downgrade = ("downgrade", "upgrade") if undo else ("upgrade", "downgrade")
    now = datetime.now(UTC)
    text = (
        f'"""{verb} migration {feature.stem}: an update of the template turned its feature '
        f"{'off' if undo else 'back on'}.\n\nRevision ID: {revision}\nRevises: {head.revision}\n"
        f'Create Date: {now:%Y-%m-%d %H:%M:%S}\n"""\n\n'
        f"{import_block}\n"
        f'revision: str = "{revision}"\n'
        f'down_revision: str | None = "{head.revision}"\n'
        "branch_labels: str | Sequence[str] | None = None\n"
        "depends_on: str | Sequence[str] | None = None\n\n\n"
        + functions[upgrade].replace(f"def {upgrade}(", "def upgrade(", 1)
        + "\n\n"
        + functions[downgrade].replace(f"def {downgrade}(", "def downgrade(", 1)
    )
    path = VERSIONS / f"{now:%Y%m%d}_{revision}_{verb.lower()}_{feature.stem}.py"
    path.write_text(text, encoding="utf-8")
    return path


def feature_migrations(template: Path, answers: dict[str, Any]) -> set[str]:
    """The file names of the template's migrations that these answers render."""
    environment = jinja2.Environment(autoescape=False)  # noqa: S701 - file names, not HTML
    return {
        environment.from_string(path.name).render(answers).removesuffix(".jinja")
        for path in (template / TEMPLATE_VERSIONS).iterdir()
    } - {""}


def keep_history(template: Path) -> list[str]:
    """Restore the migrations the update deleted and chain what the answers changed."""
    old_answers = yaml.safe_load(git("show", f"HEAD:{ANSWERS_FILE}"))
    new_answers = yaml.safe_load(Path(ANSWERS_FILE).read_text(encoding="utf-8"))
    # Deleted or rewritten (a down_revision the answers decide): a migration is history.
    changed = git("ls-files", "--modified", "--", str(VERSIONS)).split()
    if changed:
        git("checkout", "--", *changed)
    listed = git("ls-files", "--others", "--exclude-standard", "--", str(VERSIONS))
    added = {Path(name) for name in listed.split()}
    was = feature_migrations(template, old_answers)
    now = feature_migrations(template, new_answers)
    done = [f"kept {name} as it was: a database may have applied it" for name in changed]
    # The template numbers its migrations. Undone ones go newest first, as a downgrade would
    # (a table that another references is dropped after it); the rest in chain order.
    undone = sorted(was - now, reverse=True)
    for name in undone + sorted((now - was) | {path.name for path in added}):
        path = VERSIONS / name
        if not path.exists():
            continue
        head = the_head(excluding=added)
        if head is None:
            break
        if path in added:
            migration = Migration.read(path)
            if migration is not None and head.revision not in migration.down_revisions:
                point_at(path, head)
                done.append(f"chained {name} after {head.path.name}")
            added.discard(path)
        else:
            appended = append_migration(path, head, undo=name in was)
            done.append(f"added {appended.name}")
    return done


def files_with_conflicts() -> list[str]:
    # A file the update could not merge is listed once per stage of the merge.
    listed = set(git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0"))
    conflicted = []
    for name in sorted(listed - {""}):
        path = Path(name)
        if name.endswith(".rej"):
            conflicted.append(name)
        elif path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            if any(line.startswith(CONFLICT_MARKERS) for line in lines):
                conflicted.append(name)
    return conflicted


def main(argv: list[str]) -> None:
    (template,) = argv
    for change in keep_history(Path(template)):
        print(f"Migrations: {change}.")
    conflicted = files_with_conflicts()
    if conflicted:
        print(f"The update left conflicts in {len(conflicted)} file(s):")
        for name in conflicted:
            print(f"  {name}")
        print(
            "Resolve each one: keep what you need between the <<<<<<< and >>>>>>> markers and "
            "delete the markers (pre-commit and CI refuse a file that still has them)."
        )
    else:
        print("The update left no conflicts.")


if __name__ == "__main__":
    main(sys.argv[1:])
