"""Personal API tokens: created and revoked by their owner, stored as a SHA-256 hash.

A token is ``ann_`` + 43 URL-safe random characters (256 bits), shown once when created. The
database keeps its hash and a short prefix for recognising it in the list; a leaked
database therefore leaks no usable token. A token acts as its user, with the user's current
role and project memberships, and stops working when revoked or when the user is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import ApiToken, User, utcnow

TOKEN_PREFIX = "ann_"  # noqa: S105 (a marker, not a secret)
MAX_NAME_LENGTH = 100
MAX_TOKENS_PER_USER = 50
# last_used_at is refreshed at most this often, so reads do not all become writes.
TOUCH_INTERVAL = timedelta(minutes=5)


class TokenError(ValueError):
    """A user-facing problem (empty name, too many tokens, unknown token)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns the row and the secret (shown once, never stored)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"Give the token a name of 1 to {MAX_NAME_LENGTH} characters.")
    begin_write(session)
    if len(list_tokens(session, user, active_only=True)) >= MAX_TOKENS_PER_USER:
        session.rollback()
        raise TokenError(f"You have {MAX_TOKENS_PER_USER} active tokens; revoke one first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), prefix=secret[:12])
    session.add(token)
    session.commit()
    return token, secret


def list_tokens(session: Session, user: User, *, active_only: bool = False) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another user's token is "unknown")."""
    begin_write(session)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        session.rollback()
        raise TokenError("Unknown token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.commit()
    return token


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user the token belongs to, or None for an unknown or revoked token."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.active:
        return None
    _touch(session, token)
    return user


def _touch(session: Session, token: ApiToken) -> None:
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and now - last < TOUCH_INTERVAL:
        return
    session.commit()  # end the read; begin_write needs a clean session on SQLite
    begin_write(session)
    token.last_used_at = now
    session.commit()
