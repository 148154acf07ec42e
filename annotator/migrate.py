"""Alembic driven from code: the migration scripts ship inside the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported by the functions that use it: at module level it added 0.1-0.3 s to
# the start of every process (server workers, "annotator import", "annotator export").


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "annotator:migrations")
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(engine)
    with _migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    with _migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole migration. On SQLite, foreign keys are off while it runs
    and checked before it commits: alembic changes a SQLite table by copying it, dropping the
    old one and renaming the copy, and dropping a table with foreign keys on deletes every row
    that refers to it by ON DELETE CASCADE (a rebuilt ``claims`` would take every label)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        if sqlite:  # only outside a transaction does SQLite take this pragma
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, row_id, parent = broken[0][:3]
        raise RuntimeError(
            f"The migration would leave {len(broken)} rows referring to rows that do not "
            f"exist (first: {table} {row_id} -> {parent}); nothing was changed."
        )


def check(engine: Engine) -> None:
    """Raise if the models and the migration history disagree."""
    from alembic import command

    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def revision(engine: Engine, message: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
