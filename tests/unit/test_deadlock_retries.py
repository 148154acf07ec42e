"""Work that PostgreSQL ends to break a deadlock is run again, twice at most; other
database errors are passed on at once."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from annotator.db import DEADLOCK_ATTEMPTS, DEADLOCK_DETECTED, is_deadlock, retrying_deadlocks


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def database_error(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE reviews SET status = 'completed'", {}, DriverError(sqlstate))


class RecordingSession:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def failing(times: int, sqlstate: str = DEADLOCK_DETECTED):
    attempts: list[int] = []

    def transaction() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= times:
            raise database_error(sqlstate)
        return "committed"

    return transaction, attempts


def test_a_transaction_ended_by_deadlocks_runs_again_from_a_rollback():
    session = RecordingSession()
    transaction, attempts = failing(DEADLOCK_ATTEMPTS - 1)
    assert retrying_deadlocks(session, transaction) == "committed"  # type: ignore[arg-type]
    assert attempts == list(range(1, DEADLOCK_ATTEMPTS + 1))
    assert session.rollbacks == DEADLOCK_ATTEMPTS - 1


def test_a_deadlock_on_the_last_attempt_is_passed_on():
    session = RecordingSession()
    transaction, attempts = failing(DEADLOCK_ATTEMPTS)
    with pytest.raises(OperationalError) as raised:
        retrying_deadlocks(session, transaction)  # type: ignore[arg-type]
    assert is_deadlock(raised.value)
    assert len(attempts) == DEADLOCK_ATTEMPTS
    assert session.rollbacks == DEADLOCK_ATTEMPTS


def test_other_database_errors_are_not_run_again():
    session = RecordingSession()
    transaction, attempts = failing(1, sqlstate="57P01")  # the server shut down
    with pytest.raises(OperationalError) as raised:
        retrying_deadlocks(session, transaction)  # type: ignore[arg-type]
    assert not is_deadlock(raised.value)
    assert attempts == [1]
    assert session.rollbacks == 1
