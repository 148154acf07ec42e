"""Importing labels from CSV: by offsets or claim text, all or nothing, reviewer policy."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from annotator.models import Annotation, Document, Review, ReviewStatus, Role, User
from annotator.services.label_import import import_labels
from annotator.services.records import ImportFileError
from tests.helpers import import_fixture, passage_with_most_claims


def _csv(rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


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
    claim = passage.claims[0]
    row = {
        "document_id": passage.document.external_id,
        "passage_index": passage.index,
        "claim_start": claim.start,
        "claim_end": claim.end,
        "reviewer": "ann",
        "label": "quoted",
    }
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
    assert b"1 labels added" in response.data
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
