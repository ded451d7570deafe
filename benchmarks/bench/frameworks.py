"""What differs between the answers to the template's `framework` question: drivers, the
server, and how the yardsticks of `benchmarks/baselines/` are served."""

from __future__ import annotations

from dataclasses import dataclass

from bench.processes import HOST, uv_run

CLI_NAME = "bench-service"


@dataclass(frozen=True)
class Framework:
    name: str  # the answer
    title: str
    server: str  # what the render's `serve` runs
    sqlite_driver: str
    postgresql_driver: str
    versioned_packages: tuple[str, ...]

    @property
    def bare_target(self) -> str:
        return f"bare_{self.name}:app"

    @property
    def handwritten_target(self) -> str:
        return f"handwritten_{self.name}:app"

    def baseline_command(self, target: str, workers: int | str, blocking_threads: int) -> list[str]:
        """A yardstick under the render's server with the options its `serve` gives it (see
        the render's server.py; keep the two in step). PORT stands for the port."""
        address = ("--host", HOST, "--port", "PORT", "--workers", str(workers))
        if self.server == "uvicorn":
            # What `serve` gets from loop="auto" and http="auto", spelled out.
            options = ("--loop", "uvloop", "--http", "httptools", "--log-level", "warning")
            headers = ("--no-access-log", "--no-server-header", "--no-proxy-headers")
            return uv_run("uvicorn", target, *address, *options, *headers)
        wsgi = ("--interface", "wsgi", "--log-level", "warning", "--no-access-log")
        threads = ("--blocking-threads", str(blocking_threads), "--respawn-failed-workers")
        return uv_run("granian", *wsgi, *threads, *address, target)


def serve_command(workers: int | str) -> list[str]:
    """The rendered project's own production server. PORT stands for the port."""
    return uv_run(CLI_NAME, "serve", "--host", HOST, "--port", "PORT", "--workers", str(workers))


FASTAPI = Framework(
    name="fastapi",
    title="FastAPI",
    server="uvicorn",
    sqlite_driver="sqlite+aiosqlite",
    postgresql_driver="postgresql+asyncpg",
    versioned_packages=("fastapi", "starlette", "pydantic", "uvicorn", "sqlalchemy"),
)
FLASK = Framework(
    name="flask",
    title="Flask",
    server="granian",
    sqlite_driver="sqlite+pysqlite",
    postgresql_driver="postgresql+psycopg",
    versioned_packages=("flask", "werkzeug", "flask-openapi3", "pydantic", "granian", "sqlalchemy"),
)
FRAMEWORKS = {framework.name: framework for framework in (FASTAPI, FLASK)}
