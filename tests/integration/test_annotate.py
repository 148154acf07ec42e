"""The annotation loop through the test client: login, Next, tag, correct the outlet."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from annotator.models import Annotation, Change, Outlet, OutletCorrection, Passage, Review, Role
from annotator.services import suggestions
from annotator.services.importing import import_files
from tests.helpers import import_fixture, passage_with_most_claims


@pytest.fixture
def reviewer(make_user, login, session):
    import_fixture(session, "harbour.txt", "two.jsonl")
    user = make_user("rita")
    login("rita")
    return user


def _form_for(passage, labels, outlet=""):
    data = {"after_save": "stay", "outlet": outlet}
    for claim, label in zip(passage.claims, labels, strict=True):
        data[f"label-{claim.id}"] = label
        data[f"version-{claim.id}"] = "0"
    return data


def test_pages_need_login(client):
    response = client.get("/next")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/export/annotations.csv").status_code == 302


def test_wrong_password_is_refused(client, make_user):
    make_user("rita")
    response = client.post("/login", data={"username": "rita", "password": "nope-nope"})
    assert response.status_code == 401
    assert b"Wrong username or password" in response.data


def test_login_ignores_offsite_next(client, make_user):
    make_user("rita")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "rita", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/"


def test_next_shows_passage_with_outlet_claims_and_suggestions(client, reviewer, session):
    page = client.get("/next", follow_redirects=True)
    assert page.request.path.startswith("/passages/")
    html = page.get_data(as_text=True)
    assert "Dockworkers extend strike as talks stall (Reuters)" in html
    assert "Cites: <strong>Reuters</strong>" in html
    assert '<mark class="cue">(Reuters)</mark>' in html
    passage = session.scalars(select(Passage).order_by(Passage.id)).first()
    for claim in passage.claims:
        assert f'name="label-{claim.id}" value="{claim.suggested_label}" checked' in html
        assert claim.suggestion_reason in html.replace("&#34;", '"').replace("&#39;", "'")
    assert "suggested" in html


def test_a_cue_that_links_to_the_outlet_gives_a_link_to_the_cited_page(client, reviewer, session):
    article = (
        "Port strike spreads\n\n"
        "As [reported here](https://www.npr.org/2024/05/01/strike?a=1&b=2), and I agree:\n\n"
        "> Dock workers walked out at noon, the union said.\n"
    )
    assert import_files(session, [("linked.md", article.encode())], "default").imported
    lead_in = session.scalar(select(Passage).where(Passage.text.startswith("As [reported")))
    assert lead_in.outlet.name == "NPR"
    html = client.get(f"/passages/{lead_in.id}").get_data(as_text=True)
    (link,) = re.findall(r'<a class="badge cited-page"[^>]*>', html)
    assert 'href="https://www.npr.org/2024/05/01/strike?a=1&amp;b=2"' in link
    assert 'rel="noopener noreferrer nofollow"' in link
    assert 'target="_blank"' in link

    overview = client.get(
        f"/projects/{lead_in.document.project_id}/documents/{lead_in.document_id}"
    ).get_data(as_text=True)
    (link,) = re.findall(r'<a class="badge cited-page"[^>]*>', overview)
    assert 'href="https://www.npr.org/2024/05/01/strike?a=1&amp;b=2"' in link

    # A cue in words gives no such link.
    headline = session.scalar(select(Passage).where(Passage.text.startswith("Dockworkers")))
    html = client.get(f"/passages/{headline.id}").get_data(as_text=True)
    assert '<mark class="cue">(Reuters)</mark>' in html
    assert "cited-page" not in html


def test_neighbouring_passages_are_shown_as_context(client, reviewer, session):
    passage = session.scalars(select(Passage).where(Passage.index == 1)).first()
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    before = passage.document.passages[0].text
    after = passage.document.passages[2].text
    assert 'aria-label="Previous passage"' in html
    assert 'aria-label="Next passage"' in html
    assert before.split("(")[0].strip() in html
    assert after[:30].replace('"', "&#34;") in html
    first = passage.document.passages[0]
    html = client.get(f"/passages/{first.id}").get_data(as_text=True)
    assert 'aria-label="Previous passage"' not in html, "the first passage has none before it"
    assert passage.text[:30].replace('"', "&#34;") in html
    last = passage.document.passages[-1]
    html = client.get(f"/passages/{last.id}").get_data(as_text=True)
    assert 'aria-label="Next passage"' not in html, "the last passage has none after it"


def test_form_save_stores_tags_and_outlet_correction(client, reviewer, session):
    passage = passage_with_most_claims(session)
    ap = session.scalar(select(Outlet).where(Outlet.name == "AP"))
    labels = ["editorial"] * len(passage.claims)
    response = client.post(f"/passages/{passage.id}", data=_form_for(passage, labels, str(ap.id)))
    assert response.status_code == 302
    stored = session.scalars(select(Annotation).where(Annotation.user_id == reviewer.id)).all()
    assert sorted(a.label for a in stored) == labels
    assert all(a.updated_at is not None and a.version == 1 for a in stored)
    correction = session.scalar(select(OutletCorrection))
    assert (correction.user_id, correction.outlet_id) == (reviewer.id, ap.id)
    review = session.scalar(select(Review))
    assert (review.passage_id, review.status) == (passage.id, "completed")


def test_the_page_shows_the_reviewers_own_outlet_correction_only(
    client, reviewer, session, make_user, login
):
    passage = passage_with_most_claims(session)
    ap = session.scalar(select(Outlet).where(Outlet.name == "AP"))
    labels = ["editorial"] * len(passage.claims)
    client.post(f"/passages/{passage.id}", data=_form_for(passage, labels, str(ap.id)))
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert f'<option value="{ap.id}" selected>AP</option>' in html
    assert "(your correction)" in html
    make_user("sam")
    login("sam")
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert f'<option value="{ap.id}">AP</option>' in html, "rita's correction is hers"
    assert "(the passage&#39;s outlet)" in html
    assert " selected>" not in html.split('id="outlet"')[1].split("</select>")[0]


def _outlet_menu(html: str) -> str:
    return html.split('id="outlet"')[1].split("</select>")[0]


def test_the_outlet_menu_escapes_names_and_follows_changes(client, reviewer, session):
    passage = passage_with_most_claims(session)
    odd = Outlet(name='<b>"Daily" & Co</b>')
    session.add(odd)
    session.commit()
    menu = _outlet_menu(client.get(f"/passages/{passage.id}").get_data(as_text=True))
    assert f'<option value="{odd.id}">&lt;b&gt;&#34;Daily&#34; &amp; Co&lt;/b&gt;</option>' in menu
    assert "<b>" not in menu
    odd.name = "Daily Post"
    session.commit()
    menu = _outlet_menu(client.get(f"/passages/{passage.id}").get_data(as_text=True))
    assert f'<option value="{odd.id}">Daily Post</option>' in menu
    assert menu.count("<option") == session.query(Outlet).count() + 2  # "keep" and "none"


def test_author_own_words_correction(client, reviewer, session):
    passage = passage_with_most_claims(session)
    labels = [c.suggested_label for c in passage.claims]
    client.post(f"/passages/{passage.id}", data=_form_for(passage, labels, "none"))
    correction = session.scalar(select(OutletCorrection))
    assert correction.outlet_id is None


def test_json_save_then_stale_save_is_refused(client, reviewer, session):
    passage = passage_with_most_claims(session)
    claim = passage.claims[0]
    body = {"labels": {str(claim.id): "quoted"}, "versions": {str(claim.id): 0}}
    first = client.post(f"/passages/{passage.id}", json=body)
    assert first.status_code == 200
    assert first.json["annotations"][str(claim.id)] == {
        "label": "quoted",
        "version": 1,
        "unsure": False,
        "note": "",
    }
    body["labels"][str(claim.id)] = "reported"
    stale = client.post(f"/passages/{passage.id}", json=body)
    assert stale.status_code == 409
    assert stale.json["current"] == {str(claim.id): "quoted"}
    assert session.scalar(select(Annotation.label)) == "quoted"
    body["versions"][str(claim.id)] = 1
    assert client.post(f"/passages/{passage.id}", json=body).status_code == 200
    assert session.scalar(select(Annotation.label)) == "reported"


def _claim_state(html, claim_id):
    """What the claim's fieldset says about its saved state."""
    fieldset = re.search(
        rf'id="claim-{claim_id}".*?<p class="state" data-state>(.*?)</p>', html, re.S
    )
    assert fieldset, f"claim {claim_id} is not on the page"
    return fieldset.group(1)


def test_the_page_shows_the_reviewers_own_saved_tags_only(
    client, reviewer, session, make_user, login
):
    passage = passage_with_most_claims(session)
    first, second = passage.claims[0], passage.claims[1]
    body = {"labels": {str(first.id): "editorial"}, "versions": {str(first.id): 0}}
    assert client.post(f"/passages/{passage.id}", json=body).status_code == 200
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert _claim_state(html, first.id) == "Saved as <strong>editorial</strong>"
    assert f'name="version-{first.id}" value="1"' in html
    assert _claim_state(html, second.id) == "Not saved yet"
    make_user("otto")
    login("otto")
    theirs = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert _claim_state(theirs, first.id) == "Not saved yet"
    assert f'name="version-{first.id}" value="0"' in theirs


def test_outside_suggestions_show_on_their_passage_only(client, reviewer, session, make_user):
    passage = passage_with_most_claims(session)
    elsewhere = session.scalars(
        select(Passage).where(Passage.id != passage.id, Passage.claim_count > 0)
    ).first()
    claim = passage.claims[0]
    item = suggestions.SuggestionInput(claim.id, "editorial", 0.75, "model says so")
    suggestions.post_suggestions(session, make_user("cora", Role.ADMIN), "model-x", [item])
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    assert '<span class="suggested outside" title="model says so">model-x</span>' in html
    assert "Suggestion from model-x: <strong>editorial</strong> (score 0.75)" in html
    assert "model-x" not in client.get(f"/passages/{elsewhere.id}").get_data(as_text=True)


def test_a_first_save_of_every_claim_made_twice_is_refused_as_stale(client, reviewer, session):
    """Two tabs both showing the passage unlabelled: the second save finds the first's tags
    and changes nothing."""
    passage = passage_with_most_claims(session)
    ids = [str(claim.id) for claim in passage.claims]
    first = {"labels": dict.fromkeys(ids, "quoted"), "versions": dict.fromkeys(ids, 0)}
    assert client.post(f"/passages/{passage.id}", json=first).status_code == 200
    changes = session.scalar(select(func.count(Change.id)))
    second = {**first, "labels": dict.fromkeys(ids, "editorial"), "then": "next"}
    stale = client.post(f"/passages/{passage.id}", json=second)
    assert stale.status_code == 409
    assert stale.json["current"] == dict.fromkeys(ids, "quoted")
    stored = session.execute(select(Annotation.label, Annotation.version)).all()
    assert sorted(stored) == [("quoted", 1)] * len(ids)
    assert session.scalar(select(func.count(Change.id))) == changes
    session.refresh(passage)
    assert passage.completed_count == 1


def test_json_save_and_next_reserves_the_next_passage(client, reviewer, session):
    opened = client.get("/next", follow_redirects=True).request.path
    first = int(re.search(r"/passages/(\d+)", opened).group(1))
    passage = session.get(Passage, first)
    body = {"labels": {str(c.id): "reported" for c in passage.claims}, "then": "next"}
    reply = client.post(f"/passages/{first}", json=body)
    assert reply.status_code == 200
    assert "progress" not in reply.json
    following = int(re.search(r"/passages/(\d+)$", reply.json["next_url"]).group(1))
    assert following != first
    reserved = session.scalar(
        select(Review).where(Review.passage_id == following, Review.user_id == reviewer.id)
    )
    assert reserved is not None
    assert reserved.status == "reserved"
    shown = session.get(Passage, following)
    page = reply.json["page"]  # the next passage's page content, shown in place
    assert f'action="/passages/{following}"' in page
    assert all(f'id="claim-{c.id}"' in page for c in shown.claims)
    assert f'id="claim-{passage.claims[0].id}"' not in page
    assert f"passage {shown.index + 1} of " in page
    assert f'data-title="{shown.document.title} · passage {shown.index + 1} · annotator"' in page
    assert (
        session.scalar(
            select(Review.status).where(Review.passage_id == first, Review.user_id == reviewer.id)
        )
        == "completed"
    )


def test_json_save_and_next_at_the_end_sends_to_the_project_list(client, reviewer, session):
    passages = session.scalars(select(Passage).where(Passage.claim_count > 0)).all()
    for passage in passages[:-1]:
        body = {"labels": {str(c.id): "quoted" for c in passage.claims}}
        assert client.post(f"/passages/{passage.id}", json=body).status_code == 200
    last = passages[-1]
    body = {"labels": {str(c.id): "quoted" for c in last.claims}, "then": "next"}
    reply = client.post(f"/passages/{last.id}", json=body)
    assert reply.status_code == 200
    assert reply.json["next_url"] == "/"
    assert "page" not in reply.json
    assert b"Nothing left for you" in client.get("/").data


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"999999": "quoted"}, b"are not claims of this passage"),
        ({"CLAIM": "sarcastic"}, b"Unknown label"),
        ("not-an-object", b"must be an object"),
    ],
)
def test_bad_json_saves_change_nothing(client, reviewer, session, labels, message):
    passage = passage_with_most_claims(session)
    if isinstance(labels, dict) and "CLAIM" in labels:
        labels = {str(passage.claims[0].id): labels["CLAIM"]}
    response = client.post(f"/passages/{passage.id}", json={"labels": labels})
    assert response.status_code == 400
    assert message in response.data
    assert session.scalar(select(Annotation.id)) is None


def test_form_with_bad_outlet_changes_nothing(client, reviewer, session):
    passage = passage_with_most_claims(session)
    data = _form_for(passage, ["quoted"] * len(passage.claims), outlet="12345678")
    response = client.post(f"/passages/{passage.id}", data=data)
    assert response.status_code == 400
    assert b"Unknown outlet" in response.data
    assert session.scalar(select(Annotation.id)) is None


# A form or JSON body altered by hand: numbers too long for ``int`` or for a database id.
HUGE_NUMBER = "9" * 5000


def test_form_with_a_forged_version_or_outlet_changes_nothing(client, reviewer, session):
    passage = passage_with_most_claims(session)
    data = _form_for(passage, ["quoted"] * len(passage.claims))
    data[f"version-{passage.claims[0].id}"] = HUGE_NUMBER
    response = client.post(f"/passages/{passage.id}", data=data)
    assert response.status_code == 400
    assert b"a version is not a number" in response.data
    outside_the_id_range = _form_for(passage, ["quoted"] * len(passage.claims), "99999999999")
    response = client.post(f"/passages/{passage.id}", data=outside_the_id_range)
    assert response.status_code == 400
    assert b"Unknown outlet" in response.data
    assert session.scalar(select(Annotation.id)) is None


@pytest.mark.parametrize("key", [HUGE_NUMBER, "99999999999", "0"])
def test_json_keyed_by_a_number_that_is_no_claim_id_changes_nothing(client, reviewer, session, key):
    passage = passage_with_most_claims(session)
    response = client.post(f"/passages/{passage.id}", json={"labels": {key: "quoted"}})
    assert response.status_code == 400
    assert response.json["error"] == '"labels" keys must be claim ids.'
    assert session.scalar(select(Annotation.id)) is None


def test_next_skips_completed_passages(client, reviewer, session):
    first = client.get("/next", follow_redirects=True).request.path
    passage_id = int(re.search(r"/passages/(\d+)", first).group(1))
    passage = session.get(Passage, passage_id)
    labels = [c.suggested_label for c in passage.claims]
    client.post(f"/passages/{passage_id}", data=_form_for(passage, labels))
    assert client.get("/next", follow_redirects=True).request.path != first


def test_missing_passage_is_404(client, reviewer):
    assert client.get("/passages/987654").status_code == 404


def test_reviewer_is_refused_admin_pages(client, reviewer):
    assert client.get("/admin/users").status_code == 403
    response = client.post(
        "/admin/users", data={"username": "x", "password": "12345678", "role": "admin"}
    )
    assert response.status_code == 403


def test_admin_creates_user(client, make_user, login, session):
    make_user("boss", Role.ADMIN)
    login("boss")
    response = client.post(
        "/admin/users", data={"username": "newbie", "password": "longenough", "role": "curator"}
    )
    assert response.status_code == 302
    assert (
        client.post("/login", data={"username": "newbie", "password": "longenough"}).status_code
        == 302
    )


@pytest.mark.csrf
def test_post_without_csrf_token_is_refused(client, make_user, session):
    import_fixture(session, "two.jsonl")
    make_user("rita")
    assert (
        client.post(
            "/login", data={"username": "rita", "password": "correct horse battery"}
        ).status_code
        == 400
    )
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    login = client.post(
        "/login",
        data={"username": "rita", "password": "correct horse battery", "csrf_token": token},
    )
    assert login.status_code == 302
    passage = passage_with_most_claims(session)
    body = {"labels": {str(passage.claims[0].id): "quoted"}}
    assert client.post(f"/passages/{passage.id}", json=body).status_code == 400
    html = client.get(f"/passages/{passage.id}").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    ok = client.post(f"/passages/{passage.id}", json=body, headers={"X-CSRFToken": meta})
    assert ok.status_code == 200
