"""Outlet and reviewer reports: what the annotations say about each source, and each reviewer.

An outlet's claims are the claims of the passages whose detected outlet it is: excerpts copied
from it and author passages that name it. Each claim contributes labels according to the
``Basis``: its settled label, its reviewers' majority label (a tie counts nowhere) or every
reviewer's label. "Framing" is the share of editorial labels among the claims of author
passages naming the outlet: how the people who cite it write about it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Claim,
    FinalLabel,
    Label,
    Outlet,
    Passage,
    PassageRole,
    Project,
    User,
)
from annotator.services import dashboard, structure
from annotator.services.agreement import (
    LABELS,
    ReviewerAccuracy,
    load_ratings,
    mean_kappa,
    reviewer_accuracy,
    summarise,
)
from annotator.services.exporting import neutralise_cell
from annotator.stats import Share, krippendorff_alpha, label_shares, percent_agreement


class Basis(StrEnum):
    SETTLED_OR_MAJORITY = "settled_or_majority"
    SETTLED = "settled"
    MAJORITY = "majority"
    ALL = "all"


BASIS_TEXT = {
    Basis.SETTLED_OR_MAJORITY: "the settled label where there is one, else the majority label",
    Basis.SETTLED: "settled labels only",
    Basis.MAJORITY: "the reviewers' majority label (ties left out)",
    Basis.ALL: "every reviewer's label",
}


def parse_basis(value: str | None) -> Basis:
    """The basis named by ``value``; the default for anything else."""
    return Basis(value) if value in set(Basis) else Basis.SETTLED_OR_MAJORITY


@dataclass(frozen=True)
class ClaimLabels:
    """One claim of an outlet with its settled label and its reviewers' labels."""

    claim_id: int
    outlet: str
    role: str
    final: str | None
    labels: dict[str, str]


@dataclass(frozen=True)
class Coverage:
    """Where the counted labels came from: settled, majority, or neither (tie / unlabelled)."""

    settled: int = 0
    majority: int = 0
    undecided: int = 0
    ratings: int = 0


@dataclass(frozen=True)
class OutletRow:
    outlet: str
    documents: int
    excerpt_passages: int
    author_passages: int
    claims: int
    counted: int
    shares: dict[str, Share]
    percent_agreement: float | None
    alpha: float | None
    framing: Share
    framing_counted: int


@dataclass(frozen=True)
class OutletReport:
    basis: Basis
    rows: list[OutletRow]
    coverage: Coverage


def majority(labels: Iterable[str]) -> str | None:
    """The most frequent label; None when there is none or the top count is shared."""
    ranked = Counter(labels).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def counted_labels(claim: ClaimLabels, basis: Basis) -> list[str]:
    """The labels this claim contributes under ``basis``."""
    if basis == Basis.ALL:
        return list(claim.labels.values())
    if claim.final is not None and basis != Basis.MAJORITY:
        return [claim.final]
    if basis == Basis.SETTLED:
        return []
    top = majority(claim.labels.values())
    return [top] if top else []


def coverage_of(claims: Iterable[ClaimLabels], basis: Basis, unlabelled: int = 0) -> Coverage:
    """How many claims were counted by settled label, by majority, or not at all;
    ``unlabelled`` claims (no label, not settled) are never counted."""
    settled = majority_count = undecided = ratings = 0
    for claim in claims:
        ratings += len(claim.labels)
        if basis == Basis.ALL:
            continue
        if claim.final is not None and basis != Basis.MAJORITY:
            settled += 1
        elif basis != Basis.SETTLED and majority(claim.labels.values()):
            majority_count += 1
        else:
            undecided += 1
    if basis != Basis.ALL:
        undecided += unlabelled
    return Coverage(settled, majority_count, undecided, ratings)


def _structure(session: Session, project: Project) -> list[tuple[str, int, int, int, int]]:
    """Per cited outlet: documents, excerpt passages, author passages, claims."""
    return [
        (o.name, o.documents, o.excerpt_passages, o.author_passages, o.claims)
        for o in structure.project_structure(session, project)
        if o.name is not None
    ]


def load_claim_labels(session: Session, project: Project) -> list[ClaimLabels]:
    """The claims of passages with an outlet that someone labelled or settled, with their
    settled and reviewer labels. Read from the labels, so the cost follows the work done, not
    the size of the project (reading every claim took 1.4 s at 290,000 passages); claims
    nobody labelled count only as undecided (``outlet_report``). Run without the ORM, whose
    handling of each row cost a third of the page at 120,000 labels."""
    labelled = union(
        select(Annotation.claim_id).where(Annotation.project_id == project.id),
        select(FinalLabel.claim_id).where(FinalLabel.project_id == project.id),
    )
    rows = session.connection().execute(
        select(
            Claim.id, Outlet.name, Passage.role, FinalLabel.label, User.username, Annotation.label
        )
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Outlet, Outlet.id == Passage.outlet_id)
        .outerjoin(FinalLabel, FinalLabel.claim_id == Claim.id)
        .outerjoin(Annotation, Annotation.claim_id == Claim.id)
        .outerjoin(User, User.id == Annotation.user_id)
        .where(Claim.id.in_(labelled))
        .order_by(Claim.id)
    )
    claims: dict[int, ClaimLabels] = {}
    for claim_id, outlet, role, final, reviewer, label in rows:
        claim = claims.setdefault(claim_id, ClaimLabels(claim_id, outlet, role, final, {}))
        if reviewer is not None:
            claim.labels[reviewer] = label
    return list(claims.values())


def _shares(claims: Iterable[ClaimLabels], basis: Basis) -> tuple[dict[str, Share], int]:
    counts = Counter(label for c in claims for label in counted_labels(c, basis))
    ordered = {label: counts.get(label, 0) for label in LABELS}
    return label_shares(ordered), sum(ordered.values())


def _outlet_row(
    structure: tuple[str, int, int, int, int], claims: list[ClaimLabels], basis: Basis
) -> OutletRow:
    name, documents, excerpts, authors, claim_total = structure
    shares, counted = _shares(claims, basis)
    ratings = [(c.claim_id, r, lab) for c in claims for r, lab in c.labels.items()]
    author_claims = [c for c in claims if c.role == PassageRole.AUTHOR]
    framing, framing_counted = _shares(author_claims, basis)
    return OutletRow(
        outlet=name,
        documents=documents,
        excerpt_passages=excerpts,
        author_passages=authors,
        claims=claim_total,
        counted=counted,
        shares=shares,
        percent_agreement=percent_agreement(ratings),
        alpha=krippendorff_alpha(ratings),
        framing=framing[Label.EDITORIAL],
        framing_counted=framing_counted,
    )


def outlet_report(session: Session, project: Project, basis: Basis) -> OutletReport:
    """One row per outlet cited in the project, by outlet name."""
    claims = load_claim_labels(session, project)
    by_outlet: dict[str, list[ClaimLabels]] = {}
    for claim in claims:
        by_outlet.setdefault(claim.outlet, []).append(claim)
    structure = _structure(session, project)
    rows = [_outlet_row(s, by_outlet.get(s[0], []), basis) for s in structure]
    rows.sort(key=lambda r: r.outlet.lower())
    unlabelled = sum(claim_total for *_, claim_total in structure) - len(claims)
    return OutletReport(basis, rows, coverage_of(claims, basis, unlabelled))


def _share_key(label: str) -> Callable[[OutletRow], float | None]:
    return lambda row: row.shares[label].share


SORT_KEYS: dict[str, Callable[[OutletRow], Any]] = {
    "outlet": lambda row: row.outlet.lower(),
    "documents": lambda row: row.documents,
    "excerpts": lambda row: row.excerpt_passages,
    "authors": lambda row: row.author_passages,
    "claims": lambda row: row.claims,
    **{label: _share_key(label) for label in LABELS},
    "agreement": lambda row: row.alpha,
    "framing": lambda row: row.framing.share,
}


def sort_rows(rows: list[OutletRow], key: str, descending: bool) -> list[OutletRow]:
    """Rows sorted by a SORT_KEYS column (unknown: by outlet); missing values always last."""
    value = SORT_KEYS.get(key, SORT_KEYS["outlet"])
    present = [r for r in rows if value(r) is not None]
    present.sort(key=value, reverse=descending)
    return present + [r for r in rows if value(r) is None]


CSV_COLUMNS = (
    ["outlet", "documents", "excerpt_passages", "author_passages", "claims", "basis", "counted"]
    + [f"{label}{suffix}" for label in LABELS for suffix in ("", "_share", "_ci_low", "_ci_high")]
    + ["percent_agreement", "krippendorff_alpha", "framing_counted", "framing_editorial"]
    + ["framing_share", "framing_ci_low", "framing_ci_high"]
)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _share_cells(share: Share) -> list[str]:
    return [str(share.count), _number(share.share), _number(share.ci_low), _number(share.ci_high)]


def csv_record(row: OutletRow, basis: Basis) -> list[str]:
    """One outlet as CSV cells, every cell neutralised against spreadsheet formulas."""
    cells = [row.outlet, str(row.documents), str(row.excerpt_passages), str(row.author_passages)]
    cells += [str(row.claims), basis.value, str(row.counted)]
    for label in LABELS:
        cells += _share_cells(row.shares[label])
    cells += [_number(row.percent_agreement), _number(row.alpha), str(row.framing_counted)]
    cells += _share_cells(row.framing)
    return [neutralise_cell(cell) for cell in cells]


def iter_outlet_csv(report: OutletReport) -> Iterator[str]:
    """The outlet report as CSV text (RFC 4180, CRLF), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(csv_record(row, report.basis))
    yield buffer.getvalue()


@dataclass(frozen=True)
class ReviewerRow:
    """A reviewer's work and agreement; curators only (it includes accuracy)."""

    reviewer: str
    passages: int
    skipped: int
    tags: int
    tags_per_hour: float | None
    mean_kappa: float | None
    accuracy: ReviewerAccuracy


def reviewer_report(session: Session, project: Project) -> list[ReviewerRow]:
    """Every reviewer who labelled or reviewed in the project, by name."""
    activity = {row.username: row for row in dashboard.reviewers(session, project)}
    ratings = load_ratings(session, project)
    summary = summarise(ratings)
    accuracy = {a.reviewer: a for a in reviewer_accuracy(ratings)}
    tags = Counter(r.reviewer for r in ratings)
    rows = []
    for name in sorted(set(activity) | set(tags)):
        work = activity.get(name)
        rows.append(
            ReviewerRow(
                reviewer=name,
                passages=work.completed if work else 0,
                skipped=work.skipped if work else 0,
                tags=tags.get(name, 0),
                tags_per_hour=work.tags_per_hour if work else None,
                mean_kappa=mean_kappa(summary, name),
                accuracy=accuracy.get(name) or ReviewerAccuracy(name, 0, 0, None, 0.0, 1.0, None),
            )
        )
    return rows
