"""The rendered project: rendering, installing and migrating it, its database, its
environment, and the account and projects the loads read."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from copier import run_copy
from copier.errors import DirtyLocalWarning

from bench.frameworks import CLI_NAME, Framework
from bench.processes import (
    HOST,
    BenchError,
    Server,
    free_port,
    http_request,
    run_command,
    signals_ignored,
    timed_command,
    uv_run,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINES = REPO_ROOT / "benchmarks" / "baselines"
PROJECT_NAME = "Bench Service"
PACKAGE_NAME = "bench_service"
BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway account on a throwaway database
# A key of a proper length: PyJWT warns about the short development default.
SECRET_KEY = "bench-" + "k" * 42
# More than a page (20), so that the list endpoint returns a full one and counts beyond it.
PROJECT_COUNT = 25
METRICS_PATH = "/metrics"
POSTGRES_TIMEOUT = 60.0

FACTS_SCRIPT = f"""\
import json, platform, sys
from importlib.metadata import version
from {PACKAGE_NAME} import server
from {PACKAGE_NAME}.core.config import Settings
settings = Settings()
pool = settings.database_pool_size + settings.database_max_overflow
print(json.dumps({{
    "versions": {{"python": platform.python_version(), **{{n: version(n) for n in sys.argv[1:]}}}},
    "blocking_threads": min(getattr(server, "REQUEST_THREADS", pool), pool),
}}))
"""


@dataclass(frozen=True)
class Source:
    """What copier renders: this repository's working tree, or the commit `--before` names."""

    vcs_ref: str  # "HEAD" brings uncommitted changes along; a commit's full hash does not
    label: str  # how the report names it
    suffix: str  # keeps the two renders' directories and databases apart
    observability: str = "none"  # the answer; a render at REF may predate the question

    @property
    def observed(self) -> bool:
        return self.observability != "none"


WORKING_TREE = Source(vcs_ref="HEAD", label="working tree", suffix="")
# `--observability`: the working tree without the answer, compared with WORKING_TREE with it.
OBSERVABILITY_OFF = Source(vcs_ref="HEAD", label="observability=none", suffix="_off")


@dataclass(frozen=True)
class Database:
    """The `database` answer; for PostgreSQL, the server that holds the benchmark's databases."""

    kind: str  # sqlite | postgresql
    server_url: str  # a libpq URL; psql connects there to create and drop the databases
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))  # keeps names unique

    @property
    def is_postgresql(self) -> bool:
        return self.kind == "postgresql"

    @property
    def title(self) -> str:
        return "PostgreSQL" if self.is_postgresql else "SQLite"

    @property
    def address(self) -> str:
        """The server's host and port, without the credentials."""
        parts = urlsplit(self.server_url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


@dataclass(frozen=True)
class Bench:
    """One render of one framework for one database: where it comes from and where it lives."""

    framework: Framework
    source: Source
    root: Path  # the run's temporary directory
    database: Database

    @property
    def work_dir(self) -> Path:
        """This render's own: the project, the SQLite database, the logs."""
        return self.root / f"{self.framework.name}_{self.database.kind}{self.source.suffix}"

    @property
    def project(self) -> Path:
        return self.work_dir / CLI_NAME

    @property
    def database_name(self) -> str:
        """This render's database on the PostgreSQL server."""
        return f"serve_bench_{self.database.run_id}_{self.framework.name}{self.source.suffix}"

    @property
    def database_url(self) -> str:
        """The service's DATABASE_URL, with the framework's driver; the yardsticks' too."""
        if not self.database.is_postgresql:
            return f"{self.framework.sqlite_driver}:///{self.work_dir / 'bench.db'}"
        parts = urlsplit(self.database.server_url)
        driver = self.framework.postgresql_driver
        return urlunsplit(parts._replace(scheme=driver, path=f"/{self.database_name}"))

    @property
    def versioned_packages(self) -> tuple[str, ...]:
        """The framework's packages, and for PostgreSQL the driver (asyncpg or psycopg)."""
        packages = self.framework.versioned_packages
        if self.database.is_postgresql:
            packages += (self.framework.postgresql_driver.partition("+")[2],)
        return packages


# --- PostgreSQL ----------------------------------------------------------------------


def psql(server_url: str, sql: str) -> str:
    """Run one statement on the server with psql; never prompts for a password."""
    options = ("--no-psqlrc", "--no-password", "--quiet", "--tuples-only", "--no-align")
    command = ["psql", *options, "--set", "ON_ERROR_STOP=1", "--dbname", server_url, "-c", sql]
    environment = base_environment()
    return run_command(command, cwd=REPO_ROOT, env=environment, timeout=POSTGRES_TIMEOUT).strip()


def describe_database(database: Database) -> str:
    """The section's database; for PostgreSQL, asking the server proves it answers."""
    if not database.is_postgresql:
        return "SQLite, a file per render in the temporary directory"
    version = psql(database.server_url, "SHOW server_version").split()[0]
    return (
        f"PostgreSQL {version} on {database.address}, "
        "a database per render created for this run and dropped at the end"
    )


@contextmanager
def benchmark_database(bench: Bench) -> Iterator[None]:
    """For PostgreSQL, create this render's database and drop it at the end, whatever happens.

    A failed drop fails the run, unless the run failed already: then it is only reported.
    """
    if not bench.database.is_postgresql:
        yield
        return
    server_url, name = bench.database.server_url, bench.database_name
    failed = True
    try:  # the creation too: a Ctrl-C while psql runs may leave the database behind
        psql(server_url, f'CREATE DATABASE "{name}"')
        print(f'Database: "{name}" on {bench.database.address}')
        yield
        failed = False
    finally:
        with signals_ignored():
            try:
                # FORCE: a server that outlived its stop must not keep the database alive.
                psql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except BenchError as error:
                if not failed:
                    raise
                print(f"serve_bench: dropping {name} failed: {error}", file=sys.stderr)


# --- rendering, installing, migrating -------------------------------------------------


def render_project(bench: Bench) -> tuple[float, bool]:
    """Render the default project; the time in ms and whether uncommitted changes were used."""
    data = {
        "project_name": PROJECT_NAME,
        "framework": bench.framework.name,
        "database": bench.database.kind,
    }
    if bench.source.observed:  # else the default, also at a REF that has no such question
        data["observability"] = bench.source.observability
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_copy(
            str(REPO_ROOT),
            bench.project,
            data=data,
            defaults=True,
            unsafe=True,
            vcs_ref=bench.source.vcs_ref,
            quiet=True,
        )
    elapsed_ms = (time.perf_counter() - started) * 1000
    dirty = False
    for warning in caught:
        if issubclass(warning.category, DirtyLocalWarning):
            dirty = True
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return elapsed_ms, dirty


def base_environment() -> dict[str, str]:
    """This process's environment without what would point uv or Python at our own venv."""
    # PROMETHEUS_MULTIPROC_DIR too: each observed render's `serve` makes a directory of its own.
    dropped = {
        *("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"),
        "PROMETHEUS_MULTIPROC_DIR",
    }
    return {name: value for name, value in os.environ.items() if name not in dropped}


def service_environment(bench: Bench) -> dict[str, str]:
    """The target configuration: security headers, request id, one `http_request` line per
    request at INFO as JSON, and rate limiting, all on; the limits raised out of the way."""
    environment = base_environment()
    environment.update(
        DATABASE_URL=bench.database_url,
        ENVIRONMENT="development",
        LOG_LEVEL="INFO",
        LOG_JSON="true",
        SECRET_KEY=SECRET_KEY,
        # wrk sends every request from one address: the default limit would answer 429. The
        # limiter is still consulted on every request.
        RATE_LIMIT="1000000000/minute",
        AUTH_RATE_LIMIT="1000000000/minute",
    )
    if bench.source.observed:
        # A free port for /metrics: 9464 may be taken by another service on this machine.
        environment["METRICS_PORT"] = str(free_port())
    return environment


def baseline_environment(bench: Bench) -> dict[str, str]:
    """A yardstick's: the render's database and key, and the baselines on the import path."""
    environment = base_environment()
    environment.update(
        DATABASE_URL=bench.database_url,
        SECRET_KEY=SECRET_KEY,
        PYTHONPATH=str(BASELINES),
        PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ in the repository
    )
    return environment


@dataclass(frozen=True)
class Prepared:
    """What the benchmark learns from a render once it is installed."""

    versions: dict[str, str]
    blocking_threads: int  # granian's per worker in `serve`, as its server.py chooses


def prepare_project(bench: Bench) -> Prepared:
    """Render, install and migrate the project, printing the times."""
    render_ms, dirty = render_project(bench)
    source = bench.source.label + (" with uncommitted changes" if dirty else "")
    name = bench.framework.name
    print(f"Render:   {render_ms:,.0f} ms (copier, {PROJECT_NAME!r}, {name}, {source})")
    project = bench.project
    seconds = timed_command(["uv", "sync"], cwd=project, env=base_environment())
    print(f"uv sync:  {seconds:.1f} s")
    environment = service_environment(bench)
    seconds = timed_command(uv_run(CLI_NAME, "db", "upgrade"), cwd=project, env=environment)
    print(f"Migrate:  {seconds:.1f} s ({CLI_NAME} db upgrade)")
    command = uv_run("python", "-c", FACTS_SCRIPT, *bench.versioned_packages)
    facts = json.loads(run_command(command, cwd=project, env=environment))
    versions: dict[str, str] = facts["versions"]
    print("Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    return Prepared(versions, int(facts["blocking_threads"]))


# --- the account and the projects the loads read -------------------------------------


def sign_in(server: Server) -> str:
    """Register the benchmark's user (once per database) and log in; the bearer token."""
    account = {"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
    status, envelope = http_request(server.port, "POST", "/api/v1/auth/register", account)
    if status not in (201, 409):
        raise BenchError(f"POST /api/v1/auth/register answered {status}: {envelope}")
    status, envelope = http_request(server.port, "POST", "/api/v1/auth/login", account)
    try:
        return str(envelope["data"]["access_token"])
    except (KeyError, TypeError) as error:
        raise BenchError(f"POST /api/v1/auth/login answered {status}: {envelope}") from error


def create_projects(server: Server, token: str) -> int:
    """Create the projects the list reads; the id of the first, which the detail reads."""
    ids = []
    for number in range(1, PROJECT_COUNT + 1):
        payload = {"name": f"Bench {number}", "budget": 100 * number}
        status, envelope = http_request(
            server.port, "POST", "/api/v1/projects", payload, token=token
        )
        if status != 201:
            raise BenchError(f"POST /api/v1/projects answered {status}: {envelope}")
        try:
            ids.append(int(envelope["data"]["id"]))
        except (KeyError, TypeError, ValueError) as error:
            raise BenchError(f"POST /api/v1/projects returned no data.id: {envelope}") from error
    return ids[0]


def expect_metrics(port: int) -> None:
    """Refuse to measure a render whose /metrics does not count requests: the answer would be
    measured without its cost."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5.0)
    try:
        connection.request("GET", METRICS_PATH)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"GET {METRICS_PATH} on port {port} failed: {error}") from error
    finally:
        connection.close()
    if response.status != 200 or "http_server_requests_total" not in text:
        raise BenchError(
            f"GET {METRICS_PATH} on port {port} answered {response.status} without "
            f"http_server_requests_total:\n{text[:500]}"
        )
