"""Users: creation, passwords, roles."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from annotator.db import begin_write
from annotator.models import Role, User

MIN_PASSWORD_LENGTH = 8
# Checked against when the username is unknown, so a login costs the same either way. Written
# out rather than hashed at import, which would cost every command and worker start ~80 ms;
# a test keeps its method and cost the same as a new password's.
DUMMY_HASH = (
    "scrypt:32768:8:1$gbXHm88DeGcon1oz$"
    "9eb0df88186439e2d5fbc81033201600aea2d4e65bf4e60869fde7e96e41136b"
    "20264450b2299b852a34ecd8e5159c28770d263ea0e40d73ad01fc9006b96416"
)


class AccountError(ValueError):
    """A user-facing problem with account data (duplicate name, weak password...)."""


class WrongPasswordError(AccountError):
    """The current password given to change one's own password is not the user's."""


def create_user(session: Session, username: str, password: str, role: str = Role.REVIEWER) -> User:
    username = username.strip()
    if not username:
        raise AccountError("A username is required.")
    if role not in set(Role):
        raise AccountError(f"Unknown role {role!r}; use one of {', '.join(Role)}.")
    _check_password_strength(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"A user named {username!r} already exists.")
    user = User(username=username, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end the user's existing sessions."""
    _check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    user.session_epoch += 1
    session.commit()


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """A user's own change, proven by the current password; like ``set_password`` it ends
    every session of the user, so the caller logs the one in use in again."""
    if not check_password_hash(user.password_hash, current):
        raise WrongPasswordError("The current password is wrong.")
    if new == current:
        raise AccountError("The new password is the same as the current one.")
    set_password(session, user, new)


def end_sessions(session: Session, user: User) -> None:
    """End every session of the user (logout): session cookies are signed, not stored, so a
    copy of one stays valid until the user's ``session_epoch`` changes."""
    begin_write(session)
    user.session_epoch += 1
    session.commit()


def list_users(session: Session) -> list[User]:
    """Every user, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_active(session: Session, user: User, active: bool, acting: User) -> None:
    """Deactivate (ending the user's sessions) or reactivate; nobody deactivates themselves."""
    if not active and user.id == acting.id:
        raise AccountError("You cannot deactivate your own account; ask another admin.")
    if user.active and not active:
        user.session_epoch += 1
    user.active = active
    session.commit()


def change_role(session: Session, user: User, role: str, acting: User) -> None:
    """Give the user another global role; admins cannot demote themselves."""
    if role not in set(Role):
        raise AccountError(f"Unknown role {role!r}; use one of {', '.join(Role)}.")
    if user.id == acting.id and role != Role.ADMIN:
        raise AccountError("You cannot remove your own admin role; ask another admin.")
    user.role = role
    session.commit()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
