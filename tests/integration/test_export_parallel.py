"""The CSV export writes pages on several connections at once: the output is the same, in the
same order, as page after page; a download cut short returns every connection."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import distinct, func, select

from annotator.db import get_engine, get_session
from annotator.models import Annotation, Claim, Passage, Role, User
from annotator.services import accounts, annotating, exporting
from annotator.services.annotating import TagSubmission
from annotator.services.exporting import ExportFilter
from tests.helpers import import_fixture
from tests.security.conftest import log_in_as

LABELS = ("reported", "quoted", "editorial")


@pytest.fixture
def tagged(app_on_fresh_database, monkeypatch):
    """Three documents, one export page each, with some passages tagged by two reviewers."""
    monkeypatch.setattr(exporting, "DOCUMENTS_PER_PAGE", 1)
    with app_on_fresh_database.app_context():
        session = get_session()
        report = import_fixture(session, "two.jsonl", "harbour.txt")
        assert len(report.imported) == 3
        reviewers = [
            accounts.create_user(session, name, "a-long-password") for name in ("ann", "=bob")
        ]
        passages = session.scalars(select(Passage).where(Passage.claim_count > 0)).all()
        for number, passage in enumerate(passages[::2]):
            for reviewer in reviewers:
                labels = {c.id: LABELS[(number + c.index) % 3] for c in passage.claims}
                submission = TagSubmission(labels, dict.fromkeys(labels, 0))
                annotating.save_passage(
                    session, session.get(User, reviewer.id), passage, submission
                )
    return app_on_fresh_database


def _export(app, monkeypatch, pages_at_once: int) -> str:
    monkeypatch.setattr(exporting, "CSV_PAGES_AT_ONCE", pages_at_once)
    with app.app_context():
        return b"".join(exporting.iter_csv(get_session(), ExportFilter(all_claims=True))).decode()


def test_pages_written_at_once_give_the_same_csv(tagged, monkeypatch):
    one_by_one = _export(tagged, monkeypatch, 1)
    at_once = _export(tagged, monkeypatch, 2)
    assert at_once == one_by_one
    rows = list(csv.DictReader(io.StringIO(at_once)))
    assert len({r["document_id"] for r in rows}) == 3  # three pages
    assert {r["reviewer"] for r in rows} == {"", "ann", "'=bob"}  # neutralised, as always
    with tagged.app_context():
        session = get_session()
        claims = session.scalar(select(func.count(Claim.id)))
        tagged_claims = session.scalar(select(func.count(distinct(Annotation.claim_id))))
    assert len(rows) == claims + tagged_claims  # untagged claims once, tagged ones per reviewer


def test_a_download_cut_short_returns_its_connections(tagged, monkeypatch):
    monkeypatch.setattr(exporting, "CSV_PAGES_AT_ONCE", 2)
    with tagged.app_context():
        session = get_session()
        assert exporting._engine_for_parallel_pages(session) is not None  # pages at once
        pool = get_engine().pool
        before = pool.checkedout()  # the context's own connection
        chunks = exporting.iter_csv(session, ExportFilter(all_claims=True))
        assert next(chunks).startswith(b"document_id,")
        assert next(chunks)  # the first page; the next ones are being written
        chunks.close()
        assert pool.checkedout() == before
    assert pool.checkedout() == 0


def test_a_web_download_returns_every_connection_done_or_cut_short(tagged):
    """Flask ends the request's context before it sends a streamed body: the stream takes
    the request's session over and returns its connection when it is done or cut short."""
    with tagged.app_context():
        boss = accounts.create_user(get_session(), "boss", "a-long-password", Role.ADMIN)
        pool = get_engine().pool
    client = tagged.test_client()
    log_in_as(client, boss)
    whole = client.get("/export/annotations.csv")
    assert whole.status_code == 200
    assert whole.get_data().startswith(b"document_id,")
    assert pool.checkedout() == 0
    cut = client.get("/export/annotations.csv", buffered=False)
    assert next(cut.response).startswith(b"document_id,")
    assert pool.checkedout() > 0
    cut.close()
    assert pool.checkedout() == 0
