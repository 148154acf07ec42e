"""What the concurrency tests share: the contested study and the check of its counters."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import Annotation, Claim, Passage, Project, Review, ReviewStatus
from annotator.services import accounts
from tests.conftest import PASSWORD
from tests.helpers import import_fixture

CONTESTED = "Union leaders"


def open_study(session: Session, reviewers: int) -> Project:
    """The harbour article in a project "study" open to every reviewer, and reviewers
    rev0, rev1... (not committed)."""
    import_fixture(session, "harbour.txt", project="study")
    project = session.scalar(select(Project).where(Project.name == "study"))
    assert project is not None
    project.open_to_all = True
    for index in range(reviewers):
        accounts.create_user(session, f"rev{index}", PASSWORD)
    return project


def check_completed_reviews(session: Session, passage: Passage) -> None:
    """The passage's counter agrees with its completed reviews, and each of those has a label
    on every claim the passage has now."""
    claim_ids = set(session.scalars(select(Claim.id).where(Claim.passage_id == passage.id)))
    assert passage.claim_count == len(claim_ids)
    completed = session.scalars(
        select(Review.user_id).where(
            Review.passage_id == passage.id, Review.status == ReviewStatus.COMPLETED
        )
    ).all()
    assert passage.completed_count == len(completed)
    for user_id in completed:
        labelled = session.scalar(
            select(func.count(Annotation.id)).where(
                Annotation.user_id == user_id, Annotation.claim_id.in_(claim_ids)
            )
        )
        assert labelled == len(claim_ids), "a completed review covers every claim"
