"""Progress figures for reviewers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import Passage, Review, ReviewStatus, User


@dataclass(frozen=True)
class ReviewerProgress:
    completed: int
    total: int


def reviewer_progress(session: Session, user: User) -> ReviewerProgress:
    """Passages the user completed out of all passages that have claims."""
    completed = session.scalar(
        select(func.count(Review.id)).where(
            Review.user_id == user.id, Review.status == ReviewStatus.COMPLETED
        )
    )
    total = session.scalar(select(func.count(Passage.id)).where(Passage.claim_count > 0))
    return ReviewerProgress(completed or 0, total or 0)
