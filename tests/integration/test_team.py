"""Team annotation through the test client: isolation, overlap, reservations, skip, unsure,
notes, history, undo and stale saves."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from annotator.models import (
    Annotation,
    Change,
    Document,
    MemberRole,
    Passage,
    Project,
    Review,
    User,
    utcnow,
)
from annotator.services import annotating, projects, queue
from annotator.services import dashboard as dashboard_service
from annotator.services.importing import import_files
from tests.helpers import import_fixture


@pytest.fixture
def study(session, make_user):
    """A closed project with two documents and overlap 2, plus three members and an outsider."""
    import_fixture(session, "two.jsonl", "harbour.txt", project="study")
    project = session.scalar(select(Project).where(Project.name == "study"))
    members = {name: make_user(name) for name in ("ann", "bob", "cat")}
    for user in members.values():
        projects.add_member(session, project, user, MemberRole.REVIEWER)
    make_user("outsider")
    return project


def passage_id_of(response) -> int:
    return int(re.search(r"/passages/(\d+)", response.request.path).group(1))


def take_next(client, project) -> int | None:
    response = client.get(f"/projects/{project.id}/next", follow_redirects=True)
    if not response.request.path.startswith("/passages/"):
        return None
    return passage_id_of(response)


def complete(client, session, passage_id, label="reported"):
    passage = session.get(Passage, passage_id)
    session.refresh(passage)
    labels = {str(c.id): label for c in passage.claims}
    versions = {
        str(a.claim_id): a.version
        for a in session.scalars(
            select(Annotation).where(Annotation.claim_id.in_([c.id for c in passage.claims]))
        )
        if a.user.username == current_username(client)
    }
    response = client.post(f"/passages/{passage_id}", json={"labels": labels, "versions": versions})
    assert response.status_code == 200, response.json
    return response


def current_username(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r"Hello, ([^<]+)</h1>", page).group(1)


def test_reviewer_sees_only_their_projects(client, login, session, study):
    login("outsider")
    home = client.get("/").get_data(as_text=True)
    assert "study" not in home
    assert client.get(f"/projects/{study.id}/next").status_code == 404
    passage = session.scalars(select(Passage).where(Passage.project_id == study.id)).first()
    assert client.get(f"/passages/{passage.id}").status_code == 404
    body = {"labels": {str(passage.claims[0].id): "quoted"}}
    assert client.post(f"/passages/{passage.id}", json=body).status_code == 404
    assert client.get(f"/projects/{study.id}/dashboard").status_code == 404
    assert session.scalar(select(Annotation.id)) is None


def test_member_sees_the_project(client, login, study):
    login("ann")
    assert "study" in client.get("/").get_data(as_text=True)
    assert take_next(client, study) is not None


def test_next_follows_document_order_and_spreads_reviewers(client, login, session, study):
    login("ann")
    first = take_next(client, study)
    passage = session.get(Passage, first)
    assert passage.index == 0
    complete(client, session, first)
    second = session.get(Passage, take_next(client, study))
    assert (second.document_id, second.index) == (passage.document_id, 1)
    login("bob")
    bobs = session.get(Passage, take_next(client, study))
    assert bobs.document_id != passage.document_id, "a second reviewer starts another document"


def test_overlap_is_respected(client, login, session, study):
    study.overlap = 1
    session.commit()
    seen = set()
    for name in ("ann", "bob"):
        login(name)
        while (passage_id := take_next(client, study)) is not None:
            assert passage_id not in seen, "overlap 1: nobody gets a passage already served"
            seen.add(passage_id)
            complete(client, session, passage_id)
    total = session.scalar(
        select(Passage.id).where(Passage.project_id == study.id, Passage.claim_count > 0).limit(1)
    )
    assert total is not None
    counts = session.scalars(
        select(Passage.completed_count).where(
            Passage.project_id == study.id, Passage.claim_count > 0
        )
    ).all()
    assert counts
    assert all(c == 1 for c in counts)
    assert len(seen) == len(counts)


@pytest.fixture
def solo(session, make_user):
    """A one-document project with overlap 1 and two members."""
    import_fixture(session, "harbour.txt", project="solo")
    project = session.scalar(select(Project).where(Project.name == "solo"))
    project.overlap = 1
    for name in ("ann", "bob"):
        projects.add_member(session, project, make_user(name), MemberRole.REVIEWER)
    return project


def test_reservation_blocks_others_until_it_expires(client, login, session, solo):
    login("ann")
    reserved = take_next(client, solo)
    login("bob")
    bobs = take_next(client, solo)
    assert bobs is not None
    assert bobs != reserved
    session.execute(update(Review).where(Review.passage_id == reserved).values(
        reserved_until=utcnow() - timedelta(minutes=1)
    ))  # fmt: skip
    session.commit()
    complete(client, session, bobs)
    assert take_next(client, solo) == reserved, "an expired reservation returns to the pool"


def test_a_reservation_that_lost_the_race_for_the_last_place_stores_nothing(
    client, login, session, solo
):
    """What the queue does after locking the passage it found: the room is counted again in
    the reservation's own statement, so a passage another reviewer reserved in between (the
    overlap here is 1) is not reserved twice; an expired reservation leaves room."""
    login("ann")
    taken = session.get(Passage, take_next(client, solo))
    bob = session.scalar(select(User).where(User.username == "bob"))
    now = utcnow()
    place = (taken.id, taken.document_id)
    assert not queue._reserve_if_room(session, bob, solo, place, now, now + timedelta(hours=1))
    assert session.scalar(select(Review).where(Review.user_id == bob.id)) is None
    later = now + timedelta(days=1)  # ann's reservation has expired by then
    assert queue._reserve_if_room(session, bob, solo, place, later, later + timedelta(hours=1))
    review = session.scalar(select(Review).where(Review.user_id == bob.id))
    assert (review.passage_id, review.status) == (taken.id, "reserved")


def test_skip_records_reason_and_frees_the_passage(client, login, session, solo):
    login("ann")
    passage_id = take_next(client, solo)
    response = client.post(f"/passages/{passage_id}/skip", data={"reason": "unreadable"})
    assert response.status_code == 302
    review = session.scalar(select(Review).where(Review.passage_id == passage_id))
    assert (review.status, review.reason) == ("skipped", "unreadable")
    assert take_next(client, solo) != passage_id
    login("bob")
    assert take_next(client, solo) == passage_id


def test_the_pages_skip_field_is_the_one_the_skip_form_checks(client, login, session, solo):
    login("ann")
    passage_id = take_next(client, solo)
    page = client.get(f"/passages/{passage_id}").get_data(as_text=True)
    field = re.search(r'<input [^>]*id="skip-reason"[^>]*>', page)
    assert field is not None
    name = re.search(r'name="([^"]+)"', field.group(0)).group(1)
    longest = int(re.search(r'maxlength="(\d+)"', field.group(0)).group(1))
    refused = client.post(f"/passages/{passage_id}/skip", data={name: "x" * (longest + 1)})
    assert refused.status_code == 400
    skipped = client.post(f"/passages/{passage_id}/skip", data={name: "x" * longest})
    assert skipped.status_code == 302
    review = session.scalar(select(Review).where(Review.passage_id == passage_id))
    assert (review.status, review.reason) == ("skipped", "x" * longest)


def test_unsure_and_notes_are_saved_and_kept_in_history(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    claim = session.get(Passage, passage_id).claims[0]
    key = str(claim.id)
    body = {"labels": {key: "quoted"}, "unsure": {key: True}, "notes": {key: "speaker unclear"}}
    assert client.post(f"/passages/{passage_id}", json=body).status_code == 200
    annotation = session.scalar(select(Annotation).where(Annotation.claim_id == claim.id))
    assert (annotation.label, annotation.unsure, annotation.note) == (
        "quoted",
        True,
        "speaker unclear",
    )
    kinds = {c.kind: (c.old_value, c.new_value) for c in session.scalars(select(Change))}
    assert kinds == {
        "label": (None, "quoted"),
        "unsure": ("no", "yes"),
        "note": ("", "speaker unclear"),
    }
    html = client.get(f"/passages/{passage_id}").get_data(as_text=True)
    assert "History (3)" in html
    assert "speaker unclear" in html
    assert "· ann · label: — → quoted" in html, "each change shows who made it"
    assert "· ann · unsure: no → yes" in html


def test_note_without_label_is_refused(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    claim = session.get(Passage, passage_id).claims[0]
    response = client.post(
        f"/passages/{passage_id}", json={"labels": {}, "notes": {str(claim.id): "x"}}
    )
    assert response.status_code == 400
    assert session.scalar(select(Change.id)) is None


def test_undo_reverts_the_last_save_only(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    claim = session.get(Passage, passage_id).claims[0]
    key = str(claim.id)
    client.post(f"/passages/{passage_id}", json={"labels": {key: "quoted"}})
    body = {"labels": {key: "editorial"}, "versions": {key: 1}, "outlet": "none"}
    client.post(f"/passages/{passage_id}", json=body)
    response = client.post("/undo", json={})
    assert response.status_code == 200
    assert response.json["passage_id"] == passage_id
    annotation = session.scalar(select(Annotation).where(Annotation.claim_id == claim.id))
    session.refresh(annotation)
    assert annotation.label == "quoted"
    assert annotation.version == 3
    assert session.scalar(select(Review.status).where(Review.passage_id == passage_id))
    client.post("/undo", json={})
    assert session.scalar(select(Annotation).where(Annotation.claim_id == claim.id)) is None
    assert client.post("/undo", json={}).status_code == 409


def test_undo_of_a_completing_save_reopens_the_passage(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    complete(client, session, passage_id)
    passage = session.get(Passage, passage_id)
    session.refresh(passage)
    assert passage.completed_count == 1
    client.post("/undo", json={})
    session.refresh(passage)
    assert passage.completed_count == 0
    review = session.scalar(select(Review).where(Review.passage_id == passage_id))
    assert review.status == "reserved"


def test_undo_button_works_without_javascript(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    complete(client, session, passage_id)
    response = client.post("/undo", data={})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/passages/{passage_id}"
    assert session.scalar(select(Annotation.id)) is None


def test_two_tabs_stale_save_gets_409_with_current_value(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    claim = session.get(Passage, passage_id).claims[0]
    key = str(claim.id)
    tab_one = {"labels": {key: "quoted"}, "versions": {key: 0}}
    tab_two = {"labels": {key: "editorial"}, "versions": {key: 0}}
    assert client.post(f"/passages/{passage_id}", json=tab_one).status_code == 200
    refused = client.post(f"/passages/{passage_id}", json=tab_two)
    assert refused.status_code == 409
    assert refused.json["current"] == {key: "quoted"}
    assert "changed elsewhere" in refused.json["error"]
    form = {f"label-{claim.id}": "editorial", f"version-{claim.id}": "0"}
    html_refusal = client.post(f"/passages/{passage_id}", data=form)
    assert html_refusal.status_code == 409
    assert b"changed elsewhere" in html_refusal.data
    assert session.scalar(select(Annotation.label)) == "quoted"


def test_reviewers_never_share_a_tag(client, login, session, study):
    passage = session.scalars(
        select(Passage).where(Passage.project_id == study.id, Passage.claim_count > 0)
    ).first()
    key = str(passage.claims[0].id)
    for name, label in (("ann", "quoted"), ("bob", "reported")):
        login(name)
        assert (
            client.post(f"/passages/{passage.id}", json={"labels": {key: label}}).status_code == 200
        )
    rows = session.scalars(select(Annotation).where(Annotation.claim_id == int(key))).all()
    assert sorted((a.user.username, a.label) for a in rows) == [
        ("ann", "quoted"),
        ("bob", "reported"),
    ]


def test_others_labels_hidden_until_finished(client, login, session, study):
    passage = session.scalars(
        select(Passage).where(Passage.project_id == study.id, Passage.claim_count == 1)
    ).first()
    key = str(passage.claims[0].id)
    login("ann")
    client.post(
        f"/passages/{passage.id}", json={"labels": {key: "editorial"}, "notes": {key: "sarcasm?"}}
    )
    login("bob")
    assert "sarcasm?" not in client.get(f"/passages/{passage.id}").get_data(as_text=True)
    client.post(f"/passages/{passage.id}", json={"labels": {key: "quoted"}})
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert "ann: editorial" in html
    assert "sarcasm?" in html


@pytest.mark.parametrize(
    ("reveal", "before_finishing", "after_finishing"),
    [("always", True, True), ("never", False, False), ("after_completion", False, True)],
)
def test_reveal_setting_decides_when_reviewers_see_others(
    client, login, session, study, reveal, before_finishing, after_finishing
):
    study.reveal_labels = reveal
    session.commit()
    passage = session.scalars(
        select(Passage).where(Passage.project_id == study.id, Passage.claim_count == 1)
    ).first()
    key = str(passage.claims[0].id)
    login("ann")
    client.post(f"/passages/{passage.id}", json={"labels": {key: "editorial"}})
    login("bob")
    page = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert ("ann: editorial" in page) is before_finishing
    assert ("· ann · label: — → editorial" in page) is before_finishing, "others' history too"
    client.post(f"/passages/{passage.id}", json={"labels": {key: "quoted"}})
    page = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert ("ann: editorial" in page) is after_finishing
    assert ("· ann · label: — → editorial" in page) is after_finishing
    assert "· bob · label: — → quoted" in page, "a reviewer always sees their own history"
    cat = session.scalar(select(User).where(User.username == "cat"))
    projects.add_member(session, study, cat, MemberRole.CURATOR)
    session.commit()
    login("cat")  # curators see everyone's labels whatever the setting
    assert "ann: editorial" in client.get(f"/passages/{passage.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("reveal", "shown"), [("always", True), ("never", False), ("after_completion", False)]
)
def test_save_and_next_shows_others_labels_as_the_reveal_setting_says(
    client, login, session, study, reveal, shown
):
    """The next passage, reserved in the same request, is not finished by the reviewer."""
    study.reveal_labels = reveal
    session.commit()
    login("ann")
    for passage in session.scalars(
        select(Passage).where(Passage.project_id == study.id, Passage.claim_count > 0)
    ):
        client.post(
            f"/passages/{passage.id}",
            json={"labels": {str(c.id): "editorial" for c in passage.claims}},
        )
    login("bob")
    first = session.get(Passage, take_next(client, study))
    labels = {str(c.id): "quoted" for c in first.claims}
    answer = client.post(f"/passages/{first.id}", json={"labels": labels, "then": "next"}).json
    assert answer["ok"]
    assert answer["next_url"] != f"/passages/{first.id}"
    assert ("ann: editorial" in answer["page"]) is shown


def test_hidden_suggestions_are_not_shown_or_preselected(client, login, session, study):
    study.show_suggestions = False
    session.commit()
    login("ann")
    passage_id = take_next(client, study)
    html = client.get(f"/passages/{passage_id}").get_data(as_text=True)
    assert "Suggestion:" not in html
    assert " checked>" not in html.split('name="outlet"')[0].replace('type="checkbox"', "")


def test_progress_counts_completed_passages(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    total = len(session.scalars(
        select(Passage.id).where(Passage.project_id == study.id, Passage.claim_count > 0)
    ).all())  # fmt: skip
    response = complete(client, session, passage_id)
    assert response.json["progress"] == f"1 of {total}"
    assert f"1 of {total}" in client.get(f"/passages/{passage_id}").get_data(as_text=True)


def test_dashboard_reflects_work(client, login, session, study):
    login("ann")
    passage_id = take_next(client, study)
    complete(client, session, passage_id)
    html = client.get(f"/projects/{study.id}/dashboard").get_data(as_text=True)
    assert re.search(r"Reviews done: <strong>1</strong>", html)
    assert re.search(r"<td>ann</td><td>1</td><td>0</td><td>\d+</td>", html)
    doc_title = session.get(Document, session.get(Passage, passage_id).document_id).title
    assert doc_title in html


def test_dashboard_outlets_add_up_to_the_totals(client, login, session, study):
    login("ann")
    done = []
    for _ in range(3):
        done.append(take_next(client, study))
        complete(client, session, done[-1])
    outlets = dashboard_service.outlets(session, study)
    totals = dashboard_service.totals_of(outlets, study)
    assert totals.reviews_done == 3
    assert sum(row.passages for row in outlets) == totals.passages > 3
    expected: dict[str, int] = {}
    for passage_id in done:
        outlet = session.get(Passage, passage_id).outlet
        name = outlet.name if outlet else dashboard_service.AUTHOR_OWN_WORDS
        expected[name] = expected.get(name, 0) + 1
    assert {row.name: row.reviews_done for row in outlets if row.reviews_done} == expected
    assert len({row.name for row in outlets}) == len(outlets), "one row per outlet"
    assert [row.passages for row in outlets] == sorted((r.passages for r in outlets), reverse=True)


def test_dashboard_lists_a_document_with_nothing_to_review(client, login, session, study):
    document = session.scalars(
        select(Document).where(Document.project_id == study.id).order_by(Document.id.desc())
    ).first()
    session.execute(update(Passage).where(Passage.document_id == document.id).values(claim_count=0))
    session.commit()
    rows = dashboard_service.documents(session, study, 1)
    assert [row.title for row in rows][-1] == document.title
    assert (rows[-1].passages, rows[-1].reviews_needed) == (0, 0)
    assert all(row.passages > 0 for row in rows[:-1])


def test_dashboard_documents_come_in_pages(client, login, session, study, monkeypatch):
    monkeypatch.setattr(dashboard_service, "DOCUMENTS_PER_PAGE", 2)
    login("ann")
    url = f"/projects/{study.id}/dashboard"
    first, second = client.get(url).text, client.get(f"{url}?page=2").text
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    titles = session.scalars(select(Document.title).where(Document.project_id == study.id))
    assert all((title in first) != (title in second) for title in titles)


@pytest.mark.parametrize("page", ["x", "0", "-3", str(10**20), "9" * 5000])
def test_a_page_number_that_is_none_shows_the_first_page(client, login, study, monkeypatch, page):
    """Past PostgreSQL's integers the page's offset was a database error (500)."""
    monkeypatch.setattr(dashboard_service, "DOCUMENTS_PER_PAGE", 2)
    login("ann")
    response = client.get(f"/projects/{study.id}/dashboard?page={page}")
    assert response.status_code == 200
    assert "Page 1 of 2" in response.text


def _totals(session, project):
    return dashboard_service.totals_of(dashboard_service.outlets(session, project), project)


def test_project_complete_when_every_passage_has_its_reviews(session, study):
    study.overlap = 1
    session.commit()
    assert not _totals(session, study).project_complete
    ann = session.scalar(select(User).where(User.username == "ann"))
    to_review = session.scalars(
        select(Passage).where(Passage.project_id == study.id, Passage.claim_count > 0)
    ).all()
    for passage in to_review[:-1]:
        queue.record_completion(session, ann, passage, passage.claim_count)
    assert not _totals(session, study).project_complete
    queue.record_completion(session, ann, to_review[-1], to_review[-1].claim_count)
    totals = _totals(session, study)
    assert totals.project_complete
    assert totals.reviews_done == totals.complete_passages == len(to_review)


@pytest.mark.parametrize(("character", "code"), [("\x00", "U+0000"), ("\ud800", "U+D800")])
def test_unstorable_characters_in_notes_and_skip_reasons_are_refused(
    client, login, session, study, character, code
):
    """NUL (PostgreSQL refuses it) and a lone surrogate (UTF-8 cannot encode it), through the
    page and through the services themselves."""
    login("ann")
    passage_id = take_next(client, study)
    passage = session.get(Passage, passage_id)
    key = str(passage.claims[0].id)
    body = {"labels": {key: "quoted"}, "notes": {key: f"bad{character}note"}}
    response = client.post(f"/passages/{passage_id}", json=body)
    assert response.status_code == 400
    assert code in response.json["error"]
    reason = {"reason": f"bad{character}reason"}  # JSON: a form cannot carry a lone surrogate
    skip = client.post(f"/passages/{passage_id}/skip", json=reason)
    assert skip.status_code == 400
    ann = session.scalar(select(User).where(User.username == "ann"))
    with pytest.raises(annotating.SaveError, match=re.escape(code)):
        annotating.save_passage(session, ann, passage, annotating.submission_from_json(body))
    with pytest.raises(annotating.SaveError, match=re.escape(code)):
        annotating.skip_passage(session, ann, passage, f"bad{character}reason")
    assert session.scalar(select(Annotation.id)) is None
    assert (
        session.scalar(select(Review.status).where(Review.passage_id == passage_id)) == "reserved"
    )


def _passages_of(session, document):
    return session.scalars(
        select(Passage).where(Passage.document_id == document.id).order_by(Passage.index)
    ).all()


def test_document_page_shows_every_passage_its_outlet_and_progress(client, login, session, solo):
    document = session.scalar(select(Document).where(Document.project_id == solo.id))
    login("ann")
    done = take_next(client, solo)
    complete(client, session, done)
    skipped = take_next(client, solo)
    client.post(f"/passages/{skipped}/skip", data={"reason": "unclear"})
    dashboard_page = client.get(f"/projects/{solo.id}/dashboard").text
    url = f"/projects/{solo.id}/documents/{document.id}"
    assert f'href="{url}"' in dashboard_page
    assert f'href="{url}#passage-{done}"' in client.get(f"/passages/{done}").text
    page = client.get(url).text
    passages = _passages_of(session, document)
    assert any(p.cue_start is not None for p in passages), "the fixture has cues to mark"
    items = re.findall(
        r'<li class="document-passage[^"]*" id="passage-(\d+)"(.*?)</li>', page, re.S
    )
    assert [int(passage_id) for passage_id, _ in items] == [p.id for p in passages]
    for passage, (_, item) in zip(passages, items, strict=True):
        outlet = f"Cites: <strong>{passage.outlet.name}</strong>" if passage.outlet else "No outlet"
        assert outlet in item
        if passage.cue_start is not None:
            cue = passage.text[passage.cue_start : passage.cue_end]
            assert f'<mark class="cue">{html.escape(cue)}</mark>' in item
        opens = f'href="/passages/{passage.id}"' in item
        assert opens == (passage.claim_count > 0)
        own = {done: "you: completed", skipped: "you: skipped"}.get(passage.id)
        assert (own is not None and own in item) or "you:" not in item
        if passage.id == done:
            assert "1 / 1 reviews" in item
    login("bob")
    bob_page = client.get(url).text
    assert "you: completed" not in bob_page
    assert "yours: 0 completed, 0 skipped" in bob_page


def test_document_page_is_for_members_and_its_own_project(client, login, session, make_user, solo):
    document = session.scalar(select(Document).where(Document.project_id == solo.id))
    import_fixture(session, "two.jsonl", project="elsewhere")
    elsewhere = session.scalar(select(Project).where(Project.name == "elsewhere"))
    projects.add_member(
        session,
        elsewhere,
        session.scalar(select(User).where(User.username == "ann")),
        MemberRole.REVIEWER,
    )
    other = session.scalar(select(Document).where(Document.project_id == elsewhere.id))
    login(make_user("outsider"))
    assert client.get(f"/projects/{solo.id}/documents/{document.id}").status_code == 404
    login("ann")  # a member of both projects
    assert client.get(f"/projects/{solo.id}/documents/{document.id}").status_code == 200
    assert client.get(f"/projects/{solo.id}/documents/{other.id}").status_code == 404
    assert client.get(f"/projects/{solo.id}/documents/2147483647").status_code == 404


def test_dashboard_finds_documents_by_words_of_their_title_or_id(
    client, login, session, study, monkeypatch
):
    monkeypatch.setattr(dashboard_service, "DOCUMENTS_PER_PAGE", 1)
    documents = session.scalars(
        select(Document).where(Document.project_id == study.id).order_by(Document.id)
    ).all()
    harbour = next(d for d in documents if d.external_id == "harbour")
    login("ann")
    url = f"/projects/{study.id}/dashboard"
    by_title = client.get(url, query_string={"q": "  DOCKWORKERS extend "}).text
    assert "1 document matches “DOCKWORKERS extend”" in html.unescape(by_title)
    assert f"/documents/{harbour.id}" in by_title
    assert all(f'/documents/{d.id}"' not in by_title for d in documents if d is not harbour)
    by_id = client.get(url, query_string={"q": "harbo"}).text
    assert f"/documents/{harbour.id}" in by_id
    everything = client.get(url, query_string={"q": ""}).text
    assert "Page 1 of 3" in everything
    assert "match" not in everything
    for odd in ("%", "_", "100% ", "'; drop table documents; --", "x" * 5000):
        response = client.get(url, query_string={"q": odd})
        assert response.status_code == 200
        assert "0 documents match" in response.text
        assert "No document matches." in response.text
    matching = dashboard_service.document_count(session, study, "e")
    assert matching == sum("e" in (d.title + d.external_id).lower() for d in documents)
    assert matching > 1
    second = client.get(url, query_string={"q": "e", "page": 2}).text
    assert f"Page 2 of {matching}" in second
    assert "q=e" in second, "paging keeps the search"


def test_members_find_passages_by_words_of_their_text(client, login, session, study, monkeypatch):
    hostile = '{"id": "x", "title": "Hostile", "text": "Says <script>alert(1)</script> REUTERS."}'
    import_files(session, [("hostile.jsonl", hostile.encode())], "study")
    import_fixture(session, "harbour.txt", project="elsewhere")
    texts = session.scalars(select(Passage.text).where(Passage.project_id == study.id)).all()
    expected = sum("reuters" in text.lower() for text in texts)
    assert expected > 2
    login("ann")
    url = f"/projects/{study.id}/passages"
    assert "Find passages" in client.get(f"/projects/{study.id}/dashboard").text
    page = client.get(url, query_string={"words": " reuters "}).text
    assert f"{expected} passages hold “reuters”." in html.unescape(page)
    assert page.count('<li class="document-passage') == expected
    assert "<mark>Reuters</mark>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>REUTERS</mark>." in page
    assert "<script>alert" not in page
    assert 'id="passage-matches"' not in client.get(url).text
    for odd in ("%", "_", "x" * 5000):
        assert "0 passages hold" in client.get(url, query_string={"words": odd}).text
    monkeypatch.setattr(dashboard_service, "PASSAGES_PER_PAGE", 1)
    second = client.get(url, query_string={"words": "reuters", "page": 2}).text
    assert f"Page 2 of {expected}" in second
    assert "words=reuters" in second, "paging keeps the words"
    assert second.count('<li class="document-passage') == 1
