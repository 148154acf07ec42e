"""The claims behind a cell of the outlet report, on the hand-labelled panel of tests/panel.py:
as many as the report counts on every basis, in document order, with every reviewer's label,
for curators only."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select, update

from annotator.models import Claim, FinalLabel
from annotator.services import outlet_claims
from tests.panel import E, Q, R, build_panel

BASES = ("settled_or_majority", "settled", "majority", "all")


@pytest.fixture
def panel(session):
    return build_panel(session)


def _report(client, panel, basis):
    response = client.get(
        f"/projects/{panel.project_id}/reports/outlets.csv", query_string={"basis": basis}
    )
    return {r["outlet"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


def _listed(client, panel, **params):
    """The page's claims as (claim text, reviewers' labels, settled, counted as)."""
    address = f"/projects/{panel.project_id}/reports/outlets/claims"
    response = client.get(address, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    rows = re.findall(
        r'<tr id="claim-\d+">.*?<a href="/passages/\d+">([^<]*)</a></td>\s*'
        r'<td class="reviewer-labels">([^<]*)</td>\s*'
        r'<td class="settled"><span class="settled-label">([^<]*)</span>.*?</td>\s*'
        r'<td class="counted">([^<]*)</td>',
        html,
        re.S,
    )
    total = int(re.search(r'<p id="claim-count">(\d+) claim', html).group(1))
    return rows, total


def _sentence(number: int) -> str:
    return f"Sentence {number} of the panel."


def test_every_cell_lists_as_many_claims_as_the_report_counts(client, login, panel):
    login("cora")
    checked = 0
    for basis in BASES:
        report = _report(client, panel, basis)
        for outlet in ("Reuters", "AP"):
            for label in (R, Q, E):
                rows, total = _listed(client, panel, outlet=outlet, label=label, basis=basis)
                expected = int(report[outlet][label])
                if basis == "all":  # the report counts labels; the list, claims carrying one
                    assert total <= expected
                    assert sum(row[3].count(label) for row in rows) == total
                else:
                    assert total == expected, (basis, outlet, label)
                assert len(rows) == total
                checked += total
            framing, framed = _listed(
                client, panel, outlet=outlet, label=E, role="author", basis=basis
            )
            assert framed == int(report[outlet]["framing_editorial"]) or basis == "all"
            assert len(framing) == framed
    assert checked > 0


def test_the_list_reads_in_document_order_with_each_reviewers_label(client, login, panel):
    login("cora")
    # Majority on Reuters: c1 R, c2 Q, c3 E, c4 R, c5 E.
    rows, total = _listed(client, panel, outlet="Reuters", label=E, basis="majority")
    assert total == 2
    assert rows == [
        (_sentence(3), "ann: editorial, bob: editorial", "—", "editorial"),
        (_sentence(5), "ann: editorial, bob: editorial, cat: editorial", "—", "editorial"),
    ]
    # Every label: c2 (Q, Q, E) counts as quoted and editorial.
    rows, total = _listed(client, panel, outlet="Reuters", label=E, basis="all")
    assert [row[0] for row in rows] == [_sentence(2), _sentence(3), _sentence(5)]
    assert rows[0][1:] == ("ann: quoted, bob: quoted, cat: editorial", "—", "quoted, editorial")
    # No label: every claim counted; c6 is a tie and counts nowhere.
    rows, _ = _listed(client, panel, outlet="AP")
    assert rows == [(_sentence(7), "ann: reported, bob: reported", "—", "reported")]
    # The author's passages only (c4, c5 of Reuters).
    rows, _ = _listed(client, panel, outlet="Reuters", role="author", basis="majority")
    assert [row[0] for row in rows] == [_sentence(4), _sentence(5)]


def test_without_an_outlet_the_list_holds_every_cited_outlets_claims(client, login, panel):
    login("cora")
    report = _report(client, panel, "majority")
    rows, total = _listed(client, panel, label=R, basis="majority")
    assert total == int(report["Reuters"][R]) + int(report["AP"][R]) == 3
    assert [row[0] for row in rows] == [_sentence(1), _sentence(4), _sentence(7)]
    html = client.get(
        f"/projects/{panel.project_id}/reports/outlets/claims", query_string={"label": R}
    ).get_data(as_text=True)
    assert "<h1>Every outlet: reported claims</h1>" in html
    assert '<th scope="col">Outlet</th>' in html
    outlets = re.findall(r'<tr id="claim-\d+">\s*<td>([^<]*)</td>', html)
    assert outlets == ["Reuters", "Reuters", "AP"]
    page = client.get(f"/projects/{panel.project_id}/reports/outlets").get_data(as_text=True)
    assert 'id="every-outlet-claims"' in page


def test_a_settled_label_counts_and_shows(client, login, panel):
    login("cora")
    assert _listed(client, panel, outlet="AP", label=E)[1] == 0
    settled = client.post(
        f"/projects/{panel.project_id}/adjudicate/{panel.claim(6)}",
        json={"label": E, "version": 0},
    )
    assert settled.status_code == 200
    rows, _ = _listed(client, panel, outlet="AP", label=E)
    assert rows == [(_sentence(6), "ann: quoted, bob: reported", "editorial", "editorial")]
    assert _listed(client, panel, outlet="AP", label=E, basis="majority")[1] == 0


def test_the_list_is_paged(client, login, panel, monkeypatch):
    monkeypatch.setattr(outlet_claims, "CLAIMS_PER_PAGE", 2)
    login("cora")
    pages = [_listed(client, panel, outlet="Reuters", basis="all", page=n) for n in (1, 2, 3)]
    assert [total for _, total in pages] == [5, 5, 5]
    assert [row[0] for rows, _ in pages for row in rows] == [_sentence(n) for n in range(1, 6)]
    html = client.get(
        f"/projects/{panel.project_id}/reports/outlets/claims",
        query_string={"outlet": "Reuters", "basis": "all", "page": 2},
    ).get_data(as_text=True)
    assert "Page 2 of 3" in html
    assert "page=3" in html
    assert "outlet=Reuters" in html


def test_curators_follow_the_report_to_its_claims_and_others_cannot(client, login, panel):
    base = f"/projects/{panel.project_id}"
    address = f"{base}/reports/outlets/claims?outlet=Reuters"
    login("outsider")
    assert client.get(address).status_code == 404
    login("ann")
    assert client.get(address).status_code == 403, "a reviewer would see others' labels"
    assert 'class="claims-link"' not in client.get(f"{base}/reports/outlets").get_data(as_text=True)
    login("cora")
    report = client.get(f"{base}/reports/outlets", query_string={"basis": "majority"})
    row = re.search(
        r'<tr data-outlet="Reuters">.*?</tr>', report.get_data(as_text=True), re.S
    ).group(0)
    links = re.findall(r'class="claims-link" href="([^"]+)"', row)
    assert len(links) == 5  # the outlet, three labels and the framing
    assert all("basis=majority" in link for link in links)
    editorial = next(link for link in links if "label=editorial" in link and "role" not in link)
    assert client.get(editorial.replace("&amp;", "&")).status_code == 200


def test_an_unknown_outlet_or_scope_is_refused_with_its_reason(client, login, panel):
    login("cora")
    base = f"/projects/{panel.project_id}/reports/outlets/claims"
    missing = client.get(base, query_string={"outlet": "Nowhere Times"})
    assert missing.status_code == 404
    assert "There is no outlet named &#39;Nowhere Times&#39;." in missing.get_data(as_text=True)
    wrong_site = client.get(base, query_string={"outlet": "Reuters", "site": "Nowhere"})
    assert wrong_site.status_code == 400
    assert 'id="outlet-claims"' not in wrong_site.get_data(as_text=True)


def _claims_csv(client, panel, **params):
    response = client.get(
        f"/projects/{panel.project_id}/reports/outlets/claims.csv", query_string=params
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    response.get_data()  # read the stream now, before the test's session does anything else
    return response


def test_the_list_downloads_as_csv_with_every_claim(client, login, session, panel, monkeypatch):
    monkeypatch.setattr(outlet_claims, "CSV_BATCH", 2)  # three batches for five claims
    login("cora")
    response = _claims_csv(client, panel, outlet="Reuters", basis="all")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="claims-Reuters-project-{panel.project_id}-all.csv"'
    )
    text = response.get_data(as_text=True)
    assert text.startswith(",".join(outlet_claims.CSV_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["claim_text"] for row in rows] == [_sentence(n) for n in range(1, 6)]
    second = rows[1]
    assert second["outlet"] == "Reuters"
    assert second["document_id"] == "panel-1"
    assert (second["passage_index"], second["passage_role"], second["claim_index"]) == (
        "0",
        "excerpt",
        "1",
    )
    assert second["reviewer_labels"] == "ann=quoted; bob=quoted; cat=editorial"
    assert (second["final_label"], second["counted_as"], second["basis"]) == (
        "",
        "quoted; editorial",
        "all",
    )
    page, _ = _listed(client, panel, outlet="Reuters", basis="all")
    assert [row["claim_text"] for row in rows] == [row[0] for row in page]
    framing = _claims_csv(client, panel, outlet="AP", label=E, role="author")
    assert framing.headers["Content-Disposition"].endswith(
        f'filename="claims-AP-editorial-author-project-{panel.project_id}-settled_or_majority.csv"'
    )
    assert framing.get_data(as_text=True) == ",".join(outlet_claims.CSV_COLUMNS) + "\r\n"


def test_the_csv_neutralises_cells_a_spreadsheet_would_run(client, login, session, panel):
    session.execute(update(Claim).where(Claim.id == panel.claim(1)).values(text="=HYPERLINK(1)"))
    session.commit()
    login("cora")
    rows = list(
        csv.DictReader(io.StringIO(_claims_csv(client, panel, label=R).get_data(as_text=True)))
    )
    assert rows[0]["claim_text"] == "'=HYPERLINK(1)"


def test_the_command_writes_the_same_csv_as_the_page(client, login, panel, runner, tmp_path):
    login("cora")
    page = _claims_csv(client, panel, outlet="Reuters", label=E, basis="majority")
    out = tmp_path / "claims.csv"
    result = runner.invoke(
        ["report", "claims", "--project", "panel", "--outlet", "Reuters", "--label", E,
         "--basis", "majority", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == page.get_data()
    every = runner.invoke(["report", "claims", "--project", "panel", "--role", "author", "-"])
    assert every.stdout_bytes == _claims_csv(client, panel, role="author").get_data()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["claims", "--outlet", "Nowhere Times"], "There is no outlet named 'Nowhere Times'."),
        (["outlets", "--label", E], "--outlet, --label and --role choose the claims"),
        (["claims", "--label", "loud"], "'loud' is not one of"),
    ],
)
def test_the_command_refuses_what_names_nothing(runner, panel, args, message):
    table, *options = args
    result = runner.invoke(["report", table, "--project", "panel", *options, "-"])
    assert result.exit_code == 2
    assert message in result.output


def test_a_curator_settles_a_claim_from_the_list_and_comes_back_to_it(
    client, login, session, panel
):
    login("cora")
    address = f"/projects/{panel.project_id}/reports/outlets/claims"
    choice = {"outlet": "Reuters", "label": E, "basis": "majority", "site": ""}
    html = client.get(address, query_string=choice).get_data(as_text=True)
    row = re.search(rf'<tr id="claim-{panel.claim(3)}">.*?</tr>', html, re.S).group(0)
    action = re.search(r'class="settle-inline" action="([^"]+)"', row).group(1)
    action = action.replace("&amp;", "&")
    assert re.search(r'<option value="editorial" selected>', row), "what it counts as, proposed"
    assert "from=claims" in action
    action += "&_external=1&_anchor=x"  # what no list link carries is not carried back
    settled = client.post(action, data={"label": R, "version": "0"})
    assert settled.status_code == 302
    back = settled.headers["Location"]
    assert back.startswith(address)
    for part in ("outlet=Reuters", "label=editorial", "basis=majority", "page=1"):
        assert part in back
    assert "from=" not in back
    assert "#" not in back
    final = session.scalar(select(FinalLabel).where(FinalLabel.claim_id == panel.claim(3)))
    assert (final.label, final.version) == (R, 1)
    page = client.get(back).get_data(as_text=True)
    assert "Settled as reported." in page
    # On the majority basis the claim still counts as editorial, now shown settled as reported;
    # on the default basis its settled label counts instead.
    rows, _ = _listed(client, panel, outlet="Reuters", label=E, basis="majority")
    assert (rows[0][0], rows[0][2]) == (_sentence(3), R)
    assert [row[0] for row in _listed(client, panel, outlet="Reuters", label=E)[0]] == [
        _sentence(5)
    ]
    # The same form again, from a page older than that settle: refused, nothing changed.
    stale = client.post(action, data={"label": Q, "version": "0"})
    assert stale.status_code == 302
    assert stale.headers["Location"] == back
    again = client.get(back).get_data(as_text=True)
    assert "Another curator settled this claim since the page was loaded" in again
    session.refresh(final)
    assert (final.label, final.version) == (R, 1)
