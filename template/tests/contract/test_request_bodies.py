"""Hostile request bodies and parameters: every one is answered in the envelope, with the same
status, error code and messages by both frameworks, and never with a 5xx or an internal name."""

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.factories import project_payload

PROJECTS = "/api/v1/projects"
JSON = {"content-type": "application/json"}
MALFORMED = {
    "status": "failure",
    "status_code": 400,
    "message": "The request body is not valid JSON. Check its syntax.",
    "error_code": "INVALID_INPUT",
    "errors": {},
}
NOT_JSON = {
    **MALFORMED,
    "message": "Send the body as JSON with Content-Type: application/json.",
}
# What no answer may show: a library, a parser's position, a validator's or a type's name.
INTERNALS = re.compile(
    r"pydantic|jiter|json\.decoder|JSONDecodeError|Traceback|line \d+ column|str-enum|"
    r"function-after|Input should be None|error parsing the body|Value error|RecursionError",
    re.IGNORECASE,
)
# Bodies that are not a JSON document the service can take.
MALFORMED_BODIES = {
    "lone high surrogate": b'{"name": "x\\ud800"}',
    "lone low surrogate": b'{"name": "\\udc00x"}',
    "reversed surrogate pair": b'{"name": "\\ude00\\ud83d"}',
    "surrogate in a key": b'{"\\ud800": "x"}',
    "surrogate as raw bytes": b'{"name": "x\xed\xa0\x80"}',
    "invalid utf-8": b'{"name": "\xff\xfe"}',
    "overlong utf-8": b'{"name": "\xc0\xaf"}',
    "truncated utf-8": b'{"name": "\xe2\x82"}',
    "latin-1": '{"name": "caf\u00e9"}'.encode("latin-1"),
    "utf-16": '{"name": "x"}'.encode("utf-16"),
    "byte order mark": b'\xef\xbb\xbf{"name": "x"}',
    "raw NUL in a string": b'{"name": "x\x00"}',
    "raw control character": b'{"name": "x\x1b[31m"}',
    "NaN": b'{"budget": NaN}',
    "Infinity": b'{"budget": Infinity}',
    "-Infinity": b'{"budget": -Infinity}',
    "float overflow": b'{"budget": 1e400}',
    "integer of 5000 digits": b'{"budget": ' + b"9" * 5000 + b"}",
    "integer of 31 digits": b'{"budget": ' + b"1" * 31 + b"}",
    "nested 1000 deep": b"[" * 1000 + b"]" * 1000,
    "objects nested 33 deep": b'{"a": ' * 33 + b"1" + b"}" * 33,
    "unclosed": b'{"name": "x"',
    "trailing comma": b'{"name": "x",}',
    "single quotes": b"{'name': 'x'}",
    "two documents": b'{"name": "x"}{"name": "y"}',
    "trailing text": b'{"name": "x"} and more',
    "whitespace only": b" \n\t ",
    "bare word": b"undefined",
}
NON_JSON_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "text/json",
    "application/xml",
    "application/octet-stream",
    "application/jsonx",
]
JSON_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/merge-patch+json",
    "application/vnd.api+json",
]


def body_operations(client: httpx.Client) -> Iterator[tuple[str, str]]:
    """(method, path) of every operation of the document that takes a body, ids set to 1."""
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                yield method.upper(), re.sub(r"\{[^}]+\}", "1", path)


def encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert not INTERNALS.search(response.text), response.text


def test_every_body_operation_refuses_malformed_json(client: httpx.Client) -> None:
    operations = list(body_operations(client))
    assert operations, "the document lists the operations that take a body"
    for method, path in operations:
        for name, content in MALFORMED_BODIES.items():
            response = client.request(method, path, content=content, headers=JSON)

            assert_clean(response)
            assert (response.status_code, response.json()) == (400, MALFORMED), (name, path)


@pytest.mark.parametrize("content_type", NON_JSON_CONTENT_TYPES)
def test_every_body_operation_refuses_a_body_that_is_not_json(
    client: httpx.Client, content_type: str
) -> None:
    for method, path in body_operations(client):
        response = client.request(
            method, path, content=b"name=x&budget=5", headers={"content-type": content_type}
        )

        assert_clean(response)
        assert (response.status_code, response.json()) == (400, NOT_JSON), path


@pytest.mark.parametrize("content_type", JSON_CONTENT_TYPES)
def test_json_content_types_are_read(client: httpx.Client, content_type: str) -> None:
    response = client.post(
        PROJECTS, content=encoded(project_payload()), headers={"content-type": content_type}
    )

    assert response.status_code == 201, response.text


def test_a_body_without_content_type_is_read_as_json(client: httpx.Client) -> None:
    request = client.build_request(
        "POST", PROJECTS, content=encoded(project_payload(name="Untyped"))
    )
    assert "content-type" not in request.headers

    response = client.send(request)

    assert response.status_code == 201, response.text
    assert response.json()["data"]["name"] == "Untyped"


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "Surrogate", "description": "d\\ud800"}',
        b'{"name": "x\\udfff", "budget": 5}',
        b'{"name": "Fine", "description": "\\ud83d"}',
    ],
)
def test_a_lone_surrogate_never_reaches_the_database(client: httpx.Client, content: bytes) -> None:
    response = client.post(PROJECTS, content=content, headers=JSON)

    assert (response.status_code, response.json()) == (400, MALFORMED)
    assert client.get(PROJECTS).json()["meta"]["total"] == 0


@pytest.mark.parametrize("depth", [1, 16, 30])
def test_nesting_within_the_limit_reaches_the_schema(client: httpx.Client, depth: int) -> None:
    nested = b'{"a": ' * depth + b"1" + b"}" * depth
    content = b'{"name": "Deep", "extra": ' + nested + b"}"

    response = client.post(PROJECTS, content=content, headers=JSON)

    assert response.status_code == 422
    assert response.json()["errors"] == {"extra": ["This field is not allowed."]}


def test_the_last_of_duplicate_keys_wins(client: httpx.Client) -> None:
    content = b'{"name": "First", "budget": 1, "name": "Last", "budget": 2}'

    response = client.post(PROJECTS, content=content, headers=JSON)

    assert response.status_code == 201, response.text
    assert (response.json()["data"]["name"], response.json()["data"]["budget"]) == ("Last", 2)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (b"5", True),
        (b"1000000000", True),
        (b"-0", False),
        (b"true", False),
        (b"false", False),
        (b'"5"', False),
        (b"5.0", True),  # JSON Schema's integer: a number with no fraction
        (b"5e0", True),
        (b"-0.0", False),
        (b"5.5", False),
        (b"[5]", False),
        (b'{"value": 5}', False),
        (b"1000000001", False),
        (b"99999999999999999999", False),
    ],
)
def test_a_number_field_takes_json_integers_only(
    client: httpx.Client, value: bytes, accepted: bool
) -> None:
    content = b'{"name": "Budget %s", "budget": %s}' % (value.hex().encode(), value)

    response = client.post(PROJECTS, content=content, headers=JSON)

    assert_clean(response)
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == ["budget"]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"status": "bogus"}, {"status": ["Input should be 'active' or 'archived'."]}),
        (
            {"status": None},
            {"status": ["This field cannot be null. Leave it out to keep its value."]},
        ),
        ({"name": None}, {"name": ["This field cannot be null. Leave it out to keep its value."]}),
        (
            {"name": "<script>"},
            {"name": ["Use only letters, digits, spaces and . , ' & ( ) - _ in a name."]},
        ),
        ({"name": 5}, {"name": ["Input should be a valid string."]}),
        ({"budget": True}, {"budget": ["Input should be a valid integer."]}),
        (
            {"description": "a\x00b"},
            {
                "description": [
                    "Description may hold tabs and line breaks, no other control characters."
                ]
            },
        ),
        ({"owner": {"id": 1}}, {"owner": ["This field is not allowed."]}),
    ],
)
def test_update_errors_name_the_clients_fields(
    client: httpx.Client, payload: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    project_id = client.post(PROJECTS, json=project_payload()).json()["data"]["id"]

    response = client.patch(f"{PROJECTS}/{project_id}", json=payload)

    assert response.status_code == 422
    assert response.json()["errors"] == errors


BAD_VALUES = [None, True, 0, -1, 1.5, "", " ", "<b>", "x" * 1001, [], ["x"], {}, {"a": 1}]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("field", ["name", "description", "status", "budget"])
def test_error_keys_are_field_names_for_any_bad_value(
    client: httpx.Client, method: str, field: str
) -> None:
    path = PROJECTS
    if method == "PATCH":
        path = f"{PROJECTS}/{client.post(PROJECTS, json=project_payload()).json()['data']['id']}"
    for value in BAD_VALUES:
        payload = {**project_payload(), field: value} if method == "POST" else {field: value}

        response = client.request(method, path, json=payload)

        assert_clean(response)
        if response.status_code == 422:
            assert set(response.json()["errors"]) == {field}, (value, response.text)


def test_nul_and_control_characters_never_reach_the_database(client: httpx.Client) -> None:
    for description in ("a\x00b", "\x00", "bell\x07", "escape\x1b[0m"):
        response = client.post(PROJECTS, json=project_payload(description=description))

        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == ["description"]
    kept = client.post(PROJECTS, json=project_payload(description="tab\tand\r\nlines"))
    assert kept.status_code == 201


@pytest.mark.parametrize(
    "text", ["caf\u00e9", "\u65e5\u672c", "\U0001f600 emoji", "\u200b\ufeff", "\U0010ffff"]
)
def test_odd_unicode_in_a_description_round_trips(client: httpx.Client, text: str) -> None:
    response = client.post(PROJECTS, json=project_payload(description=text))

    assert response.status_code == 201, response.text
    assert response.json()["data"]["description"] == text.strip()


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ("page=1&page=2", 2, 20),
        ("per_page=500&per_page=5", 1, 5),
        ("page=2&per_page=3&page=1", 1, 3),
    ],
)
def test_the_last_of_repeated_query_parameters_wins(
    client: httpx.Client, query: str, page: int, per_page: int
) -> None:
    response = client.get(f"{PROJECTS}?{query}")

    assert response.status_code == 200, response.text
    assert response.json()["meta"] | {"total": 0} == {
        "page": page,
        "per_page": per_page,
        "total": 0,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("per_page=5&per_page=500", "per_page"), ("page=0", "page"), ("status=bogus", "status")],
)
def test_bad_query_parameters_name_the_parameter(
    client: httpx.Client, query: str, field: str
) -> None:
    response = client.get(f"{PROJECTS}?{query}")

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize(
    "path",
    ["//api/v1/health/live", "/api//v1/health/live", "/api/v1//health/live", "/api/v1/projects//"],
)
def test_doubled_slashes_are_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(httpx.URL(f"http://testserver{path}"))

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


def chunks(size: int) -> Iterator[bytes]:
    """A JSON body sent in pieces, without Content-Length (Transfer-Encoding: chunked)."""
    payload = encoded(project_payload(description="d" * size))
    for start in range(0, len(payload), 512):
        yield payload[start : start + 512]


@pytest.mark.parametrize("settings_overrides", [{"max_body_size": 2048}])
def test_a_chunked_body_over_the_limit_is_too_large(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    response = client.post(PROJECTS, content=chunks(4096), headers=JSON)

    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("settings_overrides", [{"max_body_size": 2048}])
def test_a_chunked_body_within_the_limit_is_read_whole(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    response = client.post(PROJECTS, content=chunks(900), headers=JSON)

    assert response.status_code == 201, response.text
    assert response.json()["data"]["description"] == "d" * 900


@pytest.mark.parametrize("settings_overrides", [{"max_body_size": 2048}])
def test_a_declared_length_over_the_limit_is_too_large_on_any_route(
    client: httpx.Client, settings_overrides: dict[str, Any]
) -> None:
    response = client.request("GET", "/api/v1/health/live", content=b"x" * 4096)

    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def test_the_update_schema_has_no_null_default_for_a_field_that_refuses_null(
    client: httpx.Client,
) -> None:
    document = client.get("/openapi.json").json()
    for name, schema in document["components"]["schemas"].items():
        for field, field_schema in schema.get("properties", {}).items():
            if "default" in field_schema and field_schema["default"] is None:
                members = field_schema.get("anyOf", [field_schema])
                assert {"type": "null"} in members, (name, field, field_schema)
    update = document["components"]["schemas"]["ProjectUpdate"]["properties"]
    assert update["name"]["type"] == "string"
    assert "default" not in update["name"]
    assert "required" not in document["components"]["schemas"]["ProjectUpdate"]
