"""Normalize OpenAPI documents so that two frameworks' documents of one API compare equal.

What is kept: every path and method, every parameter (name, place, requirement, schema),
request bodies and every response status with its schema. What is dropped: names and prose
(titles, descriptions, summaries, operation ids, tags, examples), which frameworks choose
differently, and `$ref` indirection, which is resolved in place, so that a schema named
`SuccessResponse_ProjectRead_` by one framework and otherwise by the other compares by shape.
"""

from typing import Any

PROSE = {"title", "description", "summary", "operationId", "tags", "examples", "example"}


def _resolve(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, schemas) for item in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)  # `minimum: 1.0` and `minimum: 1` say the same
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _resolve(schemas[node["$ref"].rsplit("/", 1)[-1]], schemas)
    resolved = {key: _resolve(value, schemas) for key, value in node.items() if key not in PROSE}
    if resolved.get("default", ...) is None:
        del resolved["default"]  # a null default says no more than the schema's null type
    if isinstance(resolved.get("required"), list):
        resolved["required"] = sorted(resolved["required"])
    return resolved


def normalize(document: dict[str, Any]) -> dict[str, Any]:
    """Operations keyed "METHOD /path", each with its parameters sorted and its refs resolved."""
    schemas = document.get("components", {}).get("schemas", {})
    operations = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            normalized = _resolve(operation, schemas)
            normalized["parameters"] = sorted(
                normalized.get("parameters", []),
                key=lambda parameter: (parameter["in"], parameter["name"]),
            )
            operations[f"{method.upper()} {path}"] = normalized
    return operations
