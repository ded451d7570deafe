"""wrk: loads of fixed length, with their rates and latency percentiles, and loads of a count
of requests for the memory rows."""

from __future__ import annotations

import math
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import BenchError, Server, run_command

WARMUP_SECONDS = 1
MIX_SCRIPT = Path(__file__).with_name("mix.lua")

_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUEST_COUNT = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"^\s*Socket errors:\s+(.+)$", re.MULTILINE)
_SOCKET_ERROR_KINDS = re.compile(r"(connect|read|write|timeout) (\d+)")
_MILLISECONDS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class LoadSettings:
    threads: int
    connections: int
    duration: int
    rounds: int = 1  # runs of each endpoint on each server, taken in turn; the median is kept

    def describe(self) -> str:
        runs = "" if self.rounds == 1 else f", the median of {self.rounds} rounds"
        return f"wrk -t{self.threads} -c{self.connections} -d{self.duration}s --latency{runs}"


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    # What wrk counted besides 2xx answers: non-2xx, and socket errors by kind.
    problem_counts: Counter[str] = field(default_factory=Counter)

    @property
    def problems(self) -> str:
        """ "-" when wrk saw only 2xx answers and no socket error."""
        return "no answer" if self.requests == 0 else describe_problems(self.problem_counts)


def describe_problems(counts: Counter[str]) -> str:
    """What wrk counted besides 2xx answers, or "-"."""
    return ", ".join(f"{count} {name}" for name, count in counts.items() if count) or "-"


def run_wrk(
    url: str,
    load: LoadSettings,
    token: str | None = None,
    script: tuple[str, ...] = (),
) -> str:
    """wrk's report. `script` is a Lua script and its arguments."""
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.duration}s"]
    command.append("--latency")
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", script[0], url, "--", *script[1:]]
    else:
        command.append(url)
    here = Path.cwd()
    return run_command(command, cwd=here, env=dict(os.environ), timeout=load.duration + 60)


def parse_wrk(output: str) -> Measurement:
    rate = _REQUESTS_PER_SECOND.search(output)
    count = _REQUEST_COUNT.search(output)
    if rate is None or count is None:
        raise BenchError(f"no Requests/sec in wrk's output:\n{output}")
    percentiles = {
        match.group(1): float(match.group(2)) * _MILLISECONDS[match.group(3)]
        for match in _PERCENTILE.finditer(output)
    }
    problems: Counter[str] = Counter()
    if non_2xx := _NON_2XX.search(output):
        problems["non-2xx"] = int(non_2xx.group(1))
    if socket_errors := _SOCKET_ERRORS.search(output):
        # "connect 0, read 0, write 0, timeout 11"
        for kind, number in _SOCKET_ERROR_KINDS.findall(socket_errors.group(1)):
            problems[f"{kind} errors" if kind != "timeout" else "timeouts"] = int(number)
    return Measurement(
        requests_per_second=float(rate.group(1)),
        requests=int(count.group(1)),
        p50_ms=percentiles.get("50", math.nan),
        p99_ms=percentiles.get("99", math.nan),
        problem_counts=problems,
    )


def measure(
    server: Server, path: str, load: LoadSettings, *, what: str, token: str | None = None
) -> Measurement:
    """A short warm-up run, thrown away, then the measured run."""
    print(f"  wrk GET {path} ({what}) ...", file=sys.stderr, flush=True)
    url = server.base_url + path
    warm_up = LoadSettings(load.threads, load.connections, WARMUP_SECONDS)
    run_wrk(url, warm_up, token)
    return parse_wrk(run_wrk(url, load, token))


def send_requests(
    server: Server, paths: tuple[str, ...], count: int, load: LoadSettings, token: str
) -> Measurement:
    """At least `count` requests, the paths in turn: wrk stops at a time, not a count, so it
    runs in pieces, each sized from the rate of the last, until the count is reached. The
    requests wrk answered, with the rate and problems of the whole."""
    sent, seconds, problems = 0, 0, Counter[str]()
    rate = 0.0
    while sent < count:
        remaining = count - sent
        duration = 1 if rate == 0 else max(1, min(10, int(remaining / rate)))
        piece = LoadSettings(load.threads, load.connections, duration)
        result = parse_wrk(
            run_wrk(server.base_url + paths[0], piece, token, (str(MIX_SCRIPT), *paths))
        )
        if result.requests == 0:
            raise BenchError(f"wrk got no answer from {server.base_url} in {duration} s")
        sent, seconds = sent + result.requests, seconds + duration
        rate = result.requests_per_second
        problems += result.problem_counts
    return Measurement(
        requests_per_second=sent / seconds,
        requests=sent,
        p50_ms=math.nan,
        p99_ms=math.nan,
        problem_counts=problems,
    )
