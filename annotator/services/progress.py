"""Progress figures: a reviewer's own, and the project dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import Passage, Project, Review, ReviewStatus, User


@dataclass(frozen=True)
class ReviewerProgress:
    completed: int
    total: int

    @property
    def text(self) -> str:
        return f"{self.completed} of {self.total}"

    @property
    def mine_complete(self) -> bool:
        return self.total > 0 and self.completed >= self.total


def reviewer_progress(session: Session, user: User, project: Project) -> ReviewerProgress:
    """Passages of the project the user completed, out of all its passages with claims."""
    completed = session.scalar(
        select(func.count(Review.id))
        .join(Passage, Passage.id == Review.passage_id)
        .where(
            Review.user_id == user.id,
            Review.status == ReviewStatus.COMPLETED,
            Passage.project_id == project.id,
        )
    )
    total = session.scalar(
        select(func.count(Passage.id)).where(
            Passage.project_id == project.id, Passage.claim_count > 0
        )
    )
    return ReviewerProgress(completed or 0, total or 0)


def document_passage_count(session: Session, document_id: int) -> int:
    return (
        session.scalar(select(func.count(Passage.id)).where(Passage.document_id == document_id))
        or 0
    )
