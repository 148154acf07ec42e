"""Small helpers shared by the integration and browser tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from annotator.db import Base
from annotator.models import Claim, Document, MemberRole, Passage, Project, Role
from annotator.services import accounts, projects
from annotator.services.importing import ImportReport, import_files
from tests.conftest import PASSWORD

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"


def import_fixture(session: Session, *names: str, project: str = "default") -> ImportReport:
    files = [(name, (FIXTURES / name).read_bytes()) for name in names]
    return import_files(session, files, project)


def harbour_study(session: Session, reviewers: Sequence[str], curators: Sequence[str]) -> Project:
    """The harbour article in a project "study" whose members are these reviewers and
    curators (new accounts with the tests' password), and an admin "boss" outside it."""
    import_fixture(session, "harbour.txt", project="study")
    study = session.scalar(select(Project).where(Project.name == "study"))
    assert study is not None
    for names, role in ((reviewers, MemberRole.REVIEWER), (curators, MemberRole.CURATOR)):
        for name in names:
            user = accounts.create_user(session, name, PASSWORD, Role.REVIEWER)
            projects.add_member(session, study, user, role)
    accounts.create_user(session, "boss", PASSWORD, Role.ADMIN)
    session.commit()
    return study


def passage_starting(session: Session, project: Project, words: str) -> Passage:
    """The project's passage whose text starts with ``words``, read afresh."""
    session.expire_all()
    passage = session.scalar(
        select(Passage).where(Passage.project_id == project.id, Passage.text.startswith(words))
    )
    assert passage is not None, words
    return passage


def table_rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    session.expire_all()
    return {
        table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
        for table in Base.metadata.sorted_tables
    }


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> tuple[int, int, int]:
    return count(session, Document), count(session, Passage), count(session, Claim)


def passage_with_most_claims(session: Session) -> Passage:
    passage = session.scalar(
        select(Passage)
        .where(Passage.claim_count > 0)
        .order_by(Passage.claim_count.desc(), Passage.id)
        .limit(1)
    )
    assert passage is not None
    return passage


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database while the block runs, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "after_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(engine, "after_cursor_execute", listener)
