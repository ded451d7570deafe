"""The /docs page renders every operation in a real browser with the network closed: Swagger
UI comes from the service itself, and its policy lets nothing else in.

Debian's Chromium runs headless against a live server of a synced render (`<slug> serve`),
with every host name but the loopback address unresolvable, for both frameworks.
"""

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FRAMEWORKS, Render, tool_env, variant
from tests.openapi_documents import project_slug
from tests.test_quickstart import free_port, wait_until_up

pytestmark = pytest.mark.rendered
# The renders of the default answers (auth=jwt: every kind of operation) and their worker.
ANSWER_SET = "default"
BUDGET_MS = 15000


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Chromium is missing: `apt-get install -y chromium` (.ci/run does)"
    return path


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(framework, marks=pytest.mark.xdist_group(ANSWER_SET))
        for framework in FRAMEWORKS
    ],
)
def served(
    request: pytest.FixtureRequest, synced: Render, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of a live server of the render, one per framework."""
    project = synced(variant(request.param, ANSWER_SET))
    port = free_port()
    log = tmp_path_factory.mktemp(f"docs-{request.param}") / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            ["uv", "run", project_slug(project), "serve", "--port", str(port)],
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


def browse(url: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """The DOM of the page once its scripts have run, and the browser's log with the
    console messages (a refused script or style would be one)."""
    return subprocess.run(
        [
            *(chromium(), "--headless", "--no-sandbox", "--disable-gpu"),
            *(f"--user-data-dir={profile}", "--enable-logging=stderr", "--log-level=0"),
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            *(f"--virtual-time-budget={BUDGET_MS}", "--dump-dom", url),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def operations(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:  # noqa: S310
        document = json.load(response)
    return [operation for path in document["paths"].values() for operation in path.values()]


def test_the_page_renders_every_operation_offline(served: str, tmp_path: Path) -> None:
    result = browse(f"{served}/docs", tmp_path / "profile")

    assert result.returncode == 0, result.stderr[-5000:]
    # Swagger UI gives each operation the id operations-<tag>-<operationId>.
    missing = [
        operation["operationId"]
        for operation in operations(served)
        if f'id="operations-{operation["tags"][0]}-{operation["operationId"]}"' not in result.stdout
    ]
    assert missing == [], result.stdout[-5000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Content Security Policy" in line], console
