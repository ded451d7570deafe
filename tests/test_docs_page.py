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
from typing import Any, NamedTuple

import pytest

from tests.conftest import FRAMEWORKS, Render, variant
from tests.openapi_documents import printed_document, project_slug
from tests.test_quickstart import serving

pytestmark = pytest.mark.rendered
# The renders of the default answers (auth=jwt: every kind of operation) and their worker.
ANSWER_SET = "default"
BUDGET_MS = 15000


class Served(NamedTuple):
    url: str
    project: Path


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
) -> Iterator[Served]:
    """A live server of the render (its base URL), one per framework."""
    project = synced(variant(request.param, ANSWER_SET))
    log = tmp_path_factory.mktemp(f"docs-{request.param}") / "server.log"
    with serving(project, project_slug(project), log) as base_url:
        yield Served(base_url, project)


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


def served_document(base_url: str) -> bytes:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def operations(base_url: str) -> list[dict[str, Any]]:
    document = json.loads(served_document(base_url))
    return [operation for path in document["paths"].values() for operation in path.values()]


def test_the_served_document_is_the_printed_one_written_compactly(served: Served) -> None:
    """Both frameworks write the (identical) document the same way, so that they serve the
    same bytes: compact, in the document's own order, UTF-8."""
    printed = printed_document(served.project)
    compact = json.dumps(printed, ensure_ascii=False, separators=(",", ":")).encode()

    assert served_document(served.url) == compact


def test_the_page_renders_every_operation_offline(served: Served, tmp_path: Path) -> None:
    result = browse(f"{served.url}/docs", tmp_path / "profile")

    assert result.returncode == 0, result.stderr[-5000:]
    # Swagger UI gives each operation the id operations-<tag>-<operationId>.
    missing = [
        operation["operationId"]
        for operation in operations(served.url)
        if f'id="operations-{operation["tags"][0]}-{operation["operationId"]}"' not in result.stdout
    ]
    assert missing == [], result.stdout[-5000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Content Security Policy" in line], console
