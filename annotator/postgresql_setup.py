"""psycopg set up for the application's PostgreSQL connections.

psycopg makes a ``Column`` object for each column of a result whenever ``cursor.description``
is read. SQLAlchemy reads it after every statement but, for a statement it has run before,
only to tell a result with rows from one without: 4% of the CPU of a "Save & next" went into
Column objects nobody looked at (docs/benchmarks.md, round 8). Our cursors make them when
first looked at instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, overload

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine

_ROW_STATUSES = frozenset({ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK})


class ResultColumns(Sequence[psycopg.Column]):
    """A result's column descriptions, made when first looked at."""

    def __init__(self, cursor: psycopg.Cursor[Any], result: Any) -> None:
        # What a Column reads from its cursor, kept: the cursor may run another statement
        # before anyone looks.
        self._source = SimpleNamespace(
            pgresult=result, _encoding=cursor._encoding, adapters=cursor.adapters
        )
        self._count: int = result.nfields
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> list[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | list[psycopg.Column]:
        if self._columns is None:
            source: Any = self._source
            self._columns = [psycopg.Column(source, i) for i in range(self._count)]
        return self._columns[index]


class LazyDescriptionCursor(psycopg.Cursor[Any]):
    """A cursor whose ``description`` makes its Column objects only when they are read."""

    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result is None or not (result.nfields or result.status in _ROW_STATUSES):
            return None  # as psycopg answers: the statement returns no rows
        return ResultColumns(self, result)


def use_lazy_descriptions(engine: Engine) -> None:
    """Give every new connection of the engine our cursors."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor_factory = LazyDescriptionCursor
