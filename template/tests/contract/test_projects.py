"""The project resource over HTTP: every endpoint and its error paths."""

from typing import Any

import httpx
import pytest

from tests.factories import project_payload

PROJECTS = "/api/v1/projects"


def create(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post(PROJECTS, json=project_payload(**overrides))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_returns_the_project(client: httpx.Client) -> None:
    response = client.post(
        PROJECTS, json=project_payload(name="  Website   redesign ", budget=25_000)
    )

    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Project created"
    project = body["data"]
    assert project["name"] == "Website redesign"
    assert project["budget"] == 25_000
    assert project["status"] == "active"
    assert project["created_at"].endswith("Z") or project["created_at"].endswith("+00:00")
    assert set(project) == {
        "id",
        "name",
        "description",
        "status",
        "budget",
        "created_at",
        "updated_at",
    }


def test_create_with_a_taken_name_is_a_conflict(client: httpx.Client) -> None:
    create(client, name="Apollo")

    response = client.post(PROJECTS, json=project_payload(name="Apollo"))

    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == "CONFLICT"
    assert body["errors"] == {"name": ["This name is already taken."]}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": ""}, "name", "Name must not be empty."),
        ({"name": "   "}, "name", "Name must not be empty."),
        ({"name": "x" * 101}, "name", "Name must be at most 100 characters long."),
        (
            {"name": "drop table; --<script>"},
            "name",
            "Use only letters, digits, spaces and . , ' & ( ) - _ in a name.",
        ),
        ({"budget": 0}, "budget", "Budget must be greater than 0."),
        ({"budget": -500}, "budget", "Budget must be greater than 0."),
        ({"budget": 999_999_999_999}, "budget", "Budget must be at most 1,000,000,000."),
        ({"budget": "lots"}, "budget", "Input should be a valid integer."),
        (
            {"description": "d" * 1001},
            "description",
            "Description must be at most 1000 characters long.",
        ),
        ({"status": "deleted"}, "status", "Input should be 'active' or 'archived'."),
        ({"owner": "me"}, "owner", "This field is not allowed."),
    ],
)
def test_create_rejects_invalid_fields(
    client: httpx.Client, payload: dict[str, Any], field: str, message: str
) -> None:
    response = client.post(PROJECTS, json=project_payload(**payload))

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["errors"] == {field: [message]}


def test_create_requires_a_name(client: httpx.Client) -> None:
    response = client.post(PROJECTS, json={"budget": 10})

    assert response.status_code == 422
    assert response.json()["errors"] == {"name": ["This field is required."]}


def test_create_requires_a_body(client: httpx.Client) -> None:
    response = client.post(PROJECTS)

    assert response.status_code == 422
    # The whole body is at fault, not a field: the message says what to send.
    assert response.json()["message"] == "The request body is missing. Send a JSON object."
    assert response.json()["errors"] == {}


def test_get_returns_the_project(client: httpx.Client) -> None:
    created = create(client)

    response = client.get(f"{PROJECTS}/{created['id']}")

    assert response.status_code == 200
    assert response.json()["data"] == created


def test_get_unknown_project_is_not_found(client: httpx.Client) -> None:
    response = client.get(f"{PROJECTS}/4242")

    assert response.status_code == 404
    body = response.json()
    assert body["error_code"] == "NOT_FOUND"
    assert body["message"] == "No project with id 4242 exists."
    assert body["errors"] == {}


@pytest.mark.parametrize("project_id", ["abc", "0", "-1", "1.5", str(2**31)])
def test_get_with_an_invalid_id_is_a_validation_error(
    client: httpx.Client, project_id: str
) -> None:
    response = client.get(f"{PROJECTS}/{project_id}")

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["project_id"]


def test_list_is_paginated_newest_first(client: httpx.Client) -> None:
    names = [create(client)["name"] for _ in range(5)]

    first = client.get(PROJECTS, params={"page": 1, "per_page": 2})
    last = client.get(PROJECTS, params={"page": 3, "per_page": 2})
    beyond = client.get(PROJECTS, params={"page": 4, "per_page": 2})

    assert first.status_code == 200
    assert first.json()["meta"] == {"page": 1, "per_page": 2, "total": 5}
    assert [item["name"] for item in first.json()["data"]["items"]] == names[:-3:-1]
    assert [item["name"] for item in last.json()["data"]["items"]] == names[:1]
    assert beyond.json()["data"] == {"items": []}
    assert beyond.json()["meta"]["total"] == 5


def test_list_defaults(client: httpx.Client) -> None:
    response = client.get(PROJECTS)

    assert response.status_code == 200
    assert response.json()["meta"] == {"page": 1, "per_page": 20, "total": 0}
    assert response.json()["data"] == {"items": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": 100_001}, "page"),
        ({"page": "two"}, "page"),
        ({"status": "deleted"}, "status"),
    ],
)
def test_list_rejects_out_of_bounds_parameters(
    client: httpx.Client, params: dict[str, Any], field: str
) -> None:
    response = client.get(PROJECTS, params=params)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_list_filters_by_status(client: httpx.Client) -> None:
    active = create(client)
    archived = create(client, status="archived")

    response = client.get(PROJECTS, params={"status": "archived"})

    assert [item["id"] for item in response.json()["data"]["items"]] == [archived["id"]]
    assert response.json()["meta"]["total"] == 1
    response = client.get(PROJECTS, params={"status": "active"})
    assert [item["id"] for item in response.json()["data"]["items"]] == [active["id"]]


def test_update_changes_only_the_given_fields(client: httpx.Client) -> None:
    created = create(client, budget=100)

    response = client.patch(
        f"{PROJECTS}/{created['id']}", json={"status": "archived", "budget": 200}
    )

    assert response.status_code == 200
    project = response.json()["data"]
    assert response.json()["message"] == "Project updated"
    assert project["status"] == "archived"
    assert project["budget"] == 200
    assert project["name"] == created["name"]
    assert project["updated_at"] >= created["updated_at"]


def test_update_can_clear_optional_fields(client: httpx.Client) -> None:
    created = create(client)

    response = client.patch(
        f"{PROJECTS}/{created['id']}", json={"budget": None, "description": None}
    )

    assert response.status_code == 200
    assert response.json()["data"]["budget"] is None
    assert response.json()["data"]["description"] is None


def test_update_to_a_taken_name_is_a_conflict(client: httpx.Client) -> None:
    create(client, name="Gemini")
    other = create(client, name="Mercury")

    response = client.patch(f"{PROJECTS}/{other['id']}", json={"name": "Gemini"})

    assert response.status_code == 409
    assert response.json()["error_code"] == "CONFLICT"


def test_update_keeping_its_own_name_is_fine(client: httpx.Client) -> None:
    created = create(client, name="Vostok")

    response = client.patch(f"{PROJECTS}/{created['id']}", json={"name": "Vostok"})

    assert response.status_code == 200


@pytest.mark.parametrize("field", ["name", "status"])
def test_update_refuses_null_for_required_fields(client: httpx.Client, field: str) -> None:
    created = create(client)

    response = client.patch(f"{PROJECTS}/{created['id']}", json={field: None})

    assert response.status_code == 422
    assert response.json()["errors"] == {
        field: ["This field cannot be null. Leave it out to keep its value."]
    }


def test_update_unknown_project_is_not_found(client: httpx.Client) -> None:
    response = client.patch(f"{PROJECTS}/999", json={"budget": 5})

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


def test_delete_removes_the_project(client: httpx.Client) -> None:
    created = create(client)

    response = client.delete(f"{PROJECTS}/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (client.get(f"{PROJECTS}/{created['id']}")).status_code == 404


def test_delete_unknown_project_is_not_found(client: httpx.Client) -> None:
    response = client.delete(f"{PROJECTS}/999")

    assert response.status_code == 404
