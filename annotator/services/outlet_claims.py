"""The claims behind a figure of the outlet report: an outlet's claims (or every cited
outlet's) that count as a label on a basis (its "editorial" share, say), in document order,
with every reviewer's label and the settled one, so that a curator can read what a share is
made of.

The claims are chosen exactly as the report counts them (``reports.claim_label_rows`` and
``LabelledClaims.counted``), so a list holds as many claims as the report's cell counts (on
the basis ``all``, a claim is listed once however many reviewers gave the label)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.db import driver_rows
from annotator.models import (
    Annotation,
    Claim,
    Document,
    FinalLabel,
    Outlet,
    Passage,
    Project,
    User,
)
from annotator.services.agreement import LABELS
from annotator.services.exporting import csv_writer, drain, neutralise_cell
from annotator.services.reports import (
    Basis,
    LabelledClaims,
    ascii_slug,
    claim_label_rows,
    report_csv_name,
)
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope

if TYPE_CHECKING:
    import numpy as np

CLAIMS_PER_PAGE = 50
CSV_BATCH = 1000
# The columns ahead of claim_label_rows's own: which claim, and where it stands in the project
_LEAD = (Claim.id, Passage.document_id, Passage.index, Claim.index)


@dataclass(frozen=True)
class Choice:
    """Which claims to list: those of ``outlet`` (every cited outlet when None) counted as
    ``label`` (any label when None) on ``basis``, in passages of ``role`` (any when None), of
    the scope's documents."""

    outlet: str | None
    basis: Basis
    label: str | None = None
    role: str | None = None
    scope: DocumentScope = EVERY_DOCUMENT


@dataclass(frozen=True)
class ListedClaim:
    claim_id: int
    document_id: int
    document_external_id: str
    document_title: str
    outlet: str
    passage_id: int
    passage_index: int
    role: str
    claim_index: int
    text: str
    labels: list[tuple[str, str]]  # (reviewer, label), by reviewer
    settled: str | None
    settled_version: int  # 0 when nothing is settled (what a settle form sends back)
    counted: list[str]  # the labels the claim contributes on the basis


@dataclass(frozen=True)
class ListedClaims:
    claims: list[ListedClaim]  # the page's
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + CLAIMS_PER_PAGE - 1) // CLAIMS_PER_PAGE, 1)


def outlet_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Outlet.id).where(Outlet.name == name)) is not None


def outlet_claims(session: Session, project: Project, choice: Choice, page: int) -> ListedClaims:
    """The page's chosen claims, and how many there are. Three queries whatever the project's
    size: the labelled claims (as the report reads them), then the page's claims and their
    reviewers' labels."""
    chosen = _chosen(session, project, choice)
    start = (page - 1) * CLAIMS_PER_PAGE
    return ListedClaims(_listed(session, chosen.labels(start, CLAIMS_PER_PAGE)), len(chosen))


def iter_claims(session: Session, project: Project, choice: Choice) -> Iterator[ListedClaim]:
    """Every chosen claim, in document order, read CSV_BATCH at a time."""
    chosen = _chosen(session, project, choice)
    for start in range(0, len(chosen), CSV_BATCH):
        yield from _listed(session, chosen.labels(start, CSV_BATCH))


@dataclass(frozen=True)
class _Chosen:
    """The chosen claims' ids in document order, and the labels each counts as (one row of
    ``LABELS`` counts per id): words are made only for the claims shown."""

    ids: list[int]
    counted: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def labels(self, start: int, count: int) -> dict[int, list[str]]:
        """The ids from ``start`` on (``count`` of them), each with the labels it counts as."""
        return {
            self.ids[i]: [
                label for label, times in zip(LABELS, self.counted[i], strict=True) if times
            ]
            for i in range(start, min(start + count, len(self.ids)))
        }


def _chosen(session: Session, project: Project, choice: Choice) -> _Chosen:
    """The claims the report counts as the choice asks, put in document order by numpy: at
    33,000 claims, sorting them as Python tuples and wording each one's labels took a third of
    the page's time."""
    import numpy as np

    query = claim_label_rows(project, choice.scope, lead=_LEAD, outlet=choice.outlet)
    rows = driver_rows(session, query)
    if choice.role is not None:
        rows = [row for row in rows if row[len(_LEAD) + 1] == choice.role]
    claims = LabelledClaims.of_rows([row[len(_LEAD) :] for row in rows])
    counted = claims.counted(choice.basis)[:, : len(LABELS)]
    wanted = counted.sum(axis=1) if choice.label is None else counted[:, LABELS.index(choice.label)]
    place = np.array([row[: len(_LEAD)] for row in rows], dtype=np.int64).reshape(-1, len(_LEAD))
    kept = wanted.nonzero()[0]
    # document, then passage, then claim (lexsort sorts by its last key first)
    order = kept[np.lexsort((place[kept, 3], place[kept, 2], place[kept, 1]))]
    return _Chosen(place[order, 0].tolist(), counted[order])


CSV_COLUMNS = [
    "outlet",
    "document_id",
    "document_title",
    "passage_index",
    "passage_role",
    "claim_index",
    "claim_text",
    "reviewer_labels",
    "final_label",
    "counted_as",
    "basis",
]


def iter_claims_csv(session: Session, project: Project, choice: Choice) -> Iterator[str]:
    """The chosen claims as CSV text (RFC 4180, CRLF), header first, a batch at a time;
    every cell neutralised against spreadsheet formulas."""
    buffer, writer = csv_writer()
    writer.writerow(CSV_COLUMNS)
    for number, claim in enumerate(iter_claims(session, project, choice), start=1):
        writer.writerow([neutralise_cell(cell) for cell in _csv_cells(claim, choice.basis)])
        if number % CSV_BATCH == 0:
            yield drain(buffer)
    yield drain(buffer)


def _csv_cells(claim: ListedClaim, basis: Basis) -> list[str]:
    return [
        claim.outlet,
        claim.document_external_id,
        claim.document_title,
        str(claim.passage_index),
        claim.role,
        str(claim.claim_index),
        claim.text,
        "; ".join(f"{reviewer}={label}" for reviewer, label in claim.labels),
        claim.settled or "",
        "; ".join(claim.counted),
        basis.value,
    ]


def claims_csv_name(project: Project, choice: Choice) -> str:
    """A file name that says what was listed: outlet, label and passages, then what the
    report's name says (basis and scope). Names are reduced to ASCII letters and digits."""
    parts = ["claims", ascii_slug(choice.outlet or "every-outlet")]
    parts += [part for part in (choice.label, choice.role) if part]
    return report_csv_name("-".join(parts), project, choice.basis, choice.scope)


def _listed(session: Session, counted: dict[int, list[str]]) -> list[ListedClaim]:
    """The claims, in document order, with what a reader needs to judge them."""
    if not counted:
        return []
    reviewers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for claim_id, username, label in driver_rows(
        session,
        select(Annotation.claim_id, User.username, Annotation.label)
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.claim_id.in_(counted))
        .order_by(User.username),
    ):
        reviewers[claim_id].append((username, label))
    found = session.execute(
        select(
            Claim.id,
            Passage.document_id,
            Document.external_id,
            Document.title,
            Outlet.name,
            Passage.id,
            Passage.index,
            Passage.role,
            Claim.index,
            Claim.text,
            FinalLabel.label,
            FinalLabel.version,
        )
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .join(Outlet, Outlet.id == Passage.outlet_id)
        .outerjoin(FinalLabel, FinalLabel.claim_id == Claim.id)
        .where(Claim.id.in_(counted))
        .order_by(Passage.document_id, Passage.index, Claim.index)
    ).all()
    return [
        ListedClaim(
            claim_id=claim_id,
            document_id=document_id,
            document_external_id=external_id,
            document_title=title,
            outlet=outlet,
            passage_id=passage_id,
            passage_index=index,
            role=role,
            claim_index=claim_index,
            text=text,
            labels=reviewers[claim_id],
            settled=settled,
            settled_version=version or 0,
            counted=counted[claim_id],
        )
        for (
            claim_id,
            document_id,
            external_id,
            title,
            outlet,
            passage_id,
            index,
            role,
            claim_index,
            text,
            settled,
            version,
        ) in found
    ]
