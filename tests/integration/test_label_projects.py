"""Labels and final labels carry their claim's project, so that a project's pages read its
own labels only. Every way of writing them is tried in a second project holding the same
document as a first; the suite's ``app`` fixture also checks the copy after every test."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from annotator.models import Annotation, FinalLabel, Passage, Project, Role
from annotator.services import adjudication, annotating
from annotator.services.annotating import TagSubmission
from annotator.services.label_import import import_labels
from tests.helpers import import_fixture


def _passages(session, project_name):
    return session.scalars(
        select(Passage)
        .join(Project, Project.id == Passage.project_id)
        .where(Project.name == project_name, Passage.claim_count > 0)
        .order_by(Passage.id)
    ).all()


def _save(session, user, passage, label):
    ids = [claim.id for claim in passage.claims]
    submission = TagSubmission(dict.fromkeys(ids, label), dict.fromkeys(ids, 0))
    annotating.save_passage(session, user, passage, submission)


def _labels_csv(passage, reviewer):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["document_id", "claim_text", "reviewer", "label"])
    writer.writeheader()
    for claim in passage.claims:
        row = {"document_id": passage.document.external_id, "claim_text": claim.text}
        writer.writerow({**row, "reviewer": reviewer, "label": "editorial"})
    return buffer.getvalue().encode()


def _by_project(session, model):
    rows = session.execute(
        select(Project.name, func.count(model.id))
        .join(model, model.project_id == Project.id)
        .group_by(Project.name)
    )
    return dict(rows.all())


def test_every_way_of_writing_labels_stores_the_claims_project(
    session, make_user, runner, tmp_path
):
    import_fixture(session, "two.jsonl", project="first")
    import_fixture(session, "two.jsonl", project="second")
    passages = _passages(session, "second")
    assert len(passages) >= 2
    ann, bob, cat = make_user("ann"), make_user("bob"), make_user("cat")
    curator = make_user("cora", Role.ADMIN)
    _save(session, ann, passages[0], "quoted")  # the page and the API save this way
    _save(session, bob, passages[0], "reported")
    _save(session, ann, passages[1], "quoted")
    _save(session, cat, passages[1], "quoted")
    report = import_labels(session, "labels.csv", _labels_csv(passages[0], "cat"), "second")
    assert report.created == len(passages[0].claims)
    second = session.scalar(select(Project).where(Project.name == "second"))
    disputed = passages[0].claims[0].id
    adjudication.settle(session, curator, second, disputed, "quoted", 0)
    assert adjudication.accept_unanimous(session, curator, second) == len(passages[1].claims)
    exported = tmp_path / "second.jsonl"
    assert (
        runner.invoke(
            args=["export", "--format", "jsonl", "--project", "second", str(exported)]
        ).exit_code
        == 0
    )
    imported = runner.invoke(args=["import", "--project", "third", str(exported)])
    assert imported.exit_code == 0, imported.output

    labels = 3 * len(passages[0].claims) + 2 * len(passages[1].claims)
    finals = 1 + len(passages[1].claims)
    assert _by_project(session, Annotation) == {"second": labels, "third": labels}
    assert _by_project(session, FinalLabel) == {"second": finals, "third": finals}
