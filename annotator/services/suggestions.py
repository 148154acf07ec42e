"""Suggestions from outside sources (a model posting through the API): one label, score and
reason per claim and source, shown to reviewers beside the built-in suggestion."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Exists, bindparam, exists, select
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import Claim, Label, Passage, Project, Suggestion, User, utcnow
from annotator.services.annotating import claim_ids_of
from annotator.services.projects import can_curate
from annotator.services.records import MAX_ID, is_one_of

MAX_SOURCE_LENGTH = 100
MAX_REASON_LENGTH = 2000
MAX_PER_REQUEST = 5000


class SuggestionError(ValueError):
    """Bad input; nothing was stored. ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SuggestionInput:
    claim_id: int
    label: str
    score: float | None
    reason: str


def parse_suggestions(payload: Any) -> tuple[str, list[SuggestionInput]]:
    """``{"source": str, "suggestions": [{"claim_id", "label", "score"?, "reason"?}]}``."""
    if not isinstance(payload, dict):
        raise SuggestionError("Expected a JSON object.")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_LENGTH:
        raise SuggestionError(f'"source" must be a name of 1 to {MAX_SOURCE_LENGTH} characters.')
    items = payload.get("suggestions")
    if not isinstance(items, list) or not items or len(items) > MAX_PER_REQUEST:
        raise SuggestionError(f'"suggestions" must be a list of 1 to {MAX_PER_REQUEST} items.')
    return source.strip(), [_item(item, n) for n, item in enumerate(items)]


def _item(item: Any, n: int) -> SuggestionInput:
    where = f"suggestions[{n}]"
    if not isinstance(item, dict):
        raise SuggestionError(f"{where} must be an object.")
    claim_id, label = item.get("claim_id"), item.get("label")
    if not isinstance(claim_id, int) or isinstance(claim_id, bool) or not 0 < claim_id <= MAX_ID:
        raise SuggestionError(f'{where}: "claim_id" must be a claim id (a positive integer).')
    if not is_one_of(label, set(Label)):
        raise SuggestionError(f'{where}: "label" must be reported, quoted or editorial.')
    score = item.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        raise SuggestionError(f'{where}: "score" must be a number or null.')
    reason = item.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        raise SuggestionError(f'{where}: "reason" must be text of at most {MAX_REASON_LENGTH}.')
    return SuggestionInput(claim_id, label, float(score) if score is not None else None, reason)


def post_suggestions(
    session: Session, user: User, source: str, items: Sequence[SuggestionInput]
) -> int:
    """Store (or replace) the source's suggestions; every claim must exist and belong to a
    project the user curates. Returns how many were stored."""
    begin_write(session)
    try:
        claims = _claims(session, user, {item.claim_id for item in items})
        stored = {
            s.claim_id: s
            for s in session.scalars(
                select(Suggestion).where(
                    Suggestion.source == source, Suggestion.claim_id.in_(list(claims))
                )
            )
        }
        for item in items:
            _upsert(session, stored, user, source, item)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(items)


def _claims(session: Session, user: User, claim_ids: set[int]) -> dict[int, Claim]:
    rows = session.execute(
        select(Claim, Project)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Project, Project.id == Passage.project_id)
        .where(Claim.id.in_(sorted(claim_ids)))
    ).all()
    found = {claim.id: claim for claim, _ in rows}
    missing = sorted(claim_ids - set(found))
    if missing:
        raise SuggestionError(f"Unknown claim id(s): {missing[:20]}.", 404)
    for project in {project.id: project for _, project in rows}.values():
        if not can_curate(session, user, project):
            raise SuggestionError(
                f"Posting suggestions needs the curator role in project {project.name}.", 403
            )
    return found


def _upsert(
    session: Session,
    stored: dict[int, Suggestion],
    user: User,
    source: str,
    item: SuggestionInput,
) -> None:
    suggestion = stored.get(item.claim_id)
    if suggestion is None:
        suggestion = Suggestion(claim_id=item.claim_id, source=source)
        session.add(suggestion)
        stored[item.claim_id] = suggestion
    suggestion.label = item.label
    suggestion.score = item.score
    suggestion.reason = item.reason
    suggestion.user_id = user.id
    suggestion.updated_at = utcnow()


_SUGGESTIONS = select(Suggestion).order_by(Suggestion.claim_id, Suggestion.source)
_FOR_CLAIMS = _SUGGESTIONS.where(Suggestion.claim_id.in_(bindparam("claim_ids", expanding=True)))
# Built once, for the annotation page. Through the passage's claims rather than a list of
# their ids, whose IN list SQLAlchemy renders anew on every run.
_FOR_PASSAGE = _SUGGESTIONS.where(Suggestion.claim_id.in_(claim_ids_of(bindparam("passage_id"))))


def on_passage(passage_id: Any) -> Exists:
    """Whether the passage (``passage_id``: a parameter, or the column of a passage in an
    enclosing query) has outside suggestions: the annotation page looks them up only then."""
    return exists().where(Suggestion.claim_id.in_(claim_ids_of(passage_id)))


def for_passage(session: Session, passage_id: int) -> dict[int, list[Suggestion]]:
    """Outside suggestions on the passage's claims, by claim id, sources in name order."""
    return _by_claim(session.scalars(_FOR_PASSAGE, {"passage_id": passage_id}))


def for_claims(session: Session, claim_ids: Sequence[int]) -> dict[int, list[Suggestion]]:
    """Outside suggestions by claim id, sources in name order."""
    if not claim_ids:
        return {}
    return _by_claim(session.scalars(_FOR_CLAIMS, {"claim_ids": list(claim_ids)}))


def _by_claim(suggestions: Iterable[Suggestion]) -> dict[int, list[Suggestion]]:
    found: dict[int, list[Suggestion]] = {}
    for suggestion in suggestions:
        found.setdefault(suggestion.claim_id, []).append(suggestion)
    return found


def suggestion_dict(suggestion: Suggestion) -> Mapping[str, Any]:
    return {
        "source": suggestion.source,
        "label": suggestion.label,
        "score": suggestion.score,
        "reason": suggestion.reason,
        "updated_at": suggestion.updated_at.isoformat(),
    }
