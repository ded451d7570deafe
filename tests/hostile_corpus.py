"""A fixed corpus of hostile raw HTTP requests, built from a service's OpenAPI document.

Every operation of the document is sent requests that a client library would never write:
bad encodings, odd Unicode, extreme nesting and sizes, odd numbers, duplicate keys and query
parameters, odd methods, paths and headers, each with and without a valid bearer token where
the operation needs one. Nothing is random: the corpus is the same list, in the same order,
every time, so that two servers sent it reach the same state.

Values that differ between servers (tokens, the ids of the accounts and the project made for
the corpus) are placeholders such as `@@USER_TOKEN@@`, filled in per server by `Probe.request`.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

USER_TOKEN = b"@@USER_TOKEN@@"
ADMIN_TOKEN = b"@@ADMIN_TOKEN@@"
PROJECT_ID = b"@@PROJECT_ID@@"
VICTIM_ID = b"@@VICTIM_ID@@"  # an account that the corpus may delete
ADMIN_ID = b"@@ADMIN_ID@@"
USER_EMAIL = "corpus-user@example.com"
VICTIM_EMAIL = "corpus-victim@example.com"
ADMIN_EMAIL = "corpus-admin@example.com"
PASSWORD = "correct horse battery staple"  # noqa: S105 - the corpus's own test accounts

Headers = tuple[tuple[bytes, bytes], ...]
# Kinds of header probes: valid HTTP, invalid HTTP, over a server's limits.
OTHER, SYNTAX, LIMITS = "header.other", "http.syntax", "http.limits"
# Ordering: requests that delete what later requests use go last.
# Then methods in another case ("delete"): a server that takes them for their upper-case
# form would otherwise change what the rest of the corpus finds. Last of all, signing out, which
# ends the session of the corpus's user token.
KEEPS, DELETES_PROJECTS, DELETES_USERS, DELETES_ITSELF, ANOTHER_CASE, SIGNS_OUT = range(6)


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with what a request to it is made of."""

    method: str
    path: str  # the template, such as /api/v1/projects/{project_id}
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    body: Mapping[str, Any] | None  # the JSON schema of the body, references resolved
    secured: bool
    admin: bool  # declares 403: a user's token is not enough

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def fields(self) -> frozenset[str]:
        """Every name a client could send to it: parameters and (dotted) body fields."""
        return frozenset({*self.path_params, *self.query_params, *field_paths(self.body or {}, "")})


@dataclass(frozen=True)
class Probe:
    """One raw request of the corpus."""

    kind: str  # what it tries, for grouping failures: "body.number", "path.odd", ...
    label: str  # readable: "POST /api/v1/projects budget=1e400"
    method: bytes
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None
    # "length": Content-Length is added; "chunked": the body is sent in chunks; "raw": the
    # headers are sent as written (a body without any length, or a lying length).
    framing: str = "length"
    operation: Operation | None = None
    sent_fields: frozenset[str] = frozenset()
    keep_alive: bool = True  # False where the server may not read the whole request
    order: int = KEEPS
    twin: str = ""  # for HEAD: the label of the GET sent just before it
    version: bytes = b"HTTP/1.1"

    @property
    def head(self) -> bool:
        return self.method == b"HEAD"

    def request(self, values: Mapping[bytes, bytes]) -> bytes:
        """The request's bytes, with the placeholders replaced by one server's values."""

        def fill(text: bytes) -> bytes:
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            return text

        lines = [self.method + b" " + fill(self.target) + b" " + self.version]
        lines += [name + b": " + fill(value) for name, value in self.headers]
        body = b"" if self.body is None else fill(self.body)
        if self.framing == "length" and self.body is not None:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        if self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
            body = _chunked(body)
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _chunked(body: bytes, size: int = 16384) -> bytes:
    chunks = [body[start : start + size] for start in range(0, len(body), size)]
    framed = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks]
    return b"".join(framed) + b"0\r\n\r\n"


# The document


def _resolve(node: Any, document: Mapping[str, Any]) -> Any:
    """The node with every local `$ref` (`#/components/schemas/...`, `.../headers/...`) in place."""
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, document)
    return {key: _resolve(value, document) for key, value in node.items()}


def field_paths(schema: Mapping[str, Any], prefix: str) -> Iterator[str]:
    """The dotted names of a schema's properties, nested ones included."""
    for option in [schema, *schema.get("anyOf", []), *schema.get("allOf", [])]:
        for name, child in option.get("properties", {}).items():
            yield prefix + name
            yield from field_paths(child, f"{prefix}{name}.")
        if "items" in option:
            yield from field_paths(option["items"], prefix)


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI document, in its order."""
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            resolved = _resolve(operation, document)
            parameters = resolved.get("parameters", [])
            content = resolved.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    query_params=tuple(p["name"] for p in parameters if p["in"] == "query"),
                    body=body,
                    secured=bool(resolved.get("security", document.get("security"))),
                    admin="403" in resolved.get("responses", {}),
                )
            )
    return found


# Valid requests, which the probes spoil one part at a time

VALID_PATH_VALUES = {"project_id": PROJECT_ID, "user_id": VICTIM_ID}


def _path(operation: Operation, values: Mapping[str, bytes] | None = None) -> bytes:
    target = operation.path.encode()
    for name in operation.path_params:
        value = (values or {}).get(name, VALID_PATH_VALUES.get(name, b"1"))
        target = target.replace(b"{" + name.encode() + b"}", value)
    return target


def _token(operation: Operation) -> bytes:
    return ADMIN_TOKEN if operation.admin else USER_TOKEN


def _auth(operation: Operation) -> tuple[tuple[bytes, bytes], ...]:
    if not operation.secured:
        return ()
    return ((b"Authorization", b"Bearer " + _token(operation)),)


def _field_value(operation: Operation, name: str, schema: Mapping[str, Any], serial: int) -> Any:
    """A valid value of a body field; names and emails differ per request, so that requests
    that pass validation create new rows instead of running into a conflict."""
    login = operation.path.endswith("/login")
    by_name: dict[str, Any] = {
        "email": USER_EMAIL if login else f"corpus-{serial}@example.com",
        "password": PASSWORD,
        "name": f"Corpus {serial}",
        "description": "Made by the corpus.",
        "budget": 1000,
    }
    if name in by_name:
        return by_name[name]
    options = [schema, *schema.get("anyOf", [])]
    for option in options:
        if "enum" in option:
            return option["enum"][0]
    kinds = [option.get("type") for option in options]
    return {"integer": 1, "number": 1, "boolean": True}.get(str(kinds[0]), "Corpus")


def _valid_fields(operation: Operation, serial: int) -> dict[str, bytes]:
    """The body's fields as raw JSON values, by name."""
    properties = (operation.body or {}).get("properties", {})
    return {
        name: json.dumps(_field_value(operation, name, schema, serial)).encode()
        for name, schema in properties.items()
    }


def _object(pairs: list[tuple[str, bytes]]) -> bytes:
    members = [json.dumps(name).encode() + b": " + value for name, value in pairs]
    return b"{" + b", ".join(members) + b"}"


def _target_kind(kind: str, target: bytes | None) -> str:
    """A request target with raw non-ASCII bytes, or without its leading slash, is not HTTP:
    it is grouped with the other invalid requests, which the server answers by itself."""
    if target is None or (target.isascii() and target.startswith((b"/", b"*", b"http://"))):
        return kind
    return SYNTAX


def _keys_of(body: bytes | None) -> frozenset[str]:
    """The member names of a body that is a JSON object: fields the client sent."""
    try:
        parsed = json.loads(body or b"")
    except (ValueError, RecursionError):
        return frozenset()
    return frozenset(parsed) if isinstance(parsed, dict) else frozenset()


@dataclass
class Builder:
    """Makes the probes of one operation; `serial` numbers them for unique names."""

    operation: Operation
    serial: int = 0
    probes: list[Probe] = field(default_factory=list)

    def order(self) -> int:
        if self.operation.path.endswith("/logout"):
            return SIGNS_OUT
        if self.operation.method != "DELETE":
            return KEEPS
        return DELETES_USERS if "{user_id}" in self.operation.path else DELETES_PROJECTS

    def add(
        self,
        kind: str,
        what: str,
        *,
        target: bytes | None = None,
        headers: tuple[tuple[bytes, bytes], ...] | None = None,
        body: bytes | None = None,
        sent: frozenset[str] = frozenset(),
        **options: Any,
    ) -> None:
        self.serial += 1
        sent = sent | _keys_of(body)
        kind = _target_kind(kind, target)
        default_headers = ((b"Host", b"localhost"), *_auth(self.operation))
        if body is not None and headers is None:
            default_headers += ((b"Content-Type", b"application/json"),)
        probe = Probe(
            kind=kind,
            label=f"{self.operation.label} {what}",
            method=self.operation.method.encode(),
            target=_path(self.operation) if target is None else target,
            headers=default_headers if headers is None else headers,
            body=body,
            operation=self.operation,
            sent_fields=sent,
            order=self.order(),
        )
        self.probes.append(replace(probe, **options))

    def valid_body(self) -> bytes | None:
        if self.operation.body is None:
            return None
        return _object(list(_valid_fields(self.operation, self.serial + 1).items()))


# Odd values for one body field, as raw JSON text (some of it deliberately not JSON)

LONG = 10_000
ODD_STRINGS: list[tuple[str, bytes]] = [
    ("lone high surrogate", b'"abcdefgh\\ud800"'),
    ("lone low surrogate", b'"abcdefgh\\udfff"'),
    ("reversed surrogate pair", b'"abcdefgh\\udc00\\ud800"'),
    ("surrogate pair escaped", b'"abcdefgh\\ud83d\\ude00"'),
    ("NUL escaped", b'"abc\\u0000defgh"'),
    ("control characters escaped", b'"abc\\u0001\\u001f\\u007f\\u0085defgh"'),
    ("raw NUL (not JSON)", b'"abc\x00defgh"'),
    ("raw control character (not JSON)", b'"abc\x1fdefgh"'),
    ("raw tab and newline (not JSON)", b'"abc\tdef\ngh"'),
    ("right-to-left override", '"abc\u202edefgh"'.encode()),
    ("combining marks", '"e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301"'.encode()),
    ("emoji", '"\U0001f600\U0001f469\u200d\U0001f4bb\U0001f1fa\U0001f1f3 ok"'.encode()),
    ("zero-width and BOM characters", '"abc\u200b\u200d\ufeffdefgh"'.encode()),
    ("noncharacters", '"abc\ufffe\uffffdefgh"'.encode()),
    ("invalid UTF-8 byte", b'"abc\xffdefgh"'),
    ("truncated UTF-8 sequence", b'"abc\xe2\x82defgh"'),
    ("overlong UTF-8 slash", b'"abc\xc0\xafdefgh"'),
    ("overlong UTF-8 three bytes", b'"abc\xe0\x80\xafdefgh"'),
    ("UTF-8 encoded surrogate", b'"abc\xed\xa0\x80defgh"'),
    ("UTF-8 beyond U+10FFFF", b'"abc\xf4\x90\x80\x80defgh"'),
    ("Latin-1 byte", b'"caf\xe9 abcdefgh"'),
    ("empty string", b'""'),
    ("whitespace only", b'"   \\t\\n  "'),
    ("HTML", b'"<script>alert(1)</script>"'),
    ("long ASCII string", b'"' + b"a" * LONG + b'"'),
    ("long two-byte string", b'"' + "\u00e9".encode() * LONG + b'"'),
    ("long emoji string", b'"' + "\U0001f600".encode() * LONG + b'"'),
    ("long escaped string", b'"' + b"\\u0041" * LONG + b'"'),
    ("enum in capitals", b'"ACTIVE"'),
    ("enum with a space", b'"active "'),
]
ODD_NUMBERS: list[tuple[str, bytes]] = [
    ("1e400", b"1e400"),
    ("-1e400", b"-1e400"),
    ("-0", b"-0"),
    ("-0.0", b"-0.0"),
    ("0", b"0"),
    ("-1", b"-1"),
    ("1.0", b"1.0"),
    ("1.5", b"1.5"),
    ("1e2", b"1e2"),
    ("5000 digits", b"1" + b"0" * 4999),
    ("4301 digits", b"9" * 4301),
    ("2**63", str(2**63).encode()),
    ("-2**63-1", str(-(2**63) - 1).encode()),
    ("2**64", str(2**64).encode()),
    ("a long fraction", b"0." + b"1" * 5000),
    ("true", b"true"),
    ("false", b"false"),
    ('"5"', b'"5"'),
    ("NaN (not JSON)", b"NaN"),
    ("Infinity (not JSON)", b"Infinity"),
    ("-Infinity (not JSON)", b"-Infinity"),
    ("hexadecimal (not JSON)", b"0x10"),
    ("leading zero (not JSON)", b"01"),
    ("leading plus (not JSON)", b"+1"),
    ("bare fraction (not JSON)", b".5"),
    ("underscores (not JSON)", b"1_000"),
]
ODD_SHAPES: list[tuple[str, bytes]] = [
    ("null", b"null"),
    ("empty array", b"[]"),
    ("empty object", b"{}"),
    ("array of a string", b'["Corpus"]'),
    ("object", b'{"value": 1}'),
    ("array nested 33 deep", b"[" * 33 + b"]" * 33),
    ("object nested 33 deep", b'{"a": ' * 33 + b"1" + b"}" * 33),
    ("array nested 1000 deep", b"[" * 1000 + b"]" * 1000),
    ("object nested 1000 deep", b'{"a": ' * 1000 + b"1" + b"}" * 1000),
    ("unclosed array nested 50000 deep", b"[" * 50_000),
    ("array of 20000 numbers", b"[" + b"0," * 19_999 + b"0]"),
]


def _field_probes(builder: Builder) -> None:
    """Each field of the body, in turn, set to each odd value, and duplicated."""
    operation = builder.operation
    for name in _valid_fields(operation, 0):
        for group, values in (
            ("string", ODD_STRINGS),
            ("number", ODD_NUMBERS),
            ("shape", ODD_SHAPES),
        ):
            for what, value in values:
                fields = _valid_fields(operation, builder.serial + 1)
                fields[name] = value
                body = _object(list(fields.items()))
                builder.add(f"body.{group}", f"{name}={what}", body=body, sent=frozenset(fields))
        for what, pairs in _duplicates(operation, builder, name):
            sent = frozenset(pair[0] for pair in pairs)
            builder.add(
                "body.duplicate-key", f"{name} twice, {what}", body=_object(pairs), sent=sent
            )


def _duplicates(
    operation: Operation, builder: Builder, name: str
) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    fields = _valid_fields(operation, builder.serial + 1)
    others = [(key, value) for key, value in fields.items() if key != name]
    valid = fields[name]
    yield "the valid one last", [(name, b"null"), *others, (name, valid)]
    yield "the valid one first", [(name, valid), *others, (name, b"null")]
    yield "both valid", [(name, valid), *others, (name, valid)]
    yield "a string then a number", [(name, b'"5"'), *others, (name, b"5")]


def _whole_bodies(builder: Builder, max_body_size: int) -> Iterator[tuple[str, str, bytes]]:
    """(kind, what, body) of whole bodies: syntax, encodings, sizes."""
    valid = builder.valid_body() or b"{}"
    yield "body.syntax", "empty", b""
    yield "body.syntax", "whitespace only", b" \r\n\t "
    for what, body in [
        ("{}", b"{}"),
        ("null", b"null"),
        ("[]", b"[]"),
        ("a string", b'"text"'),
        ("a number", b"1"),
        ("true", b"true"),
        ("an array of the valid body", b"[" + valid + b"]"),
        ("truncated", valid[:-1]),
        ("missing value", b'{"a": }'),
        ("trailing comma", valid[:-1] + b", }"),
        ("single quotes", valid.replace(b'"', b"'")),
        ("a comment", b"/* comment */ " + valid),
        ("two documents", valid + valid),
        ("trailing garbage", valid + b" x"),
        ("unquoted key", b"{a: 1}"),
        ("NUL after the document", valid + b"\x00"),
        ("500 unknown keys", _object([(f"key{n}", b"1") for n in range(500)])),
        ("a key of 10000 characters", _object([("k" * LONG, b"1")])),
        ("a key with a lone surrogate", b'{"\\ud800": 1}'),
        ("a key with invalid UTF-8", b'{"\xff": 1}'),
        ("array nested 1000 deep", b"[" * 1000 + b"]" * 1000),
        ("object nested 1000 deep", b'{"a": ' * 1000 + b"1" + b"}" * 1000),
        ("object nested 32 deep", b'{"a": ' * 31 + b"1" + b"}" * 31),
        ("unclosed object nested 10000 deep", b'{"a": ' * 10_000),
    ]:
        yield "body.syntax", what, body
    yield from _encoded_bodies(valid)
    yield from _sized_bodies(builder, max_body_size)


def _encoded_bodies(valid: bytes) -> Iterator[tuple[str, str, bytes]]:
    text = valid.decode()
    for what, body in [
        ("UTF-8 with a BOM", b"\xef\xbb\xbf" + valid),
        ("UTF-16 little-endian with a BOM", text.encode("utf-16")),
        ("UTF-16 big-endian without a BOM", text.encode("utf-16-be")),
        ("UTF-32 with a BOM", text.encode("utf-32")),
        ("invalid UTF-8 between members", valid[:-1] + b', "\xff\xfe": 1}'),
        ("Latin-1 outside strings", b"\xa0" + valid),
    ]:
        yield "body.encoding", what, body


def _padded(builder: Builder, size: int) -> bytes:
    """A body of exactly `size` bytes: the valid body with a long field, or a long array."""
    operation = builder.operation
    fields = _valid_fields(operation, builder.serial + 1)
    strings = [
        name
        for name, value in fields.items()
        if value.startswith(b'"') and name not in ("email", "name")
    ]
    if not strings:
        return b"[" + b" " * (size - 2) + b"]"
    pairs = list(fields.items())
    target = strings[0]
    base = len(_object([(key, b'""' if key == target else value) for key, value in pairs]))
    filler = b'"' + b"a" * (size - base) + b'"'
    return _object([(key, filler if key == target else value) for key, value in pairs])


def _sized_bodies(builder: Builder, max_body_size: int) -> Iterator[tuple[str, str, bytes]]:
    for what, size in [
        ("one byte under MAX_BODY_SIZE", max_body_size - 1),
        ("exactly MAX_BODY_SIZE", max_body_size),
        ("one byte over MAX_BODY_SIZE", max_body_size + 1),
        ("four times MAX_BODY_SIZE", max_body_size * 4),
    ]:
        yield "body.size", what, _padded(builder, size)


def _body_probes(builder: Builder, max_body_size: int) -> None:
    operation = builder.operation
    json_type = (b"Content-Type", b"application/json")
    base = ((b"Host", b"localhost"), *_auth(operation))
    for kind, what, body in _whole_bodies(builder, max_body_size):
        big = len(body) > max_body_size
        builder.add(kind, what, body=body, keep_alive=not big)
    for what, size in [("one byte over", 1), ("four times", 3 * max_body_size)]:
        body = _padded(builder, max_body_size + size)
        builder.add(
            "body.size",
            f"chunked, {what} MAX_BODY_SIZE",
            body=body,
            framing="chunked",
            keep_alive=False,
        )
    builder.add("body.size", "chunked, small", body=builder.valid_body(), framing="chunked")
    lying = (*base, json_type, (b"Content-Length", str(max_body_size * 1000).encode()))
    builder.add(
        "body.size",
        "a Content-Length far over MAX_BODY_SIZE and no body",
        headers=lying,
        body=b"",
        framing="raw",
        keep_alive=False,
    )
    builder.add("body.syntax", "no body and no length", headers=(*base, json_type), body=None)
    if operation.secured:
        for kind, what, body in _whole_bodies(builder, max_body_size):
            if kind != "body.size":
                headers = ((b"Host", b"localhost"), json_type)
                builder.add(f"{kind}.anonymous", f"{what}, no token", headers=headers, body=body)


CONTENT_TYPES: list[tuple[str, list[bytes], Callable[[bytes], bytes]]] = [
    ("no Content-Type", [], lambda body: body),
    ("text/plain", [b"text/plain"], lambda body: body),
    ("text/plain; charset=utf-8", [b"text/plain; charset=utf-8"], lambda body: body),
    ("form-encoded JSON", [b"application/x-www-form-urlencoded"], lambda body: body),
    ("a form", [b"application/x-www-form-urlencoded"], lambda body: b"name=Corpus&budget=5"),
    ("multipart", [b"multipart/form-data; boundary=x"], lambda body: body),
    ("application/xml", [b"application/xml"], lambda body: b"<project/>"),
    ("charset=utf-8", [b"application/json; charset=utf-8"], lambda body: body),
    ("charset=UTF-8 quoted", [b'application/json; charset="UTF-8"'], lambda body: body),
    (
        "charset=utf-16 with a UTF-16 body",
        [b"application/json; charset=utf-16"],
        lambda body: body.decode().encode("utf-16"),
    ),
    ("charset=utf-16 with a UTF-8 body", [b"application/json; charset=utf-16"], lambda b: b),
    ("charset=latin-1", [b"application/json; charset=latin-1"], lambda body: body),
    ("an unknown charset", [b"application/json; charset=klingon"], lambda body: body),
    ("capitals", [b"APPLICATION/JSON"], lambda body: body),
    ("a +json type", [b"application/vnd.api+json"], lambda body: body),
    ("merge-patch+json", [b"application/merge-patch+json"], lambda body: body),
    ("application/jsonx", [b"application/jsonx"], lambda body: body),
    ("application/json-patch", [b"application/json-patch"], lambda body: body),
    ("*/*", [b"*/*"], lambda body: body),
    ("empty", [b""], lambda body: body),
    ("garbage", [b";;;==,,"], lambda body: body),
    ("a list", [b"application/json, text/plain"], lambda body: body),
    ("non-ASCII", [b"application/json; charset=\xc3\xa9"], lambda body: body),
    ("twice, both JSON", [b"application/json", b"application/json"], lambda body: body),
    ("twice, JSON then text", [b"application/json", b"text/plain"], lambda body: body),
    ("twice, text then JSON", [b"text/plain", b"application/json"], lambda body: body),
]


def _content_type_probes(builder: Builder) -> None:
    valid = builder.valid_body()
    if valid is None:
        return
    for what, types, encode in CONTENT_TYPES:
        headers = ((b"Host", b"localhost"), *_auth(builder.operation))
        headers += tuple((b"Content-Type", value) for value in types)
        builder.add(
            "header.content-type", f"Content-Type {what}", headers=headers, body=encode(valid)
        )


def _jwt(claims: Mapping[str, Any], key: bytes, algorithm: str = "HS256") -> bytes:
    def encode(part: bytes) -> bytes:
        return base64.urlsafe_b64encode(part).rstrip(b"=")

    header = encode(json.dumps({"alg": algorithm, "typ": "JWT"}).encode())
    payload = encode(json.dumps(claims).encode())
    signed = header + b"." + payload
    if algorithm == "none":
        return signed + b"."
    return signed + b"." + encode(hmac.new(key, signed, hashlib.sha256).digest())


FAR_FUTURE = 4_102_444_800  # 2100-01-01


def forged_tokens(secret: str, user_id: int, session_id: int) -> dict[bytes, bytes]:
    """Placeholders of tokens a client could forge or keep, for one server's user and the
    session of its token."""
    key = secret.encode()
    sub, sid = str(user_id), session_id
    return {
        b"@@EXPIRED_TOKEN@@": _jwt(
            {"sub": sub, "sid": sid, "iat": 1_000_000_000, "exp": 1_000_000_600}, key
        ),
        b"@@NONE_TOKEN@@": _jwt({"sub": sub, "sid": sid, "exp": FAR_FUTURE}, b"", "none"),
        b"@@WRONG_KEY_TOKEN@@": _jwt({"sub": sub, "sid": sid, "exp": FAR_FUTURE}, b"another key"),
        b"@@UNKNOWN_USER_TOKEN@@": _jwt({"sub": "2147483000", "sid": sid, "exp": FAR_FUTURE}, key),
        b"@@HUGE_SUB_TOKEN@@": _jwt({"sub": "9" * 400, "sid": sid, "exp": FAR_FUTURE}, key),
        b"@@TEXT_SUB_TOKEN@@": _jwt({"sub": "admin", "sid": sid, "exp": FAR_FUTURE}, key),
        b"@@UNICODE_SUB_TOKEN@@": _jwt({"sub": "\u0661", "sid": sid, "exp": FAR_FUTURE}, key),
        b"@@NUMBER_SUB_TOKEN@@": _jwt({"sub": user_id, "sid": sid, "exp": FAR_FUTURE}, key),
        b"@@NO_EXP_TOKEN@@": _jwt({"sub": sub, "sid": sid}, key),
        b"@@NO_SUB_TOKEN@@": _jwt({"sid": sid, "exp": FAR_FUTURE}, key),
        b"@@TEXT_EXP_TOKEN@@": _jwt({"sub": sub, "sid": sid, "exp": "tomorrow"}, key),
        b"@@NO_SID_TOKEN@@": _jwt({"sub": sub, "exp": FAR_FUTURE}, key),
        b"@@UNKNOWN_SID_TOKEN@@": _jwt({"sub": sub, "sid": 2147483000, "exp": FAR_FUTURE}, key),
        b"@@TEXT_SID_TOKEN@@": _jwt({"sub": sub, "sid": str(sid), "exp": FAR_FUTURE}, key),
        b"@@HUGE_SID_TOKEN@@": _jwt({"sub": sub, "sid": 10**400, "exp": FAR_FUTURE}, key),
    }


AUTHORIZATIONS: list[tuple[str, list[bytes]]] = [
    ("no Authorization", []),
    ("Bearer alone", [b"Bearer"]),
    ("Bearer and a space", [b"Bearer "]),
    ("Bearer garbage", [b"Bearer garbage"]),
    ("Bearer with three dots", [b"Bearer a.b.c"]),
    ("lower-case scheme", [b"bearer @@TOKEN@@"]),
    ("upper-case scheme", [b"BEARER @@TOKEN@@"]),
    ("two spaces", [b"Bearer  @@TOKEN@@"]),
    ("a tab", [b"Bearer\t@@TOKEN@@"]),
    ("token and more", [b"Bearer @@TOKEN@@ more"]),
    ("token with a trailing dot", [b"Bearer @@TOKEN@@."]),
    ("the token alone", [b"@@TOKEN@@"]),
    ("Basic", [b"Basic Y29ycHVzOnBhc3N3b3Jk"]),
    ("Token scheme", [b"Token @@TOKEN@@"]),
    ("non-ASCII token", [b"Bearer \xc3\xa9\xff"]),
    ("a token of 16 kB", [b"Bearer " + b"a" * 16384]),
    ("twice, valid then garbage", [b"Bearer @@TOKEN@@", b"Bearer garbage"]),
    ("twice, garbage then valid", [b"Bearer garbage", b"Bearer @@TOKEN@@"]),
    ("an expired token", [b"Bearer @@EXPIRED_TOKEN@@"]),
    ("alg none", [b"Bearer @@NONE_TOKEN@@"]),
    ("signed with another key", [b"Bearer @@WRONG_KEY_TOKEN@@"]),
    ("an unknown user", [b"Bearer @@UNKNOWN_USER_TOKEN@@"]),
    ("a 400-digit subject", [b"Bearer @@HUGE_SUB_TOKEN@@"]),
    ("a text subject", [b"Bearer @@TEXT_SUB_TOKEN@@"]),
    ("an Arabic-Indic digit subject", [b"Bearer @@UNICODE_SUB_TOKEN@@"]),
    ("a number subject", [b"Bearer @@NUMBER_SUB_TOKEN@@"]),
    ("no expiry", [b"Bearer @@NO_EXP_TOKEN@@"]),
    ("no subject", [b"Bearer @@NO_SUB_TOKEN@@"]),
    ("a text expiry", [b"Bearer @@TEXT_EXP_TOKEN@@"]),
    ("no session", [b"Bearer @@NO_SID_TOKEN@@"]),
    ("an unknown session", [b"Bearer @@UNKNOWN_SID_TOKEN@@"]),
    ("a text session", [b"Bearer @@TEXT_SID_TOKEN@@"]),
    ("a 401-digit session", [b"Bearer @@HUGE_SID_TOKEN@@"]),
]


def _authorization_probes(builder: Builder) -> None:
    operation = builder.operation
    if not operation.secured:
        return
    body = builder.valid_body()
    tokens = [("", _token(operation))]
    if operation.admin:
        tokens.append((", a user's token", USER_TOKEN))
    for what, values in AUTHORIZATIONS:
        for whose, token in tokens if b"@@TOKEN@@" in b"".join(values) else tokens[:1]:
            headers: Headers = ((b"Host", b"localhost"),)
            headers += tuple((b"Authorization", v.replace(b"@@TOKEN@@", token)) for v in values)
            if body is not None:
                headers += ((b"Content-Type", b"application/json"),)
            builder.add("header.authorization", what + whose, headers=headers, body=body)


PATH_VALUES: list[tuple[str, bytes]] = [
    ("0", b"0"),
    ("-1", b"-1"),
    ("-0", b"-0"),
    ("2**31-1", b"2147483647"),
    ("2**31", b"2147483648"),
    ("2**63", str(2**63).encode()),
    ("31 digits", b"1" + b"0" * 30),
    ("5000 digits", b"9" * 5000),
    ("text", b"abc"),
    ("1.0", b"1.0"),
    ("1e3", b"1e3"),
    ("+1", b"+1"),
    ("leading zero", b"01"),
    ("hexadecimal", b"0x1"),
    ("space before", b"%201"),
    ("space after", b"1%20"),
    ("Arabic-Indic one", b"%D9%A1"),
    ("full-width one", b"%EF%BC%91"),
    ("e acute", b"%C3%A9"),
    ("emoji", b"%F0%9F%92%A9"),
    ("raw UTF-8", b"\xc3\xa9"),
    ("encoded NUL", b"%00"),
    ("1 and an encoded NUL", b"1%00"),
    ("encoded slash", b"1%2F2"),
    ("encoded dots", b"%2e%2e"),
    ("invalid UTF-8 encoded", b"%FF"),
    ("bad percent escape", b"%ZZ"),
    ("null", b"null"),
    ("true", b"true"),
    ("a list", b"1,2"),
    ("brackets", b"%5B1%5D"),
]


def _path_probes(builder: Builder) -> None:
    operation = builder.operation
    if not operation.path_params:
        return
    body = builder.valid_body()
    builder.add("path.value", "with valid values", body=body)
    for name in operation.path_params:
        for what, value in PATH_VALUES:
            target = _path(operation, {name: value})
            builder.add("path.value", f"{name}={what}", target=target, body=body)
        empty = _path(operation, {name: b""})
        builder.add("path.value", f"{name} missing", target=empty, body=body)


QUERY_VALUES: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("0", b"0"),
    ("-1", b"-1"),
    ("1.0", b"1.0"),
    ("1e3", b"1e3"),
    ("1e400", b"1e400"),
    ("5000 digits", b"9" * 5000),
    ("2**63", str(2**63).encode()),
    ("text", b"abc"),
    ("true", b"true"),
    ("NaN", b"NaN"),
    ("space before", b"%201"),
    ("plus-encoded space", b"+1"),
    ("Arabic-Indic one", b"%D9%A1"),
    ("encoded NUL", b"%00"),
    ("invalid UTF-8 encoded", b"%FF"),
    ("bad percent escape", b"%ZZ"),
    ("raw UTF-8", b"\xc3\xa9"),
    ("lone surrogate encoded as UTF-8", b"%ED%A0%80"),
    ("a long value", b"a" * LONG),
    ("the enum's first value in capitals", b"ACTIVE"),
    ("an unknown word", b"bogus"),
]


def _query_probes(builder: Builder) -> None:
    operation = builder.operation
    path = _path(operation)
    body = builder.valid_body()
    for name in operation.query_params:
        key = name.encode()
        for what, value in QUERY_VALUES:
            target = path + b"?" + key + b"=" + value
            builder.add(
                "query.value", f"?{name}={what}", target=target, body=body, sent=frozenset({name})
            )
        for what, query in [
            ("twice, 1 then 2", key + b"=1&" + key + b"=2"),
            ("twice, 2 then 1", key + b"=2&" + key + b"=1"),
            ("twice, bad then 1", key + b"=abc&" + key + b"=1"),
            ("twice, 1 then bad", key + b"=1&" + key + b"=abc"),
            ("without a value", key),
            ("with brackets", key + b"[]=1"),
            ("after a semicolon", b"x=1;" + key + b"=2"),
            ("in capitals", name.upper().encode() + b"=1"),
        ]:
            builder.add(
                "query.duplicate",
                f"?{name} {what}",
                target=path + b"?" + query,
                body=body,
                sent=frozenset({name}),
            )
    for what, query in [
        ("unknown parameter", b"unknown=1"),
        ("empty", b""),
        ("ampersands only", b"&&&"),
        ("no name", b"=1"),
        ("invalid UTF-8 name", b"%FF=1"),
        ("a 10000-character query", b"q=" + b"a" * LONG),
        ("a fragment", b"#fragment"),
    ]:
        builder.add("query.extra", f"?{what}", target=path + b"?" + query, body=body)


HEADERS: list[tuple[str, list[tuple[bytes, bytes]], str]] = [
    # (what, extra headers, kind: valid HTTP, invalid HTTP, or over a server's limits)
    ("X-Request-ID of 10 kB", [(b"X-Request-ID", b"r" * LONG)], OTHER),
    ("a valid X-Request-ID", [(b"X-Request-ID", b"corpus-request-1")], OTHER),
    ("non-ASCII X-Request-ID", [(b"X-Request-ID", b"\xc3\xa9\xff")], OTHER),
    ("X-Request-ID with spaces", [(b"X-Request-ID", b"a b c")], OTHER),
    ("empty X-Request-ID", [(b"X-Request-ID", b"")], OTHER),
    ("X-Request-ID twice", [(b"X-Request-ID", b"one"), (b"X-Request-ID", b"two")], OTHER),
    ("Accept text/html", [(b"Accept", b"text/html")], OTHER),
    ("Accept application/xml only", [(b"Accept", b"application/xml")], OTHER),
    ("Accept-Encoding gzip", [(b"Accept-Encoding", b"gzip, br")], OTHER),
    ("Accept-Charset utf-16", [(b"Accept-Charset", b"utf-16")], OTHER),
    ("non-ASCII User-Agent", [(b"User-Agent", b"\xff\xfe agent \xc3\xa9")], OTHER),
    ("garbage Cookie", [(b"Cookie", b"=;;\xff=%;a")], OTHER),
    ("Origin of another site", [(b"Origin", b"https://evil.example")], OTHER),
    ("X-Forwarded-For", [(b"X-Forwarded-For", b"203.0.113.9, 198.51.100.7")], OTHER),
    ("X-HTTP-Method-Override DELETE", [(b"X-HTTP-Method-Override", b"DELETE")], OTHER),
    ("50 headers", [(f"X-Corpus-{n}".encode(), b"1") for n in range(50)], OTHER),
    ("Connection close", [(b"Connection", b"close")], OTHER),
    ("a header of 8 kB", [(b"X-Corpus", b"h" * 8192)], OTHER),
    ("a header of 64 kB", [(b"X-Corpus", b"h" * 65536)], LIMITS),
    ("200 headers", [(f"X-Corpus-{n}".encode(), b"1") for n in range(200)], LIMITS),
    ("a folded header", [(b"X-Corpus", b"one\r\n two")], SYNTAX),
    ("a space before the colon", [(b"X-Corpus ", b"1")], SYNTAX),
    ("a header name with a slash", [(b"X/Corpus", b"1")], SYNTAX),
]


def _header_probes(builder: Builder) -> None:
    operation = builder.operation
    body = builder.valid_body()
    base = [(b"Host", b"localhost"), *_auth(operation)]
    if body is not None:
        base.append((b"Content-Type", b"application/json"))
    for what, extra, kind in HEADERS:
        builder.add(kind, what, headers=(*base, *extra), body=body, keep_alive=kind == OTHER)
    host = [header for header in base if header[0] != b"Host"]
    for what, hosts in [("no Host", []), ("two Hosts", [b"a", b"b"]), ("odd Host", [b"\xff:x"])]:
        headers = (*[(b"Host", value) for value in hosts], *host)
        builder.add("http.syntax", what, headers=headers, body=body, keep_alive=False)
    if body is not None:
        expect = (*base, (b"Expect", b"100-continue"))
        builder.add("header.other", "Expect 100-continue", headers=expect, body=body)
        both = (*base, (b"Content-Length", str(len(body)).encode()))
        builder.add(
            "http.syntax",
            "Content-Length and chunked",
            headers=both,
            body=body,
            framing="chunked",
            keep_alive=False,
        )
        builder.add(
            "http.syntax",
            "a negative Content-Length",
            headers=(*base, (b"Content-Length", b"-1")),
            body=body,
            framing="raw",
            keep_alive=False,
        )


def operation_probes(operation: Operation, max_body_size: int) -> list[Probe]:
    """Every probe of one operation."""
    builder = Builder(operation)
    _path_probes(builder)
    _query_probes(builder)
    _authorization_probes(builder)
    _header_probes(builder)
    if operation.body is not None:
        _content_type_probes(builder)
        _body_probes(builder, max_body_size)
        _field_probes(builder)
    return builder.probes


METHODS = [b"HEAD", b"OPTIONS", b"TRACE", b"PROPFIND", b"PUT", b"PATCH", b"POST", b"DELETE"]


def _method_probes(path: str, allowed: list[Operation]) -> Iterator[Probe]:
    """Methods a path does not have, odd ones, and HEAD beside each GET."""
    operation = allowed[0]
    target = _path(operation)
    secured = any(op.secured for op in allowed)
    token = ADMIN_TOKEN if any(op.admin for op in allowed) else USER_TOKEN
    headers: Headers = ((b"Host", b"localhost"),)
    if secured:
        headers += ((b"Authorization", b"Bearer " + token),)
    have = {op.method.encode() for op in allowed}
    for method in [*METHODS, b"get", b"GeT", b"delete", b"CONNECT", b"M" * 300]:
        if method in have or (method == b"HEAD" and b"GET" in have):
            continue  # HEAD where GET is allowed: sent below, beside its GET
        another_case = not method.isupper() and method.upper() in have
        yield Probe(
            # A method in another case or of 300 letters: uvicorn's parser refuses it, granian
            # upper-cases it; either way the server decides, not the app.
            kind="method" if method.isupper() and len(method) < 20 else SYNTAX,
            label=f"{method[:20].decode()} {path}",
            method=method,
            target=target,
            headers=headers,
            operation=operation,
            order=ANOTHER_CASE if another_case else KEEPS,
            keep_alive=method.isupper() and len(method) < 20,
        )
    if b"GET" in have:
        for what, extra in [("", ()), (" without a token", None)]:
            sent = headers if extra is not None else headers[:1]
            get = Probe(
                kind="method.head",
                label=f"GET {path}{what}",
                method=b"GET",
                target=target,
                headers=sent,
                operation=operation,
            )
            yield get
            yield replace(get, method=b"HEAD", label=f"HEAD {path}{what}", twin=get.label)


ODD_PATHS: list[tuple[str, bytes]] = [
    ("double slash first", b"//api/v1/health/live"),
    ("double slash inside", b"/api/v1//health/live"),
    ("trailing slash", b"/api/v1/health/live/"),
    ("two trailing slashes", b"/api/v1/health/live//"),
    ("encoded trailing slash", b"/api/v1/health/live%2F"),
    ("encoded NUL at the end", b"/api/v1/health/live%00"),
    ("encoded letter", b"/api/v1/health/%6Cive"),
    ("capitals", b"/api/v1/health/LIVE"),
    ("capital prefix", b"/API/v1/health/live"),
    ("a dot segment", b"/api/v1/health/./live"),
    ("a dot-dot segment", b"/api/v1/health/../health/live"),
    ("encoded dot-dot", b"/api/v1/%2e%2e/v1/health/live"),
    ("dot-dot above the root", b"/../../api/v1/health/live"),
    ("a matrix parameter", b"/api/v1/health/live;x=1"),
    ("an empty query", b"/api/v1/health/live?"),
    ("a lone percent", b"/api/v1/health/live%"),
    ("a bad escape", b"/api/v1/health/live%zz"),
    ("invalid UTF-8 encoded", b"/api/v1/%FF"),
    ("raw UTF-8", b"/api/v1/\xc3\xa9"),
    ("raw invalid UTF-8", b"/api/v1/\xff"),
    ("an encoded lone surrogate", b"/api/v1/%ED%A0%80"),
    ("8000 characters", b"/api/v1/" + b"a" * 8000),
    ("an absolute URL", b"http://localhost/api/v1/health/live"),
    ("no leading slash", b"api/v1/health/live"),
    ("the root", b"/"),
    ("/api", b"/api"),
    ("/api/v1", b"/api/v1"),
    ("/api/v1/", b"/api/v1/"),
    ("another version", b"/api/v2/health/live"),
    ("a dot file", b"/.env"),
    ("a backslash", b"/api/v1\\health\\live"),
    ("an encoded backslash", b"/api/v1%5Chealth%5Clive"),
    ("encoded project id", b"/api/v1/projects/%31"),
    ("a project's sub-path", b"/api/v1/projects/1/extra"),
    ("/users/me with a trailing slash", b"/api/v1/users/me/"),
    ("/users/me in capitals", b"/api/v1/users/ME"),
    ("/users/me encoded", b"/api/v1/users/%6De"),
    ("/users/me and an encoded NUL", b"/api/v1/users/me%00"),
]


def _odd_path_probes() -> Iterator[Probe]:
    headers = ((b"Host", b"localhost"), (b"Authorization", b"Bearer " + USER_TOKEN))
    for what, target in ODD_PATHS:
        yield Probe(
            kind=_target_kind("path.odd", target),
            label=f"GET {target[:60]!r} ({what})",
            method=b"GET",
            target=target,
            headers=headers,
        )
    yield Probe(
        kind="path.odd", label="OPTIONS *", method=b"OPTIONS", target=b"*", headers=headers[:1]
    )
    yield Probe(
        kind="http.limits",
        label="a path of 70000 characters",
        method=b"GET",
        target=b"/api/v1/" + b"a" * 70_000,
        headers=headers[:1],
        keep_alive=False,
    )
    yield Probe(
        kind="http.syntax",
        label="HTTP/1.0",
        method=b"GET",
        target=b"/api/v1/health/live",
        version=b"HTTP/1.0",
        keep_alive=False,
    )


def corpus(found: list[Operation], *, max_body_size: int) -> list[Probe]:
    """The whole corpus for a service's operations, in the order it is sent. Bodies are sized
    for a MAX_BODY_SIZE of 64 KiB or more: only those of the size probes go over it."""
    probes: list[Probe] = list(_odd_path_probes())
    paths: dict[str, list[Operation]] = {}
    for operation in found:
        paths.setdefault(operation.path, []).append(operation)
    for path, allowed in paths.items():
        probes.extend(_method_probes(path, allowed))
    for operation in found:
        probes.extend(operation_probes(operation, max_body_size))
    admins = [op for op in found if op.method == "DELETE" and "{user_id}" in op.path]
    for operation in admins:  # an admin deleting their own account: refused
        target = _path(operation, {"user_id": ADMIN_ID})
        probes.append(
            Probe(
                kind="path.value",
                label=f"{operation.label} the admin's own id",
                method=b"DELETE",
                target=target,
                headers=((b"Host", b"localhost"), *_auth(operation)),
                operation=operation,
                order=DELETES_ITSELF,
            )
        )
    return sorted(probes, key=lambda probe: probe.order)  # stable: the order within stays
