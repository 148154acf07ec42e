"""Engine and session handling with plain SQLAlchemy 2 (no Flask-SQLAlchemy)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Executable, MetaData, Table, create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
Key = TypeVar("Key", int, str)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The model's table. Statements built on it rather than on the model skip the ORM's
    work per statement when the session runs them (0.03 ms for a select, 0.1 ms for an
    UPDATE, docs/benchmarks.md), which the annotation loop's many small statements avoid."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


# Ids bound in one IN list: under SQLite's default limit of bound parameters (32,766 since
# 3.32) and psycopg's (65,535).
IDS_PER_STATEMENT = 10_000


def in_chunks(ids: Iterable[Key]) -> Iterator[list[Key]]:
    """The distinct ids in order, IDS_PER_STATEMENT at a time, for ``column.in_(chunk)``."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), IDS_PER_STATEMENT):
        yield ordered[start : start + IDS_PER_STATEMENT]


def driver_rows(session: Session, statement: Executable) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the driver returns them, plain tuples: for reads of a
    hundred thousand rows of plain values (no type to convert), where the row objects
    SQLAlchemy builds cost about as much as the query. Run by SQLAlchemy as any statement."""
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def streamed_rows(
    session: Session, statement: Executable, size: int
) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of ``statement``, ``size`` at a time, from one query that the database hands
    over as they are read (a server-side cursor on PostgreSQL; SQLite's cursor reads as it
    goes): for reading every passage's text with only a batch of it in memory."""
    streamed = statement.execution_options(stream_results=True, max_row_buffer=size)
    result = session.connection().execute(streamed)
    try:
        yield from result.partitions(size)
    finally:
        result.close()


# PostgreSQL's SQLSTATE for "relation does not exist"
UNDEFINED_TABLE = "42P01"


def is_missing_table(error: DBAPIError) -> bool:
    """Whether the statement failed because a table does not exist: the database has not
    been set up (or not upgraded) for this version."""
    driver_error = error.orig
    if getattr(driver_error, "sqlstate", None) == UNDEFINED_TABLE:
        return True
    return str(driver_error).startswith("no such table")  # SQLite's message


# PostgreSQL's SQLSTATE for "deadlock detected"
DEADLOCK_DETECTED = "40P01"
DEADLOCK_ATTEMPTS = 3


def is_deadlock(error: BaseException) -> bool:
    """Whether PostgreSQL ended the transaction to break a deadlock: it met another one
    locking the same rows in another order, and may well pass if run again."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == DEADLOCK_DETECTED


def retrying_deadlocks(session: Session, transaction: Callable[[], T]) -> T:
    """Run ``transaction`` (which begins and commits its own transaction) again from the
    start, up to DEADLOCK_ATTEMPTS times in all, while PostgreSQL ends it to break a
    deadlock; for work that locks many rows at once (a new version of a document, a
    deletion) or that cannot take its locks in a save's order (a reservation locks the
    passage before the review)."""
    attempt = 1
    while True:
        try:
            return transaction()
        except DBAPIError as exc:
            session.rollback()
            if not is_deadlock(exc) or attempt == DEADLOCK_ATTEMPTS:
                raise
        attempt += 1


def normalise_url(url: str) -> str:
    """Accept the usual ``postgres://``/``postgresql://`` forms and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and explicit write transactions."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        _track_writes(engine)
        return engine
    from annotator.postgresql_setup import use_lazy_descriptions  # psycopg: PostgreSQL only

    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    use_lazy_descriptions(engine)
    _track_writes(engine)
    return engine


WRITE_OPTION = "annotator_write"
WROTE = "annotator_wrote"
CONNECTION = "annotator_connection"
OWN_CONNECTION = "annotator_own_connection"  # session.info: the session took its connection
READ_KEYWORDS = frozenset({"SELECT", "EXPLAIN", "SHOW", "BEGIN", "PRAGMA"})


def _track_writes(engine: Engine) -> None:
    """Note on the connection whether its current transaction has sent anything but reads
    (see ``_close_session``). Statements are judged by their first word; anything not known
    to be a read counts as a write."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split(None, 1)
        if not words or words[0].upper() not in READ_KEYWORDS:
            connection.info[WROTE] = True


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs, so we issue BEGIN ourselves:
    # plain (deferred) for readers, IMMEDIATE for transactions opened by begin_write().
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        if immediate:  # this transaction only: the connection serves the context's next ones
            connection.execution_options(**{WRITE_OPTION: False})
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(session: Session) -> None:
    """Start the session's next work as a write transaction.

    On SQLite a transaction that has read and then writes cannot wait for a concurrent writer
    (it fails with "database is locked"), so writers take the lock up front. A read-only
    transaction already open (e.g. loading the logged-in user) is ended first; objects stay
    usable, but another writer may have changed them before the lock was taken: a caller
    whose checks rest on what it loaded checks again as it writes (a constraint, a condition
    on the UPDATE). PostgreSQL needs nothing here: row locks do the job.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() must come before any change in the session")
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app; close the request session afterwards."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["annotator.engine"] = engine
    factory = sessionmaker(engine, expire_on_commit=False)
    _remember_connection(factory)
    app.extensions["annotator.sessionmaker"] = factory
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    engine: Engine = current_app.extensions["annotator.engine"]
    return engine


def get_session() -> Session:
    """One session per application context (request or CLI command). Its transactions run
    on one connection, taken from the pool with the session and returned when the context
    ends: a "Save & next" runs three transactions, and taking the connection from the pool
    for each, with the pool's check of it (a round trip on PostgreSQL), cost 2% of its CPU.
    A session factory bound to a connection (the tests' rolled-back transaction) is used as
    it is."""
    if "db_session" not in g:
        factory = current_app.extensions["annotator.sessionmaker"]
        bind = factory.kw.get("bind")
        if isinstance(bind, Engine):
            g.db_connection = bind.connect()
            g.db_session = factory(bind=g.db_connection, info={OWN_CONNECTION: True})
        else:
            g.db_session = factory()
    session: Session = g.db_session
    return session


class VersionedCache(Generic[K, V]):
    """Values kept in this process, per database and key, while the version that a query
    brought with them stays the same, and for at most ``ttl_s`` seconds (in case a change
    leaves the version as it was). Sessions inside a transaction they did not begin (the
    tests' rolled-back ones) always load: that transaction may still be rolled back."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[URL, K], tuple[object, float, V]] = {}

    def get(self, session: Session, key: K, version: object, load: Callable[[], V]) -> V:
        engine = engine_of(session)
        if engine is None:
            return load()
        now = time.monotonic()
        cached = self._entries.get((engine.url, key))
        if cached is not None and cached[0] == version and now - cached[1] < self.ttl_s:
            return cached[2]
        value = load()
        self._entries[(engine.url, key)] = (version, now, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


def engine_of(session: Session) -> Engine | None:
    """The engine whose connections the session's work is visible to once committed: None
    for a session working inside a transaction it did not begin (the tests' rolled-back
    one), which other connections cannot see and which may still be rolled back."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        return bind
    return bind.engine if session.info.get(OWN_CONNECTION) else None


def _close_session(exc: BaseException | None) -> None:
    """End the request's session. A transaction that only read is committed rather than
    rolled back: psycopg forgets its prepared statements on every ROLLBACK (it sends
    DEALLOCATE ALL), so rolling back each request's reads made PostgreSQL parse and plan the
    hot statements again and again (43% of its CPU per saved passage). Anything else, and any
    transaction of a request that failed, is rolled back."""
    session = g.pop("db_session", None)
    if session is not None:
        _end_session(session, g.pop("db_connection", None), failed=exc is not None)


def _end_session(session: Session, connection: Connection | None, *, failed: bool) -> None:
    if not failed and _only_read(session):
        end_read(session)
    session.close()
    if connection is not None:
        connection.close()


def release_session() -> None:
    """End the context's session now, as the end of the context would, and return its
    connection to the pool: before disposing of the engine, or serving from a command."""
    _close_session(None)


def streamed(chunks_of: Callable[[Session], Iterator[T]]) -> Iterator[T]:
    """The chunks of a streamed response, made with the context's session, which the stream
    takes over: Flask ends the context (see ``_close_session``) before it sends the body. The
    stream ends the session and returns its connection when it is done or cut short."""
    session = get_session()
    del g.db_session
    return _owned_by_stream(chunks_of(session), session, g.pop("db_connection", None))


def _owned_by_stream(
    chunks: Iterator[T], session: Session, connection: Connection | None
) -> Iterator[T]:
    failed = True
    try:
        yield from chunks
        failed = False
    finally:
        _end_session(session, connection, failed=failed)


def end_read(session: Session) -> None:
    """End a transaction that only read, with COMMIT, which keeps the driver's prepared
    statements (see ``_close_session``)."""
    session.commit()


def _only_read(session: Session) -> bool:
    """True when the session's transaction holds a connection that has only read, and no
    change waits in the session."""
    connection = session.info.get(CONNECTION)
    if connection is None or session.new or session.dirty or session.deleted:
        return False
    return connection.info.get(WROTE) is False


def _remember_connection(factory: sessionmaker[Session]) -> None:
    """Keep the connection of the session's current transaction in ``session.info`` (looking
    it up with ``session.connection()`` would open one when there is none)."""

    @event.listens_for(factory, "after_begin")
    def _on_begin(session: Session, _transaction: Any, connection: Any) -> None:
        session.info[CONNECTION] = connection

    @event.listens_for(factory, "after_transaction_end")
    def _on_end(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(CONNECTION, None)
