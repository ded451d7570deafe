"""The hostile-input corpus (tests/hostile_corpus.py) against the real servers of both frameworks.

For each answer set (SQLite and PostgreSQL), both renders are served at once by their
production servers (tests/live_servers.py), each is sent the whole corpus in the same order,
and every answer is held to the contract: no 5xx, the envelope, no internals, the contract's
headers; then the two frameworks' answers to each request are compared.
"""

import base64
import functools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FRAMEWORKS, Render, run_tool, variant
from tests.hostile_corpus import (
    ADMIN_EMAIL,
    ADMIN_ID,
    ADMIN_TOKEN,
    LIMITS,
    PASSWORD,
    PROJECT_ID,
    SYNTAX,
    USER_EMAIL,
    USER_TOKEN,
    VICTIM_EMAIL,
    VICTIM_ID,
    Operation,
    Probe,
    corpus,
    forged_tokens,
    operations,
)
from tests.live_servers import (
    SECRET_KEY,
    Answer,
    Connection,
    LiveServer,
    answers_of,
    json_request,
    live_server,
    logged_exceptions,
)

pytestmark = pytest.mark.rendered

# SQLite (the defaults) and PostgreSQL with Redis and Celery: each with both frameworks.
CORPUS_ANSWER_SETS = ("default", "services")
MAX_BODY_SIZE = 65_536
MIN_REQUESTS = 2000  # the corpus shrinking below this means probes were lost

with_each_answer_set = pytest.mark.parametrize(
    "answer_set",
    [pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in CORPUS_ANSWER_SETS],
)
with_each_server = pytest.mark.parametrize(
    ("framework", "answer_set"),
    [
        pytest.param(
            framework, name, id=variant(framework, name), marks=pytest.mark.xdist_group(name)
        )
        for name in CORPUS_ANSWER_SETS
        for framework in FRAMEWORKS
    ],
)


@dataclass
class Run:
    """The corpus sent to both servers of an answer set, and what each answered."""

    answer_set: str
    probes: list[Probe]
    requests: dict[str, list[bytes]]  # by framework, in the corpus's order
    answers: dict[str, list[Answer]]
    outputs: dict[str, str]  # what each server printed
    seconds: float
    operations: list[Operation] = field(default_factory=list)

    def exchanges(self, framework: str) -> Iterator[tuple[Probe, bytes, Answer]]:
        yield from zip(self.probes, self.requests[framework], self.answers[framework], strict=True)


# Setting up each server: the accounts and the project the corpus refers to


def _call(
    connection: Connection,
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    token: bytes | None = None,
) -> dict[str, Any]:
    answer = connection.exchange(json_request(method, path, body=body, token=token), keep=True)
    assert 200 <= answer.status < 300, f"{method} {path} {body}: {answer!r}"
    data: dict[str, Any] = json.loads(answer.body)["data"]
    return data


def session_of(token: bytes) -> int:
    """The session id an access token names (its `sid` claim), read without checking it."""
    payload = token.split(b".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    return int(claims["sid"])


def placeholders(server: LiveServer, paths: set[str]) -> dict[bytes, bytes]:
    """Make the corpus's accounts and project on one server: the values of its placeholders.
    (The answer sets the corpus runs on all have auth=jwt; the admin comes from the CLI.)"""
    connection = server.connect()
    values: dict[bytes, bytes] = {}
    try:
        token = None
        if "/api/v1/auth/register" in paths:
            credentials = {"email": USER_EMAIL, "password": PASSWORD}
            user = _call(connection, "POST", "/api/v1/auth/register", body=credentials)
            victim = _call(
                connection,
                "POST",
                "/api/v1/auth/register",
                body={"email": VICTIM_EMAIL, "password": PASSWORD},
            )
            token = _call(connection, "POST", "/api/v1/auth/login", body=credentials)[
                "access_token"
            ].encode()
            admin_credentials = {"email": ADMIN_EMAIL, "password": PASSWORD}
            admin = _call(connection, "POST", "/api/v1/auth/login", body=admin_credentials)
            values |= {
                USER_TOKEN: token,
                ADMIN_TOKEN: admin["access_token"].encode(),
                VICTIM_ID: str(victim["id"]).encode(),
                ADMIN_ID: str(admin["user"]["id"]).encode(),
                **forged_tokens(SECRET_KEY, user["id"], session_of(token)),
            }
        project = _call(
            connection, "POST", "/api/v1/projects", body={"name": "Corpus fixture"}, token=token
        )
        values[PROJECT_ID] = str(project["id"]).encode()
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- {server.name} ---\n{server.output()}") from None
    finally:
        connection.close()
    return values


def send_corpus(
    server: LiveServer, probes: list[Probe], values: Mapping[bytes, bytes]
) -> tuple[list[bytes], list[Answer]]:
    """Every probe in order on one server, over one kept-alive connection where it can be."""
    connection = server.connect()
    requests, answers = [], []
    try:
        for probe in probes:
            request = probe.request(values)
            requests.append(request)
            answers.append(connection.exchange(request, head=probe.head, keep=probe.keep_alive))
    finally:
        connection.close()
    return requests, answers


def document_operations(project: Path) -> list[Operation]:
    slug = answers_of(project)["project_slug"]
    document = json.loads(run_tool(project, "uv", "run", slug, "openapi").stdout)
    return operations(document)


def both_documents(projects: Mapping[str, Path]) -> list[Operation]:
    """The operations of both frameworks' documents (the same, if the documents agree)."""
    found: dict[str, Operation] = {}
    for project in projects.values():
        for operation in document_operations(project):
            found.setdefault(operation.label, operation)
    return list(found.values())


def on_both(
    pool: ThreadPoolExecutor, work: Callable[[str], Any], frameworks: tuple[str, ...] = FRAMEWORKS
) -> dict[str, Any]:
    """`work(framework)` for both frameworks at once: the two servers run side by side."""
    futures = {framework: pool.submit(work, framework) for framework in frameworks}
    return {framework: future.result() for framework, future in futures.items()}


def run_corpus(synced: Render, workdir: Path, answer_set: str) -> Run:
    projects = {framework: synced(variant(framework, answer_set)) for framework in FRAMEWORKS}
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=len(FRAMEWORKS)) as pool:

        def start(framework: str) -> LiveServer:
            server = live_server(
                projects[framework],
                workdir / framework,
                max_body_size=MAX_BODY_SIZE,
                admin=(ADMIN_EMAIL, PASSWORD),
            )
            return stack.enter_context(server)  # stopped when the stack closes, even on failure

        documents = pool.submit(both_documents, projects)
        servers: dict[str, LiveServer] = on_both(pool, start)
        found = documents.result()
        paths = {operation.path for operation in found}
        probes = corpus(found, max_body_size=MAX_BODY_SIZE)
        values = on_both(pool, lambda framework: placeholders(servers[framework], paths))
        started = time.monotonic()
        results = on_both(
            pool, lambda framework: send_corpus(servers[framework], probes, values[framework])
        )
        seconds = time.monotonic() - started
        outputs = {framework: server.output(None) for framework, server in servers.items()}
    return Run(
        answer_set=answer_set,
        probes=probes,
        requests={framework: result[0] for framework, result in results.items()},
        answers={framework: result[1] for framework, result in results.items()},
        outputs=outputs,
        seconds=seconds,
        operations=found,
    )


@pytest.fixture(scope="session")
def corpus_run(synced: Render, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """The corpus's run for an answer set, once per worker (the set's tests share a group)."""

    @functools.cache
    def _run(answer_set: str) -> Run:
        return run_corpus(synced, tmp_path_factory.mktemp(f"corpus-{answer_set}"), answer_set)

    return _run


# What every answer must be

ERROR_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
CSP = b"default-src 'none'; frame-ancestors 'none'"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
INTERNALS = [
    ("traceback", re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")),
    ("exception class", re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)\b")),
    (
        "library name",
        re.compile(
            r"(?i)\b(?:sqlalchemy|psycopg2?|asyncpg|aiosqlite|sqlite3?|pydantic(?:_core)?|"
            r"werkzeug|starlette|fastapi|flask(?:_openapi3)?|uvicorn|granian|argon2|pyjwt|jwt|"
            r"structlog|redis|celery|kombu|amqp)\b"
        ),
    ),
    (
        "SQL",
        re.compile(
            r"\b(?:SELECT\b.{0,200}\bFROM|INSERT INTO|UPDATE\b.{0,200}\bSET|DELETE FROM)\b|"
            r"UNIQUE constraint|violates|duplicate key value|relation \"|\[SQL:"
        ),
    ),
    (
        "host or port",
        re.compile(r"\b(?:127\.0\.0\.1|0\.0\.0\.0|localhost)(?::\d+)?\b|:(?:5432|6379|5672)\b"),
    ),
    ("file path", re.compile(r"(?:/[\w.-]+){2,}\.py\b|site-packages|\.venv/|/tmp/")),
    (
        "validator internals",
        re.compile(
            r"errors\.pydantic\.dev|input_value=|\[type=|Value error, |should be None|"
            r"function-after|function-before|str-enum|int-enum|json-or-python|tagged-union"
        ),
    ),
]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(body: bytes) -> Any:
    """A body as strict JSON (no NaN), or ValueError."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError as error:
        raise ValueError("nested too deep") from error


def _key_problems(probe: Probe, errors: Mapping[Any, Any]) -> Iterator[str]:
    allowed = probe.sent_fields | (probe.operation.fields() if probe.operation else frozenset())
    unknown = [
        key
        for key in errors
        if ".".join(part for part in str(key).split(".") if not part.isdigit()) not in allowed
    ]
    if unknown:
        yield f"errors keys name no field a client sends: {sorted(unknown)!r}"[:300]
    for key, messages in errors.items():
        if not (
            isinstance(messages, list)
            and messages
            and all(isinstance(message, str) and message for message in messages)
        ):
            yield f"errors value is not a list of messages: {key!r}: {messages!r}"[:300]


def _failure_problems(probe: Probe, envelope: Mapping[str, Any]) -> Iterator[str]:
    code = envelope.get("error_code")
    if not (isinstance(code, str) and ERROR_CODE.fullmatch(code)):
        yield f"error_code is not UPPERCASE_SNAKE_CASE: {code!r}"
    errors = envelope.get("errors", ...)
    if isinstance(errors, dict):
        yield from _key_problems(probe, errors)
    elif not isinstance(errors, list):
        yield f"errors is neither an object nor an array: {errors!r}"[:200]


def envelope_problems(probe: Probe, answer: Answer) -> Iterator[str]:
    """Why an answer is not the contract's envelope, if it is not."""
    if answer.problem:
        yield f"no answer: {answer.problem}"
        return
    if probe.head or answer.status == 204:
        if answer.body:
            yield f"a body on {'HEAD' if probe.head else '204'}: {answer.body[:100]!r}"
        return
    media_type = (answer.header("content-type") or b"").split(b";")[0].strip().lower()
    if media_type != b"application/json":
        yield f"content-type is not application/json: {answer.header('content-type')!r}"
    try:
        envelope = parse(answer.body)
    except ValueError:
        yield f"body is not JSON: {answer.body[:100]!r}"
        return
    if not isinstance(envelope, dict):
        yield f"body is not an object: {answer.body[:100]!r}"
        return
    expected = "success" if answer.status < 400 else "failure"
    if envelope.get("status") != expected:
        yield f"status is not {expected!r}: {envelope.get('status')!r}"
    if envelope.get("status_code") != answer.status or isinstance(
        envelope.get("status_code"), bool
    ):
        yield f"status_code {envelope.get('status_code')!r} is not the HTTP status {answer.status}"
    if not (isinstance(envelope.get("message"), str) and envelope["message"]):
        yield "message is missing or empty"
    if expected == "failure":
        yield from _failure_problems(probe, envelope)
    elif not isinstance(envelope.get("data"), dict):
        yield f"data is not an object: {envelope.get('data')!r}"[:200]


SET_ASIDE = {"id", "created_at", "updated_at", "access_token", "refresh_token", "request_id"}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
JWT = re.compile(r"[\w-]{8,}\.[\w-]{8,}\.[\w-]*")


def comparable(node: Any) -> Any:
    """A parsed body with ids, timestamps, tokens and request ids set aside."""
    if isinstance(node, list):
        return [comparable(item) for item in node]
    if isinstance(node, dict):
        return {
            key: "<set aside>" if key in SET_ASIDE or key.endswith("_id") else comparable(value)
            for key, value in node.items()
        }
    if isinstance(node, str) and (TIMESTAMP.match(node) or JWT.fullmatch(node)):
        return "<set aside>"
    return node


def _internal_keys(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _internal_keys(item)
    elif isinstance(node, dict):
        if "detail" in node:
            yield "a detail key"
        if {"loc", "msg", "type"} <= set(node):
            yield "a loc/msg/type triple"
        for value in node.values():
            yield from _internal_keys(value)


def internals_problems(probe: Probe, answer: Answer) -> Iterator[str]:
    """Internals that an answer's body shows."""
    try:
        parsed = parse(answer.body)
    except ValueError:
        text = answer.body.decode("utf-8", "replace")
    else:
        yield from _internal_keys(parsed)
        text = json.dumps(comparable(parsed), ensure_ascii=False)
    for name, pattern in INTERNALS:
        found = pattern.search(text)
        if found:
            yield f"{name}: {found.group(0)[:80]!r}"


def header_problems(probe: Probe, answer: Answer) -> Iterator[str]:
    """The contract's headers that an answer lacks."""
    if answer.problem:
        return
    # granian cannot leave the header out, so both servers send the same neutral one.
    if answer.header("server") != b"api":
        yield f"server header: {answer.header('server')!r}"
    if answer.header("cache-control") != b"no-store":
        yield f"cache-control is not no-store: {answer.header('cache-control')!r}"
    if answer.header("content-security-policy") != CSP:
        yield f"content-security-policy: {answer.header('content-security-policy')!r}"
    if not answer.header("x-request-id"):
        yield "no x-request-id"
    if answer.status == 401 and not (answer.header("www-authenticate") or b"").startswith(
        b"Bearer"
    ):
        yield f"401 without WWW-Authenticate: Bearer: {answer.header('www-authenticate')!r}"
    if answer.status == 429 and not answer.header("retry-after"):
        yield "429 without retry-after"
    if answer.status == 405:
        yield from _allow_problems(answer.header("allow"))


def _allow_problems(allow: bytes | None) -> Iterator[str]:
    if allow is None:
        yield "405 without allow"
        return
    methods = [method.strip() for method in allow.decode("latin-1").split(",")]
    if "GET" in methods and "HEAD" not in methods:
        yield f"allow has GET but not HEAD: {allow!r}"
    if methods != sorted(methods, key=lambda m: HTTP_METHODS.index(m) if m in HTTP_METHODS else 99):
        yield f"allow is not in the order of HTTP_METHODS: {allow!r}"


# Reporting


Problem = tuple[Probe, bytes, str, str]  # probe, request, problem, the answers as text


def _short(request: bytes) -> str:
    shown = repr(request[:400])
    return shown + (f" ... ({len(request)} bytes)" if len(request) > 400 else "")


def report(problems: list[Problem], total: int, where: str) -> str:
    """A failure message: the problems by kind (with the kinds of request that meet them),
    then a few examples of each, from different kinds of request where there are."""
    if not problems:
        return ""
    by_kind: dict[str, list[Problem]] = {}
    for found_one in problems:
        by_kind.setdefault(found_one[2].split(":")[0], []).append(found_one)
    ranked = sorted(by_kind.items(), key=lambda item: -len(item[1]))
    lines = [f"{len(problems)} problems in the answers to {total} requests ({where}), by kind:"]
    for kind, found in ranked:
        probes = Counter(probe.kind for probe, _, _, _ in found)
        spread = ", ".join(f"{name} {count}" for name, count in probes.most_common(6))
        lines.append(f"  {len(found):5}  {kind[:90]}  [{spread}]")
    for kind, found in ranked:
        examples: dict[str, Problem] = {}
        for example in found:
            if len(examples) < 3:
                examples.setdefault(example[0].kind, example)
        for probe, request, problem, answers in examples.values():
            lines += [
                f"\n[{kind[:90]}] {probe.label}",
                f"  problem: {problem}",
                f"  request: {_short(request)}",
                f"  answer:  {answers}",
            ]
    return "\n".join(lines)


# Requests that are not HTTP the app can be given (a malformed request line or header, a method
# the parser refuses, a head over the server's limits) are answered by uvicorn or granian
# themselves, before any app code runs: a bare 400, 414 or 431, or a closed connection. Of
# those answers the contract asks only that they are not a 5xx (docs/contract.md).
ANSWERED_BY_THE_SERVER = {SYNTAX, LIMITS}


def by_the_server(probe: Probe) -> bool:
    return probe.kind in ANSWERED_BY_THE_SERVER


def check_each(
    run: Run, framework: str, check: Callable[[Probe, Answer], Iterator[str]]
) -> list[Problem]:
    """The problems `check` finds in the app's answers; of the server's own, only a 5xx."""

    def checked(probe: Probe, answer: Answer) -> Iterator[str]:
        if not by_the_server(probe):
            yield from check(probe, answer)
        elif not answer.problem and answer.status >= 500:
            yield f"the server answered {answer.status}"

    return [
        (probe, request, problem, repr(answer))
        for probe, request, answer in run.exchanges(framework)
        for problem in checked(probe, answer)
    ]


# The tests


@with_each_answer_set
def test_the_corpus_reaches_every_operation(
    corpus_run: Callable[[str], Run], answer_set: str, record_property: Callable[[str, Any], None]
) -> None:
    run = corpus_run(answer_set)
    record_property("requests_per_render", len(run.probes))
    record_property("seconds_for_both_servers", round(run.seconds, 1))
    reached = Counter(probe.operation.label for probe in run.probes if probe.operation)

    missing = [operation.label for operation in run.operations if reached[operation.label] < 20]
    assert not missing, f"operations with fewer than 20 probes: {missing}"
    assert len(run.probes) >= MIN_REQUESTS, (
        f"the corpus sends {len(run.probes)} requests per render, fewer than {MIN_REQUESTS}"
    )


@with_each_server
def test_no_request_is_answered_with_a_5xx_or_not_at_all(
    corpus_run: Callable[[str], Run], framework: str, answer_set: str
) -> None:
    run = corpus_run(answer_set)

    logged = logged_exceptions(run.outputs[framework])
    by_request = {request_id: text for request_id, text in logged if request_id}
    # Requests go one at a time, so without a request id the n-th 5xx is the n-th log line.
    unnamed = iter([f"{text} (its log line has no request_id)" for rid, text in logged if not rid])

    def check(probe: Probe, answer: Answer) -> Iterator[str]:
        if answer.problem:
            yield f"no answer: {answer.problem}"
        elif answer.status >= 500:
            request_id = (answer.header("x-request-id") or b"").decode("latin-1")
            yield f"status {answer.status}, " + (
                by_request.get(request_id) or next(unnamed, "nothing logged")
            )

    problems = check_each(run, framework, check)

    where = f"{framework}, {answer_set}, {len(run.probes)} requests per render"
    assert not problems, report(problems, len(run.probes), where)


@with_each_server
def test_every_answer_is_the_envelope(
    corpus_run: Callable[[str], Run], framework: str, answer_set: str
) -> None:
    run = corpus_run(answer_set)

    problems = check_each(run, framework, envelope_problems)

    assert not problems, report(problems, len(run.probes), f"{framework}, {answer_set}")


@with_each_server
def test_no_answer_shows_internals(
    corpus_run: Callable[[str], Run], framework: str, answer_set: str
) -> None:
    run = corpus_run(answer_set)

    problems = check_each(run, framework, internals_problems)

    assert not problems, report(problems, len(run.probes), f"{framework}, {answer_set}")


@with_each_server
def test_every_answer_carries_the_contract_headers(
    corpus_run: Callable[[str], Run], framework: str, answer_set: str
) -> None:
    run = corpus_run(answer_set)

    problems = check_each(run, framework, header_problems)

    assert not problems, report(problems, len(run.probes), f"{framework}, {answer_set}")


@with_each_server
def test_head_is_answered_like_get(
    corpus_run: Callable[[str], Run], framework: str, answer_set: str
) -> None:
    run = corpus_run(answer_set)
    gets = {probe.label: answer for probe, _, answer in run.exchanges(framework)}
    problems = []
    for probe, request, answer in run.exchanges(framework):
        if not probe.twin:
            continue
        get = gets[probe.twin]
        same = (answer.status, answer.header("content-type")) == (
            get.status,
            get.header("content-type"),
        )
        if not same:
            text = f"HEAD {answer!r}\n           GET  {get!r}"
            problems.append((probe, request, f"HEAD differs from GET: {answer.status}", text))

    assert not problems, report(problems, len(run.probes), f"{framework}, {answer_set}")


COMPARED_HEADERS = (
    "content-type",
    "allow",
    "www-authenticate",
    "cache-control",
    "content-security-policy",
)


def _header_value(answer: Answer, name: str) -> bytes | None:
    value = answer.header(name)
    return None if value is None else re.sub(rb"\s+", b"", value.lower())


def _body(answer: Answer) -> Any:
    try:
        return comparable(parse(answer.body))
    except ValueError:
        return answer.body


def _sent_request_id(request: bytes) -> bytes | None:
    found = re.search(rb"\r\nX-Request-ID: ([^\r]*)\r\n", request)
    return found.group(1) if found else None


def parity_problems(request: bytes, one: Answer, other: Answer) -> Iterator[str]:
    """How two frameworks' answers to the same request differ."""
    if one.problem or other.problem:
        if bool(one.problem) != bool(other.problem):
            yield "answered by one server only"
        return
    if one.status != other.status:
        yield f"status {one.status} vs {other.status}"
    for name in COMPARED_HEADERS:
        if _header_value(one, name) != _header_value(other, name):
            yield f"{name}: {one.header(name)!r} vs {other.header(name)!r}"
    for name in ("retry-after", "x-request-id", "server"):
        if (one.header(name) is None) != (other.header(name) is None):
            yield f"{name} on one only: {one.header(name)!r} vs {other.header(name)!r}"
    sent = _sent_request_id(request)
    if sent is not None and (one.header("x-request-id") == sent) != (
        other.header("x-request-id") == sent
    ):
        yield f"x-request-id kept by one only: {sent[:40]!r}"
    if _body(one) != _body(other):
        yield "body"


@with_each_answer_set
def test_both_frameworks_answer_alike(corpus_run: Callable[[str], Run], answer_set: str) -> None:
    run = corpus_run(answer_set)
    fastapi, flask = FRAMEWORKS
    problems = []
    for index, probe in enumerate(run.probes):
        if by_the_server(probe):
            continue  # the two servers' own refusals differ; the app is not asked
        one, other = run.answers[fastapi][index], run.answers[flask][index]
        request = run.requests[fastapi][index]
        for problem in parity_problems(request, one, other):
            text = f"{fastapi} {one!r}\n           {flask}   {other!r}"
            problems.append((probe, request, problem, text))

    assert not problems, report(problems, len(run.probes), f"{fastapi} vs {flask}, {answer_set}")
