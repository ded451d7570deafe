"""What the two hand-written yardsticks share: the tables they read, the token they accept,
their queries and their response models. Written as a developer would write them by hand for
one endpoint, without the render's layers.

The tables are those the render's migrations created (the benchmark points both yardsticks at
the render's own database); only the columns these reads need are mapped. A bearer token is
the render's: HS256 with its SECRET_KEY, naming a user (`sub`) and a sign-in session (`sid`).
The user is loaded joined with that session, as the render's repository loads it, so that a
revoked session or a deactivated user is refused here too and the comparison is fair.
"""

import os
from collections.abc import Sequence
from datetime import datetime

import jwt
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, Select, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SECRET_KEY = os.environ["SECRET_KEY"]
PER_PAGE = 20  # the render's default page size; its list is newest first


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    is_active: Mapped[bool]


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str]
    budget: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    status: str
    budget: int | None
    created_at: datetime
    updated_at: datetime


class ProjectEnvelope(BaseModel):
    """The same shape as the render's answer, so that both send about as many bytes."""

    status: str
    status_code: int
    message: str
    data: ProjectOut


class ProjectItems(BaseModel):
    items: list[ProjectOut]


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int


class ProjectPageEnvelope(BaseModel):
    status: str
    status_code: int
    message: str
    data: ProjectItems
    meta: PageMeta


def token_claims(authorization: str) -> tuple[int, int] | None:
    """The user id and session id of a valid `Bearer` token, or None."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(
            token, SECRET_KEY, algorithms=["HS256"], options={"require": ["exp", "sub", "sid"]}
        )
    except jwt.InvalidTokenError:
        return None
    return int(claims["sub"]), int(claims["sid"])


def signed_in_user(user_id: int, session_id: int) -> Select[User]:
    """The user, if this session of theirs is live (one query, as the render's)."""
    return (
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
    )


def owned_project(owner_id: int, project_id: int) -> Select[Project]:
    return select(Project).where(Project.id == project_id, Project.owner_id == owner_id)


def first_page(owner_id: int) -> Select[Project]:
    return (
        select(Project)
        .where(Project.owner_id == owner_id)
        .order_by(Project.id.desc())
        .limit(PER_PAGE)
    )


def owned_count(owner_id: int) -> Select[int]:
    return select(func.count()).select_from(Project).where(Project.owner_id == owner_id)


def project_envelope(project: Project) -> ProjectEnvelope:
    data = ProjectOut.model_validate(project)
    return ProjectEnvelope(
        status="success", status_code=200, message="Project retrieved", data=data
    )


def page_envelope(projects: Sequence[Project], total: int) -> ProjectPageEnvelope:
    items = [ProjectOut.model_validate(project) for project in projects]
    return ProjectPageEnvelope(
        status="success",
        status_code=200,
        message="Projects retrieved",
        data=ProjectItems(items=items),
        meta=PageMeta(page=1, per_page=PER_PAGE, total=total),
    )
