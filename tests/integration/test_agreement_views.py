"""Agreement figures, adjudication and reports through the test client, on the hand-labelled
panel of tests/panel.py (figures worked out by hand in the comments)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select, update

from annotator.models import Change, Claim, Document, FinalLabel, Outlet, Passage, Project
from annotator.services import adjudication, reports
from tests.helpers import import_fixture
from tests.panel import E, Q, R, build_panel


@pytest.fixture
def panel(session):
    return build_panel(session)


def figures(client, panel, **params):
    response = client.get(f"/projects/{panel.project_id}/agreement.json", query_string=params)
    assert response.status_code == 200
    return response.json


def test_overall_figures_match_the_hand_computation(client, login, panel):
    login("ann")
    overall = figures(client, panel)["overall"]
    assert (overall["n_items"], overall["n_items_compared"], overall["n_ratings"]) == (8, 7, 19)
    # Per claim, the share of agreeing pairs: c1 1, c2 1/3, c3 1, c4 1/3, c5 1, c6 0, c7 1;
    # c8 has one label and is not compared. Mean = (14/3) / 7.
    assert overall["percent_agreement"] == pytest.approx(2 / 3)
    # Coincidences: o_RR 6, o_QQ 1, o_EE 5, o_RQ = o_QR 2, o_QE = o_EQ 1; n_R 8, n_Q 4, n_E 6,
    # n 18. alpha = 1 - (n - 1) * 6 / (18^2 - 8^2 - 4^2 - 6^2) = 1 - 17 * 6 / 208 = 53/104.
    assert overall["krippendorff_alpha"] == pytest.approx(53 / 104)
    # Fleiss on the four claims with three labels (c1, c2, c4, c5): P = 2/3, Pe = 25/72.
    assert overall["fleiss"] == {
        "kappa": pytest.approx(23 / 47),
        "n_items": 4,
        "raters_per_item": 3,
    }
    kappas = {
        (p["rater_a"], p["rater_b"]): (p["n_items"], p["kappa"]) for p in overall["pairwise_kappa"]
    }
    # ann/bob: po 5/7, pe (9 + 4 + 4)/49 -> 18/32. ann/cat: po 3/4, pe 6/16 -> 0.6.
    # bob/cat: po 2/4, pe 4/16 -> 1/3. cat's c8 is missing data for everyone else.
    assert kappas == {
        ("ann", "bob"): (7, pytest.approx(0.5625)),
        ("ann", "cat"): (4, pytest.approx(0.6)),
        ("bob", "cat"): (4, pytest.approx(1 / 3)),
    }


def test_breakdowns_by_outlet_role_and_label(client, login, panel):
    login("ann")
    report = figures(client, panel)
    by_outlet = {g["name"]: g["summary"] for g in report["by_outlet"]}
    assert list(by_outlet) == ["(no outlet)", "AP", "Reuters"]
    # AP: c6 Q/R, c7 R/R. bob used a single label there, so ann/bob kappa is 0, not undefined.
    assert by_outlet["AP"]["percent_agreement"] == pytest.approx(0.5)
    assert by_outlet["AP"]["pairwise_kappa"][0]["kappa"] == pytest.approx(0.0)
    assert by_outlet["AP"]["krippendorff_alpha"] == pytest.approx(0.0)
    # A single label on the only claim: nothing to compare, every figure undefined.
    lonely = by_outlet["(no outlet)"]
    assert (lonely["n_items"], lonely["n_items_compared"]) == (1, 0)
    assert lonely["percent_agreement"] is None
    assert lonely["krippendorff_alpha"] is None
    assert lonely["fleiss"]["kappa"] is None
    assert lonely["pairwise_kappa"] == []
    by_role = {g["name"]: g["summary"] for g in report["by_role"]}
    assert by_role["excerpt"]["percent_agreement"] == pytest.approx(7 / 9)  # (1 + 1/3 + 1) / 3
    by_label = {g["name"]: g["summary"] for g in report["by_label"]}
    # Editorial vs the rest: only c2 (Q, Q, E) disagrees -> (6 + 1/3) / 7; ann and bob never
    # differ on "editorial or not", so their one-vs-rest kappa is 1.
    assert by_label[E]["percent_agreement"] == pytest.approx(19 / 21)
    pair = next(
        p for p in by_label[E]["pairwise_kappa"] if (p["rater_a"], p["rater_b"]) == ("ann", "bob")
    )
    assert pair["kappa"] == pytest.approx(1.0)


def test_a_project_nobody_labelled_has_pages_with_nothing_to_show(
    client, login, session, make_user
):
    import_fixture(session, "two.jsonl", project="untouched")
    project = session.scalar(select(Project).where(Project.name == "untouched"))
    make_user("boss", role="admin")
    session.commit()
    login("boss")
    for page in ("agreement", "reports/outlets", "reports/reviewers", "adjudicate"):
        response = client.get(f"/projects/{project.id}/{page}")
        assert response.status_code == 200, page
    empty = client.get(f"/projects/{project.id}/agreement.json").json["overall"]
    assert (empty["n_items"], empty["n_ratings"], empty["pairwise_kappa"]) == (0, 0, [])
    assert empty["percent_agreement"] is None
    outlets = client.get(f"/projects/{project.id}/reports/outlets.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(outlets)))
    assert rows, "the outlets the documents cite are listed"
    assert {row["counted"] for row in rows} == {"0"}


def test_filters_narrow_the_claims(client, login, panel):
    login("ann")
    assert figures(client, panel, outlet="AP")["overall"]["n_items"] == 2
    assert figures(client, panel, role="excerpt")["overall"]["n_items"] == 3
    assert figures(client, panel, outlet="(no outlet)")["overall"]["n_items"] == 1
    # Excerpts where someone said reported: c1 only, R R R. Each reviewer used a single label:
    # they agree fully, but the chance-corrected figures are 0/0, so undefined (None).
    constant = figures(client, panel, role="excerpt", label=R)["overall"]
    assert constant["percent_agreement"] == 1.0
    assert constant["krippendorff_alpha"] is None
    assert constant["fleiss"]["kappa"] is None
    assert {p["kappa"] for p in constant["pairwise_kappa"]} == {None}
    # Claims where someone said editorial: c2, c3, c5 (all their labels are kept).
    editorial = figures(client, panel, label=E)["overall"]
    assert (editorial["n_items"], editorial["n_ratings"]) == (3, 8)


def test_agreement_page_shows_the_figures(client, login, panel):
    login("ann")
    html = client.get(f"/projects/{panel.project_id}/agreement").get_data(as_text=True)
    assert "66.7%" in html
    assert "0.510" in html
    assert "0.489" in html
    # ann / bob: kappa 9/16, shown to three places as printf rounds an exact half (to even)
    assert '<th scope="row">ann / bob</th><td>7</td><td>0.562</td>' in html
    assert 'id="accuracy"' not in html, "reviewer accuracy is for curators only"
    login("cora")
    html = client.get(f"/projects/{panel.project_id}/agreement?a=bob&b=cat").get_data(as_text=True)
    assert 'id="accuracy"' in html
    assert 'id="pair-confusion"' in html
    assert "bob (rows) against cat (columns)" in html


def test_cli_stats_prints_the_page_figures(client, login, panel, runner):
    login("cora")
    page = figures(client, panel)
    result = runner.invoke(["stats", "--project", "panel", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == page
    filtered = runner.invoke(["stats", "--project", "panel", "--format", "json", "--outlet", "AP"])
    assert json.loads(filtered.output) == figures(client, panel, outlet="AP")
    table = runner.invoke(["stats", "--project", "panel", "--format", "table"])
    assert table.exit_code == 0
    assert "ann / bob: 0.562 on 7 claims" in table.output  # 9/16, half to even
    assert runner.invoke(["stats", "--project", "nope"]).exit_code != 0


def settle(client, panel, claim, label, version, **kwargs):
    url = f"/projects/{panel.project_id}/adjudicate/{panel.claim(claim)}"
    return client.post(url, data={"label": label, "version": str(version)}, **kwargs)


def test_curator_settles_a_dispute_and_stale_settles_are_refused(client, login, session, panel):
    login("cora")
    queue = client.get(f"/projects/{panel.project_id}/adjudicate").get_data(as_text=True)
    assert "3 disputed claims still to settle" in queue
    assert all(f'id="dispute-{panel.claim(n)}"' in queue for n in (2, 4, 6))
    assert settle(client, panel, 6, E, 0).status_code == 302
    stale = settle(client, panel, 6, Q, 0)
    assert stale.status_code == 409
    assert b"Another curator settled" in stale.data
    refused = client.post(
        f"/projects/{panel.project_id}/adjudicate/{panel.claim(6)}", json={"label": Q, "version": 0}
    )
    assert refused.status_code == 409
    assert refused.json["current"] == {"label": E, "version": 1}
    changed = client.post(
        f"/projects/{panel.project_id}/adjudicate/{panel.claim(6)}", json={"label": Q, "version": 1}
    )
    assert changed.json == {"ok": True, "label": Q, "version": 2}
    final = session.scalar(select(FinalLabel).where(FinalLabel.claim_id == panel.claim(6)))
    session.refresh(final)
    assert (final.label, final.version, final.user.username) == (Q, 2, "cora")
    history = session.scalars(
        select(Change).where(Change.kind == "final").order_by(Change.id)
    ).all()
    assert [(c.old_value, c.new_value) for c in history] == [(None, E), (E, Q)]
    assert "2 disputed claims" in client.get(f"/projects/{panel.project_id}/adjudicate").get_data(
        as_text=True
    )
    assert settle(client, panel, 6, "opinion", 2).status_code == 400


def test_settled_label_shows_on_the_claim_for_curators_only(client, login, panel):
    login("cora")
    settle(client, panel, 6, E, 0)
    page = client.get(f"/passages/{panel.passage_ids[2]}").get_data(as_text=True)
    assert "Settled as <strong" in page
    assert "by cora" in page
    assert "final: — → editorial" in page, "the change is in the claim's history"
    login("ann")
    assert "Settled as" not in client.get(f"/passages/{panel.passage_ids[2]}").get_data(
        as_text=True
    )


def test_queue_pages_count_every_disputed_claim(client, login, panel, monkeypatch):
    monkeypatch.setattr(adjudication, "PER_PAGE", 2)
    login("cora")

    def page(number):
        url = f"/projects/{panel.project_id}/adjudicate"
        html = client.get(url, query_string={"page": number}).get_data(as_text=True)
        shown = {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in html}
        return shown, "3 disputed claims still to settle" in html, re.search(r"Page \d of \d", html)

    first, counted, pager = page(1)
    assert (first, counted, pager[0]) == ({2, 4}, True, "Page 1 of 2")
    second, counted, pager = page(2)
    assert (second, counted, pager[0]) == ({6}, True, "Page 2 of 2")
    assert page(9)[:2] == ({6}, True), "a page past the end shows the last one"
    settle(client, panel, 6, Q, 0)
    assert page(2)[:2] == ({2, 4}, False), "the second page went when its claim was settled"


UNANIMOUS = re.compile(r"(\d+) unsettled claims? with two or more labels, all the same")


def test_every_queue_page_counts_the_unanimous_claims(client, login, panel, monkeypatch):
    """The count rides on the statement that picks the page; past the last page, and with
    no dispute left, it is counted alone. Accepting them settles exactly that many."""
    monkeypatch.setattr(adjudication, "PER_PAGE", 2)
    login("cora")

    def unanimous(**params):
        url = f"/projects/{panel.project_id}/adjudicate"
        html = client.get(url, query_string=params).get_data(as_text=True)
        return int(UNANIMOUS.search(html)[1])

    counted = unanimous()
    assert counted > 0
    assert unanimous(page=2) == unanimous(page=9) == counted
    assert unanimous(outlet="AP") < counted
    for claim in (2, 4, 6):
        assert settle(client, panel, claim, Q, 0).status_code == 302
    assert unanimous() == counted, "no dispute is left to carry the count"
    accepted = client.post(f"/projects/{panel.project_id}/adjudicate/unanimous", json={})
    assert accepted.json["accepted"] == counted
    assert unanimous() == 0


def test_queue_filters(client, login, panel):
    login("cora")

    def shown(**params):
        html = client.get(f"/projects/{panel.project_id}/adjudicate", query_string=params).get_data(
            as_text=True
        )
        return {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in html}

    assert shown() == {2, 4, 6}
    assert shown(pair="reported-quoted") == {4, 6}
    assert shown(pair="quoted-editorial") == {2}
    assert shown(pair="editorial-quoted") == {2}
    assert shown(reviewer="cat") == {2, 4}
    assert shown(outlet="AP") == {6}
    assert shown(role="excerpt") == {2}
    settle(client, panel, 2, Q, 0)
    assert shown() == {4, 6}
    assert shown(settled="1") == {2, 4, 6}


def _pair_links(client, panel, **params) -> dict[tuple[str, str], str]:
    """The label-pair matrix's links: (row label, column label) -> address."""
    html = client.get(f"/projects/{panel.project_id}/agreement", query_string=params).get_data(
        as_text=True
    )
    table = re.search(r'<table class="confusion" id="label-pairs">.*?</table>', html, re.S)
    labels = re.findall(r'<th scope="col">(\w+)</th>', table.group(0))
    links = {}
    for row in re.findall(r'<tr><th scope="row">(\w+)</th>(.*?)</tr>', table.group(0), re.S):
        for column, cell in zip(labels, re.findall(r"<td[^>]*>(.*?)</td>", row[1]), strict=True):
            found = re.search(r'<a href="([^"]+)">', cell)
            if found:
                links[(row[0], column)] = found.group(1).replace("&amp;", "&")
    return links


def _place_in_harbour_watch(session) -> None:
    """The panel's document as one of site Harbour Watch, published on 2 March 2026."""
    day = date(2026, 3, 2)
    session.execute(
        update(Document).values(site="Harbour Watch", published=day.isoformat(), published_on=day)
    )
    session.commit()


def test_a_pair_of_labels_leads_curators_to_the_disputes_that_carry_both(
    client, login, session, panel
):
    login("ann")
    assert _pair_links(client, panel) == {}
    login("cora")
    links = _pair_links(client, panel)
    # Pairs counted: R/Q (c4 twice, c6), Q/E (c2 twice): both ways round, no diagonal.
    assert set(links) == {(R, Q), (Q, R), (Q, E), (E, Q)}
    disputed = {
        pair: {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in page}
        for pair, page in (
            (pair, client.get(address).get_data(as_text=True)) for pair, address in links.items()
        )
    }
    assert disputed == {(R, Q): {4, 6}, (Q, R): {4, 6}, (Q, E): {2}, (E, Q): {2}}
    ap = _pair_links(client, panel, outlet="AP")
    assert set(ap) == {(R, Q), (Q, R)}
    page = client.get(ap[(R, Q)]).get_data(as_text=True)
    assert {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in page} == {6}
    # The site and period go along.
    _place_in_harbour_watch(session)
    scoped = _pair_links(client, panel, site="Harbour Watch", published_from="2026-03-01")
    assert set(scoped) == set(links)
    assert "site=Harbour+Watch" in scoped[(Q, E)]
    assert "published_from=2026-03-01" in scoped[(Q, E)]
    page = client.get(scoped[(Q, E)]).get_data(as_text=True)
    assert {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in page} == {2}


def test_the_queue_keeps_to_one_site_and_period(client, login, session, panel):
    _place_in_harbour_watch(session)
    login("cora")
    base = f"/projects/{panel.project_id}/adjudicate"

    def shown(**params):
        response = client.get(base, query_string=params)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return {n for n in range(1, 9) if f'id="dispute-{panel.claim(n)}"' in html}, html

    disputed, html = shown(site="Harbour Watch", published_to="2026-03-31")
    assert disputed == {2, 4, 6}
    assert "The documents of site Harbour Watch, published until 2026-03-31." in html
    assert "4 unsettled claims with two or more labels, all the same" in html
    disputed, html = shown(published_from="2026-04-01")
    assert disputed == set()
    assert "0 unsettled claims" in html
    later = client.post(f"{base}/unanimous?published_from=2026-04-01")
    assert later.status_code == 302
    assert session.scalar(select(func.count(FinalLabel.id))) == 0
    wrong = client.get(base, query_string={"site": "Nowhere"})
    assert wrong.status_code == 400
    assert 'id="queue-total"' not in wrong.get_data(as_text=True)
    assert "Nowhere" in wrong.get_data(as_text=True)
    refused = client.post(f"{base}/unanimous?site=Nowhere")
    assert refused.status_code == 400
    assert session.scalar(select(func.count(FinalLabel.id))) == 0
    client.post(f"{base}/unanimous?site=Harbour+Watch")
    assert session.scalar(select(func.count(FinalLabel.id))) == 4


def test_bulk_accept_settles_unanimous_claims_once(client, login, session, panel):
    login("cora")
    response = client.post(f"/projects/{panel.project_id}/adjudicate/unanimous", json={})
    assert response.json == {"ok": True, "accepted": 4}
    finals = dict(session.execute(select(FinalLabel.claim_id, FinalLabel.label)).all())
    assert finals == {panel.claim(1): R, panel.claim(3): E, panel.claim(5): E, panel.claim(7): R}
    assert (
        client.post(f"/projects/{panel.project_id}/adjudicate/unanimous", json={}).json["accepted"]
        == 0
    )
    changes = session.scalars(select(Change).where(Change.kind == "final")).all()
    assert len(changes) == 4
    assert len({c.batch for c in changes}) == 1


def test_bulk_accept_respects_the_outlet_filter(client, login, session, panel):
    login("cora")
    response = client.post(f"/projects/{panel.project_id}/adjudicate/unanimous?outlet=AP")
    assert response.status_code == 302
    assert session.scalars(select(FinalLabel.claim_id)).all() == [panel.claim(7)]


def test_access_curators_reviewers_outsiders(client, login, panel):
    base = f"/projects/{panel.project_id}"
    curator_only = [f"{base}/adjudicate", f"{base}/reports/reviewers"]
    members = [f"{base}/agreement", f"{base}/agreement.json", f"{base}/reports/outlets"]
    members.append(f"{base}/reports/outlets.csv")
    login("outsider")
    for url in curator_only + members:
        assert client.get(url).status_code == 404, url
    assert settle(client, panel, 6, E, 0).status_code == 404
    login("ann")
    for url in curator_only:
        assert client.get(url).status_code == 403, url
    for url in members:
        assert client.get(url).status_code == 200, url
    assert settle(client, panel, 6, E, 0).status_code == 403
    assert client.post(f"{base}/adjudicate/unanimous").status_code == 403
    login("cora")
    for url in curator_only + members:
        assert client.get(url).status_code == 200, url
    missing = client.post(f"{base}/adjudicate/999999", data={"label": E, "version": "0"})
    assert missing.status_code == 404


def outlet_rows(client, panel, basis=None):
    params = {"basis": basis} if basis else {}
    response = client.get(f"/projects/{panel.project_id}/reports/outlets.csv", query_string=params)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return {r["outlet"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


def test_settling_changes_the_outlet_report_and_the_export(client, login, panel):
    login("cora")
    ap = outlet_rows(client, panel)["AP"]
    # Default basis: c6 is a tie (Q vs R) and not counted; c7 by majority is reported.
    assert (ap["counted"], ap["reported"], ap["reported_share"], ap["editorial"]) == (
        "1",
        "1",
        "1.0000",
        "0",
    )
    settle(client, panel, 6, E, 0)
    ap = outlet_rows(client, panel)["AP"]
    assert (ap["counted"], ap["reported_share"], ap["editorial_share"]) == ("2", "0.5000", "0.5000")
    assert ap["framing_editorial"] == "1"
    assert ap["framing_share"] == "0.5000"
    assert float(ap["editorial_ci_low"]) < 0.5 < float(ap["editorial_ci_high"])
    html = client.get(f"/projects/{panel.project_id}/reports/outlets").get_data(as_text=True)
    assert "1 claim settled, 6 by majority, 0 not counted" in html
    assert '<rect class="bar bar-editorial"' in html
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/export/annotations.csv?project=panel").get_data(as_text=True))
        )
    )
    c6 = [r for r in rows if r["passage_index"] == "2" and r["claim_index"] == "0"]
    assert {r["reviewer"]: r["final_label"] for r in c6} == {"ann": E, "bob": E}
    assert all(r["final_label"] == "" for r in rows if r not in c6)
    lines = (
        client.get("/export/annotations.jsonl?project=panel").get_data(as_text=True).splitlines()
    )
    claims = [c for p in json.loads(lines[0])["passages"] for c in p["claims"]]
    assert [c["final_label"] for c in claims] == [None] * 5 + [E, None, None]


def test_outlet_report_bases_and_sorting(client, login, panel):
    login("ann")
    reuters = outlet_rows(client, panel, "all")["Reuters"]
    # Every label of c1..c5: R 3 + 2, Q 2 + 1, E 1 + 2 + 3, of 14.
    counts = (reuters["counted"], reuters["reported"], reuters["quoted"], reuters["editorial"])
    assert counts == ("14", "5", "3", "6")
    assert outlet_rows(client, panel, "settled")["Reuters"]["counted"] == "0"
    majority = outlet_rows(client, panel, "majority")["Reuters"]  # R, Q, E, R, E
    assert (majority["reported"], majority["quoted"], majority["editorial"]) == ("2", "1", "2")
    assert majority["documents"] == "1"
    assert majority["excerpt_passages"] == "1"
    assert majority["author_passages"] == "1"
    assert majority["claims"] == "5"
    url = f"/projects/{panel.project_id}/reports/outlets"
    by_reported = client.get(url, query_string={"sort": "reported", "order": "desc"}).get_data(
        as_text=True
    )
    assert by_reported.index('data-outlet="AP"') < by_reported.index('data-outlet="Reuters"')
    by_name_desc = client.get(url, query_string={"sort": "outlet", "order": "desc"}).get_data(
        as_text=True
    )
    assert by_name_desc.index('data-outlet="Reuters"') < by_name_desc.index('data-outlet="AP"')


def test_outlet_with_nothing_counted_shows_no_share_and_no_interval(client, login, panel):
    login("ann")
    reuters = outlet_rows(client, panel, "settled")["Reuters"]  # nothing is settled yet
    assert reuters["counted"] == "0"
    for label in (R, Q, E, "framing"):
        cells = [reuters[f"{label}_share"], reuters[f"{label}_ci_low"], reuters[f"{label}_ci_high"]]
        assert cells == ["", "", ""], label
    html = client.get(
        f"/projects/{panel.project_id}/reports/outlets", query_string={"basis": "settled"}
    ).get_data(as_text=True)
    row = re.search(r'<tr data-outlet="Reuters">.*?</tr>', html, re.S).group(0)
    assert 'class="ci"' not in row
    assert row.count('<span class="share">—</span>') == 4  # three labels and the framing
    counted = client.get(f"/projects/{panel.project_id}/reports/outlets").get_data(as_text=True)
    row = re.search(r'<tr data-outlet="Reuters">.*?</tr>', counted, re.S).group(0)
    assert row.count('class="ci"') == 4


def _unlabelled_ap_passage(session, panel) -> list[int]:
    """A fifth passage citing AP with three claims nobody labelled; returns their ids."""
    first = session.get(Passage, panel.passage_ids[0])
    passage = Passage(
        project_id=first.project_id, document_id=first.document_id, index=4, text="a b c",
        role="excerpt", outlet_id=session.get(Passage, panel.passage_ids[2]).outlet_id,
        claim_count=3,
    )  # fmt: skip
    session.add(passage)
    session.flush()
    claims = [
        Claim(passage_id=passage.id, index=k, start=2 * k, end=2 * k + 1, text="abc"[k],
              suggested_label=R, suggestion_reason="panel")
        for k in range(3)
    ]  # fmt: skip
    session.add_all(claims)
    session.commit()
    return [c.id for c in claims]


def test_outlet_report_reads_labelled_claims_and_counts_the_rest_as_not_counted(
    client, login, session, panel
):
    unlabelled = _unlabelled_ap_passage(session, panel)
    settled = FinalLabel(claim_id=unlabelled[0], project_id=panel.project_id, label=E)
    session.add(settled)  # settled without reviewers
    session.commit()
    project = session.get(Project, panel.project_id)
    loaded = reports.load_claim_labels(session, project)
    assert len(loaded) == 8  # c1..c7, and the claim settled without reviewers
    settled_alone = loaded.table[loaded.final == reports.COLUMNS.index(E)].sum(axis=1)
    assert settled_alone.tolist() == [0]
    login("cora")
    ap = outlet_rows(client, panel)["AP"]
    assert (ap["claims"], ap["counted"], ap["editorial"]) == ("5", "2", "1")
    html = client.get(f"/projects/{panel.project_id}/reports/outlets").get_data(as_text=True)
    # c1..c7 and the settled claim: 1 settled, 6 by majority (c6 tied); 2 never labelled.
    assert "1 claim settled, 6 by majority, 3 not counted" in html
    settled_only = client.get(
        f"/projects/{panel.project_id}/reports/outlets", query_string={"basis": "settled"}
    ).get_data(as_text=True)
    assert "1 claim settled, 0 by majority, 9 not counted" in settled_only


def test_outlet_report_csv_is_neutralised(client, login, session, panel):
    evil = Outlet(name='=HYPERLINK("http://evil.example")')
    session.add(evil)
    session.flush()
    passage = session.get(Passage, panel.passage_ids[3])
    passage.outlet_id = evil.id
    session.commit()
    login("ann")
    text = client.get(f"/projects/{panel.project_id}/reports/outlets.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert not any(line.startswith("=") or ",=" in line for line in text.splitlines())
    html = client.get(f"/projects/{panel.project_id}/reports/outlets").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in html


def test_reviewer_report_and_suggester_against_settled_labels(client, login, session, panel):
    from annotator.models import Project
    from annotator.services import agreement

    login("cora")
    client.post(f"/projects/{panel.project_id}/adjudicate/unanimous", json={})
    settle(client, panel, 6, E, 0)
    # Settled: c1 R, c3 E, c5 E, c6 E, c7 R; suggested: R, R, E, Q, R.
    project = session.get(Project, panel.project_id)
    suggester = agreement.suggester_confusion(session, project)
    scores = {s.label: (s.precision, s.recall) for s in suggester.scores}
    assert scores[R] == (pytest.approx(2 / 3), 1.0)
    assert scores[E] == (1.0, pytest.approx(1 / 3))
    assert scores[Q] == (0.0, None)
    assert suggester.accuracy == pytest.approx(3 / 5)
    html = client.get(f"/projects/{panel.project_id}/reports/reviewers").get_data(as_text=True)
    assert '<th scope="row">ann</th>' in html
    assert "80.0%" in html
    rows = {
        a.reviewer: a for a in agreement.reviewer_accuracy(agreement.load_ratings(session, project))
    }
    assert (rows["ann"].n, rows["ann"].agreed, rows["cat"].n, rows["cat"].agreed) == (5, 4, 2, 2)
