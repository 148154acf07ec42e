"""The outlet menu of the annotation page is cached per worker under a version that every
change of the registry moves: a rename, a new outlet, a merge. Needs real commits, so each
test has a database of its own (the suite's rolled-back transaction bypasses the cache)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from annotator.db import get_engine, get_session
from annotator.models import Outlet, Passage, Project
from annotator.services import accounts, outlets
from tests.conftest import PASSWORD
from tests.helpers import import_fixture, statements_sent


@pytest.fixture
def session(app_on_fresh_database: Flask) -> Iterator[Session]:
    outlets._MENUS.clear()
    with app_on_fresh_database.app_context():
        yield get_session()


def _version(session: Session) -> str:
    version = session.scalar(select(outlets.menu_version()))
    session.commit()
    assert version
    return version


def _menu(session: Session) -> tuple[tuple[outlets.OutletChoice, ...], int]:
    """The menu under the current version, and how many statements getting it sent."""
    version = _version(session)
    with statements_sent(get_engine()) as sent:
        menu = outlets.outlet_menu(session, version)
    return menu, len(sent)


def _names(menu: tuple[outlets.OutletChoice, ...]) -> set[str]:
    return {choice.name for choice in menu}


def test_the_menu_is_read_once_while_the_registry_is_unchanged(session):
    first, first_reads = _menu(session)
    again, later_reads = _menu(session)
    assert first_reads >= 1
    assert later_reads == 0
    assert again == first
    assert _names(first) == set(session.scalars(select(Outlet.name)))


def test_a_rename_shows_in_the_menu_at_once(session):
    _menu(session)
    reuters = session.scalar(select(Outlet).where(Outlet.name == "Reuters"))
    outlets.update_outlet(session, reuters, "Reuters News", reuters.homepage or "", "")
    assert reuters.version == 2
    menu, reads = _menu(session)
    assert reads >= 1
    assert "Reuters News" in _names(menu)
    assert "Reuters" not in _names(menu)


def test_a_new_outlet_and_a_merge_show_in_the_menu_at_once(session):
    _menu(session)
    created = outlets.create_outlet(session, "Novaya Gazeta Europe", "novayagazeta.eu")
    assert "Novaya Gazeta Europe" in _names(_menu(session)[0])
    target = session.scalar(select(Outlet).where(Outlet.name == "Reuters"))
    outlets.merge_outlets(session, created.id, target.id)
    assert "Novaya Gazeta Europe" not in _names(_menu(session)[0])


def test_an_edit_that_keeps_the_name_keeps_the_version(session):
    reuters = session.scalar(select(Outlet).where(Outlet.name == "Reuters"))
    before = _version(session)
    outlets.update_outlet(session, reuters, "Reuters", "reuters.com", "wire service")
    assert _version(session) == before


def test_the_cached_menu_expires(session, monkeypatch):
    _menu(session)
    monkeypatch.setattr(outlets._MENUS, "ttl_s", 0.0)
    assert _menu(session)[1] >= 1


def test_a_reviewers_page_shows_a_renamed_outlet_at_once(app_on_fresh_database, session):
    """Through the page: the first view fills the worker's menu, the rename moves its
    version, and the next view of the page reads the menu again."""
    import_fixture(session, "harbour.txt")
    accounts.create_user(session, "rita", PASSWORD)
    session.execute(update(Project).values(open_to_all=True))
    session.commit()
    passage_id = session.scalar(select(Passage.id).order_by(Passage.id))
    client = app_on_fresh_database.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    assert token, "the login form has a CSRF token"
    form = {"username": "rita", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=form).status_code == 302

    def page() -> str:
        reply = client.get(f"/passages/{passage_id}")
        assert reply.status_code == 200
        return reply.get_data(as_text=True)

    assert ">Reuters</option>" in page()
    assert page().count("<option") == len(outlets.list_outlets(session)) + 2
    reuters = session.scalar(select(Outlet).where(Outlet.name == "Reuters"))
    outlets.update_outlet(session, reuters, "Reuters Wire", reuters.homepage or "", "")
    renamed = page()
    assert ">Reuters Wire</option>" in renamed
    assert ">Reuters</option>" not in renamed
