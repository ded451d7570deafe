"""The yardstick of Flask's authenticated reads, written by hand: sync SQLAlchemy with the
render's sync driver (psycopg or pysqlite) at `create_engine(url)`'s defaults, one
`with sessions.begin()` per request, the bearer token decoded, the user loaded joined with its
sign-in session, then the owned project (or the first page of the owner's projects and their
count), serialized by a pydantic model. No middleware.

What the rendered service's `GET /api/v1/projects/{id}` and `GET /api/v1/projects` are compared
with. Served by granian with the options of the render's `serve`; reads DATABASE_URL and
SECRET_KEY.
"""

import os

from flask import Flask, Response, abort, request
from pydantic import BaseModel
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from handwritten_common import (
    User,
    first_page,
    owned_count,
    owned_project,
    page_envelope,
    project_envelope,
    signed_in_user,
    token_claims,
)

engine = create_engine(os.environ["DATABASE_URL"])
sessions = sessionmaker(engine, expire_on_commit=False)
app = Flask(__name__)


def current_user(session: Session) -> User:
    claims = token_claims(request.headers.get("Authorization", ""))
    user = None if claims is None else session.scalar(signed_in_user(*claims))
    if user is None or not user.is_active:
        abort(401)
    return user


def json_response(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), mimetype="application/json")


@app.get("/projects/<int:project_id>")
def read_project(project_id: int) -> Response:
    with sessions.begin() as session:
        user = current_user(session)
        project = session.scalar(owned_project(user.id, project_id))
        if project is None:
            abort(404)
        return json_response(project_envelope(project))


@app.get("/projects")
def list_projects() -> Response:
    with sessions.begin() as session:
        user = current_user(session)
        total = session.scalar(owned_count(user.id)) or 0
        projects = session.scalars(first_page(user.id)).all()
        return json_response(page_envelope(projects, total))
