"""Removing a document from its project, with everything recorded on it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import Annotation, Claim, Document, FinalLabel, Passage
from annotator.services import progress, structure


class DocumentError(ValueError):
    """A document that cannot be deleted (it is gone already)."""


@dataclass(frozen=True)
class Footprint:
    """What deleting a document takes with it."""

    passages: int
    claims: int
    labels: int
    reviewers: int
    settled: int


def footprint(session: Session, document: Document) -> Footprint:
    claims = select(Claim.id).join(Passage).where(Passage.document_id == document.id)
    passages, claim_count = session.execute(
        select(func.count(Passage.id), func.coalesce(func.sum(Passage.claim_count), 0)).where(
            Passage.document_id == document.id
        )
    ).one()
    labels, reviewers = session.execute(
        select(func.count(Annotation.id), func.count(func.distinct(Annotation.user_id))).where(
            Annotation.project_id == document.project_id, Annotation.claim_id.in_(claims)
        )
    ).one()
    settled = session.scalar(
        select(func.count(FinalLabel.id)).where(
            FinalLabel.project_id == document.project_id, FinalLabel.claim_id.in_(claims)
        )
    )
    return Footprint(int(passages), int(claim_count), int(labels), int(reviewers), settled or 0)


def delete_document(session: Session, document_id: int) -> Footprint:
    """Delete the document with its passages, claims, labels, reviews, settled labels and
    history (the database cascades), in one transaction; returns what went with it.

    Figures that server processes keep per project (totals, the project's structure) are
    keyed by its newest passage; this process forgets them now, others within a minute."""
    begin_write(session)
    document = session.get(Document, document_id)
    if document is None:
        raise DocumentError("This document no longer exists; it was deleted meanwhile.")
    gone = footprint(session, document)
    session.execute(delete(Document).where(Document.id == document.id))
    session.commit()
    session.expunge(document)
    progress.forget_totals()
    structure.forget_structures()
    return gone
