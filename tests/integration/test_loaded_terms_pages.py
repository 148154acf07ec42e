"""The project's loaded terms marked on the annotation page and the document overview."""

from __future__ import annotations

import re

import pytest

from annotator.models import Project
from tests.helpers import harbour_study, passage_starting


@pytest.fixture
def study(session) -> Project:
    project = harbour_study(session, reviewers=("ann",), curators=())
    project.loaded_terms = "negotiation*\nwalked out\nstandoff\n<b>wage</b>\n"
    session.commit()
    return project


def marks(html: str) -> list[tuple[str, str]]:
    """(term, text) of every loaded-term mark, in order."""
    return re.findall(r'<mark class="loaded" title="Loaded term: ([^"]*)">(.*?)</mark>', html)


def test_the_annotation_page_marks_the_projects_terms(client, login, session, study):
    login("ann")
    passage = passage_starting(session, study, "Union leaders")
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert marks(html) == [("walked out", "walked out")]
    assert '<span class="badge loaded-badge"' in html
    assert "loaded terms: walked out</span>" in html
    lead_in = passage_starting(session, study, "The harbour strike")
    html = client.get(f"/passages/{lead_in.id}").get_data(as_text=True)
    assert marks(html) == [("negotiation*", "negotiations")]


def test_a_cue_and_a_term_on_the_same_words_are_both_marked(client, login, session, study):
    study.loaded_terms = "Reuters reports\n"
    session.commit()
    login("ann")
    passage = passage_starting(session, study, "The harbour strike")
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert (
        '<mark class="loaded" title="Loaded term: Reuters reports"><mark class="cue">Reuters'
        in html
    )


def test_the_document_overview_marks_them_too(client, login, session, study):
    login("ann")
    passage = passage_starting(session, study, "This looks like")
    html = client.get(f"/projects/{study.id}/documents/{passage.document_id}").get_data(True)
    assert marks(html) == [
        ("negotiation*", "negotiations"),
        ("walked out", "walked out"),
        ("standoff", "standoff"),
    ]


def test_terms_and_text_stay_inert(client, login, session, study):
    """A term is the admin's text and the passage the imported article's: both are escaped."""
    passage = passage_starting(session, study, "This looks like")
    passage.text = "They fought over the <b>wage</b> offer."
    session.commit()
    login("ann")
    html = client.get(f"/projects/{study.id}/documents/{passage.document_id}").get_data(True)
    assert marks(html)[-1] == ("&lt;b&gt;wage&lt;/b&gt;", "&lt;b&gt;wage&lt;/b&gt;")
    assert "<b>" not in html


@pytest.mark.parametrize("terms", ["", "ter*ror\n"], ids=["none", "unreadable"])
def test_no_list_or_a_list_that_no_longer_reads_marks_nothing(client, login, session, study, terms):
    study.loaded_terms = terms  # "ter*ror": written behind the settings page's back
    session.commit()
    login("ann")
    passage = passage_starting(session, study, "Union leaders")
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert marks(html) == []
    assert "loaded-badge" not in html
