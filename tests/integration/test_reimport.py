"""Re-importing a changed version of a document keeps the tags of unchanged claims."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, selectinload

from annotator.models import (
    Annotation,
    Claim,
    Document,
    FinalLabel,
    Passage,
    Project,
    Review,
    ReviewStatus,
    User,
)
from annotator.services import accounts, annotating, queue
from annotator.services.annotating import TagSubmission
from annotator.services.importing import ImportReport, import_files

V1 = {
    "id": "doc-1",
    "title": "Council approves budget (AP)",
    "text": "The council approved the budget on Monday.\n\n"
    "The mayor said the vote was a relief. Critics called it reckless.\n\n"
    "Clearly, this budget is a mistake.",
}


def _line(doc: dict[str, str]) -> bytes:
    return (json.dumps(doc) + "\n").encode()


def _tag_everything(session, user, label="reported"):
    for passage in session.scalars(select(Passage).order_by(Passage.index)):
        labels = {c.id: label for c in passage.claims}
        if labels:
            annotating.save_passage(
                session, user, passage, TagSubmission(labels, dict.fromkeys(labels, 0))
            )


def test_changed_document_keeps_tags_of_unchanged_claims(session, make_user):
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    ann = make_user("ann")
    _tag_everything(session, ann)
    assert session.scalars(select(Annotation)).all()
    document_id = session.scalar(select(Document.id))
    changed = dict(
        V1, text=V1["text"].replace("Critics called it reckless.", "Critics called it a gamble.")
    )
    report = import_files(session, [("v2.jsonl", _line(changed))], "default")
    assert report.changed == ["doc-1"]
    assert report.imported == []
    assert not report.failed
    assert "1 updated to a new version" in report.summary()
    assert session.scalar(select(Document.id)) == document_id  # same row
    kept = {a.claim_id: a for a in session.scalars(select(Annotation))}
    texts = {}
    for passage in session.scalars(select(Passage)):
        for claim in passage.claims:
            texts[claim.id] = claim.text
    kept_texts = sorted(texts[c] for c in kept)
    assert "The council approved the budget on Monday." in kept_texts
    assert "Clearly, this budget is a mistake." in kept_texts
    assert not any("reckless" in t or "gamble" in t for t in kept_texts)
    # Claims are matched by passage text and claim text: the whole changed paragraph loses
    # its tags (its context changed), and each lost claim is reported.
    assert "The mayor said the vote was a relief." not in kept_texts
    assert len(report.lost_tags) == 2
    assert 'claim "Critics called it reckless."' in report.lost_tags[1]
    assert all("doc-1, passage 2" in line and "(ann)" in line for line in report.lost_tags)


def _tag_document(session, user, external_id: str, label: str) -> None:
    passages = session.scalars(
        select(Passage).join(Document).where(Document.external_id == external_id)
    )
    for passage in passages:
        labels = {c.id: label for c in passage.claims}
        if labels:
            annotating.save_passage(
                session, user, passage, TagSubmission(labels, dict.fromkeys(labels, 0))
            )


def test_documents_replaced_together_keep_their_own_work(session, make_user):
    """New versions are stored a batch at a time; twins with the same passages keep their
    own labels, progress and lost-label lines."""
    twins = [dict(V1, id=external_id) for external_id in ("doc-1", "doc-2", "doc-3")]
    import_files(session, [("v1.jsonl", b"".join(_line(doc) for doc in twins))], "default")
    _tag_document(session, make_user("ann"), "doc-1", "reported")
    _tag_document(session, make_user("bob"), "doc-2", "quoted")
    reckless = ("Critics called it reckless.", "Critics called it a gamble.")
    changed = [dict(doc, text=doc["text"].replace(*reckless)) for doc in twins]
    data = b"".join(_line(doc) for doc in changed)
    report = import_files(session, [("v2.jsonl", data)], "default")
    assert report.changed == ["doc-1", "doc-2", "doc-3"]
    assert [line.split(":")[0] for line in report.lost_tags] == ["doc-1, passage 2"] * 2 + [
        "doc-2, passage 2"
    ] * 2
    assert all("(ann)" in line for line in report.lost_tags[:2])
    assert all("(bob)" in line for line in report.lost_tags[2:])
    labels = session.execute(
        select(Document.external_id, User.username, Annotation.label)
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .join(User, User.id == Annotation.user_id)
    ).all()
    assert sorted(set(labels)) == [("doc-1", "ann", "reported"), ("doc-2", "bob", "quoted")]
    assert len(labels) == 6  # the title, passages 1 and 3 of each; passage 2 changed
    started = dict(session.execute(select(Document.external_id, Document.started_by)).all())
    assert started == {"doc-1": 1, "doc-2": 1, "doc-3": 0}


def test_a_new_version_never_takes_the_ids_of_the_old(session):
    """A reviewer's page on the old version sends its passage's and claims' ids: none of them
    may reach a passage or claim of the new version (on SQLite, the newest rows' ids used to
    be given again once the old version was deleted)."""
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    old_passages = set(session.scalars(select(Passage.id)))
    old_claims = set(session.scalars(select(Claim.id)))
    changed = dict(V1, text="A new first paragraph.\n\n" + V1["text"])
    assert import_files(session, [("v2.jsonl", _line(changed))], "default").changed == ["doc-1"]
    new_passages = set(session.scalars(select(Passage.id)))
    new_claims = set(session.scalars(select(Claim.id)))
    assert len(new_passages) == len(old_passages) + 1
    assert not new_passages & old_passages
    assert not new_claims & old_claims


def test_progress_follows_the_carried_tags(session, make_user):
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    ann = make_user("ann")
    _tag_everything(session, ann)
    changed = dict(V1, text=V1["text"] + "\n\nA new paragraph was added.")
    import_files(session, [("v2.jsonl", _line(changed))], "default")
    passages = session.scalars(select(Passage).order_by(Passage.index)).all()
    assert passages[-1].text == "A new paragraph was added."
    completed = {
        r.passage_id
        for r in session.scalars(select(Review).where(Review.status == ReviewStatus.COMPLETED))
    }
    assert completed == {p.id for p in passages[:-1] if p.claim_count}
    assert all(p.completed_count == 1 for p in passages[:-1] if p.claim_count)
    assert passages[-1].completed_count == 0
    document = session.scalar(select(Document))
    assert document.open_passages == sum(1 for p in passages if p.claim_count)  # overlap 2
    assert document.started_by == 1


def test_final_labels_are_carried_and_reported_when_lost(session, make_user):
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    claims = [c for p in session.scalars(select(Passage).order_by(Passage.index)) for c in p.claims]
    project_id = session.scalar(select(Project.id))
    session.add_all(
        [FinalLabel(claim_id=c.id, project_id=project_id, label="editorial") for c in claims]
    )
    session.commit()
    changed = dict(
        V1, text=V1["text"].replace("Clearly, this budget is a mistake.", "It passed 7-2.")
    )
    report = import_files(session, [("v2.jsonl", _line(changed))], "default")
    assert len(session.scalars(select(FinalLabel)).all()) == len(claims) - 1
    assert report.lost_tags
    assert "its final label" in report.lost_tags[0]


def test_same_content_again_is_a_duplicate(session):
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    report = import_files(session, [("v1.jsonl", _line(V1))], "default")
    assert report.duplicates == ["doc-1"]
    assert report.changed == []


def test_cli_reports_updates_and_lost_tags(runner, session, make_user, tmp_path):
    first = tmp_path / "v1.jsonl"
    first.write_bytes(_line(V1))
    assert runner.invoke(args=["import", str(first)]).exit_code == 0
    _tag_everything(session, make_user("ann"))
    second = tmp_path / "v2.jsonl"
    second.write_bytes(_line(dict(V1, text="Completely new text replaces it all.")))
    result = runner.invoke(args=["import", str(second)])
    assert result.exit_code == 0, result.output
    assert "updated to a new version: doc-1" in result.output
    assert "lost labels: doc-1, passage" in result.output


def _v1_and_ann_on_postgresql(app, why_not_sqlite: str) -> tuple[Engine, int]:
    """V1 imported and a reviewer "ann" (her id), committed on the app's own database; the
    test is skipped on SQLite, for the reason given."""
    engine = app.extensions["annotator.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip(why_not_sqlite)
    with Session(engine) as setup:
        import_files(setup, [("v1.jsonl", _line(V1))], "default")
        ann_id = accounts.create_user(setup, "ann", "a-long-password-1").id
        setup.commit()
    return engine, ann_id


def test_a_save_whose_passage_goes_meanwhile_is_refused_and_writes_nothing(
    app_on_fresh_database, monkeypatch
):
    """PostgreSQL: nothing is locked when the save reads the claims, so a new version of the
    document can replace the passage before the save writes; the labels then break their
    foreign key, and the refusal says the passage is gone (it used to fail loading the
    deleted passage again: a server error). On SQLite the save holds the write lock first."""
    engine, ann_id = _v1_and_ann_on_postgresql(
        app_on_fresh_database, "on SQLite no import can come between: the save holds the write lock"
    )
    with Session(engine, expire_on_commit=False) as reviewer_session:  # as the app's
        passage = reviewer_session.scalar(
            select(Passage).options(selectinload(Passage.claims)).order_by(Passage.index.desc())
        )
        labels = {claim.id: "editorial" for claim in passage.claims}
        validate = annotating._validate  # the save has just read the claims

        def reimport_then_validate(*args: object) -> None:
            monkeypatch.setattr(annotating, "_validate", validate)
            with Session(engine) as curator_session:
                changed = dict(V1, text=V1["text"] + "\n\nA new closing line.")
                import_files(curator_session, [("v2.jsonl", _line(changed))], "default")
            validate(*args)

        monkeypatch.setattr(annotating, "_validate", reimport_then_validate)
        submission = annotating.TagSubmission(labels, dict.fromkeys(labels, 0))
        with pytest.raises(annotating.PassageGone, match="no longer exists"):
            annotating.save_passage(
                reviewer_session, reviewer_session.get(User, ann_id), passage, submission
            )
    with Session(engine) as check:
        assert check.scalar(select(func.count(Annotation.id))) == 0
        assert check.scalar(select(func.count(Review.id))) == 0


@pytest.mark.parametrize("request_kind", ["save by fetch", "save by form", "skip"])
def test_the_page_answers_a_gone_passage_with_404_and_why(
    client, login, session, make_user, monkeypatch, request_kind
):
    import_files(session, [("v1.jsonl", _line(V1))], "default")
    passage = session.scalar(select(Passage).order_by(Passage.index.desc()))
    login(make_user("ann"))

    def gone(*_args: object, **_kwargs: object) -> None:
        raise annotating.PassageGone(annotating.PASSAGE_GONE)

    monkeypatch.setattr(annotating, "save_passage", gone)
    monkeypatch.setattr(annotating, "skip_passage", gone)
    if request_kind == "save by fetch":
        response = client.post(f"/passages/{passage.id}", json={"labels": {}, "versions": {}})
        assert response.status_code == 404
        assert response.json["error"] == annotating.PASSAGE_GONE
        return
    path = f"/passages/{passage.id}" + ("/skip" if request_kind == "skip" else "")
    response = client.post(path, data={})
    assert response.status_code == 404
    assert "no longer exists" in response.text


def _wait_until_blocked(engine, application_name: str) -> None:
    """Until the connection named so waits for a row lock."""
    deadline = time.monotonic() + 10
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :name AND wait_event_type = 'Lock'"
                ),
                {"name": application_name},
            )
            if waiting:
                return
            watcher.rollback()  # a transaction sees one snapshot of pg_stat_activity
            time.sleep(0.02)
        seen = watcher.execute(
            text(
                "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity"
                " WHERE application_name = :name"
            ),
            {"name": application_name},
        ).all()
    raise AssertionError(f"{application_name} never waited for a lock: {seen}")


@pytest.mark.parametrize("ended", ["the new version", "the reservation"])
def test_a_reservation_and_a_new_version_that_deadlock_both_go_through(
    app_on_fresh_database, monkeypatch, ended
):
    """PostgreSQL: a reservation locks the passage, then renews the reviewer's review of it;
    a new version of its document locks the document's reviews, then its passages. Each
    then waits for the other, and PostgreSQL ends whichever of them notices first; that one
    runs again, and both go through."""
    engine, ann_id = _v1_and_ann_on_postgresql(
        app_on_fresh_database, "on SQLite each holds the whole database: they wait, never deadlock"
    )
    with Session(engine, expire_on_commit=False) as reviewer_session:
        ann = reviewer_session.get(User, ann_id)
        project = reviewer_session.scalar(select(Project).where(Project.name == "default"))
        hour = timedelta(hours=1)
        first = queue.next_passage(reviewer_session, ann, project, hour)
        reserve_if_room = queue._reserve_if_room
        imports = ThreadPoolExecutor(1)

        def reimport() -> ImportReport:
            curator = create_engine(engine.url, connect_args={"application_name": "curator"})
            try:
                with Session(curator) as curator_session:
                    changed = dict(V1, text=V1["text"] + "\n\nA new closing line.")
                    return import_files(curator_session, [("v2.jsonl", _line(changed))], "default")
            finally:
                curator.dispose()

        def reserve_once_the_import_waits(session, *args):
            """The passage is locked: the import gets the reviews and waits for it."""
            monkeypatch.setattr(queue, "_reserve_if_room", reserve_if_room)
            if ended == "the reservation":  # it notices first: PostgreSQL ends it
                session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
            reimported.append(imports.submit(reimport))
            try:
                _wait_until_blocked(engine, "curator")
            except AssertionError:
                reimported[0].result(timeout=10)  # the import's own error, if it failed
                raise
            return reserve_if_room(session, *args)

        reimported: list[Future[ImportReport]] = []
        monkeypatch.setattr(queue, "_reserve_if_room", reserve_once_the_import_waits)
        again = queue.next_passage(reviewer_session, ann, project, hour)
        report = reimported[0].result(timeout=30)
        imports.shutdown()
    assert not report.failed
    assert report.changed == ["doc-1"]
    with Session(engine) as check:
        reserved = check.scalar(
            select(Review.passage_id).where(
                Review.user_id == ann_id, Review.status == ReviewStatus.RESERVED
            )
        )
        first_passage = select(Passage.id).order_by(Passage.index).limit(1)
        if ended == "the reservation":  # made again, on the new version
            assert again == reserved == check.scalar(first_passage)
        else:  # made first; its passage went with the old version
            assert again == first
            assert reserved is None
