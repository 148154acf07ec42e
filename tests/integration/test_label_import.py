"""Importing labels from CSV: by offsets or claim text, all or nothing, reviewer policy."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from annotator import db
from annotator.db import IDS_PER_STATEMENT, begin_write
from annotator.models import (
    Annotation,
    Document,
    Passage,
    Project,
    Review,
    ReviewStatus,
    Role,
    User,
)
from annotator.services import accounts, queue, storing
from annotator.services.label_import import LabelReport, import_labels
from annotator.services.records import ImportFileError
from tests.conftest import PASSWORD
from tests.helpers import import_fixture, passage_with_most_claims


def _csv(rows: list[dict[str, object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _ann_quotes_first_claim(passage: Passage) -> dict[str, object]:
    """A row giving reviewer ann's label "quoted" to the passage's first claim, by offsets."""
    claim = passage.claims[0]
    return {
        "document_id": passage.document.external_id,
        "passage_index": passage.index,
        "claim_start": claim.start,
        "claim_end": claim.end,
        "reviewer": "ann",
        "label": "quoted",
    }


@pytest.fixture
def passage(session):
    import_fixture(session, "harbour.txt", "two.jsonl")
    return passage_with_most_claims(session)


def test_labels_by_offsets_and_by_text(session, make_user, passage):
    make_user("ann")
    first, second = passage.claims[0], passage.claims[1]
    document = passage.document.external_id
    data = _csv(
        [
            {
                "document_id": document,
                "passage_index": passage.index,
                "claim_start": first.start,
                "claim_end": first.end,
                "claim_text": "",
                "reviewer": "ann",
                "label": "quoted",
            },
            {
                "document_id": document,
                "passage_index": "",
                "claim_start": "",
                "claim_end": "",
                "claim_text": "  " + second.text.replace(" ", "  ") + " ",
                "reviewer": "ann",
                "label": "editorial",
            },
        ]
    )
    report = import_labels(session, "labels.csv", data, "default")
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    stored = {a.claim_id: a.label for a in session.scalars(select(Annotation))}
    assert stored == {first.id: "quoted", second.id: "editorial"}
    again = import_labels(session, "labels.csv", data, "default")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_spreadsheet_with_semicolons_or_tabs_and_doubled_quotes(
    session, make_user, passage, delimiter
):
    make_user("ann")
    claim = passage.claims[0]
    row = {**_ann_quotes_first_claim(passage), "note": 'Says "no; not now", twice'}
    data = _csv([row], delimiter)
    assert b'"Says ""no; not now"", twice"' in data
    report = import_labels(session, "labels.csv", data, "default")
    assert report.created == 1
    stored = session.scalars(select(Annotation)).one()
    assert (stored.claim_id, stored.label, stored.note) == (claim.id, "quoted", row["note"])


def test_complete_labels_complete_the_review(session, make_user, passage):
    make_user("ann")
    rows = [
        {
            "document_id": passage.document.external_id,
            "claim_text": c.text,
            "passage_index": passage.index,
            "reviewer": "ann",
            "label": "reported",
        }
        for c in passage.claims
    ]
    import_labels(session, "labels.csv", _csv(rows), "default")
    review = session.scalar(select(Review).where(Review.passage_id == passage.id))
    assert review.status == ReviewStatus.COMPLETED
    session.refresh(passage)
    assert passage.completed_count == 1


def _rows_for(passage, reviewer, claims=None):
    return [
        {
            "document_id": passage.document.external_id,
            "claim_text": c.text,
            "passage_index": passage.index,
            "reviewer": reviewer,
            "label": "quoted",
        }
        for c in (passage.claims if claims is None else claims)
    ]


def _review_status(session, passage, user):
    review = session.scalar(
        select(Review).where(Review.passage_id == passage.id, Review.user_id == user.id)
    )
    return review.status if review else None


def test_completions_count_once_whatever_came_before(session, make_user, passage):
    """A passage completes when a reviewer's labels cover it, whichever file brought them;
    a served or skipped review becomes completed; an import again changes no counter."""
    ann, bob, cat = make_user("ann"), make_user("bob"), make_user("cat")
    document = passage.document
    others = [p for p in document.passages if p.claims and p.id != passage.id]
    assert others, "the fixture's document has more than one passage with claims"
    served, skipped = others[0], others[-1]
    common = {"document_id": document.id, "project_id": document.project_id}
    session.add(
        Review(passage_id=served.id, user_id=bob.id, status=ReviewStatus.RESERVED, **common)
    )
    session.add(
        Review(passage_id=skipped.id, user_id=cat.id, status=ReviewStatus.SKIPPED, **common)
    )
    session.commit()
    started_before = session.scalar(select(Document.started_by).where(Document.id == document.id))
    half = len(passage.claims) // 2
    import_labels(
        session, "a.csv", _csv(_rows_for(passage, "ann", passage.claims[:half])), "default"
    )
    assert _review_status(session, passage, ann) is None, "half the claims complete nothing"
    rows = (
        _rows_for(passage, "ann", passage.claims[half:])
        + _rows_for(served, "bob")
        + _rows_for(skipped, "cat")
    )
    import_labels(session, "b.csv", _csv(rows), "default")
    import_labels(session, "b.csv", _csv(rows), "default")
    for done, user in ((passage, ann), (served, bob), (skipped, cat)):
        assert _review_status(session, done, user) == ReviewStatus.COMPLETED
        session.refresh(done)
        assert done.completed_count == 1
    session.refresh(document)
    assert document.started_by == started_before + 1, "only ann is new to the document"


def test_changed_label_bumps_the_version(session, make_user, passage):
    make_user("ann")
    row = _ann_quotes_first_claim(passage)
    import_labels(session, "a.csv", _csv([row]), "default")
    report = import_labels(session, "b.csv", _csv([{**row, "label": "reported"}]), "default")
    assert report.updated == 1
    annotation = session.scalar(select(Annotation))
    assert (annotation.label, annotation.version) == ("reported", 2)


def test_our_own_csv_export_imports_back(
    client, session, make_user, login, passage, runner, tmp_path
):
    make_user("ann")
    login("ann")
    labels = {str(c.id): "quoted" for c in passage.claims}
    assert client.post(f"/passages/{passage.id}", json={"labels": labels}).status_code == 200
    out = tmp_path / "labels.csv"
    assert runner.invoke(args=["export", "--all-claims", str(out)]).exit_code == 0
    session.execute(Annotation.__table__.delete())
    session.commit()
    result = runner.invoke(args=["import-labels", str(out), "--project", "default"])
    assert result.exit_code == 0, result.output
    assert f"{len(passage.claims)} labels added" in result.output
    assert len(session.scalars(select(Annotation)).all()) == len(passage.claims)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"label": "maybe"}, "line 3: unknown label 'maybe'"),
        ({"document_id": "nope"}, "line 3: no document 'nope' in project default"),
        (
            {"claim_text": "Not a claim at all."},
            "line 3: document '{doc}' has no claim with the text",
        ),
        ({"passage_index": "99"}, "line 3: document '{doc}' has no passage 99"),
        ({"passage_index": "99999999999"}, "line 3: document '{doc}' has no passage 99999999999"),
        ({"passage_index": "9" * 19}, "line 3: passage_index must be a whole number"),
        ({"reviewer": ""}, "line 3: the reviewer is empty"),
        ({"label": "editorial", "claim_text": "SAME"}, "line 3: ann labels this claim twice"),
    ],
)
def test_bad_rows_name_the_line_and_import_nothing(session, make_user, passage, row, message):
    make_user("ann")
    claim = passage.claims[0]
    good = {
        "document_id": passage.document.external_id,
        "passage_index": passage.index,
        "claim_text": claim.text,
        "reviewer": "ann",
        "label": "quoted",
    }
    bad = {**good, **row}
    if bad["claim_text"] == "SAME":
        bad["claim_text"] = claim.text
    message = message.format(doc=passage.document.external_id)
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(")):
        import_labels(session, "labels.csv", _csv([good, bad]), "default")
    assert session.scalars(select(Annotation)).all() == []


def test_unknown_reviewers_are_refused_or_created_inactive(session, passage):
    claim = passage.claims[0]
    row = {
        "document_id": passage.document.external_id,
        "claim_text": claim.text,
        "passage_index": passage.index,
        "reviewer": "other-tool",
        "label": "quoted",
    }
    with pytest.raises(ImportFileError, match="unknown reviewer\\(s\\) other-tool"):
        import_labels(session, "labels.csv", _csv([row]), "default")
    assert session.scalar(select(User).where(User.username == "other-tool")) is None
    report = import_labels(session, "labels.csv", _csv([row]), "default", create_reviewers=True)
    assert report.new_reviewers == ["other-tool"]
    user = session.scalar(select(User).where(User.username == "other-tool"))
    assert user.active is False
    assert user.role == "reviewer"


def test_header_must_name_a_claim(session):
    with pytest.raises(ImportFileError, match=r"labels\.csv, line 1: the header lacks claim_text"):
        import_labels(session, "labels.csv", b"document_id,reviewer,label\na,b,quoted\n", "default")


def test_browser_form_for_admins(client, session, make_user, login, passage):
    make_user("boss", Role.ADMIN)
    make_user("ann")
    login("boss")
    claim = passage.claims[0]
    data = _csv(
        [
            {
                "document_id": passage.document.external_id,
                "claim_text": claim.text,
                "passage_index": passage.index,
                "reviewer": "ann",
                "label": "quoted",
            }
        ]
    )
    response = client.post(
        "/admin/import/labels",
        data={"file": (io.BytesIO(data), "labels.csv"), "project": "default"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert b"1 label added" in response.data
    bad = client.post(
        "/admin/import/labels",
        data={"file": (io.BytesIO(b"document_id,reviewer,label\n"), "x.csv"), "project": "default"},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert b"Nothing was imported" in bad.data


def test_reviewers_cannot_open_the_label_import(client, make_user, login):
    make_user("rita")
    login("rita")
    assert client.get("/admin/import/labels").status_code == 403


def _queue_state(session, document):
    """What the queue knows of a document: each review's status, the passages' completed
    counts and the document's counters (timestamps left out)."""
    reviews = session.execute(
        select(Review.passage_id, Review.user_id, Review.status, Review.reserved_until.is_(None))
        .where(Review.document_id == document.id)
        .order_by(Review.passage_id, Review.user_id)
    ).all()
    counts = session.execute(
        select(Passage.id, Passage.completed_count)
        .where(Passage.document_id == document.id)
        .order_by(Passage.id)
    ).all()
    counters = session.execute(
        select(Document.open_passages, Document.started_by).where(Document.id == document.id)
    ).one()
    return [tuple(r) for r in reviews], [tuple(c) for c in counts], tuple(counters)


def _recounted(session, document, overlap):
    """The counters as the reviews make them: completed reviews per passage, passages with
    claims short of the overlap, reviewers with any review in the document."""
    reviews = session.execute(
        select(Review.passage_id, Review.user_id, Review.status).where(
            Review.document_id == document.id
        )
    ).all()
    completed = {}
    for passage_id, _, status in reviews:
        if status == ReviewStatus.COMPLETED:
            completed[passage_id] = completed.get(passage_id, 0) + 1
    passages = session.execute(
        select(Passage.id, Passage.claim_count)
        .where(Passage.document_id == document.id)
        .order_by(Passage.id)
    ).all()
    open_passages = sum(1 for p, claims in passages if claims and completed.get(p, 0) < overlap)
    started_by = len({user_id for _, user_id, _ in reviews})
    return [(p, completed.get(p, 0)) for p, _ in passages], (open_passages, started_by)


@pytest.mark.parametrize("ids_per_statement", [IDS_PER_STATEMENT, 1])
def test_completions_at_once_leave_what_one_at_a_time_leaves(
    session, make_user, passage, monkeypatch, ids_per_statement
):
    """``record_completions`` against ``record_completion`` pair by pair, from the same
    start: a served, a skipped, a completed and a never-served review; a reviewer new to the
    document completing two passages; a passage crossing the overlap with two completions.
    With one id per statement, the reads in chunks must find every review and passage."""
    monkeypatch.setattr(db, "IDS_PER_STATEMENT", ids_per_statement)
    ann, bob, cat = make_user("ann"), make_user("bob"), make_user("cat")
    document = passage.document
    project = session.get(Project, document.project_id)
    assert project.overlap == 2
    p1, p2, p3, p4 = [p for p in document.passages if p.claims][:4]
    common = {"document_id": document.id, "project_id": project.id}
    for p, user, status in (
        (p1, ann, ReviewStatus.RESERVED),
        (p2, ann, ReviewStatus.COMPLETED),
        (p3, ann, ReviewStatus.SKIPPED),
        (p1, cat, ReviewStatus.COMPLETED),
    ):
        session.add(Review(passage_id=p.id, user_id=user.id, status=status, **common))
    session.flush()
    counts, (open_passages, started_by) = _recounted(session, document, project.overlap)
    for passage_id, completed in counts:
        session.execute(
            update(Passage).where(Passage.id == passage_id).values(completed_count=completed)
        )
    session.execute(
        update(Document)
        .where(Document.id == document.id)
        .values(open_passages=open_passages, started_by=started_by)
    )
    session.commit()
    session.expire_all()
    pairs = [(p1, ann), (p2, ann), (p3, ann), (p4, ann), (p1, bob), (p4, bob)]

    for p, user in pairs:
        queue.record_completion(session, user, p, p.claim_count)
    one_at_a_time = _queue_state(session, document)
    session.rollback()
    session.expire_all()
    queue.record_completions(session, project, {(p.id, user.id) for p, user in pairs})
    at_once = _queue_state(session, document)

    assert at_once == one_at_a_time
    reviews, counts, counters = at_once
    assert (counts, counters) == _recounted(session, document, project.overlap)
    completed = {(p, u) for p, u, status, _ in reviews if status == ReviewStatus.COMPLETED}
    assert {(p.id, user.id) for p, user in pairs} <= completed
    assert dict(counts)[p1.id] == 3, "cat's completion stays; ann's and bob's are added"
    assert counters[1] == 3, "bob is new to the document, once"
    session.rollback()


@pytest.mark.parametrize("served", [True, False], ids=["served", "never-served"])
@pytest.mark.parametrize("first", ["save", "import"])
def test_a_completion_meanwhile_is_counted_once(app_on_fresh_database, served, first):
    """A reviewer's save and a label import complete the same passage for them at the same
    time: whichever comes second waits for the first's transaction, then finds the review
    completed and counts nothing, whether the passage had been served to the reviewer or
    the first wrote its review."""
    engine = app_on_fresh_database.extensions["annotator.engine"]
    with Session(engine) as setup:
        import_fixture(setup, "harbour.txt")
        user = accounts.create_user(setup, "ann", PASSWORD)
        if served:
            project = setup.scalar(select(Project))
            queue.next_passage(setup, user, project, timedelta(minutes=30))
        setup.commit()
        passage = (
            setup.scalar(select(Passage).join(Review).where(Review.user_id == user.id))
            if served
            else passage_with_most_claims(setup)
        )
        pair, project_id = (passage.id, user.id), passage.project_id

    def complete(session: Session, by: str) -> None:
        begin_write(session)
        if by == "save":
            passage = session.get(Passage, pair[0])
            queue.record_completion(
                session, session.get(User, pair[1]), passage, passage.claim_count
            )
        else:
            queue.record_completions(session, session.get(Project, project_id), {pair})

    def second_meanwhile() -> None:
        with Session(engine) as session:
            complete(session, "import" if first == "save" else "save")
            session.commit()

    holding = Session(engine)
    complete(holding, first)  # its transaction stays open
    second = threading.Thread(target=second_meanwhile)
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive(), "the second waits for the first's locks"
    holding.commit()
    holding.close()
    second.join(timeout=30)
    assert not second.is_alive()
    with Session(engine) as check:
        assert check.get(Passage, pair[0]).completed_count == 1
        review = check.scalar(select(Review).where(Review.passage_id == pair[0]))
        assert review.status == ReviewStatus.COMPLETED


def test_rows_that_name_no_claim_or_two_are_refused(session, make_user, passage):
    """Offsets that start no claim, a passage without claims, and a text two claims share
    (without passage_index) name the line and import nothing."""
    make_user("ann")
    document = passage.document
    first, second = passage.claims[0], passage.claims[1]
    empty = next(p for p in document.passages if p.id != passage.id)
    empty.claims.clear()
    empty.claim_count = 0
    session.commit()
    base = {"document_id": document.external_id, "reviewer": "ann", "label": "quoted"}

    def refused(row: dict[str, object], message: str) -> None:
        with pytest.raises(ImportFileError, match=message):
            import_labels(session, "labels.csv", _csv([{**base, **row}]), "default")
        assert session.scalars(select(Annotation)).all() == []

    at = {"passage_index": passage.index, "claim_text": ""}
    refused(
        {**at, "claim_start": first.start, "claim_end": second.end},
        f"line 2: document '{document.external_id}' has no claim at "
        f"{first.start}:{second.end} in passage {passage.index}",
    )
    refused(
        {"passage_index": empty.index, "claim_text": first.text},
        f"line 2: document '{document.external_id}' has no claim with the text",
    )
    second.text = "  " + first.text.replace(" ", "\n")
    session.commit()
    refused({"claim_text": first.text}, r"line 2: 2 claims match \(claim with the text")
    report = import_labels(
        session,
        "labels.csv",
        _csv([{**base, **at, "claim_start": second.start, "claim_end": second.end}]),
        "default",
    )
    assert report.created == 1, "offsets still tell the two apart"


def test_a_large_import_leaves_statistics_that_know_its_labels(
    session, make_user, passage, monkeypatch
):
    make_user("ann")
    monkeypatch.setattr(storing, "ANALYZE_AFTER_ROWS", len(passage.claims))
    import_labels(session, "a.csv", _csv(_rows_for(passage, "ann")), "default")
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite plans without statistics: nothing to refresh, nothing failed
    for table, model in (("annotations", Annotation), ("reviews", Review)):
        reltuples = text("SELECT reltuples FROM pg_class WHERE relname = :table")
        rows = session.scalar(reltuples, {"table": table})
        assert rows == session.scalar(select(func.count()).select_from(model)), table


def test_the_summary_writes_large_counts_with_separators():
    report = LabelReport(created=120_000, updated=1, unchanged=2_500)
    assert report.summary() == "120,000 labels added, 1 changed, 2,500 already there"
    assert LabelReport(created=1).summary() == "1 label added, 0 changed, 0 already there"
