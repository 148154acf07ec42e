"""CSV and JSONL exports: the column contract, neutralised cells, CLI and web download."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from annotator.models import Claim, Passage
from annotator.services.exporting import CSV_COLUMNS
from tests.helpers import import_fixture

FOUNDATION_COLUMNS = [
    "document_id", "document_title", "document_url", "passage_index", "passage_role", "outlet",
    "outlet_cue", "claim_index", "claim_start", "claim_end", "claim_text", "suggested_label",
    "label", "reviewer", "updated_at",
]  # fmt: skip


@pytest.fixture
def tagged(client, make_user, login, session):
    """Two reviewers tag the first passage of a-1; one of them corrects its outlet."""
    import_fixture(session, "two.jsonl")
    passage = session.scalars(select(Passage).order_by(Passage.id)).first()
    for name, label, outlet in (("ann", "reported", ""), ("bob", "editorial", "none")):
        make_user(name)
        login(name)
        labels = {str(c.id): label for c in passage.claims}
        response = client.post(f"/passages/{passage.id}", json={"labels": labels, "outlet": outlet})
        assert response.status_code == 200
    make_user("cora", "curator")
    login("cora")  # exports are for curators and admins
    return passage


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_columns_come_in_the_contract_order():
    assert list(CSV_COLUMNS[: len(FOUNDATION_COLUMNS)]) == FOUNDATION_COLUMNS


def test_web_csv_has_one_row_per_claim_and_reviewer(client, tagged):
    response = client.get("/export/annotations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith(",".join(FOUNDATION_COLUMNS))
    assert "\r\n" in text
    rows = _rows(text)
    assert len(rows) == 2 * len(tagged.claims)
    by_reviewer = {r["reviewer"]: r for r in rows}
    assert by_reviewer["ann"]["label"] == "reported"
    assert by_reviewer["bob"]["label"] == "editorial"
    assert by_reviewer["ann"]["outlet"] == "AP"
    assert by_reviewer["bob"]["outlet"] == ""
    assert by_reviewer["bob"]["detected_outlet"] == "AP"
    row = rows[0]
    assert row["document_id"] == "a-1"
    assert row["document_url"] == "https://example.org/a-1"
    assert row["outlet_cue"] == "(AP)"
    assert row["claim_text"] == tagged.text[int(row["claim_start"]) : int(row["claim_end"])]
    assert row["updated_at"]


def test_all_claims_adds_untagged_claims(client, tagged, session):
    rows = _rows(client.get("/export/annotations.csv?all_claims=1").get_data(as_text=True))
    total_claims = len(session.scalars(select(Claim)).all())
    untagged = [r for r in rows if not r["reviewer"]]
    assert len(untagged) == total_claims - len(tagged.claims)
    assert all(r["label"] == "" for r in untagged)


def test_cli_csv_and_jsonl(runner, tagged, tmp_path):
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "--format", "csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out.read_text(encoding="utf-8"))
    assert {r["reviewer"] for r in rows} == {"ann", "bob"}
    out_jsonl = tmp_path / "out.jsonl"
    assert runner.invoke(args=["export", "--format", "jsonl", str(out_jsonl)]).exit_code == 0
    docs = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in docs] == ["a-1", "a-2"]
    first = docs[0]["passages"][0]
    keys = {"index", "text", "role", "outlet", "cue", "loaded_terms", "skips", "claims"}
    assert set(first) == keys
    claim = first["claims"][0]
    assert claim["text"] == first["text"][claim["start"] : claim["end"]]
    assert {a["reviewer"]: a["label"] for a in claim["annotations"]} == {
        "ann": "reported",
        "bob": "editorial",
    }
    assert docs[1]["passages"][1]["claims"][0]["annotations"] == []


def test_formula_cells_are_neutralised(client, make_user, login, session):
    import_fixture(session, "formula.jsonl")
    make_user("ann", "curator")  # exports are for curators and admins
    login("ann")
    rows = _rows(client.get("/export/annotations.csv?all_claims=1").get_data(as_text=True))
    assert rows[0]["document_id"].startswith("'=HYPERLINK")
    assert rows[0]["document_title"] == "'=1+2 (Reuters)"
    texts = [r["claim_text"] for r in rows]
    assert any(t.startswith("'@SUM") for t in texts)
    assert any(t.startswith("'-5 degrees") for t in texts)
    assert not any(t[:1] in "=+-@" for t in texts)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+4", "'+4"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("plain", "plain"), ("", ""), ("a=b", "a=b")],
)  # fmt: skip
def test_neutralise_cell(cell, expected):
    from annotator.services.exporting import neutralise_cell

    assert neutralise_cell(cell) == expected


def test_team_columns_unsure_note_and_skips(client, make_user, login, session, runner, tmp_path):
    import_fixture(session, "two.jsonl")
    passages = session.scalars(select(Passage).order_by(Passage.id)).all()
    tagged, skipped = passages[0], passages[1]
    make_user("ann", "curator")  # exports are for curators and admins
    login("ann")
    key = str(tagged.claims[0].id)
    body = {"labels": {key: "quoted"}, "unsure": {key: True}, "notes": {key: "=who said it?"}}
    assert client.post(f"/passages/{tagged.id}", json=body).status_code == 200
    assert (
        client.post(f"/passages/{skipped.id}/skip", data={"reason": "garbled"}).status_code == 302
    )

    rows = _rows(client.get("/export/annotations.csv").get_data(as_text=True))
    header = list(rows[0])
    assert header[len(FOUNDATION_COLUMNS) : len(FOUNDATION_COLUMNS) + 3] == [
        "project",
        "unsure",
        "note",
    ]
    label_row = next(r for r in rows if r["label"])
    assert (label_row["project"], label_row["unsure"], label_row["note"]) == (
        "default", "yes", "'=who said it?",
    )  # fmt: skip
    skip_rows = [r for r in rows if r["skipped"] == "yes"]
    assert len(skip_rows) == len(skipped.claims)
    assert all(r["skip_reason"] == "garbled" and r["label"] == "" for r in skip_rows)

    out = tmp_path / "out.jsonl"
    assert runner.invoke(args=["export", "--format", "jsonl", str(out)]).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    annotation = doc["passages"][0]["claims"][0]["annotations"][0]
    assert (annotation["unsure"], annotation["note"]) == (True, "=who said it?")
    assert doc["passages"][1]["skips"][0]["reason"] == "garbled"
    assert doc["passages"][1]["claims"][0]["annotations"] == []
