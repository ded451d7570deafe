"""The command line, and the selection of frameworks, databases, worker counts and rows it
makes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.frameworks import FRAMEWORKS, Framework
from bench.processes import BenchError, run_command
from bench.render import REPO_ROOT, Database, Source
from bench.rows import ROW_NAMES, ROWS, Row
from bench.wrk import LoadSettings

QUICK_DURATION = 3
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Selection:
    """What the command line asks for."""

    frameworks: tuple[Framework, ...]
    databases: tuple[Database, ...]
    workers: tuple[int, ...]
    rows: tuple[Row, ...]
    memory: bool
    load: LoadSettings


# --- command line --------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def choices_of(allowed: Sequence[str]) -> argparse._ActionType:
    """A comma-separated list of some of `allowed`, in the order given."""

    def parse(text: str) -> tuple[str, ...]:
        chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        unknown = [part for part in chosen if part not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose among {','.join(allowed)}, got {text!r}")
        return chosen

    return parse


def worker_counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(dict.fromkeys(positive_int(part) for part in text.split(",")))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"a list like 1,2, got {text!r}") from error


def before_source(ref: str) -> Source:
    """The render at REF, resolved here to a commit: copier's clone may not know REF's name."""
    command = ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
    try:
        commit = run_command(command, cwd=REPO_ROOT, env=dict(os.environ)).strip()
    except BenchError as error:
        raise argparse.ArgumentTypeError(f"{ref!r} is not a commit of {REPO_ROOT}") from error
    return Source(vcs_ref=commit, label=f"{ref} at {commit[:7]}", suffix="_before")


def parse_args(argv: Sequence[str], description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    add = parser.add_argument
    add(
        "--framework",
        choices=("fastapi", "flask", "both"),
        default="both",
        help="which rendering of the template to measure (default: both, FastAPI first)",
    )
    add(
        "--database",
        type=choices_of(("sqlite", "postgresql")),
        default=("sqlite", "postgresql"),
        metavar="LIST",
        help="the `database` answers, comma-separated (default: sqlite,postgresql)",
    )
    add(
        "--workers",
        type=worker_counts,
        default=(1, 2),
        metavar="LIST",
        help="worker processes of the service and of the yardsticks (default: 1,2)",
    )
    add(
        "--rows",
        type=choices_of(ROW_NAMES),
        default=ROW_NAMES,
        metavar="LIST",
        help=f"which rows to print (default: {','.join(ROW_NAMES)})",
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--duration",
        type=positive_int,
        default=10,
        metavar="SECONDS",
        help="length of each load (default: 10)",
    )
    length.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION} s per load")
    add("--connections", type=positive_int, default=64, metavar="N", help="wrk's (default: 64)")
    add("--threads", type=positive_int, default=2, metavar="N", help="wrk's (default: 2)")
    add(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        metavar="URL",
        help="with postgresql: the server on which each render's database is created and "
        f"dropped, as a libpq URL (default: {DEFAULT_POSTGRES_URL})",
    )
    add(
        "--before",
        type=before_source,
        metavar="REF",
        help="also render the template at REF (a commit, tag or branch of this repository), "
        "serve it the same way and compare its service with the working tree's",
    )
    add(
        "--observability",
        choices=("metrics", "otel"),
        help="render the working tree with this answer, print its rows, and compare its "
        "service with a render with observability=none: the cost of the answer",
    )
    add(
        "--rounds",
        type=positive_int,
        default=1,
        metavar="N",
        help="load each endpoint N times on each server, in turn, and keep each one's median "
        "run (default: 1); on a busy machine 5 rounds tell a few percent from the noise",
    )
    add("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk needs one per thread)")
    if args.before is not None and args.observability is not None:
        parser.error("--before and --observability each compare two renders: choose one")
    if urlsplit(args.postgres_url).scheme not in ("postgresql", "postgres"):
        parser.error("--postgres-url must start with postgresql:// (no SQLAlchemy driver name)")
    return args


def selection_of(args: argparse.Namespace) -> Selection:
    names = ("fastapi", "flask") if args.framework == "both" else (args.framework,)
    run_id = Database("sqlite", args.postgres_url).run_id  # one per run, for every database
    return Selection(
        frameworks=tuple(FRAMEWORKS[name] for name in names),
        databases=tuple(Database(kind, args.postgres_url, run_id) for kind in args.database),
        workers=args.workers,
        rows=tuple(row for row in ROWS if row.name in args.rows),
        memory="memory" in args.rows,
        load=LoadSettings(
            threads=args.threads,
            connections=args.connections,
            duration=QUICK_DURATION if args.quick else args.duration,
            rounds=args.rounds,
        ),
    )
