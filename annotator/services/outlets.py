"""The outlet registry in the database, and its bridge to the text pipeline."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from annotator.models import Outlet, OutletAlias
from annotator.text.outlets import DEFAULT_OUTLETS, OutletRegistry


def seed_default_outlets(session: Session) -> int:
    """Fill an empty registry with common outlets; returns how many were added."""
    if session.scalar(select(func.count(Outlet.id))):
        return 0
    for name, aliases, homepage in DEFAULT_OUTLETS:
        outlet = Outlet(name=name, homepage=homepage)
        outlet.aliases = [OutletAlias(alias=a) for a in dict.fromkeys(aliases) if a != name]
        session.add(outlet)
    session.commit()
    return len(DEFAULT_OUTLETS)


def load_registry(session: Session) -> tuple[OutletRegistry, dict[str, int]]:
    """The registry the pipeline matches against, and canonical name -> outlet id."""
    outlets = session.scalars(select(Outlet).options(selectinload(Outlet.aliases))).all()
    registry = OutletRegistry((o.name, [a.alias for a in o.aliases]) for o in outlets)
    return registry, {o.name: o.id for o in outlets}


def list_outlets(session: Session) -> list[Outlet]:
    return list(session.scalars(select(Outlet).order_by(func.lower(Outlet.name))))
