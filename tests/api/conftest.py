"""API fixtures: a project with documents, users with tokens, and bearer headers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from annotator.models import MemberRole, Passage, Project, ProjectMember, Role, User
from annotator.services import tokens
from tests.helpers import import_fixture


@dataclass
class ApiWorld:
    project: Project
    passage: Passage
    users: dict[str, User]
    headers: dict[str, dict[str, str]]


def bearer(session, user: User) -> dict[str, str]:
    _, secret = tokens.create_token(session, user, "tests")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_world(session, make_user) -> ApiWorld:
    import_fixture(session, "harbour.txt", "two.jsonl", project="study")
    project = session.scalar(select(Project).where(Project.name == "study"))
    passage = session.scalar(
        select(Passage)
        .where(Passage.project_id == project.id, Passage.claim_count > 1)
        .order_by(Passage.id)
        .limit(1)
    )
    users = {
        "reviewer": make_user("rita"),
        "curator": make_user("cora", Role.CURATOR),
        "outsider": make_user("otto"),
        "admin": make_user("adam", Role.ADMIN),
    }
    session.add_all(
        [
            ProjectMember(
                project_id=project.id, user_id=users["reviewer"].id, role=MemberRole.REVIEWER
            ),
            ProjectMember(
                project_id=project.id, user_id=users["curator"].id, role=MemberRole.CURATOR
            ),
        ]
    )
    session.commit()
    headers = {name: bearer(session, user) for name, user in users.items()}
    return ApiWorld(project, passage, users, headers)
