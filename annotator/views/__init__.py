"""Blueprints: thin views over the services."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter, Map, ValidationError

from annotator.services.records import MAX_ID, id_from_text


class RowIdConverter(IntegerConverter):
    """Every number in our addresses is a row id: 1 to ``MAX_ID``, as the database stores
    them. Any other number is a 404, not a database error (PostgreSQL refuses an integer
    past 32 bits) nor a failed ``int`` (more than 4,300 digits)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        row_id = id_from_text(value)
        if row_id is None:
            raise ValidationError()
        return row_id


def requested_page() -> int:
    """The ``page`` argument of a paged list: 1 to ``MAX_ID`` (whose offset the database can
    still count), and 1 when it is missing or anything else."""
    return id_from_text(request.args.get("page", "")) or 1
