"""Importing articles from the CLI and the browser: all or nothing, no duplicates."""

from __future__ import annotations

from sqlalchemy import select

from annotator.models import Claim, Document, Passage, Project, Role
from annotator.services.importing import import_files
from tests.helpers import FIXTURES, count, counts, import_fixture


def test_cli_imports_text_and_jsonl(runner, session):
    result = runner.invoke(
        args=["import", str(FIXTURES / "harbour.txt"), str(FIXTURES / "two.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert "3 imported" in result.output
    titles = set(session.scalars(select(Document.title)))
    assert titles == {
        "Dockworkers extend strike as talks stall (Reuters)",
        "Council approves budget (AP)",
        "Rail line reopens",
    }
    doc = session.scalar(select(Document).where(Document.external_id == "a-1"))
    assert doc.url == "https://example.org/a-1"
    assert doc.passages[0].text == "Council approves budget (AP)"


def test_headline_cites_outlet_and_furniture_is_dropped(session):
    import_fixture(session, "harbour.txt")
    passages = session.scalars(select(Passage).order_by(Passage.index)).all()
    texts = [p.text for p in passages]
    assert texts[0].startswith("Dockworkers extend strike")
    assert not any(t in ("No comments:", "Post a Comment", "![]() |") for t in texts)
    assert passages[0].outlet.name == "Reuters"
    assert passages[0].cue == "(Reuters)"
    assert passages[0].text[passages[0].cue_start : passages[0].cue_end] == "(Reuters)"


def test_claims_are_exact_slices_with_suggestions(session):
    import_fixture(session, "harbour.txt", "two.jsonl")
    for claim in session.scalars(select(Claim)):
        assert claim.text == claim.text.strip()
        assert claim.text
        assert claim.passage.text[claim.start : claim.end] == claim.text
        assert claim.suggested_label in {"reported", "quoted", "editorial"}
        assert claim.suggestion_reason


def test_importing_twice_does_not_duplicate(runner, session):
    args = ["import", str(FIXTURES / "two.jsonl")]
    assert runner.invoke(args=args).exit_code == 0
    before = counts(session)
    result = runner.invoke(args=args)
    assert result.exit_code == 0
    assert "2 skipped as duplicates" in result.output
    assert counts(session) == before


def test_broken_jsonl_line_imports_nothing_and_names_the_line(runner, session):
    result = runner.invoke(args=["import", str(FIXTURES / "broken.jsonl")])
    assert result.exit_code == 1
    assert "broken.jsonl, line 2: invalid JSON" in result.output
    assert counts(session) == (0, 0, 0)


def test_bad_file_does_not_stop_good_ones(runner, session):
    result = runner.invoke(
        args=["import", str(FIXTURES / "broken.jsonl"), str(FIXTURES / "harbour.txt")]
    )
    assert result.exit_code == 1
    assert "1 imported" in result.output
    assert "1 failed" in result.output
    assert count(session, Document) == 1


def test_empty_and_binary_files_are_refused(session):
    files = [("empty.txt", b""), ("blob.txt", bytes(range(256)) * 4)]
    report = import_files(session, files, "default")
    assert report.imported == []
    assert "empty.txt: the file is empty" in report.failed[0]
    assert "blob.txt: " in report.failed[1]
    assert "binary" in report.failed[1]
    assert count(session, Document) == 0


def test_non_utf8_file_is_decoded(session):
    report = import_fixture(session, "latin1.txt")
    assert report.imported == ["latin1"]
    assert session.scalar(select(Document.title)) == "café title"


def test_import_targets_a_project(runner, session):
    result = runner.invoke(args=["import", "--project", "study", str(FIXTURES / "two.jsonl")])
    assert result.exit_code == 0
    names = session.scalars(
        select(Project.name).join(Document, Document.project_id == Project.id).distinct()
    ).all()
    assert names == ["study"]


def test_admin_uploads_in_browser(client, make_user, login, session):
    make_user("boss", Role.ADMIN)
    login("boss")
    with (FIXTURES / "two.jsonl").open("rb") as handle:
        response = client.post(
            "/admin/import",
            data={"file": (handle, "two.jsonl")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 200
    assert b"2 imported" in response.data
    assert count(session, Document) == 2


def test_upload_of_a_bad_file_reports_and_imports_nothing(client, make_user, login, session):
    make_user("boss", Role.ADMIN)
    login("boss")
    with (FIXTURES / "broken.jsonl").open("rb") as handle:
        response = client.post(
            "/admin/import",
            data={"file": (handle, "broken.jsonl")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 400
    assert b"broken.jsonl, line 2" in response.data
    assert count(session, Document) == 0


def test_reviewer_cannot_upload(client, make_user, login, session):
    make_user("rita")
    login("rita")
    assert client.get("/admin/import").status_code == 403
    with (FIXTURES / "two.jsonl").open("rb") as handle:
        response = client.post(
            "/admin/import",
            data={"file": (handle, "two.jsonl")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 403
    assert count(session, Document) == 0
