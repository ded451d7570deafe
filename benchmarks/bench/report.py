"""The tables: every row beside its yardstick, the memory of one worker, and with two renders
the service of one beside the other's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.processes import log_tail
from bench.wrk import Measurement

MIB = 1024


@dataclass(frozen=True)
class Result:
    """One endpoint at one worker count: the service, its yardstick and, with `--before` or
    `--observability`, the other render's service, all loaded in the same run."""

    section: str  # "FastAPI, PostgreSQL"
    workers: int
    endpoint: str
    yardstick_label: str
    service: Measurement
    yardstick: Measurement
    other: Measurement | None


@dataclass(frozen=True)
class Memory:
    section: str
    pid: int
    first_requests: int  # answered before the first reading
    first_kib: int
    total_requests: int  # answered before the second reading
    total_kib: int
    requests_per_second: float
    problems: str


def print_rows(rows: Sequence[Sequence[str]], numeric: set[int]) -> None:
    """Aligned columns, numbers to the right; the first row is the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        print("  ".join(cells).rstrip())


def _rate(measurement: Measurement) -> str:
    return f"{measurement.requests_per_second:,.0f}"


def _ms(value: float) -> str:
    return "?" if math.isnan(value) else f"{value:.1f}"


def _ratio(numerator: Measurement, denominator: Measurement) -> str:
    if not denominator.requests_per_second:
        return "-"  # wrk counted no answer at all
    return f"{numerator.requests_per_second / denominator.requests_per_second:.2f}x"


def _problems(**measurements: Measurement) -> str:
    seen = [f"{name}: {m.problems}" for name, m in measurements.items() if m.problems != "-"]
    return "; ".join(seen) or "-"


def print_results(results: Sequence[Result]) -> None:
    """Every row beside its yardstick; the ratio is the service's rate over the yardstick's."""
    rows = [
        [
            "framework, database",
            "workers",
            "endpoint",
            "req/s",
            "p50 ms",
            "p99 ms",
            "yardstick",
            "req/s",
            "p50 ms",
            "p99 ms",
            "ratio",
            "wrk problems",
        ]
    ]
    for r in results:
        service, yardstick = r.service, r.yardstick
        rows.append(
            [
                r.section,
                str(r.workers),
                r.endpoint,
                _rate(service),
                _ms(service.p50_ms),
                _ms(service.p99_ms),
                r.yardstick_label,
                _rate(yardstick),
                _ms(yardstick.p50_ms),
                _ms(yardstick.p99_ms),
                _ratio(service, yardstick),
                _problems(service=service, yardstick=yardstick),
            ]
        )
    print_rows(rows, numeric={1, 3, 4, 5, 7, 8, 9, 10})


def print_comparison(results: Sequence[Result], first: str, second: str, title: str) -> None:
    """Each service row on the other render (`first`) and on the measured one (`second`)."""
    rows = [
        [
            "framework, database",
            "workers",
            "endpoint",
            f"{first} req/s",
            f"{first} p99 ms",
            f"{second} req/s",
            f"{second} p99 ms",
            f"{second}/{first}",
            "wrk problems",
        ]
    ]
    for r in results:
        if r.other is not None:
            rows.append(
                [
                    r.section,
                    str(r.workers),
                    r.endpoint,
                    _rate(r.other),
                    _ms(r.other.p99_ms),
                    _rate(r.service),
                    _ms(r.service.p99_ms),
                    _ratio(r.service, r.other),
                    _problems(**{first: r.other, second: r.service}),
                ]
            )
    print(f"{title}, loaded one after the other:")
    print_rows(rows, numeric={1, 3, 4, 5, 6, 7})


def print_memory(memories: Sequence[Memory]) -> None:
    """The resident size of one worker after the first count of requests, after all, and the
    growth between: a leak shows as growth that a longer run keeps adding to."""
    rows = [
        [
            "framework, database",
            "worker",
            "requests",
            "RSS MiB",
            "requests",
            "RSS MiB",
            "growth MiB",
            "req/s",
            "wrk problems",
        ]
    ]
    for m in memories:
        rows.append(
            [
                m.section,
                str(m.pid),
                f"{m.first_requests:,}",
                f"{m.first_kib / MIB:.1f}",
                f"{m.total_requests:,}",
                f"{m.total_kib / MIB:.1f}",
                f"{(m.total_kib - m.first_kib) / MIB:+.1f}",
                f"{m.requests_per_second:,.0f}",
                m.problems,
            ]
        )
    print_rows(rows, numeric={1, 2, 3, 4, 5, 6, 7})


def print_server_logs(work_dir: Path, prefix: str = "") -> None:
    """What the yardsticks' servers logged at WARNING or above, and their start-up lines."""
    for path in sorted(work_dir.glob("*.log")):
        name = prefix + path.name
        line_count = len(path.read_text(errors="replace").splitlines())
        if line_count:
            print(f"{name}: {line_count} lines, the last {min(line_count, 15)}:")
            print(log_tail(path))
