"""Small helpers shared by the integration and browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from annotator.models import Claim, Document, Passage
from annotator.services.importing import ImportReport, import_files

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"


def import_fixture(session: Session, *names: str, project: str = "default") -> ImportReport:
    files = [(name, (FIXTURES / name).read_bytes()) for name in names]
    return import_files(session, files, project)


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
