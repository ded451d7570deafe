"""Throughput of the rendered service against a bare route of its framework, measured with wrk.

For each framework answer (FastAPI, Flask or both) it renders the default project into a
temporary directory, installs it with uv, applies its migrations, serves it with its own CLI
and loads two endpoints with wrk. A one-route app of the same framework, served from the same
virtual environment, is the baseline. For Flask, the bare route and the service are also
served by gunicorn's sync worker, so that granian and gunicorn meet on the same endpoints.
With `--database postgresql` the project is rendered for PostgreSQL and each framework gets a
database of its own on the server of `--postgres-url`, dropped at the end.
With `--before REF` each framework is also rendered at REF, a commit of this repository, and
served the same way; its service is loaded right before the working tree's, endpoint by
endpoint, and the report gives the ratio after/before.
With `--observability metrics` (or `otel`) the working tree is rendered twice instead, with
`observability=none` and with the answer, both served by the project's own `serve`; the
liveness probe (the cheapest endpoint) and a project's detail are loaded on one right after the
other, and the report gives the ratio on/off: what the answer costs.

    uv run python benchmarks/serve_bench.py [--framework {fastapi,flask,both}]
        [--quick | --duration SECONDS] [--connections N] [--threads N]
        [--database {sqlite,postgresql}] [--postgres-url URL]
        [--before REF | --observability {metrics,otel}] [--rounds N]

Everything listens on 127.0.0.1 only. Needs wrk (`apt-get install wrk`), and psql for
PostgreSQL (`apt-get install postgresql-client`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from copier import run_copy
from copier.errors import DirtyLocalWarning

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = "Bench Service"
CLI_NAME = "bench-service"
PACKAGE_NAME = "bench_service"
HOST = "127.0.0.1"
HEALTH_PATH = "/api/v1/health/ready"
LIVE_PATH = "/api/v1/health/live"
METRICS_PATH = "/metrics"
BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway account on a throwaway database
BARE_PATH = "/bare"
BARE_TARGET = "bare_app:app"
QUICK_DURATION = 3
WARMUP_SECONDS = 1
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 600.0
LOG_TAIL_LINES = 15
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_TIMEOUT = 60.0
# What the service's `serve` gets from loop="auto" and http="auto", spelled out for the baseline.
BARE_UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")

BARE_FASTAPI_APP = '''\
"""The baseline: one async route with a pydantic response model, nothing else."""

from fastapi import FastAPI
from pydantic import BaseModel


class Greeting(BaseModel):
    status: str
    message: str


app = FastAPI()


@app.get("/bare", response_model=Greeting)
async def bare() -> Greeting:
    return Greeting(status="ok", message="Hello")
'''

BARE_FLASK_APP = '''\
"""The baseline: one route that returns a small dict through jsonify, nothing else."""

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare() -> Response:
    return jsonify({"status": "ok", "message": "Hello"})
'''

VERSIONS_SCRIPT = """\
import json, platform, sys
from importlib.metadata import version
print(json.dumps({"python": platform.python_version(), **{n: version(n) for n in sys.argv[1:]}}))
"""

_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_AVERAGE_LATENCY = re.compile(r"^\s+Latency\s+(\S+)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"^\s*Socket errors:\s+(.+)$", re.MULTILINE)


class BenchError(Exception):
    """A step failed; the message says which and why."""


@dataclass(frozen=True)
class LoadSettings:
    threads: int
    connections: int
    duration: int
    probe_path: str = HEALTH_PATH  # the health endpoint loaded beside a project's detail
    rounds: int = 1  # runs of each endpoint on each render, taken in turn; the median is kept

    def describe(self) -> str:
        runs = "" if self.rounds == 1 else f", the median of {self.rounds} rounds"
        return f"wrk -t{self.threads} -c{self.connections} -d{self.duration}s{runs}"


@dataclass(frozen=True)
class Measurement:
    label: str
    server: str
    logging: str
    requests_per_second: float
    average_latency: str
    problems: str


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path | None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass(frozen=True)
class Logs:
    """How a service run logs; only the WARNING run keeps its output in a file."""

    level: str
    json: bool
    label: str
    kept: bool


WARNING_CONSOLE = Logs("WARNING", json=False, label="WARNING, console", kept=True)
INFO_JSON = Logs("INFO", json=True, label="INFO, JSON to /dev/null", kept=False)
BARE_LOGGING = "warning, no access log"


@dataclass(frozen=True)
class Launch:
    """One way to start a server: a short name for its log file, the table's label, the command."""

    name: str
    label: str
    command: Callable[[str], list[str]]  # the command line, given the port

    def describe(self) -> str:
        """The command line without `uv run --no-sync`, the port left as PORT."""
        return shlex.join(self.command("PORT")[len(uv_run()) :])


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
class Pair:
    """How the report names the two renders it compares: the columns and the ratio's title."""

    before: str
    after: str
    title: str


BEFORE_AFTER = Pair("before", "after", "before ({before}) against after (the working tree)")
OFF_ON = Pair("off", "on", "observability off ({before}) against on ({after})")


@dataclass(frozen=True)
class Comparison:
    """One endpoint, server and logging, loaded at REF and right after on the working tree."""

    before: Measurement
    after: Measurement


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
    def address(self) -> str:
        """The server's host and port, without the credentials."""
        parts = urlsplit(self.server_url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


# --- command line --------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def before_source(ref: str) -> Source:
    """The render at REF, resolved here to a commit: copier's clone may not know REF's name."""
    command = ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
    try:
        commit = run_command(command, cwd=REPO_ROOT, env=dict(os.environ)).strip()
    except BenchError as error:
        raise argparse.ArgumentTypeError(f"{ref!r} is not a commit of {REPO_ROOT}") from error
    return Source(vcs_ref=commit, label=f"{ref} at {commit[:7]}", suffix="_before")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--framework",
        choices=("fastapi", "flask", "both"),
        default="both",
        help="which rendering of the template to measure (default: both, FastAPI first)",
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--duration",
        type=positive_int,
        default=10,
        metavar="SECONDS",
        help="length of each run (default: 10)",
    )
    length.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION} s per run")
    parser.add_argument(
        "--connections",
        type=positive_int,
        default=64,
        metavar="N",
        help="wrk connections (default: 64)",
    )
    parser.add_argument(
        "--threads", type=positive_int, default=2, metavar="N", help="wrk threads (default: 2)"
    )
    parser.add_argument(
        "--skip-info-run",
        action="store_true",
        help="skip the second service runs at LOG_LEVEL=INFO with JSON logs to /dev/null",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the template's `database` answer (default: sqlite, a file in the temporary folder)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        metavar="URL",
        help="with --database postgresql: the server on which each framework's benchmark "
        f"database is created and dropped, as a libpq URL (default: {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--before",
        type=before_source,
        metavar="REF",
        help="also render the template at REF (a commit, tag or branch of this repository), "
        "serve it the same way and compare its service with the working tree's",
    )
    parser.add_argument(
        "--observability",
        choices=("metrics", "otel"),
        help="render the working tree with observability=none and with this answer, serve "
        "both with the project's own `serve` and compare them on the liveness probe and a "
        "read: the cost of the answer",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        metavar="N",
        help="with --before or --observability: load each endpoint N times on each render, "
        "the renders in turn round after round, and keep each render's median (default: 1); "
        "on a busy machine 5 rounds tell a cost of a few percent from the noise",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk needs one per thread)")
    if args.before is not None and args.observability is not None:
        parser.error("--before and --observability each compare two renders: choose one")
    if urlsplit(args.postgres_url).scheme not in ("postgresql", "postgres"):
        parser.error("--postgres-url must start with postgresql:// (no SQLAlchemy driver name)")
    return args


# --- processes -----------------------------------------------------------------------


def run_command(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float = COMMAND_TIMEOUT
) -> str:
    """Run a command to completion and return its stdout; fail with its output otherwise."""
    try:
        result = subprocess.run(
            list(command),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`{' '.join(command)}` took longer than {timeout:.0f} s") from error
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise BenchError(f"`{' '.join(command)}` exited with {result.returncode}:\n{output}")
    return result.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and its children (`uv run` and the Python it starts), then SIGKILL."""
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def http_request(
    port: int,
    method: str,
    path: str,
    payload: object = None,
    *,
    token: str | None = None,
    timeout: float = 5.0,
) -> tuple[int, Any]:
    """One request to 127.0.0.1: the status and the JSON body (None when it is not JSON)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, None


def wait_until_ready(server: Server, path: str) -> None:
    """Poll until `path` answers 200; fail with the server's log when it dies or times out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    problem = "no answer"
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            status, _ = http_request(server.port, "GET", path, timeout=1.0)
        except (OSError, http.client.HTTPException) as error:
            problem = str(error)
        else:
            if status == 200:
                return
            problem = f"HTTP {status}"
        time.sleep(0.1)
    if server.process.poll() is None:
        reason = f"{path} did not answer 200 within {STARTUP_TIMEOUT:.0f} s ({problem})"
    else:
        reason = f"the server exited with {server.process.returncode} before {path} answered"
    raise BenchError(f"{reason}; its log:\n{log_tail(server.log_path) or '(empty or not kept)'}")


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Let a cleanup, bounded by timeouts, finish even when Ctrl-C is pressed again."""
    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in stopping}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def running_server(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], port: int, log_path: Path | None
) -> Iterator[Server]:
    """Start a server in its own process group and always stop it, whatever happens.

    Its output goes to `log_path`, or to /dev/null when that is None.
    """
    with (log_path or Path(os.devnull)).open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script; we stop the group
        )
        try:
            yield Server(process=process, port=port, log_path=log_path)
        finally:
            with signals_ignored():
                stop_process_group(process)


def log_tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def uv_run(*arguments: str) -> list[str]:
    """`uv run` in the rendered project, which `uv sync` has just installed."""
    return ["uv", "run", "--no-sync", *arguments]


# --- the servers ---------------------------------------------------------------------


def serve_command(port: str) -> list[str]:
    """The rendered project's own production server, one worker."""
    return uv_run(CLI_NAME, "serve", "--host", HOST, "--port", port, "--workers", "1")


def uvicorn_command(target: str, port: str) -> list[str]:
    address = ("--host", HOST, "--port", port)
    return uv_run("uvicorn", target, *address, "--log-level", "warning", *BARE_UVICORN_OPTIONS)


def granian_command(target: str, port: str) -> list[str]:
    address = ("--host", HOST, "--port", port)
    options = ("--interface", "wsgi", "--workers", "1", "--log-level", "warning")
    return uv_run("granian", *options, "--no-access-log", *address, target)


def gunicorn_command(target: str, port: str) -> list[str]:
    options = ("--workers", "1", "--worker-class", "sync", "--log-level", "warning")
    return uv_run("gunicorn", *options, "--bind", f"{HOST}:{port}", target)


FLASK_FACTORY = f"{PACKAGE_NAME}.main:create_app()"
UVICORN_BARE = Launch("uvicorn", "uvicorn", partial(uvicorn_command, BARE_TARGET))
UVICORN_SERVE = Launch("uvicorn", "uvicorn", serve_command)
GRANIAN_BARE = Launch("granian", "granian", partial(granian_command, BARE_TARGET))
GRANIAN_SERVE = Launch("granian", "granian", serve_command)
GUNICORN_BARE = Launch("gunicorn", "gunicorn sync", partial(gunicorn_command, BARE_TARGET))
GUNICORN_SERVE = Launch("gunicorn", "gunicorn sync", partial(gunicorn_command, FLASK_FACTORY))


@dataclass(frozen=True)
class Framework:
    """What differs between the answers to the template's `framework` question."""

    name: str  # the answer, also the name of its working directory
    title: str
    sqlite_driver: str
    postgresql_driver: str
    bare_app: str
    bare_launches: tuple[Launch, ...]  # the first is the baseline of the ratios
    service_launches: tuple[Launch, ...]
    versioned_packages: tuple[str, ...]
    bench_only_packages: tuple[str, ...] = ()  # installed into the rendered venv for this run


FASTAPI = Framework(
    name="fastapi",
    title="FastAPI",
    sqlite_driver="sqlite+aiosqlite",
    postgresql_driver="postgresql+asyncpg",
    bare_app=BARE_FASTAPI_APP,
    bare_launches=(UVICORN_BARE,),
    service_launches=(UVICORN_SERVE,),
    versioned_packages=("fastapi", "starlette", "pydantic", "uvicorn", "sqlalchemy"),
)
FLASK = Framework(
    name="flask",
    title="Flask",
    sqlite_driver="sqlite+pysqlite",
    postgresql_driver="postgresql+psycopg",
    bare_app=BARE_FLASK_APP,
    bare_launches=(GRANIAN_BARE, GUNICORN_BARE),
    service_launches=(GRANIAN_SERVE, GUNICORN_SERVE),
    versioned_packages=(
        *("flask", "werkzeug", "flask-openapi3", "pydantic"),
        *("granian", "gunicorn", "sqlalchemy"),
    ),
    bench_only_packages=("gunicorn",),
)
FRAMEWORKS = {framework.name: framework for framework in (FASTAPI, FLASK)}


@dataclass(frozen=True)
class Bench:
    """One render of one framework: where it comes from, where it lives, how it is loaded."""

    framework: Framework
    source: Source
    root: Path  # the run's temporary directory
    load: LoadSettings
    database: Database

    @property
    def work_dir(self) -> Path:
        """This render's own: the project, the SQLite database, the logs."""
        return self.root / f"{self.framework.name}{self.source.suffix}"

    @property
    def project(self) -> Path:
        return self.work_dir / CLI_NAME

    @property
    def bare_dir(self) -> Path:
        return self.work_dir / "bare"

    @property
    def database_name(self) -> str:
        """This render's database on the PostgreSQL server."""
        return f"serve_bench_{self.database.run_id}_{self.framework.name}{self.source.suffix}"

    @property
    def database_url(self) -> str:
        """The service's DATABASE_URL, with the framework's driver."""
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
    """The report header's database; for PostgreSQL, asking the server proves it answers."""
    if not database.is_postgresql:
        return "SQLite, a file per render in the temporary directory"
    version = psql(database.server_url, "SHOW server_version").split()[0]
    return (
        f"PostgreSQL {version} on {database.address}, "
        "a database per render created for this run and dropped at the end"
    )


@contextmanager
def benchmark_database(bench: Bench) -> Iterator[None]:
    """For PostgreSQL, create this framework's database and drop it at the end, whatever happens.

    A failed drop fails the run, unless the run failed already: then it is only reported.
    """
    if not bench.database.is_postgresql:
        yield
        return
    server_url, name = bench.database.server_url, bench.database_name
    driver = bench.framework.postgresql_driver
    failed = True
    try:  # the creation too: a Ctrl-C while psql runs may leave the database behind
        psql(server_url, f'CREATE DATABASE "{name}"')
        print(f'Database: "{name}" on {bench.database.address} ({driver})')
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


# --- the rendered project ------------------------------------------------------------


def render_project(
    destination: Path, framework: str, database: str, source: Source
) -> tuple[float, bool]:
    """Render the default project; the time in ms and whether uncommitted changes were used."""
    data = {"project_name": PROJECT_NAME, "framework": framework, "database": database}
    if source.observed:  # else the default, also at a REF that has no such question
        data["observability"] = source.observability
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_copy(
            str(REPO_ROOT),
            destination,
            data=data,
            defaults=True,
            unsafe=True,
            vcs_ref=source.vcs_ref,
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


def service_environment(bench: Bench, logs: Logs) -> dict[str, str]:
    environment = base_environment()
    environment.update(
        DATABASE_URL=bench.database_url,
        ENVIRONMENT="development",
        LOG_LEVEL=logs.level,
        LOG_JSON="true" if logs.json else "false",
        # A key of a proper length: PyJWT warns about the short development default.
        SECRET_KEY="bench-" + "k" * 42,
        # wrk sends every request from one address: the default limit would answer 429.
        RATE_LIMIT="1000000000/minute",
        AUTH_RATE_LIMIT="1000000000/minute",
    )
    if bench.source.observed:
        # A free port for /metrics: 9464 may be taken by another service on this machine.
        environment["METRICS_PORT"] = str(free_port())
    return environment


def timed_command(command: Sequence[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Run a command to completion; the seconds it took."""
    started = time.perf_counter()
    run_command(command, cwd=cwd, env=env)
    return time.perf_counter() - started


def read_versions(bench: Bench) -> dict[str, str]:
    command = uv_run("python", "-c", VERSIONS_SCRIPT, *bench.versioned_packages)
    versions: dict[str, str] = json.loads(
        run_command(command, cwd=bench.project, env=base_environment())
    )
    return versions


def prepare_project(bench: Bench) -> None:
    """Render, install and migrate the project, printing the times."""
    project, framework = bench.project, bench.framework
    render_ms, dirty = render_project(project, framework.name, bench.database.kind, bench.source)
    source = bench.source.label + (" with uncommitted changes" if dirty else "")
    print(f"Render:   {render_ms:,.0f} ms (copier, {PROJECT_NAME!r}, {framework.name}, {source})")
    seconds = timed_command(["uv", "sync"], cwd=project, env=base_environment())
    print(f"uv sync:  {seconds:.1f} s")
    if extras := framework.bench_only_packages:
        command = ["uv", "pip", "install", "--python", str(project / ".venv"), *extras]
        seconds = timed_command(command, cwd=project, env=base_environment())
        print(f"Extras:   {seconds:.1f} s (uv pip install {' '.join(extras)}, for this run only)")
    environment = service_environment(bench, WARNING_CONSOLE)
    seconds = timed_command(uv_run(CLI_NAME, "db", "upgrade"), cwd=project, env=environment)
    print(f"Migrate:  {seconds:.1f} s ({CLI_NAME} db upgrade)")
    versions = read_versions(bench)
    print("Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))


def write_bare_app(bench: Bench) -> None:
    """The baseline's one-route app, beside the project whose venv serves it."""
    bench.bare_dir.mkdir()
    (bench.bare_dir / "bare_app.py").write_text(bench.framework.bare_app)


def sign_in(server: Server) -> str:
    """Register the benchmark's user (once per database) and log in; the bearer token.

    The default render has `auth=jwt`, so a project's detail is read as its owner.
    """
    account = {"email": BENCH_EMAIL, "password": BENCH_PASSWORD}
    status, envelope = http_request(server.port, "POST", "/api/v1/auth/register", account)
    if status not in (201, 409):
        raise BenchError(f"POST /api/v1/auth/register answered {status}: {envelope}")
    status, envelope = http_request(server.port, "POST", "/api/v1/auth/login", account)
    try:
        return str(envelope["data"]["access_token"])
    except (KeyError, TypeError) as error:
        raise BenchError(f"POST /api/v1/auth/login answered {status}: {envelope}") from error


def create_project(server: Server, token: str) -> int:
    """Create the project the detail endpoint reads; its id from the response envelope."""
    payload = {"name": "Bench", "budget": 100}
    status, envelope = http_request(server.port, "POST", "/api/v1/projects", payload, token=token)
    if status != 201:
        raise BenchError(f"POST /api/v1/projects answered {status}: {envelope}")
    try:
        return int(envelope["data"]["id"])
    except (KeyError, TypeError, ValueError) as error:
        raise BenchError(f"POST /api/v1/projects returned no data.id: {envelope}") from error


def expect_metrics(port: int) -> None:
    """Refuse to compare a render whose /metrics does not count requests: the answer would be
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


def expect_ok(server: Server, path: str, token: str | None = None) -> None:
    """Refuse to benchmark an endpoint that does not answer 200 (wrk would count errors)."""
    status, body = http_request(server.port, "GET", path, token=token)
    if status != 200:
        raise BenchError(f"GET {path} answered {status} instead of 200: {body}")


# --- wrk -----------------------------------------------------------------------------


def run_wrk(url: str, load: LoadSettings, token: str | None = None) -> str:
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.duration}s", url]
    if token is not None:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    return run_command(command, cwd=REPO_ROOT, env=dict(os.environ), timeout=load.duration + 60)


def parse_wrk(output: str, *, label: str, server: str, logging: str) -> Measurement:
    rate = _REQUESTS_PER_SECOND.search(output)
    if rate is None:
        raise BenchError(f"no Requests/sec in wrk's output:\n{output}")
    latency = _AVERAGE_LATENCY.search(output)
    problems = []
    if non_2xx := _NON_2XX.search(output):
        problems.append(f"{non_2xx.group(1)} non-2xx")
    if socket_errors := _SOCKET_ERRORS.search(output):
        problems.append(f"socket errors: {socket_errors.group(1)}")
    return Measurement(
        label=label,
        server=server,
        logging=logging,
        requests_per_second=float(rate.group(1)),
        average_latency=latency.group(1) if latency else "?",
        problems="; ".join(problems) or "-",
    )


def measure(
    server: Server,
    path: str,
    load: LoadSettings,
    *,
    label: str,
    logging: str,
    token: str | None = None,
) -> Measurement:
    """A short warm-up run, thrown away, then the measured run."""
    print(f"  wrk GET {path} ({label}, {logging}) ...", file=sys.stderr, flush=True)
    url = server.base_url + path
    run_wrk(url, LoadSettings(load.threads, load.connections, WARMUP_SECONDS), token)
    output = run_wrk(url, load, token)
    return parse_wrk(output, label=f"GET {path}", server=label, logging=logging)


# --- the runs ------------------------------------------------------------------------


def bench_bare(bench: Bench, launch: Launch) -> Measurement:
    """Serve the one-route baseline from the rendered project's venv; load its route."""
    port = free_port()
    environment = {**base_environment(), "PYTHONPATH": str(bench.bare_dir)}
    log_path = bench.work_dir / f"bare-{launch.name}.log"
    with running_server(
        launch.command(str(port)), cwd=bench.project, env=environment, port=port, log_path=log_path
    ) as server:
        wait_until_ready(server, BARE_PATH)
        return measure(server, BARE_PATH, bench.load, label=launch.label, logging=BARE_LOGGING)


@dataclass(frozen=True)
class ServedProject:
    """A running service, the bearer token of its user and the project detail that user owns."""

    server: Server
    token: str
    detail_path: str


@contextmanager
def serving_project(
    bench: Bench, launch: Launch, logs: Logs, project_ids: dict[Path, int]
) -> Iterator[ServedProject]:
    """Serve the rendered project and sign in; stop it on leaving.

    The project whose detail is loaded is created on the render's first run; `project_ids`
    keeps its id, per project directory, for the later runs.
    """
    port = free_port()
    environment = service_environment(bench, logs)
    log_path = bench.work_dir / f"service-{launch.name}.log" if logs.kept else None
    with running_server(
        launch.command(str(port)), cwd=bench.project, env=environment, port=port, log_path=log_path
    ) as server:
        wait_until_ready(server, HEALTH_PATH)
        token = sign_in(server)
        if bench.project not in project_ids:
            project_ids[bench.project] = create_project(server, token)
        detail_path = f"/api/v1/projects/{project_ids[bench.project]}"
        expect_ok(server, detail_path, token)
        if bench.source.observed:
            expect_metrics(int(environment["METRICS_PORT"]))
        yield ServedProject(server, token, detail_path)


def bench_services(
    benches: Sequence[Bench], launch: Launch, logs: Logs, project_ids: dict[Path, int]
) -> list[list[Measurement]]:
    """Serve every render at once; load each endpoint on one render right after the other.

    Back to back, the renders meet the same noise on the machine. The health and detail rows
    of each render, in the order of `benches`.
    """
    load, label, logging = benches[0].load, launch.label, logs.label
    with ExitStack() as servers:
        served = [
            servers.enter_context(serving_project(bench, launch, logs, project_ids))
            for bench in benches
        ]
        health = in_turn(
            served,
            lambda one: measure(one.server, load.probe_path, load, label=label, logging=logging),
            load.rounds,
        )
        detail = in_turn(
            served,
            lambda one: measure(
                one.server, one.detail_path, load, label=label, logging=logging, token=one.token
            ),
            load.rounds,
        )
    return [list(rows) for rows in zip(health, detail, strict=True)]


def in_turn(
    served: Sequence[ServedProject],
    measure_one: Callable[[ServedProject], Measurement],
    rounds: int,
) -> list[Measurement]:
    """Each render's median run of `rounds`: the renders are loaded in turn, round after round,
    so that a burst of noise on the machine falls on all of them rather than on one."""
    runs: list[list[Measurement]] = [[] for _ in served]
    for _ in range(rounds):
        for one, runs_of_one in zip(served, runs, strict=True):
            runs_of_one.append(measure_one(one))
    return [median_run(runs_of_one) for runs_of_one in runs]


def median_run(runs: Sequence[Measurement]) -> Measurement:
    """The run of the median requests per second (the upper one of an even count)."""
    ranked = sorted(runs, key=lambda run: run.requests_per_second)
    return ranked[len(ranked) // 2]


def run_servers(
    bench: Bench, before: Bench | None, *, info_run: bool
) -> tuple[list[Measurement], list[Comparison]]:
    """The baselines first, then the service on each server at WARNING and, unless skipped, INFO.

    The working tree's rows, and with a render at REF, its service rows beside the working tree's.
    """
    measurements = [bench_bare(bench, launch) for launch in bench.framework.bare_launches]
    comparisons: list[Comparison] = []
    project_ids: dict[Path, int] = {}
    renders = [bench] if before is None else [before, bench]
    launches = bench.framework.service_launches
    if bench.source.observed:
        # The project's own `serve` only: it runs the supervisor that serves /metrics.
        launches = launches[:1]
    for logs in (WARNING_CONSOLE, INFO_JSON) if info_run else (WARNING_CONSOLE,):
        for launch in launches:
            rows = bench_services(renders, launch, logs, project_ids)
            measurements += rows[-1]  # the working tree's
            if before is not None:
                comparisons += map(Comparison, rows[0], rows[-1])
    return measurements, comparisons


# --- report --------------------------------------------------------------------------


def print_rows(rows: Sequence[Sequence[str]], numeric: set[int]) -> None:
    """Aligned columns, numbers to the right; the first row is the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        print("  ".join(cells).rstrip())


def print_table(measurements: Sequence[Measurement]) -> None:
    """One row per run; the first row is the baseline the ratios divide by."""
    baseline = measurements[0].requests_per_second
    header = ("endpoint", "server", "logging", "req/s", "avg latency", "vs bare", "wrk problems")
    rows = [header] + [
        (
            m.label,
            m.server,
            m.logging,
            f"{m.requests_per_second:,.0f}",
            m.average_latency,
            f"{m.requests_per_second / baseline:.2f}x",
            m.problems,
        )
        for m in measurements
    ]
    print_rows(rows, numeric={3, 4, 5})


def print_server_comparison(measurements: Sequence[Measurement], first: str, second: str) -> None:
    """Side by side: the same endpoint with the same logging on two servers."""
    rates = {(m.label, m.logging, m.server): m.requests_per_second for m in measurements}
    pairs = dict.fromkeys((m.label, m.logging) for m in measurements)
    rows = [("endpoint", "logging", f"{first} req/s", f"{second} req/s", f"{first}/{second}")]
    for label, logging in pairs:
        one, other = rates.get((label, logging, first)), rates.get((label, logging, second))
        if one is not None and other:
            rows.append((label, logging, f"{one:,.0f}", f"{other:,.0f}", f"{one / other:.2f}x"))
    print(f"{first} against {second}, same endpoint and logging:")
    print_rows(rows, numeric={2, 3, 4})


def print_before_after(
    comparisons: Sequence[Comparison], labels: tuple[str, str], pair: Pair = BEFORE_AFTER
) -> None:
    """Side by side: each service row on the first render (at REF, or without observability)
    and on the second (the working tree, or with it)."""
    first, second = pair.before, pair.after
    header = ("endpoint", "server", "logging", f"{first} req/s", f"{second} req/s")
    rows = [(*header, f"{second}/{first}", f"{first} wrk problems")]
    for comparison in comparisons:
        before, after = comparison.before, comparison.after
        ratio = "-"  # wrk counted no answer at all from the render at REF
        if before.requests_per_second:
            ratio = f"{after.requests_per_second / before.requests_per_second:.2f}x"
        rows.append(
            (
                after.label,
                after.server,
                after.logging,
                f"{before.requests_per_second:,.0f}",
                f"{after.requests_per_second:,.0f}",
                ratio,
                before.problems,
            )
        )
    title = pair.title.format(before=labels[0], after=labels[1])
    print(f"{title}, loaded one after the other:")
    print_rows(rows, numeric={3, 4, 5})


def print_server_logs(work_dir: Path, prefix: str = "") -> None:
    """The servers' own start-up lines and whatever the apps logged at WARNING or above."""
    for path in sorted(work_dir.glob("*.log")):
        name = prefix + path.name
        line_count = len(path.read_text(errors="replace").splitlines())
        if line_count == 0:
            print(f"{name}: empty")
            continue
        print(f"{name}: {line_count} lines, the last {min(line_count, LOG_TAIL_LINES)}:")
        print(log_tail(path))


def print_servers(framework: Framework) -> None:
    """Which server and command line each row of the table comes from."""
    launches = [("bare", launch) for launch in framework.bare_launches]
    launches += [("service", launch) for launch in framework.service_launches]
    width = max(len(launch.label) for _, launch in launches)
    for index, (role, launch) in enumerate(launches):
        prefix = "Servers:" if index == 0 else ""
        print(f"{prefix:<10}{role:<8} {launch.label:<{width}}  {launch.describe()}")


def run_framework(bench: Bench, before: Bench | None, *, info_run: bool) -> None:
    """Everything for one framework: prepare, serve, load, then the tables and the logs.

    `before` is the same framework rendered at `--before REF`, prepared the same way, or None.
    """
    framework = bench.framework
    print(f"\n== {framework.title} ==", flush=True)
    renders = [bench] if before is None else [bench, before]
    with ExitStack() as databases:
        for render in renders:
            render.work_dir.mkdir()
            databases.enter_context(benchmark_database(render))
            prepare_project(render)
        write_bare_app(bench)
        print_servers(framework)
        measurements, comparisons = run_servers(bench, before, info_run=info_run)
    print()
    print_table(measurements)
    labels = list(dict.fromkeys(m.server for m in measurements))
    if len(labels) == 2:
        print()
        print_server_comparison(measurements, *labels)
    pair = OFF_ON if bench.source.observed else BEFORE_AFTER
    if before is not None:
        print()
        print_before_after(comparisons, (before.source.label, bench.source.label), pair)
    print()
    print_server_logs(bench.work_dir)
    if before is not None:
        print_server_logs(before.work_dir, prefix=f"{pair.before}/")


def run_benchmark(
    work_dir: Path,
    frameworks: Sequence[Framework],
    load: LoadSettings,
    database: Database,
    before: Source | None,
    *,
    info_run: bool,
    source: Source = WORKING_TREE,
) -> list[str]:
    """Each framework in turn, the next one even when one fails; the failures' messages.

    `source` is the render measured; `before`, the render it is compared with, or None."""
    try:
        database_label = describe_database(database)
    except BenchError as error:
        failure = f"PostgreSQL on {database.address}: {error}"
        print(f"serve_bench: {failure}", file=sys.stderr)
        return [failure]
    print(
        f"Serve benchmark: {load.describe()} per endpoint after a {WARMUP_SECONDS} s warm-up; "
        f"servers on {HOST}, 1 worker each; {os.cpu_count()} CPUs shared with wrk\n"
        f"Database: {database_label}",
        flush=True,
    )
    if before is not None:
        print(f"Before:   {before.label}, rendered and served beside {source.label}", flush=True)
    failures = []
    for framework in frameworks:
        bench = Bench(framework, source, work_dir, load, database)
        render_at_ref = None if before is None else replace(bench, source=before)
        try:
            run_framework(bench, render_at_ref, info_run=info_run)
        except BenchError as error:
            failures.append(f"{framework.title}: {error}")
            print(f"serve_bench: {failures[-1]}", file=sys.stderr, flush=True)
    return failures


# --- entry point ---------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("serve_bench: wrk is not installed; run `apt-get install wrk`.", file=sys.stderr)
        return 2
    database = Database(args.database, args.postgres_url)
    if database.is_postgresql and shutil.which("psql") is None:
        message = "psql is not installed; run `apt-get install postgresql-client`."
        print(f"serve_bench: {message}", file=sys.stderr)
        return 2
    load = LoadSettings(
        threads=args.threads,
        connections=args.connections,
        duration=QUICK_DURATION if args.quick else args.duration,
        rounds=args.rounds,
        # Comparing observability: the cheapest endpoint, where its cost shows most.
        probe_path=HEALTH_PATH if args.observability is None else LIVE_PATH,
    )
    names = ("fastapi", "flask") if args.framework == "both" else (args.framework,)
    signal.signal(signal.SIGTERM, _interrupt)  # so a SIGTERM also stops the servers
    work_dir = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        frameworks = [FRAMEWORKS[name] for name in names]
        info_run = not args.skip_info_run
        before, source = args.before, WORKING_TREE
        if args.observability is not None:
            before = OBSERVABILITY_OFF
            label = f"observability={args.observability}"
            source = replace(WORKING_TREE, label=label, observability=args.observability)
        failures = run_benchmark(
            work_dir, frameworks, load, database, before, info_run=info_run, source=source
        )
    except KeyboardInterrupt:
        print("serve_bench: interrupted", file=sys.stderr)
        return 130
    finally:
        with signals_ignored():
            if args.keep:
                print(f"Kept {work_dir}", file=sys.stderr)
            else:
                shutil.rmtree(work_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
