"""The bench's finished study: its label file imports, three labels a claim."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from annotator.bench import run
from annotator.models import Annotation, Claim, Passage, Project
from annotator.services.label_import import import_labels
from tests.helpers import import_fixture


def test_the_study_labels_every_claim_three_times_mostly_as_suggested(app, session, tmp_path):
    import_fixture(session, "harbour.txt", "two.jsonl")
    session.commit()
    project = session.scalar(select(Project).where(Project.name == "default"))
    path = tmp_path / "labels.csv"

    run.write_study_labels(app, project.id, path)
    report = import_labels(session, path.name, path.read_bytes(), "default", create_reviewers=True)

    claims = dict(session.execute(select(Claim.id, Claim.suggested_label).join(Passage)).all())
    labels = session.execute(select(Annotation.claim_id, Annotation.label)).all()
    assert report.created == len(labels) == run.LABELS_PER_CLAIM * len(claims)
    assert Counter(claim_id for claim_id, _ in labels) == dict.fromkeys(claims, 3)
    as_suggested = sum(label == claims[claim_id] for claim_id, label in labels)
    assert 0.7 < as_suggested / len(labels) < 0.9
    assert report.new_reviewers == [f"bench-finisher-{n}" for n in range(1, 7)]
