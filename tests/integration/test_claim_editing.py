"""A curator corrects a passage's claims on its claims page: claims left as they were keep
their labels, settled label and history; changed claims lose theirs, only once the curator has
confirmed; reviewers whose labels no longer cover the passage get it back in their queue; a
stale page or words that are not the passage's change nothing."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from annotator.models import (
    Annotation,
    Change,
    Claim,
    FinalLabel,
    Passage,
    Project,
    Review,
    ReviewStatus,
    User,
)
from annotator.services import annotating, claim_editing
from annotator.services.exporting import csv_form_of
from annotator.services.importing import import_files
from annotator.text.segment import Span
from tests.helpers import FIXTURES, harbour_study, passage_starting, table_rows

CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')
VERSION = re.compile(r'name="version" type="hidden" value="([0-9a-f]+)"')
FIRST = "Union leaders walked out of the talks"
SECOND = "after the port authority refused to raise its wage offer, Reuters said."


@pytest.fixture
def project(session):
    """The harbour article in a project where ann and bob review and cora curates."""
    return harbour_study(session, reviewers=("ann", "bob"), curators=("cora",))


def user_named(session, name) -> User:
    return session.scalar(select(User).where(User.username == name))


def claims_of(session, passage) -> list[Claim]:
    session.expire_all()
    return list(
        session.scalars(select(Claim).where(Claim.passage_id == passage.id).order_by(Claim.index))
    )


def label_all(client, passage_id, label) -> list[str]:
    claims = CLAIM.findall(client.get(f"/passages/{passage_id}").text)
    body = {"labels": dict.fromkeys(claims, label), "versions": dict.fromkeys(claims, 0)}
    assert client.post(f"/passages/{passage_id}", json=body).status_code == 200
    return claims


def served_until_done(client, project) -> list[int]:
    """The passages "Next" serves the logged-in reviewer, each labelled when served."""
    served: list[int] = []
    for _ in range(20):
        location = client.get(f"/projects/{project.id}/next").headers["Location"]
        found = re.search(r"/passages/(\d+)$", location)
        if found is None:
            return served
        served.append(int(found.group(1)))
        label_all(client, served[-1], "quoted")
    raise AssertionError(f"the queue never ran out: {served}")


def version_on_page(client, passage_id) -> str:
    page = client.get(f"/passages/{passage_id}/edit")
    assert page.status_code == 200
    found = VERSION.search(page.text)
    assert found is not None
    return found.group(1)


def review_status(session, passage, name) -> str | None:
    session.expire_all()
    return session.scalar(
        select(Review.status).where(
            Review.passage_id == passage.id, Review.user_id == user_named(session, name).id
        )
    )


@pytest.fixture
def labelled(client, login, session, project):
    """Passage "Union leaders ..." has one claim; ann and bob labelled it, cora settled it.
    The passage before it has two claims, labelled by ann only."""
    passage = passage_starting(session, project, "Union leaders")
    before = passage_starting(session, project, "The harbour strike")
    assert len(claims_of(session, passage)) == 1
    assert len(claims_of(session, before)) == 2
    login("ann")
    label_all(client, before.id, "reported")
    for name in ("ann", "bob"):
        login(name)
        label_all(client, passage.id, "reported")
    login("cora")
    claim = claims_of(session, passage)[0]
    client.post(
        f"/projects/{project.id}/adjudicate/{claim.id}", data={"label": "reported", "version": "0"}
    )
    assert session.scalar(select(FinalLabel.label).where(FinalLabel.claim_id == claim.id))
    return passage, before


def test_the_page_shows_the_claims_one_per_line(client, login, session, project, labelled):
    passage, before = labelled
    login("cora")
    page = html.unescape(client.get(f"/passages/{before.id}/edit").text)
    lines = [claim.text for claim in claims_of(session, before)]
    assert "\n".join(lines) in page
    assert passage.text not in page
    annotation_page = client.get(f"/passages/{before.id}").text
    assert f'href="/passages/{before.id}/edit"' in annotation_page
    overview = client.get(f"/projects/{project.id}/documents/{before.document_id}").text
    assert f'href="/passages/{before.id}/edit"' in overview


def test_splitting_a_labelled_claim_asks_first_and_changes_nothing_until_confirmed(
    client, login, session, project, labelled
):
    passage, _ = labelled
    login("cora")
    version = version_on_page(client, passage.id)
    before = table_rows(session)
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version}
    response = client.post(f"/passages/{passage.id}/edit", data=data)
    assert response.status_code == 200, "the page asks; it does not refuse"
    text = " ".join(html.unescape(response.text).split())
    assert (
        "This edit keeps 0 claims, removes 1 and adds 2; it deletes 2 labels (by ann, bob) "
        "and 1 settled label." in text
    )
    assert f"{FIRST}\n{SECOND}" in html.unescape(response.text), "the edit is kept on the page"
    assert 'name="confirm"' in response.text
    assert table_rows(session) == before


def test_a_confirmed_split_replaces_the_claim_and_reopens_the_passage(
    client, login, session, project, labelled
):
    passage, _ = labelled
    old_claim = claims_of(session, passage)[0]
    old_id, old_text = old_claim.id, old_claim.text
    assert review_status(session, passage, "ann") == ReviewStatus.COMPLETED
    login("cora")
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version_on_page(client, passage.id)}
    response = client.post(f"/passages/{passage.id}/edit", data={**data, "confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/passages/{passage.id}")
    shown = html.unescape(client.get(response.headers["Location"]).text)
    assert "Claims saved: this edit keeps 0 claims, removes 1 and adds 2" in shown
    assert "claims: " + old_text + " → " + FIRST + " | " + SECOND in shown

    claims = claims_of(session, passage)
    assert [claim.text for claim in claims] == [FIRST, SECOND]
    assert [claim.index for claim in claims] == [0, 1]
    for claim in claims:
        assert passage.text[claim.start : claim.end] == claim.text
        assert claim.suggested_label in ("reported", "quoted", "editorial")
        assert claim.suggestion_reason
        assert claim.csv_form == csv_form_of(claim.text)
    assert session.get(Passage, passage.id).claim_count == 2
    assert session.scalar(select(Annotation).where(Annotation.claim_id == old_id)) is None
    assert session.scalar(select(FinalLabel).where(FinalLabel.claim_id == old_id)) is None
    assert session.get(Passage, passage.id).completed_count == 0
    assert review_status(session, passage, "ann") == ReviewStatus.RESERVED

    login("ann")
    assert passage.id in served_until_done(client, project), (
        "ann is served the passage again: she has not labelled its new claims"
    )
    assert review_status(session, passage, "ann") == ReviewStatus.COMPLETED


def test_claims_left_as_they_were_keep_their_labels_settled_label_and_ids(
    client, login, session, project, labelled
):
    _, before = labelled
    first, second = claims_of(session, before)
    first_id, first_text, second_id, second_text = first.id, first.text, second.id, second.text
    login("boss")
    settle = {"label": "editorial", "version": "0"}
    client.post(f"/projects/{project.id}/adjudicate/{first_id}", data=settle)
    kept_labels = session.scalars(
        select(Annotation.id).where(Annotation.claim_id == first_id)
    ).all()
    shorter = second_text.removesuffix(":")
    assert shorter != second_text
    data = {
        "claims": f"{first_text}\n{shorter}",
        "version": version_on_page(client, before.id),
        "confirm": "y",
    }
    assert client.post(f"/passages/{before.id}/edit", data=data).status_code == 302
    after = claims_of(session, before)
    assert after[0].id == first_id
    assert after[0].text == first_text
    assert after[1].id != second_id
    assert after[1].text == shorter
    assert (
        session.scalars(select(Annotation.id).where(Annotation.claim_id == first_id)).all()
        == kept_labels
    )
    assert session.scalar(select(FinalLabel.label).where(FinalLabel.claim_id == first_id)) == (
        "editorial"
    )
    assert review_status(session, before, "ann") == ReviewStatus.RESERVED


def test_an_edit_that_removes_no_label_needs_no_confirmation(client, login, session, project):
    passage = passage_starting(session, project, "Union leaders")
    login("cora")
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version_on_page(client, passage.id)}
    assert client.post(f"/passages/{passage.id}/edit", data=data).status_code == 302
    assert [claim.text for claim in claims_of(session, passage)] == [FIRST, SECOND]


def test_the_claims_as_they_were_change_nothing(client, login, session, project, labelled):
    passage, _ = labelled
    login("cora")
    before = table_rows(session)
    data = {"claims": passage.text, "version": version_on_page(client, passage.id)}
    response = client.post(f"/passages/{passage.id}/edit", data=data)
    assert response.status_code == 302
    assert "nothing was changed" in client.get(response.headers["Location"]).text
    assert table_rows(session) == before


def test_a_stale_page_changes_nothing_and_shows_the_current_claims(
    client, login, session, project, labelled
):
    passage, _ = labelled
    login("cora")
    stale = version_on_page(client, passage.id)
    login("boss")
    split = {"claims": f"{FIRST}\n{SECOND}", "version": stale, "confirm": "y"}
    assert client.post(f"/passages/{passage.id}/edit", data=split).status_code == 302
    login("cora")
    before = table_rows(session)
    joined = {"claims": passage.text, "version": stale, "confirm": "y"}
    response = client.post(f"/passages/{passage.id}/edit", data=joined)
    assert response.status_code == 409
    assert "were changed since this page was loaded" in response.text
    assert f"{FIRST}\n{SECOND}" in html.unescape(response.text)
    assert table_rows(session) == before


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ("Union leaders walked out of the negotiations", "Line 1 "),
        ("   \n  ", "A passage keeps at least one claim."),
        (f"{SECOND}\n{FIRST}", "Line 2 "),
    ],
)
def test_words_that_are_not_the_passages_change_nothing(
    client, login, session, project, labelled, claims, message
):
    passage, _ = labelled
    login("cora")
    before = table_rows(session)
    data = {"claims": claims, "version": version_on_page(client, passage.id), "confirm": "y"}
    response = client.post(f"/passages/{passage.id}/edit", data=data)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert table_rows(session) == before


def test_reviewers_may_not_edit_claims(client, login, session, project):
    passage = passage_starting(session, project, "Union leaders")
    login("cora")
    version = version_on_page(client, passage.id)
    login("ann")
    assert client.get(f"/passages/{passage.id}/edit").status_code == 403
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version}
    assert client.post(f"/passages/{passage.id}/edit", data=data).status_code == 403
    assert (
        'href="/passages/' + str(passage.id) + '/edit"'
        not in client.get(f"/passages/{passage.id}").text
    )
    assert len(claims_of(session, passage)) == 1


def test_undo_never_reverts_a_curators_claim_edit(client, login, session, project):
    passage = passage_starting(session, project, "Union leaders")
    login("cora")
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version_on_page(client, passage.id)}
    client.post(f"/passages/{passage.id}/edit", data=data)
    assert session.scalar(select(Change.kind).where(Change.passage_id == passage.id)) == "claims"
    client.post("/undo")
    assert [claim.text for claim in claims_of(session, passage)] == [FIRST, SECOND]
    assert not session.scalar(select(Change.undone).where(Change.passage_id == passage.id))


def test_the_export_follows_the_new_claims(client, login, session, project, labelled):
    passage, _ = labelled
    login("cora")
    data = {
        "claims": f"{FIRST}\n{SECOND}",
        "version": version_on_page(client, passage.id),
        "confirm": "y",
    }
    client.post(f"/passages/{passage.id}/edit", data=data)
    for name, label in (("ann", "quoted"), ("bob", "quoted")):
        login(name)
        label_all(client, passage.id, label)
    login("boss")
    exported = client.get("/export/annotations.csv?project=study&all_claims=1").text
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["document_title"]]
    here = [r for r in rows if r["claim_text"] in (FIRST, SECOND)]
    assert sorted((r["claim_text"], r["reviewer"], r["label"]) for r in here) == sorted(
        (text, name, "quoted") for text in (FIRST, SECOND) for name in ("ann", "bob")
    )
    assert not any(r["claim_text"] == passage.text for r in rows)


def test_a_passage_the_tool_gave_no_claim_is_refused(client, login, session, project):
    article = "Port talks resume\n\nThe Kyiv Independent reports:\n\nTalks resumed on Monday.\n"
    import_files(session, [("lead-in.txt", article.encode())], "study")
    lead_in = passage_starting(session, project, "The Kyiv Independent reports")
    assert lead_in.claim_count == 0
    login("cora")
    before = table_rows(session)
    data = {"claims": lead_in.text, "version": claim_editing.claims_version(lead_in)}
    response = client.post(f"/passages/{lead_in.id}/edit", data=data)
    assert response.status_code == 400
    assert "has no claims to edit" in response.text
    assert table_rows(session) == before


def test_a_re_import_keeps_the_curated_claims_of_unchanged_passages(
    client, login, session, project
):
    passage = passage_starting(session, project, "Union leaders")
    login("cora")
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version_on_page(client, passage.id)}
    client.post(f"/passages/{passage.id}/edit", data=data)
    login("ann")
    label_all(client, passage.id, "reported")
    article = (FIXTURES / "harbour.txt").read_text()
    changed = article.replace("This looks like a standoff", "This looks like a long standoff")
    assert changed != article
    report = import_files(session, [("harbour.txt", changed.encode())], "study")
    assert report.changed, report
    assert not report.lost_tags, report.lost_tags
    again = passage_starting(session, project, "Union leaders")
    assert [claim.text for claim in claims_of(session, again)] == [FIRST, SECOND]
    assert session.get(Passage, again.id).claim_count == 2
    labels = session.scalars(
        select(Annotation.label).join(Claim).where(Claim.passage_id == again.id)
    ).all()
    assert labels == ["reported", "reported"]
    assert review_status(session, again, "ann") == ReviewStatus.COMPLETED
    twice = changed.replace("a long standoff", "a lasting standoff")
    report = import_files(session, [("harbour.txt", twice.encode())], "study")
    assert report.changed, report
    assert not report.lost_tags, "the correction is found again at the next re-import"
    third = passage_starting(session, project, "Union leaders")
    assert [claim.text for claim in claims_of(session, third)] == [FIRST, SECOND]
    history = session.scalars(select(Change.kind).where(Change.passage_id == third.id)).all()
    assert history == ["claims"]


def test_a_reviewers_page_from_before_the_edit_saves_nothing_and_says_why(
    client, login, session, project
):
    passage = passage_starting(session, project, "Union leaders")
    login("ann")
    (old_claim,) = CLAIM.findall(client.get(f"/passages/{passage.id}").text)
    login("cora")
    data = {"claims": f"{FIRST}\n{SECOND}", "version": version_on_page(client, passage.id)}
    client.post(f"/passages/{passage.id}/edit", data=data)
    login("ann")
    before = table_rows(session)
    body = {"labels": {old_claim: "reported"}, "versions": {old_claim: 0}}
    response = client.post(f"/passages/{passage.id}", json=body)
    assert response.status_code == 400
    assert "a curator may have corrected its claims" in response.json["error"]
    assert table_rows(session) == before


def _stale_save_across_an_edit(
    app,
    before: list[Span],
    after: list[Span],
    labelled: int,
    while_saving: pytest.MonkeyPatch | None = None,
):
    """ann's save, built on the passage as it was with claims ``before``, is made once a
    curator has changed them to ``after`` (``while_saving``: once the save has read the
    claims, before it commits); it labels the ``labelled``-th old claim. Returns the error
    the save raised (or None), the labels stored and the completed reviews."""
    engine = app.extensions["annotator.engine"]
    with Session(engine) as setup:
        harbour_study(setup, reviewers=("ann",), curators=("cora",))
        project = setup.scalar(select(Project))
        assert import_files(setup, [("dock.md", DOCK.encode())], project.name).imported
        passage = setup.scalar(select(Passage).where(Passage.text.startswith("Dockers")))
        cora, ann_id, passage_id = (
            user_named(setup, "cora"),
            user_named(setup, "ann").id,
            passage.id,
        )
        claim_editing.edit_claims(
            setup, cora, passage_id, before, claim_editing.claims_version(passage), confirmed=True
        )
        with Session(engine, expire_on_commit=False) as reviewer_session:  # as the app's
            stale = reviewer_session.scalar(
                select(Passage)
                .options(selectinload(Passage.claims))
                .where(Passage.id == passage_id)
            )
            claim = stale.claims[labelled]

            def edit_to_after() -> None:
                setup.expire_all()
                passage = setup.get(Passage, passage_id)
                version = claim_editing.claims_version(passage)
                claim_editing.edit_claims(setup, cora, passage_id, after, version, confirmed=True)

            if while_saving is None:
                edit_to_after()
            else:
                validate = annotating._validate  # the save has just read the claims

                def edit_then_validate(*args: object) -> None:
                    edit_to_after()
                    while_saving.setattr(annotating, "_validate", validate)
                    validate(*args)

                while_saving.setattr(annotating, "_validate", edit_then_validate)
            submission = annotating.TagSubmission({claim.id: "reported"}, {claim.id: 0})
            try:
                reviewer = reviewer_session.get(User, ann_id)
                annotating.save_passage(reviewer_session, reviewer, stale, submission)
                error = None
            except annotating.SaveError as exc:
                error = exc
        setup.expire_all()
        claim_ids = select(Claim.id).where(Claim.passage_id == passage_id)
        labels = setup.scalars(
            select(Annotation.claim_id).where(Annotation.claim_id.in_(claim_ids))
        )
        completed = setup.scalars(
            select(Review.user_id).where(
                Review.passage_id == passage_id, Review.status == ReviewStatus.COMPLETED
            )
        )
        return error, list(labels), list(completed)


DOCK = "Port strike\n\nDockers walked out on Monday. Cranes stood idle all week."
DOCK_TEXT = DOCK.split("\n\n")[1]
DOCK_FIRST = (0, DOCK_TEXT.index(".") + 1)
DOCK_SECOND = (DOCK_TEXT.index("Cranes"), len(DOCK_TEXT))


def test_a_page_from_before_a_split_labels_none_of_the_new_claims(app_on_fresh_database):
    """The old claim is gone; on SQLite the new claims must not take its id (SQLite gives a
    new row the largest id plus one), or the old page would label one of them."""
    error, labels, completed = _stale_save_across_an_edit(
        app_on_fresh_database, [(0, len(DOCK_TEXT))], [DOCK_FIRST, DOCK_SECOND], 0
    )
    assert isinstance(error, annotating.SaveError)
    assert (labels, completed) == ([], [])


def test_one_label_does_not_complete_a_passage_that_gained_a_claim_meanwhile(
    app_on_fresh_database,
):
    """The labelled claim is kept, and a second one added: the save may stand, but one label
    of two claims does not complete the passage."""
    error, labels, completed = _stale_save_across_an_edit(
        app_on_fresh_database, [DOCK_FIRST], [DOCK_FIRST, DOCK_SECOND], 0
    )
    assert completed == [], "one label of two claims completed the passage"
    assert error is not None or len(labels) == 1


def test_an_edit_between_a_saves_read_of_the_claims_and_its_commit_is_not_missed(
    app_on_fresh_database, monkeypatch
):
    """PostgreSQL: nothing is locked when the save reads the claims, so an edit can commit
    before the save does; the save must see it (on SQLite the save holds the database's
    write lock from before that read, and the edit would wait for it)."""
    if app_on_fresh_database.extensions["annotator.engine"].dialect.name != "postgresql":
        pytest.skip("on SQLite no edit can come between: the save holds the write lock")
    error, labels, completed = _stale_save_across_an_edit(
        app_on_fresh_database, [DOCK_FIRST], [DOCK_FIRST, DOCK_SECOND], 0, monkeypatch
    )
    assert completed == [], "one label of two claims completed the passage"
    assert isinstance(error, annotating.SaveError)
    assert str(error) == annotating.CLAIMS_CHANGED_WHILE_SAVING
    assert labels == []
