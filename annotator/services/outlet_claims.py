"""The claims behind a figure of the outlet report: an outlet's claims (or every cited
outlet's) that count as a label on a basis (its "editorial" share, say), in document order,
with every reviewer's label and the settled one, so that a curator can read what a share is
made of.

The claims are chosen exactly as the report counts them (``reports.claim_label_rows`` and
``LabelledClaims.counted``), so a list holds as many claims as the report's cell counts (on
the basis ``all``, a claim is listed once however many reviewers gave the label)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

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
from annotator.services.reports import COLUMNS, Basis, LabelledClaims, claim_label_rows
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope

CLAIMS_PER_PAGE = 50
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
    document_title: str
    outlet: str
    passage_id: int
    passage_index: int
    role: str
    text: str
    labels: list[tuple[str, str]]  # (reviewer, label), by reviewer
    settled: str | None
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
    """The page's claims of the outlet that count as the chosen label, and how many there are.
    Three queries whatever the project's size: the outlet's labelled claims (as the report
    reads them), then the page's claims and their reviewers' labels."""
    query = claim_label_rows(project, choice.scope, lead=_LEAD, outlet=choice.outlet)
    rows = driver_rows(session, query)
    if choice.role is not None:
        rows = [row for row in rows if row[len(_LEAD) + 1] == choice.role]
    claims = LabelledClaims.of_rows([row[len(_LEAD) :] for row in rows])
    counted = claims.counted(choice.basis)[:, : len(LABELS)]
    wanted = counted.sum(axis=1) if choice.label is None else counted[:, LABELS.index(choice.label)]
    chosen = sorted(
        (tuple(rows[i][1 : len(_LEAD)]), rows[i][0], _labels_of(counted[i]))
        for i in wanted.nonzero()[0]
    )
    start = (page - 1) * CLAIMS_PER_PAGE
    shown = {claim_id: labels for _, claim_id, labels in chosen[start : start + CLAIMS_PER_PAGE]}
    return ListedClaims(_listed(session, shown), len(chosen))


def _labels_of(counted: list[int]) -> list[str]:
    return [label for label, times in zip(COLUMNS, counted, strict=False) if times]


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
            Document.title,
            Outlet.name,
            Passage.id,
            Passage.index,
            Passage.role,
            Claim.text,
            FinalLabel.label,
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
            document_title=title,
            outlet=outlet,
            passage_id=passage_id,
            passage_index=index,
            role=role,
            text=text,
            labels=reviewers[claim_id],
            settled=settled,
            counted=counted[claim_id],
        )
        for claim_id, document_id, title, outlet, passage_id, index, role, text, settled in found
    ]
