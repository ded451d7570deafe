"""Commands, servers and their worker processes, and requests made without wrk."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
# Only a bound for a server that never starts: on a 2-core machine under a load average of 20,
# uvicorn with 2 workers took 130 s, its supervisor killing each worker that did not answer its
# health check within 5 s while importing the app.
STARTUP_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 600.0
LOG_TAIL_LINES = 15


class BenchError(Exception):
    """A step failed; the message says which and why."""


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path | None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


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


def timed_command(command: Sequence[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Run a command to completion; the seconds it took."""
    started = time.perf_counter()
    run_command(command, cwd=cwd, env=env)
    return time.perf_counter() - started


def uv_run(*arguments: str) -> list[str]:
    """`uv run` in the rendered project, which `uv sync` has just installed."""
    return ["uv", "run", "--no-sync", *arguments]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


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


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and its children (`uv run` and the Python it starts), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_server(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path | None
) -> Iterator[Server]:
    """Start a server on a free port in its own process group and always stop it.

    `command` holds PORT where the port goes. Its output goes to `log_path`, or to /dev/null.
    """
    port = free_port()
    with (log_path or Path(os.devnull)).open("wb") as log:
        process = subprocess.Popen(
            [str(port) if part == "PORT" else part for part in command],
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


def wait_until_ready(server: Server, path: str, token: str | None = None) -> None:
    """Poll until `path` answers 200; fail with the server's log when it dies or times out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    problem = "no answer"
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            status, _ = http_request(server.port, "GET", path, token=token, timeout=1.0)
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


def expect_ok(server: Server, path: str, token: str | None = None) -> None:
    """Refuse to load an endpoint that does not answer 200 (wrk would count errors)."""
    status, body = http_request(server.port, "GET", path, token=token)
    if status != 200:
        raise BenchError(f"GET {path} answered {status} instead of 200: {body}")


# --- worker processes and their memory ------------------------------------------------


def worker_pids(server: Server) -> list[int]:
    """The processes that answer the server's requests, not the ones that supervise them.

    All of them hold the listening socket (a supervisor hands it to the workers it starts), so
    the workers are the holders none of whose children hold it: the one process of uvicorn's
    single worker, each child of uvicorn's or granian's supervisor otherwise.
    """
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(server.port)}
    parents = _parents()
    tree = [*_descendants(server.process.pid, parents), server.process.pid]
    holders = {pid for pid in tree if _holds(pid, sockets)}
    return sorted(holders - {parents.get(pid) for pid in holders})


def resident_kib(pid: int) -> int:
    """The process's resident set size (VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no VmRSS")


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            listening = fields[3] == "0A"  # TCP_LISTEN
            if listening and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(fields[9])
    return inodes


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc/<pid>/stat (the field after the command's name)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # it ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def _descendants(pid: int, parents: dict[int, int]) -> list[int]:
    children = [child for child, parent in parents.items() if parent == pid]
    return children + [grandchild for c in children for grandchild in _descendants(c, parents)]


def _holds(pid: int, sockets: set[str]) -> bool:
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if str(descriptor.readlink()) in sockets:
                return True
        except OSError:
            continue
    return False
