"""Every route, called by an admin and by a project curator with hostile values in every
query argument and form field the app reads, and as a JSON body (the forms read JSON too):
whatever the answer, it is not a server error. Each call is rolled back before the next.

This found, on PostgreSQL: ids and page numbers past its integers, NUL characters in any
field, and lone surrogates ("\\ud800" in JSON, which UTF-8 cannot encode)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.security.conftest import World, log_in_as
from tests.security.test_permissions import ROUTES, _build

FIELDS = [
    "a", "b", "basis", "excel", "format", "next", "order", "outlet", "page", "pair", "reviewer",
    "settled", "sort", "after_save", "username", "password", "remember", "role", "label", "since",
    "until", "project", "all_claims", "limit", "offset", "then", "alias", "create_reviewers",
    "guidelines", "homepage", "name", "notes", "open_to_all", "overlap", "reason", "urls",
    "reveal_labels", "show_suggestions", "target_id", "user_id", "version",
]  # fmt: skip
HOSTILE = [
    "", "-1", "1e3", "\u0663", "2147483648", "9" * 30, "9" * 5000, "x" * 3000, "2026-13-45",
    "<b>", "\x00",
]  # fmt: skip
LONE_SURROGATE = "\ud800"  # only JSON can carry one: forms and addresses decode to U+FFFD


@pytest.mark.parametrize(("method", "endpoint", "rule"), ROUTES)
def test_no_hostile_value_makes_a_server_error(
    app: Flask, session: Session, world: World, method: str, endpoint: str, rule: str
):
    url = _build(app, endpoint, rule, world)
    claim_fields = [f"{kind}-{c.id}" for c in world.passage.claims for kind in ("label", "version")]
    errors = []
    for role in ("admin", "curator"):
        client = app.test_client()
        log_in_as(client, world.users[role])
        for value in [*HOSTILE, LONE_SURROGATE]:
            fields = dict.fromkeys([*FIELDS, *claim_fields], value)
            calls = [{"json": fields}] if method != "GET" else []
            if value != LONE_SURROGATE:
                query = f"{url}?{urlencode(fields)}"
                calls.append({"path": query, "data": fields if method != "GET" else None})
            for call in calls:
                savepoint = session.begin_nested()
                session.connection()  # sends the SAVEPOINT now, before the request's changes
                try:
                    response = client.open(call.pop("path", url), method=method, **call)
                    response.close()
                    if response.status_code >= 500:
                        errors.append(f"{role} {value[:12]!r}: HTTP {response.status_code}")
                finally:
                    savepoint.rollback()
    assert not errors, f"{method} {url}: {errors}"
