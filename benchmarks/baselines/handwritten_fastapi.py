"""The yardstick of FastAPI's authenticated reads, written by hand: async SQLAlchemy with the
render's async driver (asyncpg or aiosqlite) at `create_async_engine(url)`'s defaults, one
`async with sessions.begin()` per request, the bearer token decoded, the user loaded joined
with its sign-in session, then the owned project (or the first page of the owner's projects and
their count), returned through a pydantic response model. No middleware.

What the rendered service's `GET /api/v1/projects/{id}` and `GET /api/v1/projects` are compared
with. Served by uvicorn as the render's `serve` serves it; reads DATABASE_URL and SECRET_KEY.
"""

import os
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from handwritten_common import (
    ProjectEnvelope,
    ProjectPageEnvelope,
    User,
    first_page,
    owned_count,
    owned_project,
    page_envelope,
    project_envelope,
    signed_in_user,
    token_claims,
)

engine = create_async_engine(os.environ["DATABASE_URL"])
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()

Authorization = Annotated[str, Header()]


async def current_user(session: AsyncSession, authorization: str) -> User:
    claims = token_claims(authorization)
    user = None if claims is None else await session.scalar(signed_in_user(*claims))
    if user is None or not user.is_active:
        raise HTTPException(status_code=401)
    return user


@app.get("/projects/{project_id}", response_model=ProjectEnvelope)
async def read_project(project_id: int, authorization: Authorization) -> ProjectEnvelope:
    async with sessions.begin() as session:
        user = await current_user(session, authorization)
        project = await session.scalar(owned_project(user.id, project_id))
        if project is None:
            raise HTTPException(status_code=404)
        return project_envelope(project)


@app.get("/projects", response_model=ProjectPageEnvelope)
async def list_projects(authorization: Authorization) -> ProjectPageEnvelope:
    async with sessions.begin() as session:
        user = await current_user(session, authorization)
        total = await session.scalar(owned_count(user.id)) or 0
        projects = (await session.scalars(first_page(user.id))).all()
        return page_envelope(projects, total)
