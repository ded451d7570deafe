"""Every row of issue 17 beside its yardstick, both loaded with wrk in the same run.

The yardstick of an endpoint of the rendered service is the same endpoint written without the
template.

For each framework (FastAPI, Flask) and database (SQLite, PostgreSQL) it renders the default
project into a temporary directory, installs it with uv, applies its migrations and serves it
with its own `serve --workers N` (INFO logs as JSON to /dev/null, rate limits raised out of the
way). Each endpoint is loaded beside its yardstick from `benchmarks/baselines/`, served by the
same server with the same worker count from the render's virtual environment:

- `GET /api/v1/health/live` beside a bare route of the framework;
- `GET /api/v1/projects/{id}` and `GET /api/v1/projects` (bearer token) beside the same reads
  written by hand with SQLAlchemy, on the render's own database and with its token.

It prints requests per second, p50 and p99 latency and the ratio service/yardstick, then the
resident size of one worker after 10,000 requests and its growth up to 50,000.
With `--before REF` the template is also rendered at REF and its service loaded beside; with
`--observability metrics` (or `otel`) the working tree is rendered with that answer and without,
and the rows are those of the render with it.

    uv run python benchmarks/serve_bench.py [--framework {fastapi,flask,both}]
        [--database sqlite,postgresql] [--workers 1,2] [--rows health,read,list,memory]
        [--quick | --duration SECONDS] [--connections N] [--threads N] [--postgres-url URL]
        [--before REF | --observability {metrics,otel}] [--rounds N] [--keep]

Everything listens on 127.0.0.1 only. Needs wrk (`apt-get install wrk`), and psql for
PostgreSQL (`apt-get install postgresql-client`).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from bench.frameworks import Framework, serve_command
from bench.options import Selection, parse_args, selection_of
from bench.processes import (
    HOST,
    BenchError,
    Server,
    expect_ok,
    resident_kib,
    running_server,
    signals_ignored,
    uv_run,
    wait_until_ready,
    worker_pids,
)
from bench.render import (
    OBSERVABILITY_OFF,
    WORKING_TREE,
    Bench,
    Database,
    Prepared,
    Source,
    baseline_environment,
    benchmark_database,
    create_projects,
    describe_database,
    expect_metrics,
    prepare_project,
    service_environment,
    sign_in,
)
from bench.report import (
    Memory,
    Result,
    print_comparison,
    print_memory,
    print_results,
    print_server_logs,
)
from bench.rows import MEMORY_COUNTS, ROWS, Row
from bench.wrk import (
    WARMUP_SECONDS,
    LoadSettings,
    Measurement,
    describe_problems,
    measure,
    send_requests,
)

READY_PATH = "/api/v1/health/ready"


# --- serving -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A running server, what it is loaded on, and the token that reads it."""

    server: Server
    token: str
    project_id: int


@contextmanager
def serving_project(bench: Bench, workers: int, project_ids: dict[Path, int]) -> Iterator[Target]:
    """The render's own `serve`, signed in; the projects the loads read are created on the
    render's first start, and `project_ids` keeps the first one's id for the later starts.

    Its log lines (INFO, JSON) go to /dev/null, as the target configuration asks."""
    command = serve_command(workers)
    environment = service_environment(bench)
    with running_server(command, cwd=bench.project, env=environment, log_path=None) as server:
        wait_until_ready(server, READY_PATH)
        token = sign_in(server)
        if bench.project not in project_ids:
            project_ids[bench.project] = create_projects(server, token)
        target = Target(server, token, project_ids[bench.project])
        for row in ROWS:
            expect_ok(server, row.path.format(id=target.project_id), token)
        if bench.source.observed:
            expect_metrics(int(environment["METRICS_PORT"]))
        yield target


@contextmanager
def serving_baseline(
    bench: Bench, prepared: Prepared, baseline: str, workers: int, service: Target
) -> Iterator[Target]:
    """A yardstick of benchmarks/baselines, on the render's database, read with its token."""
    framework = bench.framework
    target = framework.bare_target if baseline == "bare" else framework.handwritten_target
    command = framework.baseline_command(target, workers, prepared.blocking_threads)
    log_path = bench.work_dir / f"{baseline}-{workers}-workers.log"
    environment = baseline_environment(bench)
    with running_server(command, cwd=bench.project, env=environment, log_path=log_path) as server:
        yardstick = Target(server, service.token, service.project_id)
        for row in ROWS:
            if row.baseline == baseline:
                path = row.yardstick_path.format(id=yardstick.project_id)
                wait_until_ready(server, path, yardstick.token)
        yield yardstick


# --- the runs ------------------------------------------------------------------------


def median_run(runs: Sequence[Measurement]) -> Measurement:
    """The run of the median requests per second (the upper one of an even count)."""
    return sorted(runs, key=lambda run: run.requests_per_second)[len(runs) // 2]


def in_turn(
    loads: Sequence[tuple[Target, str, str]], row: Row, load: LoadSettings
) -> list[Measurement]:
    """Each server's median run of `load.rounds`, for (server, path, what) in `loads`: the
    servers are loaded in turn, round after round, so that a burst of noise on the machine
    falls on all of them rather than on one."""
    runs: list[list[Measurement]] = [[] for _ in loads]
    for _ in range(load.rounds):
        for (target, path, what), runs_of_one in zip(loads, runs, strict=True):
            token = target.token if row.authenticated else None
            path = path.format(id=target.project_id)
            runs_of_one.append(measure(target.server, path, load, what=what, token=token))
    return [median_run(runs_of_one) for runs_of_one in runs]


def run_workers(
    section: str,
    renders: Sequence[tuple[Bench, Prepared]],
    workers: int,
    selection: Selection,
    project_ids: dict[Path, int],
) -> Iterator[Result]:
    """Every selected row at one worker count: the services of `renders` (the other render
    first, if any) run throughout, each yardstick while its rows are loaded."""
    bench, prepared = renders[-1]
    what = f"{section}, {workers} worker{'s' if workers > 1 else ''}"
    labels = [f", {render.source.label}" if len(renders) > 1 else "" for render, _ in renders]
    with ExitStack() as stack:
        services = [
            stack.enter_context(serving_project(render, workers, project_ids))
            for render, _ in renders
        ]
        for baseline in ("bare", "handwritten"):
            rows = [row for row in selection.rows if row.baseline == baseline]
            if not rows:
                continue
            with serving_baseline(bench, prepared, baseline, workers, services[-1]) as yardstick:
                for row in rows:
                    loads = [(yardstick, row.yardstick_path, f"{row.yardstick}, {what}")]
                    loads += [
                        (service, row.path, f"service, {what}{label}")
                        for service, label in zip(services, labels, strict=True)
                    ]
                    runs = in_turn(loads, row, selection.load)
                    other = runs[1] if len(services) == 2 else None
                    yield Result(
                        section, workers, f"GET {row.path}", row.yardstick, runs[-1], runs[0], other
                    )


def measure_memory(
    section: str, bench: Bench, load: LoadSettings, project_ids: dict[Path, int]
) -> Memory:
    """One worker's resident size after MEMORY_COUNTS requests, a fresh `serve --workers 1`
    loaded with the rows' endpoints in turn (the liveness probe, a read, the list)."""
    with serving_project(bench, 1, project_ids) as service:
        pids = worker_pids(service.server)
        if len(pids) != 1:
            raise BenchError(f"`serve --workers 1` runs {len(pids)} workers: {pids}")
        paths = tuple(row.path.format(id=service.project_id) for row in ROWS)
        server, token = service.server, service.token
        print(f"  wrk {', '.join(paths)} in turn, for memory ...", file=sys.stderr, flush=True)
        first = send_requests(server, paths, MEMORY_COUNTS[0], load, token)
        first_kib = resident_kib(pids[0])
        rest = send_requests(server, paths, MEMORY_COUNTS[1] - first.requests, load, token)
        total_kib = resident_kib(pids[0])
    return Memory(
        section=section,
        pid=pids[0],
        first_requests=first.requests,
        first_kib=first_kib,
        total_requests=first.requests + rest.requests,
        total_kib=total_kib,
        requests_per_second=rest.requests_per_second,
        problems=describe_problems(first.problem_counts + rest.problem_counts),
    )


def print_servers(bench: Bench, prepared: Prepared) -> None:
    """The command line of the service and of each yardstick, as they are started."""
    framework, threads = bench.framework, prepared.blocking_threads
    commands = {
        "service": serve_command("N"),
        "bare": framework.baseline_command(framework.bare_target, "N", threads),
        "handwritten": framework.baseline_command(framework.handwritten_target, "N", threads),
    }
    for index, (role, command) in enumerate(commands.items()):
        prefix = "Servers:" if index == 0 else ""
        print(f"{prefix:<10}{role:<12} {' '.join(command[len(uv_run()) :])}")


def run_section(
    framework: Framework,
    database: Database,
    sources: Sequence[Source],
    selection: Selection,
    root: Path,
    results: list[Result],
    memories: list[Memory],
) -> None:
    """One framework on one database: prepare each render of `sources` (the measured one
    last), then load every row at every worker count and measure the memory."""
    section = f"{framework.title}, {database.title}"
    print(f"\n== {section} ==", flush=True)
    print(f"Database: {describe_database(database)}", flush=True)
    benches = [Bench(framework, source, root, database) for source in sources]
    with ExitStack() as databases:
        renders = []
        for bench in benches:
            bench.work_dir.mkdir()
            databases.enter_context(benchmark_database(bench))
            renders.append((bench, prepare_project(bench)))
        print_servers(*renders[-1])
        project_ids: dict[Path, int] = {}
        for workers in selection.workers:
            results += run_workers(section, renders, workers, selection, project_ids)
        if selection.memory:
            memories.append(measure_memory(section, benches[-1], selection.load, project_ids))
    print_server_logs(benches[-1].work_dir)


def run_benchmark(
    selection: Selection, sources: Sequence[Source], root: Path, *, pair: tuple[str, str, str]
) -> list[str]:
    """Each framework on each database in turn, the next one even when one fails; then the
    tables. The failures' messages."""
    load = selection.load
    print(
        f"Serve benchmark: {load.describe()} per endpoint after a {WARMUP_SECONDS} s warm-up; "
        f"servers on {HOST}; {os.cpu_count()} CPUs shared with wrk and the database server\n"
        "Service: its own `serve --workers N`, ENVIRONMENT=development, LOG_LEVEL=INFO "
        "LOG_JSON=true to /dev/null, rate limits raised out of the way",
        flush=True,
    )
    if len(sources) == 2:
        print(f"Compared: {sources[0].label}, rendered and served beside {sources[1].label}")
    results: list[Result] = []
    memories: list[Memory] = []
    failures = []
    for framework in selection.frameworks:
        for database in selection.databases:
            try:
                run_section(framework, database, sources, selection, root, results, memories)
            except BenchError as error:
                failures.append(f"{framework.title}, {database.title}: {error}")
                print(f"serve_bench: {failures[-1]}", file=sys.stderr, flush=True)
    if results:
        print("\nEvery row beside its yardstick, in the same run (ratio: service/yardstick):")
        print_results(results)
    if len(sources) == 2 and results:
        first, second, title = pair
        print()
        print_comparison(results, first, second, title.format(*(s.label for s in sources)))
    if memories:
        print(
            f"\nMemory of one worker of `serve --workers 1` (VmRSS), after requests in turn to "
            f"{', '.join(row.path for row in ROWS)}:"
        )
        print_memory(memories)
    return failures


# --- entry point ---------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv, description=(__doc__ or "").split("\n", 1)[0])
    if shutil.which("wrk") is None:
        print("serve_bench: wrk is not installed; run `apt-get install wrk`.", file=sys.stderr)
        return 2
    selection = selection_of(args)
    if any(db.is_postgresql for db in selection.databases) and shutil.which("psql") is None:
        message = "psql is not installed; run `apt-get install postgresql-client`"
        print(f"serve_bench: {message}, or choose --database sqlite.", file=sys.stderr)
        return 2
    sources: list[Source] = [WORKING_TREE]
    pair = ("before", "after", "before ({0}) against after ({1})")
    if args.before is not None:
        sources.insert(0, args.before)
    if args.observability is not None:
        label = f"observability={args.observability}"
        on = replace(WORKING_TREE, label=label, observability=args.observability)
        sources = [OBSERVABILITY_OFF, on]
        pair = ("off", "on", "observability off ({0}) against on ({1})")
    signal.signal(signal.SIGTERM, _interrupt)  # so a SIGTERM also stops the servers
    root = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        failures = run_benchmark(selection, sources, root, pair=pair)
    except KeyboardInterrupt:
        print("serve_bench: interrupted", file=sys.stderr)
        return 130
    finally:
        with signals_ignored():
            if args.keep:
                print(f"Kept {root}", file=sys.stderr)
            else:
                shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
