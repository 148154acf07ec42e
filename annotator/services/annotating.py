"""Saving a reviewer's tags and outlet verdict for one passage, and finding the next passage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Label,
    Outlet,
    OutletCorrection,
    Passage,
    Review,
    ReviewStatus,
    User,
    utcnow,
)

AUTHOR_OWN_WORDS = "none"


class SaveError(ValueError):
    """The submitted tags do not fit the passage; nothing was saved."""


class StaleSave(SaveError):
    """The reviewer saved over a version they had not seen; ``current`` shows what is stored."""

    def __init__(self, current: dict[int, str]) -> None:
        super().__init__(
            "These tags were changed elsewhere (another tab or device) since this page was "
            "loaded. Nothing was saved; the current values are shown."
        )
        self.current = current


@dataclass(frozen=True)
class TagSubmission:
    """What the annotation form sends: labels per claim id, the versions the page was built on,
    and the outlet choice ("" keeps the detected outlet, "none" = author's own words, or an id)."""

    labels: Mapping[int, str]
    versions: Mapping[int, int]
    outlet_choice: str = ""


def next_passage(session: Session, user: User, after_id: int = 0) -> Passage | None:
    """The first passage (import order) with claims that the user has not completed,
    preferring one after ``after_id`` so "Next" moves forward."""
    done = exists().where(
        Review.passage_id == Passage.id,
        Review.user_id == user.id,
        Review.status != ReviewStatus.RESERVED,
    )
    query = select(Passage).where(Passage.claim_count > 0, ~done).order_by(Passage.id).limit(1)
    if after_id:
        later = session.scalar(query.where(Passage.id > after_id))
        if later is not None:
            return later
    return session.scalar(query)


def annotations_of(
    session: Session, user: User, passage: Passage, *, for_update: bool = False
) -> dict[int, Annotation]:
    """The user's annotations on the passage's claims, by claim id (optionally row-locked)."""
    claim_ids = [claim.id for claim in passage.claims]
    query = select(Annotation).where(
        Annotation.user_id == user.id, Annotation.claim_id.in_(claim_ids)
    )
    if for_update:
        query = query.with_for_update()
    return {a.claim_id: a for a in session.scalars(query)}


def correction_of(session: Session, user: User, passage: Passage) -> OutletCorrection | None:
    return session.scalar(
        select(OutletCorrection).where(
            OutletCorrection.user_id == user.id, OutletCorrection.passage_id == passage.id
        )
    )


def save_passage(
    session: Session, user: User, passage: Passage, submission: TagSubmission
) -> dict[int, Annotation]:
    """Store the labels and outlet verdict atomically; refuses unknown claims, labels and
    stale versions without changing anything."""
    claim_ids = {claim.id for claim in passage.claims}
    _validate(submission, claim_ids)
    stored = annotations_of(session, user, passage, for_update=True)
    stale = {
        claim_id: annotation.label
        for claim_id, annotation in stored.items()
        if claim_id in submission.labels
        and submission.versions.get(claim_id, 0) != annotation.version
    }
    if stale or any(submission.versions.get(c, 0) for c in submission.labels if c not in stored):
        raise StaleSave({c: a.label for c, a in stored.items()})
    now = utcnow()
    for claim_id, label in submission.labels.items():
        annotation = stored.get(claim_id)
        if annotation is None:
            annotation = Annotation(claim_id=claim_id, user_id=user.id, label=label, version=1)
            annotation.created_at = annotation.updated_at = now
            session.add(annotation)
            stored[claim_id] = annotation
        elif annotation.label != label:
            annotation.label = label
            annotation.version += 1
            annotation.updated_at = now
    _apply_outlet_choice(session, user, passage, submission.outlet_choice)
    if len(stored) == len(passage.claims):
        _mark_completed(session, user, passage)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent first save of the same claim won the race
        session.rollback()
        raise StaleSave({c: a.label for c, a in annotations_of(session, user, passage).items()}) from exc
    return stored


def _mark_completed(session: Session, user: User, passage: Passage) -> None:
    review = session.scalar(
        select(Review).where(Review.passage_id == passage.id, Review.user_id == user.id)
    )
    if review is None:
        session.add(Review(passage_id=passage.id, user_id=user.id, status=ReviewStatus.COMPLETED))
    elif review.status != ReviewStatus.COMPLETED:
        review.status = ReviewStatus.COMPLETED
        review.updated_at = utcnow()


def neighbours(session: Session, passage: Passage) -> tuple[Passage | None, Passage | None]:
    """The passages just before and after this one in its document, shown as context."""
    siblings = session.scalars(
        select(Passage)
        .where(
            Passage.document_id == passage.document_id,
            Passage.index.in_((passage.index - 1, passage.index + 1)),
        )
        .order_by(Passage.index)
    ).all()
    before = next((p for p in siblings if p.index == passage.index - 1), None)
    after = next((p for p in siblings if p.index == passage.index + 1), None)
    return before, after


def _validate(submission: TagSubmission, claim_ids: set[int]) -> None:
    unknown = set(submission.labels) - claim_ids
    if unknown:
        raise SaveError(f"Claim(s) {sorted(unknown)} do not belong to this passage.")
    bad = {label for label in submission.labels.values() if label not in set(Label)}
    if bad:
        raise SaveError(f"Unknown label(s) {sorted(bad)}; use reported, quoted or editorial.")


def _apply_outlet_choice(session: Session, user: User, passage: Passage, choice: str) -> None:
    if choice == "":
        return
    outlet_id = _parse_outlet_choice(session, choice)
    correction = correction_of(session, user, passage)
    if correction is None:
        if outlet_id == passage.outlet_id:
            return
        session.add(OutletCorrection(passage_id=passage.id, user_id=user.id, outlet_id=outlet_id))
    elif correction.outlet_id != outlet_id:
        correction.outlet_id = outlet_id
        correction.version += 1
        correction.updated_at = utcnow()


def _parse_outlet_choice(session: Session, choice: str) -> int | None:
    if choice == AUTHOR_OWN_WORDS:
        return None
    if not choice.isdigit() or session.get(Outlet, int(choice)) is None:
        raise SaveError(f"Unknown outlet {choice!r}.")
    return int(choice)
