"""A synced render's real production server on a free port, and a raw HTTP/1.1 client for it.

The server is started the way its README says (`<slug> db upgrade`, then `<slug> serve`:
uvicorn for FastAPI, granian for Flask) with settings of the test's choosing, waited for on
`/api/v1/health/ready`, and stopped with SIGTERM (then killed). Its output goes to a file that
`LiveServer.output()` returns for failure messages.

The client writes bytes to a socket and reads the answer as bytes: nothing between the corpus
and the server normalizes a method, a path, a header or a body.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_tool, tool_env

HOST = "127.0.0.1"
READY_PATH = "/api/v1/health/ready"
# The servers the rendered suites use, at the same variables and defaults.
POSTGRES_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_URL = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
# Seconds to wait for one answer; a server that waits for a body it was promised answers late.
ANSWER_TIMEOUT = 10.0
# A fixed secret, long enough for production: tokens the corpus forges are signed with it.
SECRET_KEY = "corpus-" + "k" * 57


def answers_of(project: Path) -> dict[str, Any]:
    """The render's Copier answers."""
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def example_setting(project: Path, name: str) -> str:
    """A variable's value in the render's `.env.example`."""
    for line in (project / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2].strip().strip('"')
    raise AssertionError(f"{name} is not in {project / '.env.example'}")


def _postgres_url(driver: str, database: str) -> str:
    """POSTGRES_URL with another driver and database."""
    rest = POSTGRES_URL.partition("://")[2]
    return f"{driver}://{rest.rpartition('/')[0]}/{database}"


def _psql(statement: str) -> None:
    server = _postgres_url("postgresql", "postgres")
    subprocess.run(
        ["psql", server, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
        check=True,
        capture_output=True,
        timeout=60,
    )


@contextmanager
def database_url(project: Path, workdir: Path) -> Iterator[str]:
    """A database of the server's own in the render's driver, dropped at the end: a SQLite
    file in `workdir`, or a new database on the local PostgreSQL server (named as the render's
    own tests name theirs, `<package>_test_<hex>`)."""
    example = example_setting(project, "DATABASE_URL")
    driver = example.partition("://")[0]
    if driver.startswith("sqlite"):
        yield f"{driver}:///{workdir / 'corpus.db'}"
        return
    name = f"{answers_of(project)['package_name']}_test_{uuid.uuid4().hex[:12]}"
    _psql(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url(driver, name)
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_settings(database: str, *, max_body_size: int, tag: str) -> dict[str, str]:
    """Production settings, with limits high enough for the corpus. Cache keys and the job
    queue are named after `tag`, so that two servers (and two runs) never share them."""
    return {
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database,
        "DATABASE_POOL_SIZE": "5",
        "DATABASE_MAX_OVERFLOW": "5",
        "MAX_BODY_SIZE": str(max_body_size),
        "RATE_LIMIT": "1000000/minute",
        "AUTH_RATE_LIMIT": "1000000/minute",
        "LOGIN_LOCKOUT": "1000000/minute",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": tag,
        "BROKER_URL": BROKER_URL,
        "TASK_QUEUE_NAME": tag,
    }


@dataclass
class LiveServer:
    """One running server of a render."""

    name: str
    project: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    settings: dict[str, str] = field(default_factory=dict)

    def output(self, limit: int | None = 6000) -> str:
        """What the server printed: its end, or all of it with no limit."""
        text = self.log_path.read_text(errors="replace")
        return text if limit is None else text[-limit:]

    def connect(self) -> "Connection":
        return Connection(self.port)


def logged_exceptions(output: str) -> list[tuple[str | None, str]]:
    """The unhandled exceptions a server logged, in order, from its JSON log lines: the
    request id of each (None where the line has none) and "Type: value"."""
    found = []
    for line in output.splitlines():
        if '"unhandled_exception"' not in line:
            continue
        try:
            event = json.loads(line)
            exception = event["exception"][-1]
            text = f"{exception['exc_type']}: {exception['exc_value']}"
        except (ValueError, KeyError, IndexError, TypeError):
            event, text = {}, line
        found.append((event.get("request_id"), text[:300]))
    return found


def _command(project: Path, *arguments: str) -> list[str]:
    """The render's own command line, from its environment (no `uv run` in between, so that a
    signal reaches the server itself)."""
    return [str(project / ".venv" / "bin" / answers_of(project)["project_slug"]), *arguments]


def _wait_until_ready(server: LiveServer, deadline: float) -> None:
    request = f"GET {READY_PATH} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        with suppress(OSError):
            answer = server.connect().exchange(request.encode())
            if answer.status == 200:
                return
        time.sleep(0.2)
    server.process.poll()
    raise AssertionError(
        f"{server.name} was not ready on port {server.port} "
        f"(exit code {server.process.returncode})\n--- its output ---\n{server.output()}"
    )


def stop(server: LiveServer) -> None:
    """SIGTERM, then SIGKILL to the server's process group (its workers included)."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)  # workers left behind, if any


def setup_command(project: Path, settings: Mapping[str, str], *arguments: str) -> None:
    """Run one management command of the render with the server's settings."""
    run_tool(project, *_command(project, *arguments), env={**tool_env(), **settings}, timeout=300)


@contextmanager
def live_server(
    project: Path,
    workdir: Path,
    *,
    max_body_size: int,
    admin: tuple[str, str] | None = None,
) -> Iterator[LiveServer]:
    """The render's production server on a fresh, migrated database, with an admin account
    made by its command line when `admin` (email, password) is given."""
    name = f"{answers_of(project)['framework']} server of {project.name}"
    tag = f"corpus-{secrets.token_hex(6)}"
    workdir.mkdir(parents=True, exist_ok=True)
    with database_url(project, workdir) as database:
        settings = server_settings(database, max_body_size=max_body_size, tag=tag)
        setup_command(project, settings, "db", "upgrade")
        if admin is not None:
            email, password = admin
            setup_command(
                project, settings, "users", "create-admin", "--email", email, "--password", password
            )
        try:
            with serving(project, workdir, settings, name=name) as server:
                yield server
        finally:
            _forget_jobs(project, settings)


@contextmanager
def serving(
    project: Path, workdir: Path, settings: Mapping[str, str], *, name: str
) -> Iterator[LiveServer]:
    """The render's production server with these settings, from `workdir`, until the block ends."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _command(project, "serve", "--host", HOST, "--port", str(port)),
            cwd=workdir,
            # A render with metrics serves them on a port of its own: a free one, so that
            # servers started side by side do not take the same.
            env={**tool_env(), "METRICS_PORT": str(free_port()), **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(name, project, port, process, log_path, dict(settings))
    try:
        _wait_until_ready(server, time.monotonic() + 90)
        yield server
    finally:
        stop(server)


def _forget_jobs(project: Path, settings: Mapping[str, str]) -> None:
    """Delete the server's own job queue from RabbitMQ (Celery renders): nothing consumes it."""
    if answers_of(project).get("task_queue") != "celery":
        return
    script = (
        "import sys, kombu\n"
        "with kombu.Connection(sys.argv[1]) as connection:\n"
        "    connection.default_channel.queue_delete(sys.argv[2])\n"
    )
    python = str(project / ".venv" / "bin" / "python")
    subprocess.run(
        [python, "-c", script, settings["BROKER_URL"], settings["TASK_QUEUE_NAME"]],
        capture_output=True,
        timeout=60,
        check=False,  # a queue never declared is nothing to delete
    )


def json_request(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    token: bytes | None = None,
) -> bytes:
    """A well-formed request, as a client library writes it: a JSON body and a bearer token."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: localhost"]
    if token is not None:
        lines.append(b"Authorization: Bearer " + token)
    payload = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        lines += [b"Content-Type: application/json", f"Content-Length: {len(payload)}".encode()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


@dataclass
class Answer:
    """What a server sent back for one request, as bytes; `problem` says why there is none."""

    status: int = 0
    reason: bytes = b""
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    body: bytes = b""
    problem: str = ""

    def header(self, name: str) -> bytes | None:
        """The value of a header (the first, if repeated), by its lower-case name."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[bytes]:
        return [value for key, value in self.headers if key == name]

    def __repr__(self) -> str:
        if self.problem:
            return f"<no answer: {self.problem}>"
        headers = ", ".join(f"{key}: {value!r}" for key, value in self.headers)
        body = self.body[:600]
        more = f" ... ({len(self.body)} bytes)" if len(self.body) > len(body) else ""
        return f"<{self.status} {self.reason.decode('latin-1')} [{headers}] {body!r}{more}>"


class ConnectionClosedError(Exception):
    """The server closed the connection before sending a whole answer."""


class Connection:
    """One HTTP/1.1 connection, kept alive between requests where the server allows."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._socket: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._buffer = b""

    def _open(self) -> socket.socket:
        if self._socket is None:
            self._socket = socket.create_connection((HOST, self.port), timeout=ANSWER_TIMEOUT)
            self._buffer = b""
        return self._socket

    def exchange(self, request: bytes, *, head: bool = False, keep: bool = False) -> Answer:
        """Send one request and read its answer. A kept connection that the server had closed
        is opened again once, before any byte of the answer was read."""
        reused = self._socket is not None
        try:
            answer = self._exchange_once(request, head=head)
        except (ConnectionClosedError, ConnectionResetError, BrokenPipeError) as error:
            self.close()
            before_any_byte = isinstance(error, ConnectionResetError) or (
                isinstance(error, ConnectionClosedError) and not error.args
            )
            if not (reused and before_any_byte):
                return Answer(problem=f"connection closed: {error or 'before any answer'}")
            answer = self._retry(request, head=head)
        except TimeoutError:
            self.close()
            return Answer(problem=f"no answer within {ANSWER_TIMEOUT:.0f} s")
        except OSError as error:
            self.close()
            return Answer(problem=f"connection failed: {error!r}")
        closing = (answer.header("connection") or b"").lower() == b"close"
        if closing or not keep:
            self.close()
        return answer

    def _retry(self, request: bytes, *, head: bool) -> Answer:
        try:
            return self._exchange_once(request, head=head)
        except (ConnectionClosedError, OSError) as error:
            self.close()
            return Answer(problem=f"connection closed: {error or 'before any answer'}")

    def _exchange_once(self, request: bytes, *, head: bool) -> Answer:
        connection = self._open()
        # A server may answer (413, 400) and close before it has read the whole request.
        with suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        while True:
            answer = self._read_head()
            if not 100 <= answer.status < 200:
                break  # an interim answer (100 Continue) is followed by the real one
        answer.body = self._read_body(answer, head=head)
        return answer

    def _receive(self) -> bytes:
        assert self._socket is not None
        chunk = self._socket.recv(65536)
        if not chunk:
            raise ConnectionClosedError(*(["in the middle of an answer"] if self._buffer else []))
        return chunk

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._buffer += self._receive()
        found, _, self._buffer = self._buffer.partition(marker)
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._buffer += self._receive()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _read_head(self) -> Answer:
        lines = self._read_until(b"\r\n\r\n").split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        status, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/") or not status.isdigit():
            raise ConnectionClosedError(f"not an HTTP answer: {lines[0][:200]!r}")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().decode("latin-1").lower(), value.strip()))
        return Answer(status=int(status), reason=reason, headers=headers)

    def _read_body(self, answer: Answer, *, head: bool) -> bytes:
        if head or answer.status in (204, 304):
            return b""
        if (answer.header("transfer-encoding") or b"").lower() == b"chunked":
            return self._read_chunks()
        length = answer.header("content-length")
        if length is not None:
            return self._read_exactly(int(length))
        body = self._buffer  # no length: the body runs until the server closes
        with suppress(ConnectionClosedError):
            while True:
                body += self._receive()
        self.close()
        return body

    def _read_chunks(self) -> bytes:
        body = b""
        while True:
            size = int(self._read_until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._read_until(b"\r\n")  # no trailers are expected
                return body
            body += self._read_exactly(size)
            self._read_until(b"\r\n")
