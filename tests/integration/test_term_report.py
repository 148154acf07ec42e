"""The loaded terms report: page, CSV tables, document scope, and what it keeps between
requests (figures worked out by hand from ``tests.helpers.TERMS_STUDY``)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from annotator.models import Project, Role
from annotator.services import term_report
from annotator.services.importing import import_files
from annotator.services.reports import Basis
from annotator.services.scope import DocumentScope
from tests.helpers import terms_study


@pytest.fixture
def study(session, make_user) -> Project:
    project = terms_study(session)
    make_user("ann", Role.ADMIN)
    return project


def by_outlet(report: term_report.TermReport) -> dict[str, term_report.OutletTerms]:
    return {row.outlet: row for row in report.outlets}


def test_each_outlet_with_its_passages_terms_and_labels(session, study):
    report = term_report.term_report(session, study, Basis.SETTLED)
    assert [row.outlet for row in report.outlets] == ["Reuters", "Tass", "(no outlet)"]
    rows = by_outlet(report)
    reuters, tass, own = rows["Reuters"], rows["Tass"], rows["(no outlet)"]
    assert (reuters.passages, reuters.with_terms.count) == (3, 1)
    assert reuters.with_terms.share == pytest.approx(1 / 3)
    assert (reuters.excerpts_with_terms, reuters.author_passages_with_terms) == (1, 0)
    assert reuters.top_terms == [("regime", 1)]
    assert (reuters.claims_with_terms, reuters.labels_with_terms["quoted"].count) == (1, 1)
    assert (reuters.claims_without, reuters.labels_without["reported"].count) == (1, 1)
    assert (tass.passages, tass.with_terms.count, tass.excerpts_with_terms) == (3, 2, 2)
    assert tass.top_terms == [("special military operation", 1), ("neo-Nazi*", 1)], "list order"
    assert tass.claims_with_terms == 2
    assert tass.labels_with_terms["quoted"].share == pytest.approx(0.5)
    assert (tass.claims_without, tass.labels_without["quoted"].share) == (0, None)
    assert (own.passages, own.with_terms.count, own.author_passages_with_terms) == (4, 1, 1)
    assert own.labels_with_terms["editorial"].count == 1
    assert own.labels_without["editorial"].count == 1, "the titles are not labelled"


def test_each_term_with_its_passages_and_outlets(session, study):
    report = term_report.term_report(session, study, Basis.SETTLED)
    rows = {row.term: row for row in report.rows}
    assert list(rows) == [
        "special military operation",
        "regime",
        "neo-Nazi*",
        "so-called",
        "genocide",
    ]
    assert (rows["regime"].passages, rows["regime"].excerpts, rows["regime"].outlets) == (
        1, 1, [("Reuters", 1)],
    )  # fmt: skip
    assert (rows["so-called"].author_passages, rows["so-called"].outlets) == (
        1, [("(no outlet)", 1)],
    )  # fmt: skip
    assert (rows["genocide"].passages, rows["genocide"].outlets) == (0, [])


def test_a_scope_keeps_its_documents_only(session, study):
    report = term_report.term_report(session, study, Basis.SETTLED, DocumentScope(site="Blog A"))
    rows = by_outlet(report)
    assert set(rows) == {"Tass", "(no outlet)"}
    assert rows["(no outlet)"].passages == 2
    assert report.passages == 5


def test_the_majority_basis_counts_reviewers_labels(session, study, client, login):
    report = term_report.term_report(session, study, Basis.MAJORITY)
    assert by_outlet(report)["Tass"].claims_with_terms == 0, "nobody labelled yet"


def test_new_passages_and_a_new_list_are_read_at_once(session, study):
    before = term_report.term_report(session, study, Basis.SETTLED)
    assert by_outlet(before)["Reuters"].with_terms.count == 1
    more = {"id": "b-2", "title": "More", "site": "Blog B",
            "text": "Reuters reports:\n\n> The regime fell.\n\nGood."}  # fmt: skip
    import_files(session, [("more.jsonl", json.dumps(more).encode())], "terms")
    after = term_report.term_report(session, study, Basis.SETTLED)
    assert by_outlet(after)["Reuters"].with_terms.count == 2
    study.loaded_terms = "genocide\n"
    session.commit()
    emptied = term_report.term_report(session, study, Basis.SETTLED)
    assert [row.term for row in emptied.rows] == ["genocide"]
    assert all(row.with_terms.count == 0 for row in emptied.outlets)


def csv_rows(client, study, table: str, **args) -> list[dict[str, str]]:
    response = client.get(f"/projects/{study.id}/reports/terms-{table}.csv", query_string=args)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_page_and_its_csv_tables(client, login, study):
    login("ann")
    html = client.get(f"/projects/{study.id}/reports/terms?basis=settled").get_data(True)
    assert "5 terms watched: special military operation, regime, neo-Nazi*, so-called," in html
    assert '<tr data-outlet="Tass">' in html
    assert f'href="/projects/{study.id}/passages?words=regime"' in html
    assert "?words=neo-Nazi" not in html, "the search finds words, not stems"
    assert '<tr data-term="genocide">' not in html
    assert '<p id="terms-nowhere">Found in no passage: genocide.</p>' in html
    outlets = {row["outlet"]: row for row in csv_rows(client, study, "by-outlet", basis="settled")}
    assert outlets["Tass"]["passages_with_terms"] == "2"
    assert outlets["Tass"]["top_terms"] == "special military operation: 1; neo-Nazi*: 1"
    assert outlets["Reuters"]["quoted_with_terms"] == "1"
    assert outlets["Reuters"]["reported_without_terms_share"] == "1.0000"
    terms = csv_rows(client, study, "by-term")
    assert [(r["term"], r["outlet"], r["outlet_passages"]) for r in terms][-2:] == [
        ("so-called", "(no outlet)", "1"),
        ("genocide", "", "0"),
    ]
    scoped = client.get(f"/projects/{study.id}/reports/terms-by-term.csv?site=Blog+A")
    assert scoped.headers["Content-Disposition"] == (
        f'attachment; filename="terms-by-term-project-{study.id}-settled_or_majority'
        '-site-Blog-A.csv"'
    )
    assert client.get(f"/projects/{study.id}/reports/terms-other.csv").status_code == 404


def test_terms_and_outlets_are_neutralised_in_the_csv(client, login, session, study):
    study.loaded_terms = "=cmd|regime\n"
    session.commit()
    login("ann")
    terms = csv_rows(client, study, "by-term")
    assert terms[0]["term"] == "'=cmd|regime"


def test_a_project_without_terms_says_so(client, login, session, study):
    study.loaded_terms = ""
    session.commit()
    login("ann")
    html = client.get(f"/projects/{study.id}/reports/terms").get_data(as_text=True)
    assert "This project watches no loaded terms." in html
    assert 'id="terms-by-outlet"' not in html


def test_a_scope_that_names_nothing_is_refused(client, login, study):
    login("ann")
    page = client.get(f"/projects/{study.id}/reports/terms?site=Blog+C")
    assert page.status_code == 400
    assert "No document of this project names its site as &#39;Blog C&#39;." in page.text
    download = client.get(f"/projects/{study.id}/reports/terms-by-outlet.csv?published_to=x")
    assert download.status_code == 400


@pytest.mark.parametrize("table", ["by-outlet", "by-term"])
def test_the_command_writes_the_pages_csv(client, login, runner, study, tmp_path, table):
    login("ann")
    page = client.get(f"/projects/{study.id}/reports/terms-{table}.csv?site=Blog+B")
    out = tmp_path / "terms.csv"
    result = runner.invoke(
        ["report", f"terms-{table}", "--project", "terms", "--site", "Blog B", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 of 2 documents, site Blog B" in result.output
    assert out.read_bytes() == page.get_data()


def test_totals_kept_from_before_a_curators_move_never_give_a_share_over_one(
    session, study, monkeypatch
):
    """Another process may keep the passages per outlet for up to a minute after a curator
    moved a passage to another outlet: the passages read afresh still count."""
    stale = {"Tass": 3, "(no outlet)": 4}  # as if Reuters' passages were not there yet
    monkeypatch.setattr(term_report, "_outlet_totals", lambda *args: stale)
    rows = by_outlet(term_report.term_report(session, study, Basis.SETTLED))
    assert (rows["Reuters"].passages, rows["Reuters"].with_terms.count) == (1, 1)
    assert rows["Reuters"].with_terms.share == 1.0


def test_the_jsonl_export_gives_each_passage_its_terms_and_still_restores(
    client, login, session, study
):
    from annotator.services.export_formats import export_chunks, filter_from_args

    exported = b"".join(export_chunks(session, "jsonl", filter_from_args({}, session))).decode()
    passages = [p for line in exported.splitlines() for p in json.loads(line)["passages"]]
    found = {
        p["text"][t["start"] : t["end"]]: t["term"] for p in passages for t in p["loaded_terms"]
    }
    assert found == {
        "special military operation": "special military operation",
        "neo-Nazis": "neo-Nazi*",
        "so-called": "so-called",
        "regime": "regime",
    }
    report = import_files(session, [("again.jsonl", exported.encode())], "copy")
    assert len(report.imported) == 2, "the terms are written out, not read back"
