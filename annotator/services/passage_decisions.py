"""What a curator decides about a passage as a whole: the outlet it cites and its role.

The passage's own outlet and role are what the reports, the agreement figures by outlet, the
dashboard and the exports count it under: as detected at import, until a curator sets them.
Each decision is one transaction, refused when the passage changed since the curator's page
showed it, and kept in the passage's history, where a reviewer's undo leaves it alone.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import Change, ChangeKind, Outlet, Passage, PassageRole, Project, User
from annotator.services import structure
from annotator.services.annotating import AUTHOR_OWN_WORDS
from annotator.services.outlet_disputes import AUTHOR_OWN_WORDS_NAME, choice_of
from annotator.services.records import id_from_text

ROLE_NAMES = {PassageRole.AUTHOR: "author's text", PassageRole.EXCERPT: "excerpt"}


def describe(passage: Passage) -> str:
    """ "an excerpt of Reuters", "the author's text, citing no outlet"."""
    outlet = passage.outlet.name if passage.outlet else None
    if passage.role == PassageRole.EXCERPT:
        return f"an excerpt of {outlet}" if outlet else "an excerpt of no known outlet"
    return (
        f"the author's text, citing {outlet}" if outlet else "the author's text, citing no outlet"
    )


class DecisionError(ValueError):
    """A decision that cannot be applied; nothing was changed."""


class StaleDecision(DecisionError):
    """The passage changed since the curator's page was loaded."""


def set_passage_outlet(
    session: Session, user: User, project: Project, passage_id: int, choice: str, seen: str
) -> Passage:
    """Set the passage's outlet to ``choice`` (an outlet id, or ``AUTHOR_OWN_WORDS``) if it is
    still the ``seen`` one; the same outlet again confirms it. A new outlet drops the cue,
    whose words named the old one."""
    begin_write(session)
    try:
        passage = _locked(session, project, passage_id)
        new_outlet = _outlet(session, choice)
        if choice_of(passage.outlet_id) != seen:
            raise StaleDecision(_stale("outlet"))
        old_name = passage.outlet.name if passage.outlet else AUTHOR_OWN_WORDS_NAME
        new_outlet_id = new_outlet.id if new_outlet else None
        if new_outlet_id == passage.outlet_id:
            new_name = f"{old_name} (confirmed)"
        else:
            new_name = new_outlet.name if new_outlet else AUTHOR_OWN_WORDS_NAME
            _update(
                session, passage, outlet_id=new_outlet_id, cue=None, cue_start=None, cue_end=None
            )
        return _record(session, user, passage, ChangeKind.PASSAGE_OUTLET, old_name, new_name)
    except DecisionError:
        session.rollback()
        raise


def set_passage_role(
    session: Session, user: User, project: Project, passage_id: int, role: str, seen: str
) -> Passage:
    """Set the passage's role (author's text or an excerpt of the outlet it cites) if it is
    still the ``seen`` one."""
    begin_write(session)
    try:
        passage = _locked(session, project, passage_id)
        if role not in set(PassageRole):
            raise DecisionError(f"Unknown role {role!r}; choose author or excerpt.")
        if passage.role != seen:
            raise StaleDecision(_stale("role"))
        if role == passage.role:
            session.rollback()
            return passage
        old_name, new_name = ROLE_NAMES[PassageRole(passage.role)], ROLE_NAMES[PassageRole(role)]
        _update(session, passage, role=role)
        return _record(session, user, passage, ChangeKind.PASSAGE_ROLE, old_name, new_name)
    except DecisionError:
        session.rollback()
        raise


def _locked(session: Session, project: Project, passage_id: int) -> Passage:
    """The project's passage, locked until the decision is stored (but for its key, which
    reviewers' new rows refer to); LookupError if none."""
    query = select(Passage).where(Passage.id == passage_id)
    passage = session.scalar(query.with_for_update(key_share=True))  # FOR NO KEY UPDATE
    if passage is None or passage.project_id != project.id:
        raise LookupError(passage_id)
    return passage


def _stale(what: str) -> str:
    return (
        f"The {what} of this passage was changed since this page was loaded; nothing was "
        f"changed. Its current {what} is shown."
    )


def _outlet(session: Session, choice: str) -> Outlet | None:
    if choice == AUTHOR_OWN_WORDS:
        return None
    outlet_id = id_from_text(choice)
    outlet = session.get(Outlet, outlet_id) if outlet_id is not None else None
    if outlet is None:
        raise DecisionError(f"Unknown outlet {choice!r}; choose one from the list.")
    return outlet


def _update(session: Session, passage: Passage, **values: object) -> None:
    session.execute(update(Passage).where(Passage.id == passage.id).values(**values))


def _record(
    session: Session, user: User, passage: Passage, kind: str, old: str, new: str
) -> Passage:
    """The decision in the passage's history; commits. The project's structure (passages per
    outlet and role) changed: this process forgets it now, others within a minute."""
    session.add(
        Change(
            user_id=user.id,
            passage_id=passage.id,
            batch=uuid.uuid4().hex,
            kind=kind,
            old_value=old,
            new_value=new,
        )
    )
    session.commit()
    structure.forget_structures()
    session.refresh(passage)
    return passage
