"""Reviewer names in imported files -> user ids.

Policy: an unknown reviewer is refused (the whole file is), unless the caller asks to create
them; created reviewers are *inactive* accounts with an unusable random password, so loading
another tool's results or a colleague's offline work never opens a login. An admin can
reactivate such an account and set a password on the Users page.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from annotator.models import Role, User

MAX_USERNAME_LENGTH = 80


class UnknownReviewers(ValueError):
    def __init__(self, names: list[str]) -> None:
        super().__init__(
            f"unknown reviewer(s) {', '.join(names)}; create the accounts first or allow "
            "creating them (inactive) with --create-reviewers"
        )
        self.names = names


def resolve_reviewers(session: Session, names: Iterable[str], *, create: bool) -> dict[str, int]:
    """User id of every name; unknown names raise UnknownReviewers, or become inactive
    reviewer accounts when ``create`` (flushed, not committed: the caller's transaction)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = dict(
        session.execute(select(User.username, User.id).where(User.username.in_(wanted))).all()
    )
    unknown = [name for name in wanted if name not in found]
    if unknown and not create:
        raise UnknownReviewers(unknown)
    too_long = [name for name in unknown if len(name) > MAX_USERNAME_LENGTH]
    if too_long:
        raise ValueError(f"reviewer name(s) longer than {MAX_USERNAME_LENGTH} characters")
    for name in unknown:
        user = User(
            username=name,
            password_hash=generate_password_hash(secrets.token_urlsafe(32)),
            role=Role.REVIEWER,
            active=False,
        )
        session.add(user)
        session.flush()
        found[name] = user.id
    return found
