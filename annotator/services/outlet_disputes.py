"""Passages whose cited outlet a reviewer disputes, and the curator's decision on them.

A reviewer's outlet correction is that reviewer's verdict on one passage. The reports, the
agreement figures by outlet, the dashboard and the exports' ``detected_outlet`` count a
passage under its own outlet (``Passage.outlet_id``): the detected one, until a curator sets
it here. A passage is in dispute while a reviewer's verdict differs from its outlet and was
given after the curator's last decision on it; the decision, a new outlet or the same one
confirmed, is kept in the passage's history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, literal, select, update
from sqlalchemy.orm import Session, aliased

from annotator.db import begin_write
from annotator.models import (
    Change,
    ChangeKind,
    Document,
    Outlet,
    OutletCorrection,
    Passage,
    Project,
    User,
)
from annotator.services import structure
from annotator.services.records import id_from_text

AUTHOR_OWN_WORDS = "none"  # the choice of "no outlet", as on the annotation page
AUTHOR_OWN_WORDS_NAME = "author's own words"
PER_PAGE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OutletDecisionError(ValueError):
    """A decision that cannot be applied; nothing was changed."""


class StaleOutlet(OutletDecisionError):
    """The passage's outlet changed since the curator's page was loaded."""


@dataclass(frozen=True)
class Verdict:
    reviewer: str
    outlet: str  # a name, or AUTHOR_OWN_WORDS_NAME


@dataclass(frozen=True)
class OutletDispute:
    passage_id: int
    document_title: str
    passage_index: int
    text: str
    role: str
    outlet_id: int | None
    outlet: str  # a name, or AUTHOR_OWN_WORDS_NAME
    verdicts: tuple[Verdict, ...]

    @property
    def current_choice(self) -> str:
        return choice_of(self.outlet_id)


@dataclass(frozen=True)
class DisputePage:
    items: list[OutletDispute]
    total: int


def choice_of(outlet_id: int | None) -> str:
    """The form value naming an outlet (or the author's own words)."""
    return AUTHOR_OWN_WORDS if outlet_id is None else str(outlet_id)


def _name(outlet: str | None) -> str:
    return AUTHOR_OWN_WORDS_NAME if outlet is None else outlet


_DECIDED = aliased(Change)


def _disputed(project: Project, include_decided: bool) -> Select[int]:
    """Ids of the project's passages with a reviewer's verdict other than their outlet
    (given after the curator's last decision, unless ``include_decided``)."""
    query = (
        select(OutletCorrection.passage_id)
        .join(Passage, Passage.id == OutletCorrection.passage_id)
        .where(
            Passage.project_id == project.id,
            OutletCorrection.outlet_id.is_distinct_from(Passage.outlet_id),
        )
        .group_by(OutletCorrection.passage_id)
    )
    if include_decided:
        return query
    last_decision = (
        select(func.max(_DECIDED.created_at))
        .where(
            _DECIDED.passage_id == OutletCorrection.passage_id,
            _DECIDED.kind == ChangeKind.PASSAGE_OUTLET,
        )
        .correlate(OutletCorrection)
        .scalar_subquery()
    )
    never = literal(_EPOCH, Change.created_at.type)
    return query.having(func.max(OutletCorrection.updated_at) > func.coalesce(last_decision, never))


def outlet_disputes(
    session: Session, project: Project, page: int, *, include_decided: bool = False
) -> DisputePage:
    """One page of the disputed passages, in document order, with every reviewer's verdict."""
    disputed = _disputed(project, include_decided).subquery()
    total = session.scalar(select(func.count()).select_from(disputed)) or 0
    rows = session.execute(
        select(Passage, Document.title, Outlet.name)
        .join(Document, Document.id == Passage.document_id)
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(Passage.id.in_(select(disputed.c.passage_id)))
        .order_by(Passage.document_id, Passage.index)
        .limit(PER_PAGE)
        .offset(max(page - 1, 0) * PER_PAGE)
    ).all()
    verdicts = _verdicts(session, [passage.id for passage, _, _ in rows])
    items = [
        OutletDispute(
            passage.id,
            title,
            passage.index,
            passage.text,
            passage.role,
            passage.outlet_id,
            _name(outlet),
            verdicts.get(passage.id, ()),
        )
        for passage, title, outlet in rows
    ]
    return DisputePage(items, total)


def _verdicts(session: Session, passage_ids: list[int]) -> dict[int, tuple[Verdict, ...]]:
    found: dict[int, list[Verdict]] = {}
    for passage_id, reviewer, outlet in session.execute(
        select(OutletCorrection.passage_id, User.username, Outlet.name)
        .join(User, User.id == OutletCorrection.user_id)
        .outerjoin(Outlet, Outlet.id == OutletCorrection.outlet_id)
        .where(OutletCorrection.passage_id.in_(passage_ids))
        .order_by(User.username)
    ):
        found.setdefault(passage_id, []).append(Verdict(reviewer, _name(outlet)))
    return {passage_id: tuple(items) for passage_id, items in found.items()}


def set_passage_outlet(
    session: Session, user: User, project: Project, passage_id: int, choice: str, seen: str
) -> Passage:
    """Set the passage's outlet to ``choice`` (an outlet id, or ``AUTHOR_OWN_WORDS``) if it is
    still the ``seen`` one; the same outlet again confirms it. A new outlet drops the cue,
    whose words named the old one. Recorded in the passage's history; undo leaves it alone."""
    begin_write(session)
    try:
        return _decide(session, user, project, passage_id, choice, seen)
    except OutletDecisionError:
        session.rollback()
        raise


def _decide(
    session: Session, user: User, project: Project, passage_id: int, choice: str, seen: str
) -> Passage:
    passage = session.scalar(select(Passage).where(Passage.id == passage_id).with_for_update())
    if passage is None or passage.project_id != project.id:
        raise LookupError(passage_id)
    new_outlet = _outlet(session, choice)
    if choice_of(passage.outlet_id) != seen:
        raise StaleOutlet(
            "The outlet of this passage was changed since this page was loaded; nothing was "
            "changed. Its current outlet is shown."
        )
    new_outlet_id = new_outlet.id if new_outlet else None
    old_name = _name(passage.outlet.name if passage.outlet else None)
    if new_outlet_id == passage.outlet_id:
        new_name = f"{old_name} (confirmed)"
    else:
        new_name = _name(new_outlet.name if new_outlet else None)
        session.execute(
            update(Passage)
            .where(Passage.id == passage.id)
            .values(outlet_id=new_outlet_id, cue=None, cue_start=None, cue_end=None)
        )
    session.add(
        Change(
            user_id=user.id,
            passage_id=passage.id,
            batch=uuid.uuid4().hex,
            kind=ChangeKind.PASSAGE_OUTLET,
            old_value=old_name,
            new_value=new_name,
        )
    )
    session.commit()
    structure.forget_structures()
    session.refresh(passage)
    return passage


def _outlet(session: Session, choice: str) -> Outlet | None:
    if choice == AUTHOR_OWN_WORDS:
        return None
    outlet_id = id_from_text(choice)
    outlet = session.get(Outlet, outlet_id) if outlet_id is not None else None
    if outlet is None:
        raise OutletDecisionError(f"Unknown outlet {choice!r}; choose one from the list.")
    return outlet
