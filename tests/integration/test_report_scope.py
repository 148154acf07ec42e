"""The outlet report of one citing site, or of one publication period (page, CSV, command)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from annotator.models import Document, Project
from tests.helpers import table_rows, two_site_study


@pytest.fixture
def study(session, make_user) -> Project:
    project = two_site_study(session)
    make_user("ann", role="admin")
    session.commit()
    return project


def report_rows(client, project, **scope) -> dict[str, dict[str, str]]:
    response = client.get(
        f"/projects/{project.id}/reports/outlets.csv", query_string={"basis": "settled", **scope}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["outlet"]: row for row in csv.DictReader(io.StringIO(response.get_data(True)))}


def figures(row: dict[str, str]) -> tuple[str, ...]:
    return row["documents"], row["excerpt_passages"], row["reported"], row["editorial"]


def test_documents_keep_the_day_their_publication_date_names(session, study):
    days = dict(session.execute(select(Document.external_id, Document.published_on)).all())
    assert {key: str(day) if day else None for key, day in days.items()} == {
        "hw-1": "2026-03-02",
        "hw-2": None,
        "pd-1": "2026-04-10",
    }


def test_the_report_of_one_site_counts_only_its_documents(client, login, study):
    login("ann")
    everything = report_rows(client, study)
    assert figures(everything["Reuters"]) == ("3", "3", "1", "2")
    harbour = report_rows(client, study, site="Harbour Watch")
    assert figures(harbour["Reuters"]) == ("2", "2", "0", "2")
    assert "AP" not in harbour, "Port Digest alone cites AP"
    digest = report_rows(client, study, site="Port Digest")
    assert figures(digest["Reuters"]) == ("1", "1", "1", "0")
    assert digest["AP"]["quoted"] == "1"


def test_a_period_counts_the_documents_published_in_it(client, login, study):
    login("ann")
    march = report_rows(client, study, published_from="2026-03-01", published_to="2026-03-31")
    assert figures(march["Reuters"]) == ("1", "1", "0", "1"), "hw-2 names no day"
    from_april = report_rows(client, study, published_from="2026-04-01")
    assert figures(from_april["Reuters"]) == ("1", "1", "1", "0")
    until_april = report_rows(client, study, published_to="2026-04-10")
    assert figures(until_april["Reuters"]) == ("2", "2", "1", "1"), "the last day counts"
    both = report_rows(client, study, site="Port Digest", published_to="2026-03-31")
    assert both == {}


def test_the_page_says_what_it_counts_and_keeps_the_scope_in_its_links(client, login, study):
    login("ann")
    html = client.get(
        f"/projects/{study.id}/reports/outlets",
        query_string={"site": "Harbour Watch", "published_from": "2026-03-01"},
    ).get_data(as_text=True)
    assert (
        "1 of 3 documents: site Harbour Watch, published from 2026-03-01. 1 document gives no"
        " publication date this can read and is left out of any period." in html
    )
    assert '<option value="Harbour Watch" selected>Harbour Watch (2 documents)</option>' in html
    assert 'value="2026-03-01"' in html
    csv_link = f"/projects/{study.id}/reports/outlets.csv?basis=settled_or_majority&amp;"
    assert csv_link + "site=Harbour+Watch&amp;published_from=2026-03-01" in html
    assert "sort=editorial&amp;order=asc&amp;site=Harbour+Watch&amp;published_from=" in html
    whole = client.get(f"/projects/{study.id}/reports/outlets").get_data(as_text=True)
    assert "Every document of the project (3)." in whole


def test_the_csv_is_named_after_its_scope(client, login, study):
    login("ann")
    response = client.get(
        f"/projects/{study.id}/reports/outlets.csv",
        query_string={"site": 'Harbour "Watch"\r\n', "published_to": "2026-03-31"},
    )
    assert response.status_code == 400, "no document names that site"
    response = client.get(
        f"/projects/{study.id}/reports/outlets.csv",
        query_string={"site": "Harbour Watch", "published_to": "2026-03-31"},
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="outlets-project-{study.id}-settled_or_majority'
        '-site-Harbour-Watch-to-2026-03-31.csv"'
    )


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"site": "Nowhere Daily"}, "No document of this project names its site as &#39;Nowhere"),
        ({"published_from": "1 March"}, "Published from: &#39;1 March&#39; is not a date"),
        ({"published_to": "2026-02-30"}, "Published until: &#39;2026-02-30&#39; is not a date"),
        (
            {"published_from": "2026-04-01", "published_to": "2026-03-01"},
            "The period ends (2026-03-01) before it starts (2026-04-01).",
        ),
    ],
)
def test_a_scope_that_names_nothing_is_refused_with_its_reason(
    client, login, session, study, scope, message
):
    login("ann")
    before = table_rows(session)
    page = client.get(f"/projects/{study.id}/reports/outlets", query_string=scope)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    assert 'id="outlet-table"' not in html, "no figures that look like a result"
    assert 'id="f-site"' in html, "the form stays, to correct the choice"
    download = client.get(f"/projects/{study.id}/reports/outlets.csv", query_string=scope)
    assert download.status_code == 400
    assert message in download.get_data(as_text=True)
    assert table_rows(session) == before


def test_the_command_writes_the_same_csv_as_the_page(client, login, runner, study, tmp_path):
    login("ann")
    scope = {"site": "Harbour Watch", "published_to": "2026-03-31"}
    page = client.get(f"/projects/{study.id}/reports/outlets.csv", query_string=scope)
    out = tmp_path / "outlets.csv"
    result = runner.invoke(
        ["report", "outlets", "--project", "study", "--site", "Harbour Watch",
         "--published-to", "2026-03-31", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 of 3 documents, site Harbour Watch, published until 2026-03-31" in result.output
    assert out.read_bytes() == page.get_data()
    to_stdout = runner.invoke(
        ["report", "outlets", "--project", "study", "--basis", "settled", "-"]
    )
    settled = client.get(f"/projects/{study.id}/reports/outlets.csv?basis=settled")
    assert to_stdout.stdout_bytes == settled.get_data()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "nobody"], "nobody"),
        (["--project", "study", "--basis", "loudest"], "--basis must be one of: settled_or_majo"),
        (["--project", "study", "--site", "Nowhere"], "names its site as 'Nowhere'"),
        (["--project", "study", "--published-from", "soon"], "'soon' is not a date"),
    ],
)
def test_the_command_refuses_a_scope_that_names_nothing(runner, study, tmp_path, args, message):
    out = tmp_path / "outlets.csv"
    result = runner.invoke(["report", "outlets", *args, str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()
