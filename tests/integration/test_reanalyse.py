"""Analysing documents already imported again, after the outlets changed: a document whose
analysis now differs is stored as a new version (labels of unchanged claims and curators'
decisions kept), one whose analysis is the same is left alone."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from annotator import cli
from annotator.db import DEADLOCK_DETECTED
from annotator.models import Annotation, Document, DocumentSource, Passage, Project, Role
from annotator.services import annotating, importing, outlets, passage_decisions
from annotator.services.annotating import TagSubmission
from annotator.services.importing import import_files
from annotator.services.outlet_disputes import choice_of
from tests.helpers import fingerprint, statements_sent

STRIKE = {
    "id": "strike-1",
    "title": "Strike goes on",
    "text": "The harbour strike entered its third week on Monday.\n\n"
    "The Harbour Gazette reports:\n\n"
    "Dock workers voted to continue the strike. The port authority said talks would resume.\n\n"
    "I think the union is right to hold out.",
}
LEAD_IN, EXCERPT = 2, 3  # passage indexes


class DeadlockError(Exception):
    sqlstate = DEADLOCK_DETECTED


def _file() -> list[tuple[str, bytes]]:
    return [("strike.jsonl", (json.dumps(STRIKE) + "\n").encode())]


def _passage(session, index: int) -> Passage:
    return session.scalar(select(Passage).where(Passage.index == index))


def _passage_of(session, external_id: str, index: int) -> Passage:
    passage = session.scalar(
        select(Passage)
        .join(Document)
        .where(Document.external_id == external_id, Passage.index == index)
    )
    session.refresh(passage)
    return passage


def _outlet_name(session, index: int) -> str | None:
    passage = _passage(session, index)
    session.refresh(passage)
    return passage.outlet.name if passage.outlet else None


def _label_every_claim(session, user) -> int:
    labelled = 0
    for passage in session.scalars(select(Passage).order_by(Passage.index)):
        labels = {claim.id: "reported" for claim in passage.claims}
        if labels:
            submission = TagSubmission(labels, dict.fromkeys(labels, 0))
            annotating.save_passage(session, user, passage, submission)
            labelled += len(labels)
    return labelled


@pytest.fixture
def strike(session, make_user):
    """The article imported before its outlet was known, every claim labelled by ann."""
    import_files(session, _file(), "default")
    assert _outlet_name(session, EXCERPT) is None
    labelled = _label_every_claim(session, make_user("ann"))
    outlets.create_outlet(session, "Harbour Gazette")
    session.commit()
    return labelled


def test_a_new_outlet_is_found_in_documents_analysed_again(session, strike):
    skipped = import_files(session, _file(), "default")
    assert skipped.duplicates == ["strike-1"]
    assert _outlet_name(session, EXCERPT) is None, "without the option nothing is analysed"

    report = import_files(session, _file(), "default", reanalyse=True)
    assert report.reanalysed == ["strike-1"]
    assert (report.duplicates, report.changed, report.imported) == ([], [], [])
    assert "1 analysed again with a new result" in report.summary()
    assert _outlet_name(session, LEAD_IN) == "Harbour Gazette"
    assert _outlet_name(session, EXCERPT) == "Harbour Gazette"
    # The lead-in's words are now the cue, no claim; its one label is reported lost.
    assert _passage(session, LEAD_IN).claims == []
    assert [line.split(":")[0] for line in report.lost_tags] == ["strike-1, passage 2"]
    assert session.scalar(select(func.count(Annotation.id))) == strike - 1


def test_an_unchanged_analysis_stores_no_new_version(session, strike):
    import_files(session, _file(), "default", reanalyse=True)
    ids = session.scalars(select(Passage.id).order_by(Passage.id)).all()
    report = import_files(session, _file(), "default", reanalyse=True)
    assert report.duplicates == ["strike-1"]
    assert report.reanalysed == []
    assert session.scalars(select(Passage.id).order_by(Passage.id)).all() == ids


def test_a_curators_outlet_stays_when_analysed_again(session, strike, make_user):
    cora = make_user("cora", Role.CURATOR)
    project = session.scalar(select(Project))
    excerpt = _passage(session, EXCERPT)
    npr = session.scalar(select(outlets.Outlet.id).where(outlets.Outlet.name == "NPR"))
    seen = choice_of(excerpt.outlet_id)
    passage_decisions.set_passage_outlet(session, cora, project, excerpt.id, str(npr), seen)
    report = import_files(session, _file(), "default", reanalyse=True)
    assert report.reanalysed == ["strike-1"]  # the lead-in's outlet is new
    assert _outlet_name(session, LEAD_IN) == "Harbour Gazette"
    assert _outlet_name(session, EXCERPT) == "NPR"
    again = import_files(session, _file(), "default", reanalyse=True)
    assert again.duplicates == ["strike-1"], "the decision is part of the analysis compared"


def test_a_curators_decision_is_compared_only_in_its_own_document(session, strike, make_user):
    """Documents are compared a batch at a time; a twin with the same passages does not take
    the other's decision."""
    twin = dict(STRIKE, id="strike-2")
    import_files(session, [("twin.jsonl", (json.dumps(twin) + "\n").encode())], "default")
    project = session.scalar(select(Project))
    importing.reanalyse_project(session, project)
    excerpt = _passage_of(session, "strike-1", EXCERPT)
    npr = session.scalar(select(outlets.Outlet.id).where(outlets.Outlet.name == "NPR"))
    seen = choice_of(excerpt.outlet_id)
    cora = make_user("cora", Role.CURATOR)
    passage_decisions.set_passage_outlet(session, cora, project, excerpt.id, str(npr), seen)
    done = importing.reanalyse_project(session, project)
    assert sorted(done.report.duplicates) == ["strike-1", "strike-2"]
    assert _passage_of(session, "strike-1", EXCERPT).outlet.name == "NPR"
    assert _passage_of(session, "strike-2", EXCERPT).outlet.name == "Harbour Gazette"


def test_the_import_command_analyses_again(runner, session, strike, tmp_path):
    path = tmp_path / "strike.jsonl"
    path.write_bytes(_file()[0][1])
    plain = runner.invoke(args=["import", str(path)])
    assert "1 skipped as duplicates" in plain.output
    result = runner.invoke(args=["import", str(path), "--reanalyse"])
    assert result.exit_code == 0, result.output
    assert "analysed again with a new result: strike-1" in result.output
    assert "lost labels: strike-1, passage 2" in result.output
    assert _outlet_name(session, EXCERPT) == "Harbour Gazette"


def test_the_import_page_analyses_again(client, make_user, login, session, strike):
    make_user("boss", Role.ADMIN)
    login("boss")
    response = client.post(
        "/admin/import",
        data={"file": (io.BytesIO(_file()[0][1]), "strike.jsonl"), "reanalyse": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Analysed again with a new result (1)" in response.text
    assert _outlet_name(session, EXCERPT) == "Harbour Gazette"


def test_the_api_analyses_again_when_asked(client, session, strike, make_user):
    from tests.api.conftest import bearer

    headers = bearer(session, make_user("adam", Role.ADMIN))
    project_id = session.scalar(select(Document.project_id))
    url = f"/api/v1/projects/{project_id}/documents"
    bad = client.post(url, json={"documents": [STRIKE], "reanalyse": "yes"}, headers=headers)
    assert bad.status_code == 400
    assert "reanalyse" in bad.json["error"]
    assert _outlet_name(session, EXCERPT) is None
    response = client.post(url, json={"documents": [STRIKE], "reanalyse": True}, headers=headers)
    assert response.status_code == 200
    assert response.json["reanalysed"] == ["strike-1"]
    assert _outlet_name(session, EXCERPT) == "Harbour Gazette"


def test_progress_counts_every_document_analysed(session, strike):
    """New, changed and analysed-again documents each count once (the command's bar)."""
    told: list[int] = []
    changed = dict(STRIKE, text=STRIKE["text"] + "\n\nA closing line.")
    fresh = dict(STRIKE, id="strike-2")
    data = "".join(json.dumps(doc) + "\n" for doc in (changed, fresh)).encode()
    import_files(session, [("two.jsonl", data)], "default", told.append)
    assert sum(told) == 2
    told.clear()
    import_files(session, [("two.jsonl", data)], "default", told.append, reanalyse=True)
    assert sum(told) == 2


def test_an_import_run_again_after_a_deadlock_counts_each_document_once(
    session, strike, monkeypatch
):
    """The first attempt stores the new document, then PostgreSQL ends it (a deadlock); the
    second stores both and the bar has counted two documents, not three."""
    store_versions = importing._store_versions
    attempts: list[int] = []

    def deadlock_first(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("UPDATE reviews", {}, DeadlockError())
        return store_versions(*args, **kwargs)

    monkeypatch.setattr(importing, "_store_versions", deadlock_first)
    told: list[int] = []
    changed = dict(STRIKE, text=STRIKE["text"] + "\n\nA closing line.")
    fresh = dict(STRIKE, id="strike-2")
    data = "".join(json.dumps(doc) + "\n" for doc in (fresh, changed)).encode()
    report = import_files(session, [("two.jsonl", data)], "default", told.append)
    assert len(attempts) == 2
    assert (report.imported, report.changed) == (["strike-2"], ["strike-1"])
    assert told == [1, 1]


def test_a_project_is_analysed_again_from_the_text_it_was_imported_with(session, strike):
    project = session.scalar(select(Project))
    told: list[tuple[int, int]] = []
    done = importing.reanalyse_project(session, project, lambda *at: told.append(at))
    assert done.report.reanalysed == ["strike-1"]
    assert done.without_source == 0
    assert done.summary() == "1 document analysed again with a new result, 0 unchanged"
    assert told == [(0, 1), (1, 1)]
    assert _outlet_name(session, EXCERPT) == "Harbour Gazette"
    assert session.scalar(select(func.count(Annotation.id))) == strike - 1
    source = session.scalar(select(DocumentSource))
    assert (source.title, source.text) == (STRIKE["title"], STRIKE["text"])
    again = importing.reanalyse_project(session, project)
    assert (again.report.reanalysed, again.report.duplicates) == ([], ["strike-1"])


def test_a_document_imported_again_after_it_was_analysed_is_analysed_from_its_new_text(
    session, strike, monkeypatch
):
    """The documents are analysed ahead of their transactions (by worker processes); one
    imported again in between is analysed again from its new text, not stored as the old
    text's analysis."""
    analyse_ahead = importing.drafts_by_batch
    changed = dict(STRIKE, text=STRIKE["text"] + "\n\nA closing line.")

    def imported_again_meanwhile(*args, **kwargs):
        analysed = list(analyse_ahead(*args, **kwargs))
        monkeypatch.setattr(importing, "drafts_by_batch", analyse_ahead)  # for the import
        data = (json.dumps(changed) + "\n").encode()
        assert import_files(session, [("strike.jsonl", data)], "default").changed == ["strike-1"]
        yield from analysed

    monkeypatch.setattr(importing, "drafts_by_batch", imported_again_meanwhile)
    done = importing.reanalyse_project(session, session.scalar(select(Project)))
    assert (done.report.reanalysed, done.report.duplicates) == ([], ["strike-1"])
    texts = session.scalars(select(Passage.text).order_by(Passage.index)).all()
    assert texts[-1] == "A closing line."
    assert session.scalar(select(DocumentSource.text)) == changed["text"]


def _statements_reanalysing(session, engine, copies: int) -> int:
    """Statements sent to analyse again a project of ``copies`` documents, each one changed."""
    project = _copies(session, copies)
    with statements_sent(engine) as sent:
        done = importing.reanalyse_project(session, project)
    assert len(done.report.reanalysed) == copies
    return len(sent)


def test_the_statements_of_a_reanalysis_do_not_grow_with_its_documents(session, engine, strike):
    assert _statements_reanalysing(session, engine, 2) == _statements_reanalysing(
        session, engine, 5
    )


def test_a_preview_reports_what_a_run_would_do_and_changes_nothing(session, strike):
    project = session.scalar(select(Project))
    before = fingerprint(session)
    told: list[tuple[int, int]] = []
    preview = importing.reanalyse_project(
        session, project, lambda *at: told.append(at), preview=True
    )
    assert fingerprint(session) == before
    assert told == [(0, 1), (1, 1)]
    assert preview.summary() == (
        "1 document would get a new result, 0 unchanged; nothing was changed"
    )
    assert preview.lost_labels().startswith(
        "Labels that would be lost where claims changed: strike-1, passage 2: claim"
    )
    done = importing.reanalyse_project(session, project)
    assert done.report.reanalysed == preview.report.reanalysed == ["strike-1"]
    assert done.report.lost_tags == preview.report.lost_tags
    assert done.lost_labels().startswith("Labels lost where claims changed: strike-1, passage 2")
    assert preview.new_result_line() == "would get a new result: strike-1"
    assert done.new_result_line() == "analysed again with a new result: strike-1"
    assert [line.split(": ")[0] for line in preview.lost_label_lines()] == ["would lose labels"]
    assert [line.split(": ")[0] for line in done.lost_label_lines()] == ["lost labels"]
    assert fingerprint(session) != before


def _copies(session, copies: int) -> Project:
    """A project of ``copies`` documents, their passages' outlets cleared after the import."""
    documents = [dict(STRIKE, id=f"strike-{n}") for n in range(copies)]
    data = "".join(json.dumps(document) + "\n" for document in documents).encode()
    name = f"{copies} copies"
    import_files(session, [("copies.jsonl", data)], name)
    project = session.scalar(select(Project).where(Project.name == name))
    session.execute(update(Passage).where(Passage.project_id == project.id).values(outlet_id=None))
    session.commit()
    return project


def test_progress_tells_the_documents_done_and_in_all_at_the_start_and_after_each_batch(
    session, strike, monkeypatch
):
    monkeypatch.setattr(importing, "REANALYSIS_BATCH", 2)
    monkeypatch.setattr(importing, "REANALYSIS_ROUND", 4)
    project = _copies(session, 5)
    told: list[tuple[int, int]] = []
    done = importing.reanalyse_project(session, project, lambda *at: told.append(at))
    assert told == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert len(done.report.reanalysed) == 5


def test_the_reanalyse_commands_bar_counts_up_to_every_document(
    runner, session, strike, monkeypatch
):
    monkeypatch.setattr(importing, "REANALYSIS_BATCH", 2)
    _copies(session, 3)
    bars: list[tqdm] = []

    def shown_bar(*args, **kwargs) -> tqdm:
        """As the command's, but shown (a test's output is no terminal) to a buffer."""
        bars.append(tqdm(*args, **{**kwargs, "disable": False, "file": io.StringIO()}))
        return bars[-1]

    monkeypatch.setattr(cli, "tqdm", shown_bar)
    result = runner.invoke(args=["reanalyse", "--project", "3 copies"])
    assert result.exit_code == 0, result.output
    [bar] = bars
    assert (bar.n, bar.total, bar.unit) == (3, 3, "doc")


def test_documents_imported_before_their_text_was_kept_are_counted(session, strike):
    session.execute(delete(DocumentSource))
    session.commit()
    done = importing.reanalyse_project(session, session.scalar(select(Project)))
    assert (done.report.reanalysed, done.without_source) == ([], 1)
    assert "1 document imported before their text was kept" in done.summary()
    assert _outlet_name(session, EXCERPT) is None


def test_the_reanalyse_command(runner, session, strike):
    result = runner.invoke(args=["reanalyse", "--project", "default"])
    assert result.exit_code == 0, result.output
    assert "analysed again with a new result: strike-1" in result.output
    assert "lost labels: strike-1, passage 2" in result.output
    assert "1 document analysed again with a new result, 0 unchanged" in result.output
    again = runner.invoke(args=["reanalyse", "--project", "default"])
    assert "0 documents analysed again with a new result, 1 unchanged" in again.output
    unknown = runner.invoke(args=["reanalyse", "--project", "nope"])
    assert unknown.exit_code != 0
    assert "No project named 'nope'" in unknown.output


def test_the_reanalyse_command_previews_with_dry_run(runner, session, strike):
    before = fingerprint(session)
    result = runner.invoke(args=["reanalyse", "--project", "default", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would lose labels: strike-1, passage 2" in result.output
    assert "would get a new result: strike-1" in result.output
    assert "1 document would get a new result, 0 unchanged; nothing was changed" in result.output
    assert fingerprint(session) == before
    assert _outlet_name(session, EXCERPT) is None


def test_lost_labels_are_told_ten_at_a_time():
    report = importing.ImportReport(lost_tags=[f"doc-{n}, passage 1: lost" for n in range(12)])
    told = importing.Reanalysis(report, 0).lost_labels()
    assert told.startswith("Labels lost where claims changed: doc-0, passage 1: lost; doc-1")
    assert "doc-9, passage 1: lost; and 2 more." in told
    assert "doc-10" not in told
    assert importing.Reanalysis(importing.ImportReport(), 0).lost_labels() == ""


def test_summaries_write_large_counts_with_separators():
    ids = [f"doc-{n}" for n in range(1200)]
    report = importing.ImportReport(imported=ids, duplicates=ids, reanalysed=ids, passages=2400)
    assert report.summary() == (
        "1,200 imported, 0 updated to a new version, 1,200 analysed again with a new result, "
        "1,200 skipped as duplicates, 0 failed; 2,400 passages stored"
    )
    assert importing.Reanalysis(report, 0).summary() == (
        "1,200 documents analysed again with a new result, 1,200 unchanged"
    )
