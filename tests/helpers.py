"""Small helpers shared by the integration and browser tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
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
