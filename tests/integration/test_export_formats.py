"""Wide CSV, Label Studio tasks, doccano JSONL, the Excel option and the export filters.

The Label Studio and doccano files are checked against those tools' documented import
rules: Label Studio's JSON task format (a list of tasks whose ``data`` holds the value the
labeling config's object tag names, ``annotations``/``predictions`` with ``result`` regions
whose ``from_name``/``to_name``/``type`` match the config's control and object tags and whose
``value`` holds ``start``, ``end``, ``text`` and ``labels`` drawn from the config), and
doccano's sequence-labelling JSONL (one object a line with ``text`` and ``label``: a list of
``[start, end, label]`` with character offsets).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from annotator.models import Annotation, FinalLabel, Passage, Role, User
from annotator.services import annotating, suggestions, tokens
from annotator.services.annotating import TagSubmission
from annotator.services.export_formats import (
    BOM,
    FORMATS,
    LABEL_STUDIO_CONFIG,
    export_chunks,
    filter_from_args,
    iter_label_studio,
)
from annotator.services.exporting import ExportFilter
from tests.helpers import import_fixture, two_site_study


@pytest.fixture
def world(session, make_user):
    """ann labels every claim reported; bob labels the first passage's claims quoted and the
    rest reported; the first claim is settled as quoted; model-x suggests editorial for it."""
    import_fixture(session, "harbour.txt", "two.jsonl")
    ann, bob = make_user("ann"), make_user("bob", Role.ADMIN)
    passages = session.scalars(
        select(Passage).where(Passage.claim_count > 0).order_by(Passage.id)
    ).all()
    for user in (ann, bob):
        for n, passage in enumerate(passages):
            label = "quoted" if user is bob and n == 0 else "reported"
            ids = [c.id for c in passage.claims]
            annotating.save_passage(
                session,
                user,
                passage,
                TagSubmission(dict.fromkeys(ids, label), dict.fromkeys(ids, 0)),
            )
    first_claim = passages[0].claims[0]
    session.add(
        FinalLabel(
            claim_id=first_claim.id,
            project_id=passages[0].project_id,
            label="quoted",
            user_id=bob.id,
        )
    )
    session.commit()
    suggestions.post_suggestions(
        session, bob, "model-x", [suggestions.SuggestionInput(first_claim.id, "editorial", 0.9, "")]
    )
    return passages


def _text(session, fmt, **args):
    return b"".join(export_chunks(session, fmt, filter_from_args(args, session))).decode()


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


# Label Studio


def _config():
    root = ET.fromstring(LABEL_STUDIO_CONFIG)  # noqa: S314 (our own constant)
    labels = root.find("Labels")
    text = root.find("Text")
    return {
        "from_name": labels.get("name"),
        "to_name": text.get("name"),
        "type": labels.tag.lower(),
        "data_key": text.get("value").lstrip("$"),
        "values": {label.get("value") for label in labels.findall("Label")},
    }


def check_label_studio(tasks):
    config = _config()
    assert isinstance(tasks, list)
    assert tasks
    for task in tasks:
        assert isinstance(task["data"], dict)
        text = task["data"][config["data_key"]]
        assert isinstance(text, str)
        for key in ("annotations", "predictions"):
            assert isinstance(task.get(key, []), list)
        for item in [*task.get("annotations", []), *task.get("predictions", [])]:
            assert isinstance(item["result"], list)
            if "model_version" in item:
                assert isinstance(item["model_version"], str)
            for region in item["result"]:
                assert isinstance(region["id"], str)
                assert region["id"]
                assert region["from_name"] == config["from_name"]
                assert region["to_name"] == config["to_name"]
                assert region["type"] == config["type"]
                value = region["value"]
                assert isinstance(value["start"], int)
                assert isinstance(value["end"], int)
                assert 0 <= value["start"] < value["end"] <= len(text)
                assert value["text"] == text[value["start"] : value["end"]]
                assert value["labels"]
                assert set(value["labels"]) <= config["values"]
                if "score" in region:
                    assert isinstance(region["score"], int | float)


def test_label_studio_tasks_follow_the_task_format(session, world):
    tasks = json.loads(_text(session, "label-studio"))
    check_label_studio(tasks)
    first = next(t for t in tasks if t["data"]["text"] == world[0].text)
    assert sorted(first["meta"]["reviewers"]) == ["ann", "bob"]
    labels = {
        reviewer: {r["value"]["labels"][0] for r in annotation["result"]}
        for reviewer, annotation in zip(
            first["meta"]["reviewers"], first["annotations"], strict=True
        )
    }
    assert labels == {"ann": {"reported"}, "bob": {"quoted"}}
    versions = {p["model_version"]: p for p in first["predictions"]}
    assert set(versions) == {"annotator", "model-x"}
    assert versions["model-x"]["result"][0]["score"] == 0.9
    assert len(versions["annotator"]["result"]) == len(world[0].claims)


def test_label_studio_streams_one_task_at_a_time(session, world):
    chunks = list(iter_label_studio(session, ExportFilter()))
    assert chunks[0] == "["
    assert chunks[-1] == "\n]\n"
    assert len(chunks) == 2 + len(session.scalars(select(Passage)).all())


# doccano


def check_doccano(lines):
    for line in lines:
        obj = json.loads(line)
        assert isinstance(obj["text"], str)
        assert isinstance(obj["label"], list)
        previous_end = 0
        for span in obj["label"]:
            start, end, label = span
            assert isinstance(start, int)
            assert isinstance(end, int)
            assert isinstance(label, str)
            assert previous_end <= start < end <= len(obj["text"])
            previous_end = end


def test_doccano_lines_follow_sequence_labelling_jsonl(session, world):
    text = _text(session, "doccano")
    lines = text.splitlines()
    check_doccano(lines)
    by_text = {json.loads(line)["text"]: json.loads(line) for line in lines}
    first = by_text[world[0].text]
    # the settled claim carries its final label; the others of the passage have no agreement
    assert first["label"][0][2] == "quoted"
    assert len(first["label"]) == 1 or all(s[2] in ("quoted", "reported") for s in first["label"])
    second = by_text[world[1].text]
    assert {s[2] for s in second["label"]} == {"reported"}  # unanimous
    assert second["reviewers"]["ann"][0][2] == "reported"


# wide CSV and Excel


def test_wide_csv_has_one_row_per_claim_with_reviewers_side_by_side(session, world):
    rows = _rows(_text(session, "csv-wide"))
    claims = sum(len(p.claims) for p in session.scalars(select(Passage)))
    assert len(rows) == claims
    assert list(rows[0])[-3:] == ["final_label", "label_ann", "label_bob"]
    settled = next(r for r in rows if r["final_label"])
    assert (settled["label_ann"], settled["label_bob"], settled["final_label"]) == (
        "reported", "quoted", "quoted",
    )  # fmt: skip


def test_excel_option_puts_a_bom_first(session, world, runner, tmp_path):
    assert _text(session, "csv").startswith("document_id")
    data = b"".join(export_chunks(session, "csv", ExportFilter(), excel=True))
    assert data.startswith(BOM + b"document_id")
    out = tmp_path / "wide.csv"
    result = runner.invoke(args=["export", "--wide", "--excel", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdocument_id")
    assert not b"".join(export_chunks(session, "jsonl", ExportFilter(), excel=True)).startswith(BOM)


# filters


def test_filters_on_reviewer_label_role_outlet_and_settled(session, world):
    everything = _rows(_text(session, "csv"))
    assert {r["reviewer"] for r in everything} == {"ann", "bob"}
    assert {r["reviewer"] for r in _rows(_text(session, "csv", reviewer="bob"))} == {"bob"}
    quoted = _rows(_text(session, "csv", label="quoted"))
    assert quoted
    assert {(r["label"], r["reviewer"]) for r in quoted} == {("quoted", "bob")}
    excerpts = _rows(_text(session, "csv", role="excerpt"))
    assert {r["passage_role"] for r in excerpts} <= {"excerpt"}
    assert len(excerpts) < len(everything)
    reuters = _rows(_text(session, "csv", outlet="reuters"))
    assert reuters
    assert {r["detected_outlet"] for r in reuters} == {"Reuters"}
    none = _rows(_text(session, "csv", outlet="none"))
    assert none
    assert all(r["detected_outlet"] == "" for r in none)
    settled = _rows(_text(session, "csv", settled="1"))
    assert {r["final_label"] for r in settled} == {"quoted"}
    assert len(settled) == 2
    assert _rows(_text(session, "csv", outlet="AP", reviewer="ann", label="editorial")) == []
    jsonl = _text(session, "jsonl", reviewer="ann").splitlines()
    reviewers = {
        a["reviewer"]
        for line in jsonl
        for p in json.loads(line)["passages"]
        for c in p["claims"]
        for a in c["annotations"]
    }
    assert reviewers == {"ann"}


def test_date_range_filter(session, world):
    old = datetime(2020, 3, 1, 12, tzinfo=UTC)
    ann = session.scalar(select(User.id).where(User.username == "ann"))
    session.execute(update(Annotation).where(Annotation.user_id == ann).values(updated_at=old))
    session.commit()
    march = _rows(_text(session, "csv", since="2020-03-01", until="2020-03-01"))
    assert march
    assert {r["reviewer"] for r in march} == {"ann"}
    today = datetime.now(UTC).date()
    recent = _rows(_text(session, "csv", since=(today - timedelta(days=1)).isoformat()))
    assert {r["reviewer"] for r in recent} == {"bob"}


@pytest.mark.parametrize(
    ("args", "message"),
    [({"role": "boss"}, "role"), ({"label": "x"}, "label"), ({"since": "yesterday"}, "since")],
)
def test_bad_filters_are_refused(session, args, message):
    from annotator.services.export_formats import FilterError

    with pytest.raises(FilterError, match=message):
        filter_from_args(args, session)


def test_browser_download_with_format_and_filters(client, world, make_user, login):
    make_user("cora", Role.CURATOR)
    login("cora")
    page = client.get("/export/").get_data(as_text=True)
    assert 'value="label-studio"' in page
    assert 'name="settled"' in page
    offered = dict(re.findall(r'<datalist id="(\w+)-names">(.*?)</datalist>', page))
    assert re.findall(r'value="([^"]*)"', offered["project"]) == ["default"]
    assert {"none", "AP", "Reuters"} <= set(re.findall(r'value="([^"]*)"', offered["outlet"]))
    assert re.findall(r'value="([^"]*)"', offered["reviewer"]) == ["ann", "bob", "cora"]
    response = client.get("/export/download?format=label-studio&reviewer=ann")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert ".json" in response.headers["Content-Disposition"]
    tasks = json.loads(response.get_data(as_text=True))
    check_label_studio(tasks)
    assert all(t["meta"]["reviewers"] == ["ann"] for t in tasks)
    excel = client.get("/export/download?format=csv-wide&excel=1")
    assert excel.get_data().startswith(b"\xef\xbb\xbf")
    assert client.get("/export/download?format=pdf").status_code == 404
    assert client.get("/export/download?since=never").status_code == 400


UNKNOWN_NAMES = [
    ({"project": "nope"}, "there is no project named 'nope'"),
    ({"site": "Nope Daily"}, "no document names its site as 'Nope Daily'"),
    ({"outlet": "Daily Nope"}, "there is no outlet named 'Daily Nope'"),
    ({"reviewer": "zed"}, "there is no reviewer named 'zed'"),
]


@pytest.mark.parametrize(("args", "message"), UNKNOWN_NAMES)
def test_a_filter_naming_nothing_is_refused_everywhere(
    session, world, client, make_user, login, runner, tmp_path, args, message
):
    """A typo in a name would otherwise give an empty export that looks like a result."""
    from annotator.services.export_formats import FilterError

    with pytest.raises(FilterError, match=message):
        filter_from_args(args, session)
    make_user("cora", Role.CURATOR)
    login("cora")
    query = "&".join(f"{k}={v}" for k, v in args.items())
    page = client.get(f"/export/download?format=csv&{query}")
    assert page.status_code == 400
    assert escape(message) in page.get_data(as_text=True)
    cora = session.scalar(select(User).where(User.username == "cora"))
    _, token = tokens.create_token(session, cora, "script")
    api = client.get(f"/api/v1/export?{query}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 400
    assert message in api.json["error"]
    name, value = next(iter(args.items()))
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", f"--{name}", value, str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_the_command_writes_the_same_bytes_to_a_file_and_to_standard_output(
    session, world, runner, tmp_path
):
    out = tmp_path / "all.csv"
    assert runner.invoke(args=["export", "--all-claims", str(out)]).exit_code == 0
    piped = runner.invoke(args=["export", "--all-claims", "-"])
    assert piped.exit_code == 0, piped.output
    assert piped.stdout_bytes == out.read_bytes()
    assert out.read_bytes() == b"".join(
        export_chunks(session, "csv", filter_from_args({"all_claims": "1"}, session))
    )
    assert b"\r\n" in out.read_bytes(), "CRLF line ends, untranslated"


def _documents_in(text: str, fmt: str) -> set[str]:
    """The ids of the documents an export holds."""
    if fmt in ("csv", "csv-wide"):
        return {row["document_id"] for row in _rows(text)}
    if fmt == "label-studio":
        return {task["data"]["document_id"] for task in json.loads(text)}
    key = "id" if fmt == "jsonl" else "document_id"
    return {json.loads(line)[key] for line in text.splitlines()}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_site_and_period_filters_keep_those_documents_in_every_format(session, fmt):
    two_site_study(session)

    def documents(**scope: str) -> set[str]:
        return _documents_in(_text(session, fmt, all_claims="1", **scope), fmt)

    assert documents() == {"hw-1", "hw-2", "pd-1"}
    assert documents(site="Harbour Watch") == {"hw-1", "hw-2"}
    assert documents(published_from="2026-04-01") == {"pd-1"}
    assert documents(published_to="2026-04-10") == {"hw-1", "pd-1"}, "hw-2 names no day"
    assert documents(site="Harbour Watch", published_to="2026-03-31") == {"hw-1"}
    assert documents(site="Port Digest", published_to="2026-03-31") == set()


def test_site_and_period_filters_on_the_page_the_api_and_the_command(
    session, client, make_user, login, runner, tmp_path
):
    two_site_study(session)
    cora = make_user("cora", Role.CURATOR)
    login("cora")
    page = client.get("/export/").get_data(as_text=True)
    offered = dict(re.findall(r'<datalist id="(\w+)-names">(.*?)</datalist>', page))
    assert re.findall(r'value="([^"]*)"', offered["site"]) == ["Harbour Watch", "Port Digest"]
    assert 'name="published_from"' in page
    scope = {"site": "Harbour Watch", "published_from": "2026-03-01"}
    web = client.get("/export/download", query_string={"format": "jsonl", **scope})
    assert _documents_in(web.get_data(as_text=True), "jsonl") == {"hw-1"}
    _, token = tokens.create_token(session, cora, "script")
    api = client.get(
        "/api/v1/export",
        query_string={"format": "jsonl", **scope},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.get_data() == web.get_data()
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        args=["export", "--format", "jsonl", "--site", "Harbour Watch",
              "--published-from", "2026-03-01", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == web.get_data()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"published_from": "soon"}, "Published from: 'soon' is not a date"),
        ({"published_from": "2026-05-01", "published_to": "2026-04-01"}, "The period ends"),
        ({"project": "study", "site": "Harbour"}, "no document of project 'study' names its"),
    ],
)
def test_a_period_or_site_that_names_nothing_is_refused(
    session, client, login, make_user, args, message
):
    from annotator.services.export_formats import FilterError

    two_site_study(session)
    with pytest.raises(FilterError, match=re.escape(message)):
        filter_from_args(args, session)
    make_user("cora", Role.CURATOR)
    login("cora")
    page = client.get("/export/download", query_string=args)
    assert page.status_code == 400
    assert escape(message) in page.get_data(as_text=True)
