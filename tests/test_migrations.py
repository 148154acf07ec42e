"""The migration history builds the schema the models describe."""

from __future__ import annotations

from sqlalchemy import inspect

from annotator import migrate
from annotator.db import Base


def test_migrations_match_models(engine):
    migrate.check(engine)  # raises when autogenerate would find a difference


def test_every_model_table_exists(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
