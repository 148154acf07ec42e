"""A small seeded world for the access tests: one private project with an imported article and
one user per role, plus the ids every URL argument needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from annotator import create_app
from annotator.models import (
    Claim,
    Document,
    MemberRole,
    OutletAlias,
    Passage,
    Project,
    ProjectMember,
    Role,
    User,
)
from tests.conftest import PASSWORD

# Hashing once keeps a few hundred parametrized cases fast (scrypt is slow on purpose).
PASSWORD_HASH = generate_password_hash(PASSWORD)


@dataclass
class World:
    project: Project
    passage: Passage
    users: dict[str, User]
    url_values: dict[str, object]


def add_user(session: Session, username: str, role: str) -> User:
    user = User(username=username, password_hash=PASSWORD_HASH, role=role)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def world(session: Session) -> World:
    """Project "secret" (not open to all) with a two-passage document. ``reviewer`` and
    ``curator`` are members (with those project roles), ``outsider`` is a reviewer of no
    project, ``admin`` is a member of nothing (admins see everything), ``target`` is another
    member that user-changing routes act on. Rows are built directly (not through the
    importer) to keep a few hundred cases fast."""
    project = Project(name="secret")
    session.add(project)
    session.flush()
    document = Document(
        project_id=project.id, external_id="d-1", title="Strike ends", content_hash="0"
    )
    texts = ("Strike ends (Reuters)", "Talks resumed. Workers said yes.")
    passages = [
        Passage(project_id=project.id, document=document, index=i, text=text, role="author")
        for i, text in enumerate(texts)
    ]
    spans = ((0, 14, "reported", "r"), (15, 32, "quoted", "q"))
    passages[1].claims = [
        Claim(index=i, start=start, end=end, text=texts[1][start:end], suggested_label=label,
              suggestion_reason=reason)
        for i, (start, end, label, reason) in enumerate(spans)
    ]  # fmt: skip
    passages[1].claim_count = 2
    document.open_passages = 1
    session.add_all([document, *passages])
    users = {
        "reviewer": add_user(session, "rita", Role.REVIEWER),
        "curator": add_user(session, "cora", Role.CURATOR),
        "outsider": add_user(session, "otto", Role.REVIEWER),
        "admin": add_user(session, "adam", Role.ADMIN),
        "target": add_user(session, "tess", Role.REVIEWER),
    }
    for name, role in (("reviewer", "reviewer"), ("curator", "curator"), ("target", "reviewer")):
        session.add(ProjectMember(project=project, user=users[name], role=MemberRole(role)))
    session.commit()
    return World(project, passages[1], users, _url_values(session, project, passages[1], users))


def _url_values(
    session: Session, project: Project, passage: Passage, users: dict[str, User]
) -> dict[str, object]:
    """A real value for every URL argument in the map; a new argument name needs one here."""
    alias = session.scalar(select(OutletAlias).order_by(OutletAlias.id))
    assert alias is not None, "the outlet registry is seeded"
    claim = session.scalar(select(Claim).where(Claim.passage_id == passage.id))
    document = session.get(Document, passage.document_id)
    return {
        "project_id": project.id,
        "passage_id": passage.id,
        "document_id": document.id if document else 0,
        "claim_id": claim.id if claim else 0,
        "user_id": users["target"].id,
        "outlet_id": alias.outlet_id,
        "alias_id": alias.id,
        "fmt": "csv",
        "table": "by-outlet",
        "filename": "css/app.css",
        "token_id": _token_of(session, users["reviewer"]),
    }


def _token_of(session: Session, user: User) -> int:
    """An API token of the reviewer member (revoking it is for its owner only)."""
    from annotator.services import tokens

    token, _ = tokens.create_token(session, user, "url values")
    return token.id


def log_in_as(client: FlaskClient, user: User | None) -> None:
    """Put ``user`` in the client's session the way Flask-Login does, without the (slow)
    password check; ``None`` stays anonymous."""
    if user is None:
        return
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = user.get_id()
        flask_session["_fresh"] = True


@pytest.fixture
def configured_app(app: Flask) -> Callable[..., Flask]:
    """Build another app with config overrides that shares the test's rolled-back
    connection (and so the test's data) with the ``app`` fixture."""

    def build(**overrides: Any) -> Flask:
        other = create_app({**app.config, **overrides})
        other.extensions["annotator.sessionmaker"] = app.extensions["annotator.sessionmaker"]
        other.extensions["annotator.engine"] = app.extensions["annotator.engine"]
        return other

    return build
