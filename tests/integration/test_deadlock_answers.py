"""A request that PostgreSQL ended to break a deadlock, and that its work did not run again,
is answered 409 with what happened (not as a database outage), and saves nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator.errors import MET_ANOTHER_CHANGE
from annotator.models import Annotation, Passage
from annotator.services import annotating
from tests.helpers import import_fixture
from tests.unit.test_deadlock_retries import database_error


@pytest.mark.parametrize("kind", ["fetch", "form"])
def test_a_save_ended_by_a_deadlock_is_answered_409_with_why(
    client, login, session, make_user, monkeypatch, kind
):
    import_fixture(session, "harbour.txt")
    passage = session.scalar(select(Passage).where(Passage.claim_count > 0).limit(1))
    labels = {str(claim.id): "reported" for claim in passage.claims}
    login(make_user("ann"))

    def deadlocked(*_args: object, **_kwargs: object) -> None:
        raise database_error("40P01")

    monkeypatch.setattr(annotating, "save_passage", deadlocked)
    if kind == "fetch":
        response = client.post(f"/passages/{passage.id}", json={"labels": labels, "versions": {}})
        assert response.status_code == 409
        assert response.json == {"ok": False, "error": MET_ANOTHER_CHANGE}
    else:
        form = {f"label-{claim_id}": label for claim_id, label in labels.items()}
        response = client.post(f"/passages/{passage.id}", data=form)
        assert response.status_code == 409
        assert MET_ANOTHER_CHANGE in response.text
        assert "UPDATE" not in response.text, "the page gives the statement away"
    assert "Retry-After" not in response.headers
    assert session.scalar(select(func.count(Annotation.id))) == 0
    assert client.get("/").status_code == 200, "the session works on after the rollback"
