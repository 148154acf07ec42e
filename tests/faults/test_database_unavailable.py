"""Database unavailable: the app answers 503 with a clear page (JSON for fetch/API callers)
that gives nothing away, and recovers by itself when the database is back. PostgreSQL is cut
off by stopping a small TCP proxy between the app and the server; SQLite by the database file's
folder going missing (an unmounted volume) and coming back."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine, make_url

from annotator import create_app
from annotator.db import get_engine, get_session, release_session
from annotator.errors import UNAVAILABLE
from annotator.models import User
from tests.conftest import empty_database
from tests.faults.servers import run_cli
from tests.security.conftest import PASSWORD_HASH, log_in_as

pytestmark = pytest.mark.slow


class TcpProxy:
    """Forwards a loopback port to ``target``; ``stop`` drops every connection and refuses
    new ones (the database "goes away"), ``start`` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            _close(self.listener)  # shutdown() wakes the thread blocked in accept()
            self.listener = None
        with self.lock:
            for sock in self.sockets:
                _close(sock)
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_for(database_url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
        }
    )


def assert_unavailable(app: Flask, user: User) -> None:
    client = app.test_client()
    log_in_as(client, user)
    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    text = page.get_data(as_text=True)
    assert UNAVAILABLE.split(" (")[0] in text
    for detail in ("psycopg", "sqlite", "SELECT"):
        assert detail not in text, "the page gives the error's details away"
    answer = client.post("/undo", json={}, headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.get_json() == {"ok": False, "error": UNAVAILABLE}


def assert_available(app: Flask, user: User) -> None:
    client = app.test_client()
    log_in_as(client, user)
    assert client.get("/").status_code == 200


@pytest.fixture
def committed_user(engine: Engine) -> Iterator[User]:
    """A reviewer really committed to the run's database (tables emptied afterwards)."""
    app = app_for(engine.url.render_as_string(hide_password=False))
    with app.app_context():
        user = User(username="rita", password_hash=PASSWORD_HASH)
        get_session().add(user)
        get_session().commit()
        release_session()
        get_engine().dispose()
    yield user
    empty_database(engine)


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL runs only (TEST_DATABASE_URL)"
)
def test_postgresql_outage_gives_503_then_recovers(engine, committed_user):
    url = engine.url
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    app = app_for(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        assert_available(app, committed_user)  # the pool now holds live connections
        proxy.stop()
        assert_unavailable(app, committed_user)
        assert_unavailable(app, committed_user)  # still down: refused connections
        proxy.start()
        assert_available(app, committed_user)
    finally:
        proxy.stop()
        app.extensions["annotator.engine"].dispose()


def test_sqlite_volume_missing_gives_503_then_recovers(tmp_path: Path):
    prepared = tmp_path / "prepared" / "annotator.db"
    prepared.parent.mkdir()
    run_cli(f"sqlite:///{prepared}", "db", "upgrade")
    database_url = f"sqlite:///{prepared}"
    user = _add_user(database_url)
    volume = tmp_path / "volume"
    app = app_for(f"sqlite:///{volume / 'annotator.db'}")
    try:
        assert_unavailable(app, user)
        volume.mkdir()
        shutil.copy(prepared, volume / "annotator.db")
        assert_available(app, user)
    finally:
        app.extensions["annotator.engine"].dispose()


def _add_user(database_url: str) -> User:
    app = app_for(database_url)
    with app.app_context():
        user = User(username="rita", password_hash=PASSWORD_HASH)
        get_session().add(user)
        get_session().commit()
        release_session()
        get_engine().dispose()
    assert make_url(database_url).get_backend_name() == "sqlite"
    return user
