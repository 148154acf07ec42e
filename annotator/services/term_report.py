"""The loaded terms report: which outlets' passages carry the project's loaded terms, and how
reviewers labelled the claims that hold one.

Per outlet (the passage's outlet, detected or set by a curator; ``(no outlet)`` for the
author's own words): its passages, how many hold a loaded term (share with a Wilson interval),
the terms found most, and the counted labels of its claims holding a term beside those of its
other claims: whether loaded words come with the outlet's reporting, with the people it quotes
or with editorial text. Per term: the passages holding it, excerpts and author passages, and
the outlets whose passages they are.

The terms found in each passage come from ``term_hits``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from annotator.db import driver_rows
from annotator.models import Claim, Outlet, Passage, PassageRole, Project
from annotator.services import structure
from annotator.services.agreement import LABELS, NO_OUTLET
from annotator.services.exporting import neutralise_cell
from annotator.services.reports import Basis, LabelledClaims, claim_label_rows
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope
from annotator.services.term_hits import passage_hits
from annotator.stats import Share, label_shares
from annotator.text.loaded_terms import TermHit, watched_terms

TOP_TERMS = 5


@dataclass(frozen=True)
class OutletTerms:
    outlet: str
    passages: int
    with_terms: Share  # of the passages
    excerpts_with_terms: int
    author_passages_with_terms: int
    top_terms: list[tuple[str, int]]  # passages per term, most first
    claims_with_terms: int  # claims holding a term, with a counted label
    labels_with_terms: dict[str, Share]
    claims_without: int
    labels_without: dict[str, Share]


@dataclass(frozen=True)
class TermRow:
    term: str
    passages: int
    excerpts: int
    author_passages: int
    outlets: list[tuple[str, int]]  # passages per outlet, most first


@dataclass(frozen=True)
class TermReport:
    terms: tuple[str, ...]
    basis: Basis
    passages: int
    outlets: list[OutletTerms]
    rows: list[TermRow]


def _outlet_totals(session: Session, project: Project, scope: DocumentScope) -> dict[str, int]:
    """Passages per outlet (NO_OUTLET: none) in the scope's documents: of the whole project
    as every page keeps it, or read for the scope."""
    outlets = (
        structure.project_structure(session, project)
        if scope.keeps_everything
        else structure.read_structure(session, project, scope.document_ids(project))
    )
    return {o.name or NO_OUTLET: o.excerpt_passages + o.author_passages for o in outlets}


def _holding(
    session: Session, project: Project, scope: DocumentScope, passages: Iterable[int]
) -> list[tuple[int, str, str]]:
    """(id, role, outlet name or NO_OUTLET) of these passages in the scope. The ids are
    written into the statement: however many passages hold a term, it is one statement, and
    neither database's limit on bound parameters applies."""
    ids: BindParameter[list[int]] = bindparam(
        "ids", sorted(passages), expanding=True, literal_execute=True
    )
    rows = driver_rows(
        session,
        select(Passage.id, Passage.role, Outlet.name)
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(
            Passage.id.in_(ids), Passage.project_id == project.id, *scope.passages_kept(project)
        ),
    )
    return [(passage, role, outlet or NO_OUTLET) for passage, role, outlet in rows]


def _labelled_claims(
    session: Session, project: Project, scope: DocumentScope
) -> Iterator[tuple[int, int, int, str, str, str | None, tuple[int, ...]]]:
    """(passage id, start, end, outlet, role, settled label, label counts per ``COLUMNS``)
    of the scope's claims that reviewers labelled or a curator settled."""
    lead = (Claim.passage_id, Claim.start, Claim.end)
    query = claim_label_rows(project, scope, lead=lead, citing_an_outlet=False)
    for passage, start, end, outlet, role, final, *labels in driver_rows(session, query):
        yield passage, start, end, outlet or NO_OUTLET, role, final, tuple(labels)


def _holds_term(hits: Sequence[TermHit], start: int, end: int) -> bool:
    return any(hit.start < end and start < hit.end for hit in hits)


def _label_counts(rows: list[tuple[object, ...]], basis: Basis) -> dict[str, dict[str, int]]:
    """Per outlet, the counted labels of these claims (rows as ``LabelledClaims`` reads)."""
    if not rows:
        return {}
    claims = LabelledClaims.of_rows(rows)
    per_outlet = claims.per_outlet(claims.counted(basis))
    return {
        outlet: dict(zip(LABELS, per_outlet[number][: len(LABELS)].tolist(), strict=True))
        for number, outlet in enumerate(claims.outlets)
    }


def _most_first(counts: Counter[str], order: Sequence[str] = ()) -> list[tuple[str, int]]:
    """The counts, largest first; ties in ``order`` (by name for what it does not hold)."""
    place = {name: number for number, name in enumerate(order)}
    return sorted(counts.items(), key=lambda kv: (-kv[1], place.get(kv[0], len(place)), kv[0]))


def _share_of(count: int, total: int) -> Share:
    return label_shares({"yes": count, "no": total - count})["yes"]


def term_report(
    session: Session, project: Project, basis: Basis, scope: DocumentScope = EVERY_DOCUMENT
) -> TermReport:
    """The report of the project's loaded terms in the scope's documents. Only the passages
    holding a term are read one by one; the others are counted per outlet by the database."""
    listed = watched_terms(project.loaded_terms)
    hits = passage_hits(session, project)
    totals = _outlet_totals(session, project, scope)
    holding = _holding(session, project, scope, hits) if hits else []
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for passage, role, outlet in holding:
        found[outlet].append((passage, role))
    with_term: list[tuple[object, ...]] = []
    without: list[tuple[object, ...]] = []
    for passage, start, end, outlet, role, final, labels in _labelled_claims(
        session, project, scope
    ):
        row = (outlet, role, final, *labels)
        (with_term if _holds_term(hits.get(passage, ()), start, end) else without).append(row)
    labels_with, labels_without = _label_counts(with_term, basis), _label_counts(without, basis)
    nothing = dict.fromkeys(LABELS, 0)
    outlets = []
    # The totals may be a minute older than the passages read here (another process kept
    # them before a curator moved a passage): a count never exceeds its total.
    for outlet in sorted(set(totals) | set(found), key=lambda o: (o == NO_OUTLET, o.lower())):
        mine = found.get(outlet, [])
        passages = max(totals.get(outlet, 0), len(mine))
        terms = Counter(term for p, _ in mine for term in {hit.term for hit in hits[p]})
        counted_with = labels_with.get(outlet, nothing)
        counted_without = labels_without.get(outlet, nothing)
        outlets.append(
            OutletTerms(
                outlet=outlet,
                passages=passages,
                with_terms=_share_of(len(mine), passages),
                excerpts_with_terms=sum(role == PassageRole.EXCERPT for _, role in mine),
                author_passages_with_terms=sum(role == PassageRole.AUTHOR for _, role in mine),
                top_terms=_most_first(terms, listed)[:TOP_TERMS],
                claims_with_terms=sum(counted_with.values()),
                labels_with_terms=label_shares(counted_with),
                claims_without=sum(counted_without.values()),
                labels_without=label_shares(counted_without),
            )
        )
    return TermReport(
        terms=listed,
        basis=basis,
        passages=sum(totals.values()),
        outlets=outlets,
        rows=_term_rows(holding, hits, listed),
    )


def _term_rows(
    holding: Sequence[tuple[int, str, str]],
    hits: dict[int, tuple[TermHit, ...]],
    terms: tuple[str, ...],
) -> list[TermRow]:
    """One row per term of the list, in the list's order (terms found nowhere too)."""
    passages_of: dict[str, list[tuple[str, str]]] = {term: [] for term in terms}
    for passage, role, outlet in holding:
        for term in {hit.term for hit in hits[passage]}:
            passages_of.setdefault(term, []).append((role, outlet))
    return [
        TermRow(
            term=term,
            passages=len(found),
            excerpts=sum(role == PassageRole.EXCERPT for role, _ in found),
            author_passages=sum(role == PassageRole.AUTHOR for role, _ in found),
            outlets=_most_first(Counter(outlet for _, outlet in found)),
        )
        for term, found in passages_of.items()
    ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _share_cells(share: Share) -> list[str]:
    return [str(share.count), _number(share.share), _number(share.ci_low), _number(share.ci_high)]


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """CSV text (RFC 4180, CRLF), header first, every cell neutralised against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    yield buffer.getvalue()


BY_OUTLET_COLUMNS = (
    ["outlet", "passages", "passages_with_terms", "share", "ci_low", "ci_high"]
    + ["excerpts_with_terms", "author_passages_with_terms", "top_terms", "basis"]
    + ["claims_with_terms"]
    + [f"{label}_with_terms{suffix}" for label in LABELS for suffix in ("", "_share")]
    + ["claims_without_terms"]
    + [f"{label}_without_terms{suffix}" for label in LABELS for suffix in ("", "_share")]
)


def _label_cells(shares: dict[str, Share]) -> list[str]:
    return [cell for label in LABELS for cell in _share_cells(shares[label])[:2]]


def _by_outlet_record(row: OutletTerms, basis: Basis) -> list[str]:
    top_terms = "; ".join(f"{term}: {count}" for term, count in row.top_terms)
    return [
        row.outlet,
        str(row.passages),
        *_share_cells(row.with_terms),
        str(row.excerpts_with_terms),
        str(row.author_passages_with_terms),
        top_terms,
        basis.value,
        str(row.claims_with_terms),
        *_label_cells(row.labels_with_terms),
        str(row.claims_without),
        *_label_cells(row.labels_without),
    ]


def iter_by_outlet_csv(report: TermReport) -> Iterator[str]:
    return _csv(BY_OUTLET_COLUMNS, (_by_outlet_record(r, report.basis) for r in report.outlets))


BY_TERM_COLUMNS = ["term", "passages", "excerpts", "author_passages", "outlet", "outlet_passages"]


def iter_by_term_csv(report: TermReport) -> Iterator[str]:
    """One row per term and outlet whose passages hold it (a term found nowhere: one row
    with an empty outlet)."""
    rows = (
        [row.term, str(row.passages), str(row.excerpts), str(row.author_passages), *outlet]
        for row in report.rows
        for outlet in ([(name, str(n)) for name, n in row.outlets] or [("", "0")])
    )
    return _csv(BY_TERM_COLUMNS, rows)


CSV_TABLES: dict[str, Callable[[TermReport], Iterator[str]]] = {
    "by-outlet": iter_by_outlet_csv,
    "by-term": iter_by_term_csv,
}
