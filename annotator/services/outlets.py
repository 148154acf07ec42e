"""The outlet registry in the database, and its bridge to the text pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import ScalarSelect, String, cast, func, select, update
from sqlalchemy.orm import Session, selectinload

from annotator.db import VersionedCache, table_of
from annotator.models import Change, ChangeKind, Outlet, OutletAlias, OutletCorrection, Passage
from annotator.text.outlets import DEFAULT_OUTLETS, DOMAIN, OutletRegistry

MAX_NAME_LENGTH = 200


class OutletError(ValueError):
    """A user-facing problem with outlet data (duplicate name or alias, bad merge...)."""


@dataclass(frozen=True)
class OutletRow:
    """An outlet with the number of passages citing it, for the admin list."""

    outlet: Outlet
    passages: int


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


class OutletChoice(NamedTuple):
    id: int
    name: str


def load_registry(session: Session) -> tuple[OutletRegistry, dict[str, int]]:
    """The registry the pipeline matches against, and canonical name -> outlet id."""
    outlets = session.scalars(select(Outlet).options(selectinload(Outlet.aliases))).all()
    registry = OutletRegistry((o.name, [a.alias for a in o.aliases], o.homepage) for o in outlets)
    return registry, {o.name: o.id for o in outlets}


_OUTLETS = table_of(Outlet)
_OUTLET_CHOICES = (  # built once: every annotation page shows the menu
    select(_OUTLETS.c.id, _OUTLETS.c.name).order_by(func.lower(_OUTLETS.c.name))
)


def list_outlets(session: Session) -> list[OutletChoice]:
    """Every outlet's id and name, by name: the choices of an outlet menu."""
    return [OutletChoice(outlet_id, name) for outlet_id, name in session.execute(_OUTLET_CHOICES)]


def menu_version() -> ScalarSelect[str]:
    """What changes whenever the outlet menu does: how many outlets there are, the newest id
    and the sum of their versions (a rename raises one). One text value, for a column of the
    annotation page's query."""
    count, newest, renames = (
        cast(func.count(_OUTLETS.c.id), String),
        cast(func.coalesce(func.max(_OUTLETS.c.id), 0), String),
        cast(func.coalesce(func.sum(_OUTLETS.c.version), 0), String),
    )
    return select(count + ":" + newest + ":" + renames).scalar_subquery()


# Every annotation page shows the menu, and reading it was 5% of a "Save and next"'s CPU.
# Entries also expire, in case an outlet deleted and another created reuse the id and the
# version sum (SQLite may reuse the newest id).
_MENUS: VersionedCache[None, tuple[OutletChoice, ...]] = VersionedCache(ttl_s=60.0)


def outlet_menu(session: Session, version: str) -> tuple[OutletChoice, ...]:
    """``list_outlets``, cached per process under the ``menu_version`` that the caller's
    query brought."""
    return _MENUS.get(session, None, version, lambda: tuple(list_outlets(session)))


def outlet_rows(session: Session) -> list[OutletRow]:
    """Every outlet (aliases loaded) with how many passages cite it, by name."""
    cited = (
        select(Passage.outlet_id, func.count(Passage.id).label("n"))
        .group_by(Passage.outlet_id)
        .subquery()
    )
    rows = session.execute(
        select(Outlet, func.coalesce(cited.c.n, 0))
        .outerjoin(cited, cited.c.outlet_id == Outlet.id)
        .options(selectinload(Outlet.aliases))
        .order_by(func.lower(Outlet.name))
    )
    return [OutletRow(outlet, passages) for outlet, passages in rows]


def passage_count(session: Session, outlet: Outlet) -> int:
    """How many passages cite the outlet."""
    query = select(func.count(Passage.id)).where(Passage.outlet_id == outlet.id)
    return session.scalar(query) or 0


def create_outlet(session: Session, name: str, homepage: str = "", notes: str = "") -> Outlet:
    """Add an outlet; its name must not already name or alias another outlet."""
    outlet = Outlet()
    _apply_fields(session, outlet, name, homepage, notes)
    session.add(outlet)
    session.commit()
    return outlet


def update_outlet(session: Session, outlet: Outlet, name: str, homepage: str, notes: str) -> None:
    """Change name, homepage and notes. Renaming to one of its own aliases swaps the two."""
    _apply_fields(session, outlet, name, homepage, notes)
    session.commit()


def _apply_fields(session: Session, outlet: Outlet, name: str, homepage: str, notes: str) -> None:
    """Validate everything before touching the outlet, so bad input changes nothing."""
    name = _clean_name(name, "An outlet name")
    domain = normalise_homepage(homepage)
    own_alias = next((a for a in outlet.aliases if a.alias == name), None)
    if name != outlet.name and own_alias is None:
        _refuse_taken(session, name, outlet)
    if own_alias is not None:
        own_alias.alias = outlet.name
    if outlet.id is not None and name != outlet.name:
        outlet.version += 1
    outlet.name = name
    outlet.homepage = domain
    outlet.notes = notes.replace("\r\n", "\n").strip()


def normalise_homepage(value: str) -> str | None:
    """A bare domain ("https://www.example.com/news" -> "example.com"), or None when blank."""
    value = value.strip()
    if not value:
        return None
    try:
        host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    except ValueError:
        host = ""
    host = host.removeprefix("www.")
    if not DOMAIN.fullmatch(host):
        raise OutletError(f"{value!r} is not a domain such as example.com.")
    return host


def add_alias(session: Session, outlet: Outlet, alias: str) -> OutletAlias:
    """Give the outlet another name; refused when any outlet already uses that exact text."""
    alias = _clean_name(alias, "An alias")
    if alias == outlet.name:
        raise OutletError(f"{alias!r} is already this outlet's name.")
    _refuse_taken(session, alias, outlet)
    row = OutletAlias(alias=alias)
    outlet.aliases.append(row)
    session.commit()
    return row


def remove_alias(session: Session, outlet: Outlet, alias_id: int) -> str:
    """Remove one of the outlet's aliases; returns its text."""
    row = next((a for a in outlet.aliases if a.id == alias_id), None)
    if row is None:
        raise OutletError(f"That alias does not belong to {outlet.name}.")
    outlet.aliases.remove(row)
    session.commit()
    return row.alias


def _clean_name(text: str, what: str) -> str:
    """Collapse whitespace; refuse empty or over-long names."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_NAME_LENGTH:
        raise OutletError(f"{what} needs 1 to {MAX_NAME_LENGTH} characters.")
    return text


def _refuse_taken(session: Session, text: str, outlet: Outlet) -> None:
    """Raise when ``text`` is another outlet's name or any outlet's alias (case-sensitive)."""
    other = session.scalar(select(Outlet).where(Outlet.name == text, Outlet.id != outlet.id))
    if other is not None:
        raise OutletError(f"{text!r} is already the name of another outlet; merge them instead.")
    alias = session.scalar(select(OutletAlias).where(OutletAlias.alias == text))
    if alias is None:
        return
    if alias.outlet_id == outlet.id:
        raise OutletError(f"{text!r} is already an alias of this outlet.")
    raise OutletError(f"{text!r} is already an alias of {alias.outlet.name}.")


def merge_outlets(session: Session, source_id: int, target_id: int) -> Outlet:
    """Fold outlet ``source`` into ``target`` in one transaction: passages, reviewers'
    corrections and undo history move to the target, the source's name, aliases and homepage
    domain become the target's aliases, and the source is deleted."""
    if source_id == target_id:
        raise OutletError("An outlet cannot be merged into itself; choose another outlet.")
    source, target = session.get(Outlet, source_id), session.get(Outlet, target_id)
    if source is None or target is None:
        raise OutletError("Unknown outlet; reload the page and choose again.")
    try:
        _repoint(session, source.id, target.id)
        _move_names(session, source, target)
        session.delete(source)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return target


def _repoint(session: Session, source_id: int, target_id: int) -> None:
    """Every reference to the source now names the target (undo entries store ids as text)."""
    for model in (Passage, OutletCorrection):
        session.execute(
            update(model).where(model.outlet_id == source_id).values(outlet_id=target_id)
        )
    for column in (Change.old_value, Change.new_value):
        session.execute(
            update(Change)
            .where(Change.kind == ChangeKind.OUTLET, column == str(source_id))
            .values({column: str(target_id)})
        )


def _move_names(session: Session, source: Outlet, target: Outlet) -> None:
    """The source's aliases, name and homepage domain become the target's aliases (skipping
    duplicates), so the source's name and links to its site still find the target."""
    for row in list(source.aliases):
        if row.alias != target.name:
            target.aliases.append(row)
    session.flush()
    for name in (source.name, source.homepage):
        if not name or name in (target.name, target.homepage):
            continue
        taken = session.scalar(select(OutletAlias.id).where(OutletAlias.alias == name))
        if taken is None:
            target.aliases.append(OutletAlias(alias=name))
            session.flush()
