"""The loaded terms of a project's passages, kept by each process between requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from annotator.db import get_engine, get_session, streamed_rows
from annotator.models import Document, Passage, Project
from annotator.services import deleting, term_hits
from annotator.services.importing import import_files
from tests.helpers import statements_sent, terms_study


@pytest.fixture
def session(app_on_fresh_database: Flask) -> Iterator[Session]:
    term_hits.forget_hits()
    with app_on_fresh_database.app_context():
        session = get_session()
        terms_study(session)
        yield session


def _project(session: Session) -> Project:
    project = session.scalar(select(Project).where(Project.name == "terms"))
    assert project is not None
    return project


def _read(session: Session) -> tuple[dict[str, set[str]], int]:
    """The terms found, by passage text, and how many times getting them read the texts."""
    with statements_sent(get_engine()) as sent:
        hits = term_hits.passage_hits(session, _project(session))
    texts = dict(session.execute(select(Passage.id, Passage.text)).all())
    session.commit()
    found = {texts[passage]: {hit.term for hit in found} for passage, found in hits.items()}
    return found, sum("passages.text" in sql for sql, _ in sent)


def test_the_passages_holding_terms_are_read_once_while_nothing_changes(session):
    first, first_reads = _read(session)
    assert first == {
        "The special military operation continues, the ministry said.": {
            "special military operation"
        },
        "Kyiv's neo-Nazis shelled the town.": {"neo-Nazi*"},
        "The so-called operation is a war.": {"so-called"},
        "The regime cut the power, officials said.": {"regime"},
    }
    again, later_reads = _read(session)
    assert (again, first_reads, later_reads) == (first, 1, 0)


def test_the_texts_are_streamed_in_batches_by_one_query(session, monkeypatch):
    whole, _ = _read(session)
    term_hits.forget_hits()
    monkeypatch.setattr(term_hits, "TEXTS_PER_BATCH", 2)
    assert _read(session) == (whole, 1)


def test_streamed_rows_come_in_batches_from_a_cursor_the_database_keeps(session):
    texts = select(Passage.id, Passage.text).order_by(Passage.id)
    every = [tuple(row) for row in session.execute(texts)]
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    cursors = text("SELECT count(*) FROM pg_cursors")
    before = session.scalar(cursors) if on_postgresql else None
    batches = streamed_rows(session, texts, 2)
    first = next(batches)
    if on_postgresql:
        assert session.scalar(cursors) == before + 1
    rest = [tuple(row) for batch in batches for row in batch]
    assert len(first) == 2
    assert [tuple(row) for row in first] + rest == every
    assert len(every) > 4
    assert "stream_results" not in session.connection().get_execution_options()


def test_an_import_and_a_new_list_show_at_once(session):
    _read(session)
    more = {"id": "b-2", "title": "The genocide question", "text": "Experts disagree."}
    import_files(session, [("more.jsonl", json.dumps(more).encode())], "terms")
    after, reads = _read(session)
    assert reads == 1
    assert after["The genocide question"] == {"genocide"}
    _project(session).loaded_terms = "question\n"
    session.commit()
    changed, reads = _read(session)
    assert (changed, reads) == ({"The genocide question": {"question"}}, 1)


def test_deleting_a_document_shows_at_once(session):
    _read(session)
    first = session.scalar(select(Document.id).where(Document.external_id == "a-1"))
    deleting.delete_document(session, first)
    after, reads = _read(session)
    assert reads == 1
    assert after == {"The regime cut the power, officials said.": {"regime"}}
