"""Correcting where a passage's claims begin and end: split, join, trim or leave out.

A curator writes the passage's claims one per line. Each line must be a stretch of the
passage's own words, in the passage's order (spaces and line ends may differ), so an edit can
move claim boundaries but never change what the article says. Claims whose span is unchanged
keep everything recorded on them (labels, notes, settled label, outside suggestions, history);
the others go, with their labels, once the curator has seen what goes. New claims get the
tool's suggestion, as at import.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from annotator.db import begin_write, is_deadlock, retrying_deadlocks, table_of
from annotator.models import (
    Annotation,
    Change,
    ChangeKind,
    Claim,
    FinalLabel,
    Passage,
    Review,
    ReviewStatus,
    User,
)
from annotator.services import annotating, structure
from annotator.services.outlets import load_registry
from annotator.services.storing import claim_row
from annotator.text.pipeline import ClaimDraft
from annotator.text.reading import Reading, read
from annotator.text.segment import Span
from annotator.text.suggest import suggest_claim
from annotator.wording import counted

MAX_CLAIMS = 200
MAX_LINE_CHARACTERS = 100_000


class ClaimEditError(ValueError):
    """An edit that cannot be applied; nothing was changed."""


class StaleClaims(ClaimEditError):
    """The claims changed since the editor read them."""


class ConfirmationNeeded(ClaimEditError):
    """The edit would remove labels: the curator must confirm having seen ``plan``."""

    def __init__(self, plan: ClaimEditPlan) -> None:
        super().__init__(f"This {plan.summary()}. Tick the box to confirm.")
        self.plan = plan


@dataclass(frozen=True)
class ClaimEditPlan:
    """What an edit does: claims kept as they are, removed and new, and the work that goes
    with the removed ones."""

    kept: int
    removed: int
    added: int
    labels_lost: int
    reviewers: tuple[str, ...]
    settled_lost: int

    @property
    def changes_anything(self) -> bool:
        return bool(self.removed or self.added)

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.labels_lost or self.settled_lost)

    def summary(self) -> str:
        text = (
            f"edit keeps {counted(self.kept, 'claim')}, removes {self.removed} "
            f"and adds {self.added}"
        )
        if self.labels_lost:
            text += f"; it deletes {counted(self.labels_lost, 'label')}"
            text += f" (by {', '.join(self.reviewers)})"
        if self.settled_lost:
            text += f" and {counted(self.settled_lost, 'settled label')}"
        return text


def claim_lines(passage: Passage) -> str:
    """The passage's claims as the editor shows them: one per line, spaces as one."""
    return "\n".join(" ".join(claim.text.split()) for claim in passage.claims)


def claims_version(passage: Passage) -> str:
    """Identifies the passage's current claim spans: an edit made on another is stale."""
    spans = ",".join(f"{claim.start}-{claim.end}" for claim in passage.claims)
    return hashlib.sha256(spans.encode()).hexdigest()[:16]


def spans_from_lines(text: str, lines: str) -> list[Span]:
    """The spans of ``text`` that the non-blank ``lines`` name, in order; a line must match
    whole words of the text after the line before it, with any run of spaces or line ends
    standing for any other."""
    if len(lines) > MAX_LINE_CHARACTERS:
        raise ClaimEditError("The claims are longer than any passage; nothing was changed.")
    spans: list[Span] = []
    position = 0
    for number, line in enumerate(lines.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        found = _words_pattern(words).search(text, position)
        if found is None:
            raise ClaimEditError(
                f"Line {number} ({_short(line)}) is not the passage's text after the claims "
                "above it. Claims can be split, joined, shortened or left out, but their words "
                "must be the passage's own, in its order."
            )
        spans.append(found.span())
        position = found.end()
    if not spans:
        raise ClaimEditError("A passage keeps at least one claim.")
    if len(spans) > MAX_CLAIMS:
        raise ClaimEditError(f"A passage has at most {MAX_CLAIMS} claims.")
    return spans


def check_spans(text: str, spans: Sequence[Span]) -> None:
    """Spans given by offsets (the API): inside the text, in order, not overlapping, and
    each starting and ending on a character that is not a space."""
    if not spans:
        raise ClaimEditError("A passage keeps at least one claim.")
    if len(spans) > MAX_CLAIMS:
        raise ClaimEditError(f"A passage has at most {MAX_CLAIMS} claims.")
    end_before = 0
    for number, (start, end) in enumerate(spans, start=1):
        if not end_before <= start < end <= len(text):
            raise ClaimEditError(
                f"Claim {number} ({start}-{end}) is not a stretch of the passage's "
                f"{len(text)} characters after the claim before it."
            )
        if text[start].isspace() or text[end - 1].isspace():
            raise ClaimEditError(f"Claim {number} ({start}-{end}) starts or ends with a space.")
        end_before = end


def _words_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """The words with any whitespace between them, not starting or ending inside a word."""
    body = r"\s+".join(re.escape(word) for word in words)
    before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    after = r"(?!\w)" if re.search(r"\w\Z", words[-1]) else ""
    return re.compile(before + body + after)


def _short(line: str, limit: int = 60) -> str:
    line = " ".join(line.split())
    return f'"{line}"' if len(line) <= limit else f'"{line[: limit - 1]}…"'


def plan_edit(session: Session, passage: Passage, spans: Sequence[Span]) -> ClaimEditPlan:
    """What replacing the passage's claims by ``spans`` would do (nothing is changed)."""
    wanted = set(spans)
    removed = [claim.id for claim in passage.claims if (claim.start, claim.end) not in wanted]
    kept = len(passage.claims) - len(removed)
    lost = session.execute(
        select(User.username, func.count(Annotation.id))
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.project_id == passage.project_id, Annotation.claim_id.in_(removed))
        .group_by(User.username)
        .order_by(User.username)
    ).all()
    settled = session.scalar(
        select(func.count(FinalLabel.id)).where(
            FinalLabel.project_id == passage.project_id, FinalLabel.claim_id.in_(removed)
        )
    )
    return ClaimEditPlan(
        kept=kept,
        removed=len(removed),
        added=len(spans) - kept,
        labels_lost=sum(count for _, count in lost),
        reviewers=tuple(name for name, _ in lost),
        settled_lost=settled or 0,
    )


def edit_claims(
    session: Session,
    user: User,
    passage_id: int,
    spans: Sequence[Span],
    version: str,
    *,
    confirmed: bool = False,
) -> ClaimEditPlan:
    """Replace the passage's claims by ``spans`` of its text (``spans_from_lines``, or checked
    by ``check_spans``), in one transaction, if its claims are still those of ``version``.
    Removing labels needs ``confirmed``. Reviewers whose labels no longer cover the passage
    have it back in their queue; the plan is returned."""

    def edit() -> ClaimEditPlan:
        begin_write(session)
        return _edit(session, user, passage_id, spans, version, confirmed)

    try:
        return retrying_deadlocks(session, edit)
    except ClaimEditError:
        session.rollback()
        raise
    except OperationalError as exc:
        if not is_deadlock(exc):
            raise
        raise ClaimEditError(
            "Reviewers were saving this passage at the same moment; nothing was changed. "
            "Save the claims again."
        ) from exc


def _edit(
    session: Session,
    user: User,
    passage_id: int,
    spans: Sequence[Span],
    version: str,
    confirmed: bool,
) -> ClaimEditPlan:
    passage = _locked_passage(session, passage_id)
    if passage is None:
        raise ClaimEditError("This passage no longer exists; its document was deleted.")
    session.refresh(passage, ["claims"])
    if not passage.claims:
        raise ClaimEditError("This passage has no claims to edit: the tool found none in it.")
    if version != claims_version(passage):
        raise StaleClaims(
            "The claims of this passage were changed since this page was loaded; nothing was "
            "changed. Their current form is shown."
        )
    check_spans(passage.text, spans)
    plan = plan_edit(session, passage, spans)
    if not plan.changes_anything:
        session.rollback()
        return plan
    if plan.needs_confirmation and not confirmed:
        raise ConfirmationNeeded(plan)
    before = claim_lines(passage)
    _replace_claims(session, passage, spans)
    session.add(
        Change(
            user_id=user.id,
            passage_id=passage.id,
            batch=uuid.uuid4().hex,
            kind=ChangeKind.CLAIMS,
            old_value=before,
            new_value=claim_lines(passage),
        )
    )
    _sync_reviews(session, passage)
    session.commit()
    structure.forget_structures()
    return plan


def _locked_passage(session: Session, passage_id: int) -> Passage | None:
    """Lock what an edit changes in the order a reviewer's save locks it: labels, claims,
    reviews, then the passage (without its key, which reviewers' new rows refer to). An edit
    and a save then wait for each other rather than deadlock (PostgreSQL; on SQLite the
    writer holds the whole database)."""
    claims = select(Claim.id).where(Claim.passage_id == passage_id)
    session.execute(select(Annotation.id).where(Annotation.claim_id.in_(claims)).with_for_update())
    session.execute(claims.order_by(Claim.id).with_for_update())
    session.execute(
        select(Review.id)
        .where(Review.passage_id == passage_id)
        .order_by(Review.id)
        .with_for_update()
    )
    passage = select(Passage).where(Passage.id == passage_id)
    return session.scalar(passage.with_for_update(key_share=True))  # FOR NO KEY UPDATE


def _replace_claims(session: Session, passage: Passage, spans: Sequence[Span]) -> None:
    """Delete the claims not among ``spans`` (the database cascades to their labels), number
    the kept ones in their new order and insert the new ones with the tool's suggestion."""
    by_span = {(claim.start, claim.end): claim for claim in passage.claims}
    wanted = set(spans)
    gone = [claim.id for span, claim in by_span.items() if span not in wanted]
    if gone:
        session.execute(delete(Claim).where(Claim.id.in_(gone)))
    kept = [(index, by_span[span]) for index, span in enumerate(spans) if span in by_span]
    # Out of the way first: (passage, index) is unique at every row, not at the statement's end.
    session.execute(
        update(Claim).where(Claim.passage_id == passage.id).values(index=-1 - Claim.index)
    )
    for index, claim in kept:
        session.execute(update(Claim).where(Claim.id == claim.id).values(index=index))
    reading = read(passage.text, load_registry(session)[0])
    new_rows = [
        claim_row(passage.id, index, _suggested(reading, span, passage.index == 0), passage.text)
        for index, span in enumerate(spans)
        if span not in by_span
    ]
    if new_rows:
        session.execute(insert(table_of(Claim)), new_rows)
    session.execute(update(Passage).where(Passage.id == passage.id).values(claim_count=len(spans)))
    session.expire(passage)
    session.refresh(passage, ["claims"])


def _suggested(reading: Reading, span: Span, headline: bool) -> ClaimDraft:
    suggestion = suggest_claim(reading, span, headline=headline)
    return ClaimDraft(span[0], span[1], suggestion.label, suggestion.reason)


def _sync_reviews(session: Session, passage: Passage) -> None:
    """Each reviewer who was working on the passage has completed it exactly when their labels
    cover its claims now."""
    reviewers = session.scalars(
        select(User)
        .join(Review, Review.user_id == User.id)
        .where(
            Review.passage_id == passage.id,
            Review.status.in_([ReviewStatus.COMPLETED, ReviewStatus.RESERVED]),
        )
        .order_by(User.id)
    ).all()
    for reviewer in reviewers:
        annotating.sync_completion(session, reviewer, passage)
