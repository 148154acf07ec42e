"""Flask extensions, created unbound and attached in the factory."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from annotator.db import get_session
from annotator.models import User
from annotator.services.records import is_whole_number

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Resolve ``"<id>:<epoch>"``; a stale epoch (password reset, deactivation) logs out."""
    user_id, _, epoch = identity.partition(":")
    if not is_whole_number(user_id):
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or str(user.session_epoch) != epoch:
        return None
    return user


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
