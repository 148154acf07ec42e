"""Passages whose cited outlet a reviewer disputes.

A reviewer's outlet correction is that reviewer's verdict on one passage. The reports, the
agreement figures by outlet, the dashboard and the exports' ``detected_outlet`` count a
passage under its own outlet (``Passage.outlet_id``): the detected one, until a curator sets
it here. A passage is in dispute while a reviewer's verdict differs from its outlet and was
given after the curator's last decision on it (``passage_decisions.set_passage_outlet``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session, aliased

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
from annotator.services.annotating import AUTHOR_OWN_WORDS  # the choice of "no outlet"

AUTHOR_OWN_WORDS_NAME = "author's own words"
PER_PAGE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
