"""Throughput of the rendered service against a bare FastAPI route, measured with wrk.

Renders the default project into a temporary directory, installs it with uv, applies its
migrations, serves it with its own CLI and loads two endpoints with wrk; then serves a
one-route FastAPI app with uvicorn in the same virtual environment as the baseline.

    uv run python benchmarks/serve_bench.py [--quick | --duration SECONDS] [--connections N]

Everything listens on 127.0.0.1 only. Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from copier import run_copy
from copier.errors import DirtyLocalWarning

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = "Bench Service"
CLI_NAME = "bench-service"
HOST = "127.0.0.1"
HEALTH_PATH = "/api/v1/health"
BARE_PATH = "/bare"
QUICK_DURATION = 3
WARMUP_SECONDS = 1
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 600.0
LOG_TAIL_LINES = 15
# What the service's `serve` gets from loop="auto" and http="auto", spelled out for the baseline.
BARE_UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")
VERSIONED_PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn", "sqlalchemy")

BARE_APP = '''\
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

VERSIONS_SCRIPT = f"""\
import json, platform
from importlib.metadata import version
names = {VERSIONED_PACKAGES!r}
print(json.dumps({{"python": platform.python_version(), **{{n: version(n) for n in names}}}}))
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

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.duration}s"


@dataclass(frozen=True)
class Measurement:
    label: str
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


# --- command line --------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
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
        help="skip the second service run at LOG_LEVEL=INFO with JSON logs to /dev/null",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk needs one per thread)")
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
    port: int, method: str, path: str, payload: object = None, timeout: float = 5.0
) -> tuple[int, Any]:
    """One request to 127.0.0.1: the status and the JSON body (None when it is not JSON)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
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


# --- the rendered project ------------------------------------------------------------


def render_project(destination: Path) -> tuple[float, bool]:
    """Render the default project; the time in ms and whether uncommitted changes were used."""
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_copy(
            str(REPO_ROOT),
            destination,
            data={"project_name": PROJECT_NAME},
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
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
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    return {name: value for name, value in os.environ.items() if name not in dropped}


def service_environment(work_dir: Path, *, log_level: str, json_logs: bool) -> dict[str, str]:
    environment = base_environment()
    environment.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{work_dir / 'bench.db'}",
        ENVIRONMENT="development",
        LOG_LEVEL=log_level,
        LOG_JSON="true" if json_logs else "false",
    )
    return environment


def uv_run(*arguments: str) -> list[str]:
    """`uv run` in the rendered project, which `uv sync` has just installed."""
    return ["uv", "run", "--no-sync", *arguments]


def read_versions(project: Path) -> dict[str, str]:
    output = run_command(
        uv_run("python", "-c", VERSIONS_SCRIPT), cwd=project, env=base_environment()
    )
    versions: dict[str, str] = json.loads(output)
    return versions


def create_project(server: Server) -> int:
    """Create the project the detail endpoint reads; its id from the response envelope."""
    payload = {"name": "Bench", "budget": 100}
    status, envelope = http_request(server.port, "POST", "/api/v1/projects", payload)
    if status != 201:
        raise BenchError(f"POST /api/v1/projects answered {status}: {envelope}")
    try:
        return int(envelope["data"]["id"])
    except (KeyError, TypeError, ValueError) as error:
        raise BenchError(f"POST /api/v1/projects returned no data.id: {envelope}") from error


def expect_ok(server: Server, path: str) -> None:
    """Refuse to benchmark an endpoint that does not answer 200 (wrk would count errors)."""
    status, _ = http_request(server.port, "GET", path)
    if status != 200:
        raise BenchError(f"GET {path} answered {status} instead of 200")


# --- wrk -----------------------------------------------------------------------------


def run_wrk(url: str, load: LoadSettings) -> str:
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.duration}s", url]
    return run_command(command, cwd=REPO_ROOT, env=dict(os.environ), timeout=load.duration + 60)


def parse_wrk(output: str, *, label: str, logging: str) -> Measurement:
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
        logging=logging,
        requests_per_second=float(rate.group(1)),
        average_latency=latency.group(1) if latency else "?",
        problems="; ".join(problems) or "-",
    )


def measure(server: Server, path: str, load: LoadSettings, *, logging: str) -> Measurement:
    """A short warm-up run, thrown away, then the measured run."""
    print(f"  wrk GET {path} ({logging}) ...", file=sys.stderr, flush=True)
    url = server.base_url + path
    run_wrk(url, LoadSettings(load.threads, load.connections, WARMUP_SECONDS))
    return parse_wrk(run_wrk(url, load), label=f"GET {path}", logging=logging)


# --- the runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    project: Path
    work_dir: Path
    load: LoadSettings


def bench_service(
    bench: Bench, *, info_json: bool, project_id: int | None, log_path: Path | None
) -> tuple[list[Measurement], int]:
    """Serve the rendered project with its own CLI; load its health and a project's detail."""
    if info_json:
        log_level, logging = "INFO", "INFO, JSON to /dev/null"
    else:
        log_level, logging = "WARNING", "WARNING, console"
    port = free_port()
    command = uv_run(CLI_NAME, "serve", "--host", HOST, "--port", str(port), "--workers", "1")
    environment = service_environment(bench.work_dir, log_level=log_level, json_logs=info_json)
    with running_server(
        command, cwd=bench.project, env=environment, port=port, log_path=log_path
    ) as server:
        wait_until_ready(server, HEALTH_PATH)
        project_id = project_id or create_project(server)
        detail_path = f"/api/v1/projects/{project_id}"
        expect_ok(server, detail_path)
        measurements = [
            measure(server, path, bench.load, logging=logging)
            for path in (HEALTH_PATH, detail_path)
        ]
    return measurements, project_id


def bench_bare(bench: Bench) -> Measurement:
    """Serve the one-route baseline with uvicorn from the rendered project's venv."""
    app_dir = bench.work_dir / "bare"
    app_dir.mkdir()
    (app_dir / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    uvicorn = ("uvicorn", "bare_app:app", "--app-dir", str(app_dir), "--log-level", "warning")
    command = uv_run(*uvicorn, "--host", HOST, "--port", str(port), *BARE_UVICORN_OPTIONS)
    log_path = bench.work_dir / "bare.log"
    environment = base_environment()
    with running_server(
        command, cwd=bench.project, env=environment, port=port, log_path=log_path
    ) as server:
        wait_until_ready(server, BARE_PATH)
        return measure(server, BARE_PATH, bench.load, logging="warning, no access log")


def run_servers(bench: Bench, *, info_run: bool) -> list[Measurement]:
    """The baseline first, then the service at WARNING and, unless skipped, at INFO."""
    measurements = [bench_bare(bench)]
    service, project_id = bench_service(
        bench, info_json=False, project_id=None, log_path=bench.work_dir / "service.log"
    )
    measurements += service
    if info_run:
        service, _ = bench_service(bench, info_json=True, project_id=project_id, log_path=None)
        measurements += service
    return measurements


# --- report --------------------------------------------------------------------------


def print_table(measurements: Sequence[Measurement]) -> None:
    """One row per run; the first row is the baseline the ratios divide by."""
    baseline = measurements[0].requests_per_second
    header = ("endpoint", "server logging", "req/s", "avg latency", "vs bare", "wrk problems")
    rows = [header] + [
        (
            m.label,
            m.logging,
            f"{m.requests_per_second:,.0f}",
            m.average_latency,
            f"{m.requests_per_second / baseline:.2f}x",
            m.problems,
        )
        for m in measurements
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    numeric = {2, 3, 4}
    for row in rows:
        cells = (
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        print("  ".join(cells).rstrip())


def print_server_logs(work_dir: Path) -> None:
    """At WARNING every line a server wrote is worth a look; the INFO run's went to /dev/null."""
    for name in ("service.log", "bare.log"):
        path = work_dir / name
        line_count = len(path.read_text(errors="replace").splitlines()) if path.exists() else 0
        if line_count == 0:
            print(f"{name}: empty (nothing at WARNING or above)")
            continue
        print(f"{name}: {line_count} lines, the last {min(line_count, LOG_TAIL_LINES)}:")
        print(log_tail(path))


def prepare_project(work_dir: Path) -> Path:
    """Render, install and migrate the project, printing what each step took."""
    project = work_dir / CLI_NAME
    render_ms, dirty = render_project(project)
    source = "working tree with uncommitted changes" if dirty else "HEAD"
    print(f"Render:   {render_ms:,.0f} ms (copier, {PROJECT_NAME!r}, defaults, {source})")
    started = time.perf_counter()
    run_command(["uv", "sync"], cwd=project, env=base_environment())
    print(f"uv sync:  {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    environment = service_environment(work_dir, log_level="WARNING", json_logs=False)
    run_command(uv_run(CLI_NAME, "db", "upgrade"), cwd=project, env=environment)
    print(f"Migrate:  {time.perf_counter() - started:.1f} s ({CLI_NAME} db upgrade)")
    versions = read_versions(project)
    print("Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    return project


def run_benchmark(work_dir: Path, load: LoadSettings, *, info_run: bool) -> None:
    print(
        f"Serve benchmark: {load.describe()} per endpoint after a {WARMUP_SECONDS} s warm-up; "
        f"servers on {HOST}, 1 worker each; {os.cpu_count()} CPUs shared with wrk",
        flush=True,
    )
    project = prepare_project(work_dir)
    measurements = run_servers(Bench(project, work_dir, load), info_run=info_run)
    print()
    print_table(measurements)
    print()
    print_server_logs(work_dir)


# --- entry point ---------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("serve_bench: wrk is not installed; run `apt-get install wrk`.", file=sys.stderr)
        return 2
    load = LoadSettings(
        threads=args.threads,
        connections=args.connections,
        duration=QUICK_DURATION if args.quick else args.duration,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # so a SIGTERM also stops the servers
    work_dir = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        run_benchmark(work_dir, load, info_run=not args.skip_info_run)
    except BenchError as error:
        print(f"serve_bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("serve_bench: interrupted", file=sys.stderr)
        return 130
    finally:
        with signals_ignored():
            if args.keep:
                print(f"Kept {work_dir}", file=sys.stderr)
            else:
                shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
