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
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CompoundSelect,
    SQLColumnExpression,
    case,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from annotator.db import driver_rows
from annotator.models import (
    Annotation,
    Claim,
    FinalLabel,
    Label,
    Outlet,
    Passage,
    PassageRole,
    Project,
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
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope
from annotator.stats import (
    Share,
    krippendorff_alpha_of_table,
    label_shares,
    percent_agreement_of_table,
)

if TYPE_CHECKING:
    import numpy as np


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


COLUMNS = [*LABELS, "(other)"]
"""The columns of a claim's label counts: the labels, then any label the tool does not know."""


@dataclass(frozen=True)
class LabelledClaims:
    """The claims of passages with an outlet that someone labelled or settled, one row each.

    ``table`` counts each claim's reviewer labels by ``COLUMNS``; ``final`` is the settled
    label's column, -1 where the claim is not settled; ``outlet`` codes into ``outlets``.
    The figures need only these counts, not who gave which label (a reviewer labels a claim
    once), so they are counted in arrays rather than claim by claim."""

    outlets: list[str]
    outlet: np.ndarray
    author: np.ndarray
    final: np.ndarray
    table: np.ndarray

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[Any]]) -> LabelledClaims:
        """``LabelledClaims`` of rows (outlet name, passage role, settled label, one count per
        ``COLUMNS``)."""
        import numpy as np

        outlets = sorted({row[0] for row in rows})
        code = {name: number for number, name in enumerate(outlets)}
        column = {label: number for number, label in enumerate(LABELS)}
        return cls(
            outlets=outlets,
            outlet=np.fromiter((code[row[0]] for row in rows), np.int64, len(rows)),
            author=np.fromiter((row[1] == PassageRole.AUTHOR for row in rows), bool, len(rows)),
            final=np.fromiter(
                (-1 if row[2] is None else column.get(row[2], len(LABELS)) for row in rows),
                np.int64,
                len(rows),
            ),
            table=np.array([row[3:] for row in rows], dtype=np.int64).reshape(
                len(rows), len(COLUMNS)
            ),
        )

    def __len__(self) -> int:
        return len(self.final)

    def majority(self) -> np.ndarray:
        """Each claim's most frequent label's column; -1 where none or the top count is shared."""
        import numpy as np

        top = self.table.max(axis=1, initial=0)
        leaders = (self.table == top[:, None]).sum(axis=1)
        chosen = self.table.argmax(axis=1)
        return np.where((top > 0) & (leaders == 1), chosen, -1)

    def counted(self, basis: Basis) -> np.ndarray:
        """Claims x ``COLUMNS``: the labels each claim contributes under ``basis``."""
        import numpy as np

        if basis == Basis.ALL:
            return self.table
        chosen = np.full(len(self), -1) if basis == Basis.SETTLED else self.majority()
        if basis != Basis.MAJORITY:
            chosen = np.where(self.final >= 0, self.final, chosen)
        counted = np.zeros_like(self.table)
        counted[np.flatnonzero(chosen >= 0), chosen[chosen >= 0]] = 1
        return counted

    def coverage(self, basis: Basis, unlabelled: int = 0) -> Coverage:
        """How many claims were counted by settled label, by majority, or not at all;
        ``unlabelled`` claims (no label, not settled) are never counted."""
        ratings = int(self.table.sum())
        if basis == Basis.ALL:
            return Coverage(ratings=ratings)
        import numpy as np

        nobody = np.zeros(len(self), dtype=bool)
        by_final = nobody if basis == Basis.MAJORITY else self.final >= 0
        by_majority = nobody if basis == Basis.SETTLED else ~by_final & (self.majority() >= 0)
        settled, majority = int(by_final.sum()), int(by_majority.sum())
        return Coverage(settled, majority, len(self) - settled - majority + unlabelled, ratings)

    def per_outlet(self, values: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        """Outlets x columns: the sum of ``values`` (claims x columns) over each outlet's claims
        (those where ``keep`` is true)."""
        import numpy as np

        weights = values if keep is None else values * keep[:, None]
        width, n_outlets = values.shape[1], len(self.outlets)
        cells = (self.outlet[:, None] * width + np.arange(width)).ravel()
        sums = np.bincount(cells, weights=weights.ravel(), minlength=n_outlets * width)
        return sums.reshape(n_outlets, width).astype(np.int64)


def _structure(
    session: Session, project: Project, scope: DocumentScope
) -> list[tuple[str, int, int, int, int]]:
    """Per cited outlet: documents, excerpt passages, author passages, claims (of the whole
    project as every page keeps it, or read for the scope's documents)."""
    outlets = (
        structure.project_structure(session, project)
        if scope.keeps_everything
        else structure.read_structure(session, project, scope.document_ids(project))
    )
    return [
        (o.name, o.documents, o.excerpt_passages, o.author_passages, o.claims)
        for o in outlets
        if o.name is not None
    ]


def claim_label_rows(
    project: Project,
    scope: DocumentScope = EVERY_DOCUMENT,
    *,
    lead: Sequence[SQLColumnExpression[Any]] = (),
    citing_an_outlet: bool = True,
    outlet: str | None = None,
) -> CompoundSelect[Any]:
    """One row per claim that someone labelled or settled: the ``lead`` columns, then the
    outlet's name (NULL: none), passage role, settled label and how many reviewers gave each
    label (``COLUMNS``). Read from the labels, so the cost follows the work done, not the
    size of the project (reading every claim took 1.4 s at 290,000 passages). The labels are
    counted per claim by the database: a claim is one row, not one row per reviewer, and no
    Python loop runs per label. Only claims of passages citing an outlet (the one named
    ``outlet``, when given), unless ``citing_an_outlet`` is false, and of the scope's
    documents."""
    label_counts = [func.count(case((Annotation.label == label, 1))) for label in LABELS]
    unknown = func.count(case((Annotation.label.not_in(LABELS), 1)))
    columns = (*lead, Outlet.name, Passage.role, FinalLabel.label)
    kept = scope.passages_kept(project)
    if outlet is not None:
        kept = [*kept, Outlet.name == outlet]
    labelled = (
        select(*columns, *label_counts, unknown)
        .select_from(Annotation)
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Outlet, Outlet.id == Passage.outlet_id, isouter=not citing_an_outlet)
        .outerjoin(FinalLabel, FinalLabel.claim_id == Claim.id)
        .where(Annotation.project_id == project.id, *kept)
        .group_by(Claim.id, *columns)
    )
    # Driven from the project's labels, as the labels are read for the agreement figures:
    # from the claims, PostgreSQL hashed every claim and passage of the project.
    nobody = ~exists().where(Annotation.claim_id == FinalLabel.claim_id)
    settled_alone = (
        select(*columns, *[literal(0)] * len(COLUMNS))
        .select_from(FinalLabel)
        .join(Claim, Claim.id == FinalLabel.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Outlet, Outlet.id == Passage.outlet_id, isouter=not citing_an_outlet)
        .where(FinalLabel.project_id == project.id, nobody, *kept)
    )
    return union_all(labelled, settled_alone)


def load_claim_labels(
    session: Session, project: Project, scope: DocumentScope = EVERY_DOCUMENT
) -> LabelledClaims:
    """The claims of passages with an outlet that someone labelled or settled, with their
    settled label and how many reviewers gave each label (``claim_label_rows``); claims
    nobody labelled count only as undecided (``outlet_report``)."""
    return LabelledClaims.of_rows(driver_rows(session, claim_label_rows(project, scope)))


def _shares(counts: np.ndarray) -> dict[str, Share]:
    return label_shares(dict(zip(LABELS, counts[: len(LABELS)].tolist(), strict=True)))


def _outlet_rows(
    structure: list[tuple[str, int, int, int, int]], claims: LabelledClaims, basis: Basis
) -> list[OutletRow]:
    import numpy as np

    counted = claims.counted(basis)
    shares = claims.per_outlet(counted)
    framing = claims.per_outlet(counted, keep=claims.author)
    code = {name: number for number, name in enumerate(claims.outlets)}
    nothing = np.zeros(len(COLUMNS), dtype=np.int64)
    rows = []
    for name, documents, excerpts, authors, claim_total in structure:
        number = code.get(name, -1)
        mine = claims.table[claims.outlet == number]
        outlet_shares = shares[number] if number >= 0 else nothing
        outlet_framing = framing[number] if number >= 0 else nothing
        rows.append(
            OutletRow(
                outlet=name,
                documents=documents,
                excerpt_passages=excerpts,
                author_passages=authors,
                claims=claim_total,
                counted=int(outlet_shares[: len(LABELS)].sum()),
                shares=_shares(outlet_shares),
                percent_agreement=percent_agreement_of_table(mine),
                alpha=krippendorff_alpha_of_table(mine),
                framing=_shares(outlet_framing)[Label.EDITORIAL],
                framing_counted=int(outlet_framing[: len(LABELS)].sum()),
            )
        )
    return rows


def outlet_report(
    session: Session, project: Project, basis: Basis, scope: DocumentScope = EVERY_DOCUMENT
) -> OutletReport:
    """One row per outlet cited in the project (in the scope's documents), by outlet name."""
    claims = load_claim_labels(session, project, scope)
    structure = _structure(session, project, scope)
    rows = _outlet_rows(structure, claims, basis)
    rows.sort(key=lambda r: r.outlet.lower())
    unlabelled = sum(claim_total for *_, claim_total in structure) - len(claims)
    return OutletReport(basis, rows, claims.coverage(basis, unlabelled))


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


def ascii_slug(name: str) -> str:
    """A name as ASCII letters and digits joined by "-", safe in a header's file name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "x"


def report_csv_name(report: str, project: Project, basis: Basis, scope: DocumentScope) -> str:
    """A file name that says what the report counted: project, basis and document scope.
    The site is reduced to ASCII letters and digits, so the name is safe in a header."""
    parts = [f"{report}-project-{project.id}", basis.value]
    if scope.site is not None:
        parts.append("site-" + ascii_slug(scope.site))
    if scope.published_from:
        parts.append(f"from-{scope.published_from}")
    if scope.published_to:
        parts.append(f"to-{scope.published_to}")
    return "-".join(parts) + ".csv"


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
    tags = Counter(ratings.reviewers)
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
