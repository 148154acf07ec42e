"""JSONL export -> import into an empty database -> JSONL export gives the same content."""

from __future__ import annotations

import json

from sqlalchemy import delete, select

from annotator.db import Base
from annotator.models import FinalLabel, Outlet, Passage, Role, User
from annotator.services import annotating, suggestions
from annotator.services.annotating import TagSubmission
from annotator.services.importing import import_files
from tests.helpers import FIXTURES, counts

KEEP = {"outlets", "outlet_aliases", "alembic_version"}
# "Reuters reports:" is a passage with no claim: a lead-in that makes what follows an excerpt
LEAD_IN_TEXT = "Reuters reports:\n\n> Ships sailed on Monday.\n\nGood news at last."


def _seed_work(session, make_user):
    """Two reviewers (unsure flag, note, outlet correction), a skip, a final label and an
    outside suggestion."""
    import_files(session, [("two.jsonl", (FIXTURES / "two.jsonl").read_bytes())], "study")
    csv = "id,title,text,topic\nc-1,Port reopens,The port reopened on Monday.,shipping\n"
    import_files(session, [("more.csv", csv.encode())], "study")
    lead_in = {"id": "l-1", "title": "Ships sail", "text": LEAD_IN_TEXT}
    import_files(session, [("lead-in.jsonl", json.dumps(lead_in).encode())], "study")
    passages = session.scalars(
        select(Passage).where(Passage.claim_count > 0).order_by(Passage.id)
    ).all()
    ann, bob = make_user("ann"), make_user("bob", Role.ADMIN)
    first, second = passages[0], passages[1]
    ids = [c.id for c in first.claims]
    reuters = session.scalar(select(Outlet.id).where(Outlet.name == "Reuters"))
    annotating.save_passage(
        session,
        ann,
        first,
        TagSubmission(
            dict.fromkeys(ids, "reported"),
            dict.fromkeys(ids, 0),
            {ids[0]: True},
            {ids[0]: "=check"},
            "none",
        ),
    )
    annotating.save_passage(
        session,
        bob,
        first,
        TagSubmission(
            dict.fromkeys(ids, "quoted"),
            dict.fromkeys(ids, 0),
            {},
            {},
            str(reuters),
        ),
    )
    annotating.skip_passage(session, bob, second, "garbled text")
    session.add(
        FinalLabel(claim_id=ids[0], project_id=first.project_id, label="quoted", user_id=bob.id)
    )
    session.commit()
    items = [suggestions.SuggestionInput(ids[0], "editorial", 0.75, "model says so")]
    suggestions.post_suggestions(session, bob, "model-x", items)


def _export(runner, path):
    result = runner.invoke(args=["export", "--format", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _empty(session):
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEEP:
            session.execute(delete(table))
    session.commit()


def test_jsonl_round_trip(runner, session, make_user, tmp_path):
    _seed_work(session, make_user)
    first = _export(runner, tmp_path / "first.jsonl")
    before = counts(session)
    assert any(p["skips"] for d in first for p in d["passages"])
    assert first[-2]["metadata"] == {"topic": "shipping"}
    lead_in = first[-1]["passages"][1]
    assert (lead_in["text"], lead_in["outlet"], lead_in["claims"]) == (
        "Reuters reports:",
        "Reuters",
        [],
    )

    _empty(session)
    assert counts(session) == (0, 0, 0)
    refused = runner.invoke(args=["import", "--project", "study", str(tmp_path / "first.jsonl")])
    assert refused.exit_code == 1
    assert "unknown reviewer(s) ann, bob" in refused.output
    result = runner.invoke(
        args=["import", "--project", "study", "--create-reviewers", str(tmp_path / "first.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert counts(session) == before
    assert session.scalar(select(User.active).where(User.username == "ann")) is False

    second = _export(runner, tmp_path / "second.jsonl")
    assert second == first


def test_restored_progress_feeds_the_queue(runner, session, make_user, tmp_path):
    _seed_work(session, make_user)
    _export(runner, tmp_path / "first.jsonl")
    tagged = session.scalar(select(Passage).where(Passage.completed_count > 0))
    expected = (tagged.index, tagged.completed_count)
    _empty(session)
    runner.invoke(
        args=["import", "--project", "study", "--create-reviewers", str(tmp_path / "first.jsonl")]
    )
    restored = session.scalar(select(Passage).where(Passage.completed_count > 0))
    assert (restored.index, restored.completed_count) == expected


def test_broken_restore_record_names_the_line(session):
    bad = {
        "id": "x",
        "title": "T",
        "passages": [
            {
                "index": 0,
                "text": "Head",
                "claims": [{"start": 0, "end": 99, "suggested_label": "reported"}],
            }
        ],
    }
    report = import_files(session, [("dump.jsonl", (json.dumps(bad) + "\n").encode())], "default")
    assert "dump.jsonl, line 1: passage 0, claim 0:" in report.failed[0]
    assert counts(session) == (0, 0, 0)


def test_an_export_of_some_reviewers_labels_leaves_passages_without_claims_out(
    runner, session, make_user, tmp_path
):
    _seed_work(session, make_user)
    result = runner.invoke(
        args=["export", "--format", "jsonl", "--reviewer", "ann", str(tmp_path / "a")]
    )
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in (tmp_path / "a").read_text().splitlines()]
    assert documents, "ann's labels are exported"
    assert all(p["claims"] for d in documents for p in d["passages"])
