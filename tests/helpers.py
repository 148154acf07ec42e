"""Small helpers shared by the integration and browser tests."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from annotator.db import Base
from annotator.models import (
    Claim,
    Document,
    FinalLabel,
    MemberRole,
    Outlet,
    Passage,
    Project,
    Role,
)
from annotator.services import accounts, projects, readers
from annotator.services.importing import ImportReport, import_files
from annotator.services.records import ImportFileError
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


TWO_SITES = [
    {"id": "hw-1", "title": "Strike talks stall", "site": "Harbour Watch",
     "published": "2026-03-02",
     "text": "Reuters reports that negotiations broke down overnight:\n\n"
             "> Union leaders walked out of the talks, Reuters said.\n\n"
             "This looks like a standoff that neither side can afford."},
    {"id": "hw-2", "title": "Strike week two", "site": "Harbour Watch",
     "published": "early March",
     "text": "From Reuters:\n\n> The port authority raised its offer on Friday.\n\n"
             "A sign that the pressure works."},
    {"id": "pd-1", "title": "Port reopens", "site": "Port Digest",
     "published": "Fri, 10 Apr 2026 09:00:00 +0000",
     "text": "The Associated Press reports:\n\n> Ships returned to the harbour on Monday.\n\n"
             "Reuters reports:\n\n> The union accepted the offer.\n\nFinally some good news."},
]  # fmt: skip


def two_site_study(session: Session) -> Project:
    """A project "study" of three documents of two sites; every claim of an excerpt settled:
    Harbour Watch's Reuters excerpts as editorial, Port Digest's as reported, AP's as quoted.
    One of Harbour Watch's documents gives a publication date that names no day."""
    data = "\n".join(json.dumps(document) for document in TWO_SITES).encode()
    import_files(session, [("study.jsonl", data)], "study")
    project = session.scalar(select(Project).where(Project.name == "study"))
    assert project is not None
    settled = {"Harbour Watch": "editorial", "Port Digest": "reported"}
    excerpts = session.execute(
        select(Claim.id, Document.site, Outlet.name)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .join(Outlet, Outlet.id == Passage.outlet_id)
        .where(Passage.project_id == project.id, Passage.role == "excerpt")
    ).all()
    assert len(excerpts) == 4, excerpts
    for claim_id, site, outlet in excerpts:
        label = "quoted" if outlet == "AP" else settled[site]
        session.add(FinalLabel(claim_id=claim_id, project_id=project.id, label=label))
    session.commit()
    return project


TERMS_STUDY = [
    {"id": "a-1", "title": "Night of shelling", "site": "Blog A", "published": "2026-03-01",
     "text": "Tass reports:\n\n> The special military operation continues, the ministry said.\n\n"
             "> Kyiv's neo-Nazis shelled the town.\n\nThe so-called operation is a war."},
    {"id": "b-1", "title": "Power cut", "site": "Blog B", "published": "2026-04-01",
     "text": "Reuters reports:\n\n> The regime cut the power, officials said.\n\n"
             "> Shops opened on Monday.\n\nA quiet day."},
]  # fmt: skip
TERMS_SETTLED = {
    "The special military operation continues, the ministry said.": "quoted",
    "Kyiv's neo-Nazis shelled the town.": "reported",
    "The regime cut the power, officials said.": "quoted",
    "Shops opened on Monday.": "reported",
    "The so-called operation is a war.": "editorial",
    "A quiet day.": "editorial",
}


def terms_study(session: Session) -> Project:
    """A project "terms" watching five loaded terms, with a Tass article on Blog A and a
    Reuters one on Blog B; every claim of their passages settled (``TERMS_SETTLED``)."""
    data = "\n".join(json.dumps(document) for document in TERMS_STUDY).encode()
    import_files(session, [("terms.jsonl", data)], "terms")
    project = session.scalar(select(Project).where(Project.name == "terms"))
    assert project is not None
    project.loaded_terms = "special military operation\nregime\nneo-Nazi*\nso-called\ngenocide\n"
    claims = session.scalars(
        select(Claim).join(Passage).where(Passage.project_id == project.id)
    ).all()
    for claim in claims:
        if claim.text in TERMS_SETTLED:
            label = TERMS_SETTLED[claim.text]
            session.add(FinalLabel(claim_id=claim.id, project_id=project.id, label=label))
    session.commit()
    return project


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


def word_document(*paragraphs: tuple[str, str | None]) -> bytes:
    """A .docx whose body holds these (text, style) paragraphs; style None is Normal."""
    import docx

    document = docx.Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


STRIKE_DOCX_PARAGRAPHS: tuple[tuple[str, str | None], ...] = (
    ("Port strike ends after talks", "Title"),
    ("The strike is over, and not a day too soon.", None),
    ("The Kyiv Independent reports:", None),
    ("Dock workers returned to work on Monday, the union said.", "Quote"),
    ("Shipping lines expect traffic to recover within a week.", "Quote"),
    ("I doubt the deal will hold.", None),
)


def refusal_of(filename: str, data: bytes) -> str | None:
    """Why the file is refused (the ImportFileError's message), or None when it is read."""
    try:
        readers.read_records(filename, data)
    except ImportFileError as error:
        return str(error)
    return None


def damaged_copies(data: bytes, most: int) -> st.SearchStrategy[bytes]:
    """Copies of the bytes with up to ``most`` of them changed to any value."""
    changes = st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), max_size=most)

    def apply(pairs: list[tuple[int, int]]) -> bytes:
        copy = bytearray(data)
        for position, value in pairs:
            copy[position] = value
        return bytes(copy)

    return changes.map(apply)


def fingerprint(session: Session, leaving_out: Collection[str] = ()) -> str:
    """A digest of every row of every table but those named in ``leaving_out``, as this
    connection sees them."""
    digest = hashlib.sha256()
    session.expire_all()
    for table in Base.metadata.sorted_tables:
        if table.name in leaving_out:
            continue
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()
