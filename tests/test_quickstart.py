"""The README's quickstart, followed in an empty folder: render, migrate, serve, ask; and the
rendered README's first steps, followed word for word on a fresh render."""

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FRAMEWORKS, TEMPLATE_ROOT, run_tool, tool_env
from tests.live_servers import free_port
from tests.update_support import GIT_IDENTITY

pytestmark = [pytest.mark.rendered, pytest.mark.xdist_group("quickstart")]
STARTUP_SECONDS = 60


def get(url: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The README's commands, word for word but for the answers Copier would prompt for."""
    folder = tmp_path_factory.mktemp(f"quickstart-{request.param}")
    run_tool(
        folder,
        *("uvx", "--with", "copier-template-extensions", "copier", "copy", "--trust"),
        *("--defaults", f"--data=framework={request.param}", "--vcs-ref=HEAD"),
        *(str(TEMPLATE_ROOT), "my-service"),
    )
    project = folder / "my-service"
    run_tool(project, "uv", "run", "my-service", "db", "upgrade")
    with serving(project, "my-service", folder / "server.log") as base_url:
        yield base_url


@contextmanager
def serving(project: Path, command: str, log: Path) -> Iterator[str]:
    """`<command> serve` of a render on a free port, its output in `log`: its base URL once it
    answers, and stopped when the block ends."""
    port = free_port()
    with log.open("w") as log_file:
        server = subprocess.Popen(
            ["uv", "run", command, "serve", "--port", str(port)],
            cwd=project,
            env=tool_env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base_url}/api/v1/health/live", server, log)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the service exited with {server.returncode}:\n{log.read_text()}")
        try:
            get(url)
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.2)
        else:
            return
    pytest.fail(f"the service did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def test_readiness_answers_with_the_success_envelope(service: str) -> None:
    status, headers, body = get(f"{service}/api/v1/health/ready")

    assert status == 200
    assert body == {
        "status": "success",
        "status_code": 200,
        "message": "Service is ready",
        "data": {"status": "ok", "version": "0.1.0", "checks": {"database": "ok"}},
    }
    assert headers["x-request-id"]


def test_unknown_route_answers_with_the_failure_envelope(service: str) -> None:
    status, _, body = get(f"{service}/nope")

    assert status == 404
    assert body == {
        "status": "failure",
        "status_code": 404,
        "message": "The requested resource was not found.",
        "error_code": "NOT_FOUND",
        "errors": {},
    }


# -- The rendered README's "Run and test", in order --------------------------------------------

# What the test changes in the README's commands: the server is left to the tests above, and the
# rendered suite (which test_rendered_project.py runs in full) to one folder of it.
SERVE = re.compile(r"\bserve\b")
SUITE_SUBSET = ("uv run pytest", "uv run pytest -x -q tests/core")
# What a step leaves to commit; every other leaves a clean tree. The next step commits the lock.
UNCOMMITTED = {"uv sync": "?? uv.lock\n"}


def readme_commands(readme: str) -> list[str]:
    """The lines of the shell blocks of the README's "Run and test", in order."""
    section = readme.split("\n## Run and test\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def as_tested(command: str) -> str:
    """The command without its `serve`, and with the suite cut to one folder."""
    parts = [part for part in command.split(" && ") if not SERVE.search(part)]
    return " && ".join(parts).replace(*SUITE_SUBSET)


def test_the_readmes_first_steps_leave_a_clean_tree_that_copier_updates(
    tmp_path: Path,
) -> None:
    """git init and the first commit, uv sync, commit uv.lock, pre-commit install, db upgrade,
    the checks; then `copier update`, which a dirty tree would refuse."""
    env = {**tool_env(), **GIT_IDENTITY}
    run_tool(
        tmp_path,
        *("uvx", "--with", "copier-template-extensions", "copier", "copy", "--trust"),
        *("--defaults", "--vcs-ref=HEAD", str(TEMPLATE_ROOT), "my-service"),
    )
    project = tmp_path / "my-service"
    commands = readme_commands((project / "README.md").read_text())
    assert commands[:4] == [
        "git init",
        'git add --all && git commit -m "Render the service from the template"',
        "uv sync",
        'git add uv.lock && git commit -m "Lock the dependencies"',
    ]

    for command in commands:
        run_tool(project, "bash", "-c", as_tested(command), env=env)

        status = run_tool(project, "git", "status", "--porcelain", env=env).stdout
        if command != "git init":  # nothing is committed yet; the next command commits it all
            assert status == UNCOMMITTED.get(command, ""), command
    assert (project / ".git" / "hooks" / "pre-commit").is_file()
    assert any(SERVE.search(command) for command in commands)

    update = run_tool(
        project,
        *("uvx", "--with", "copier-template-extensions", "copier", "update", "--trust"),
        *("--defaults", "--vcs-ref=HEAD"),
        env=env,
    )

    assert "dirty" not in update.stdout + update.stderr
    assert run_tool(project, "git", "status", "--porcelain", env=env).stdout == ""
