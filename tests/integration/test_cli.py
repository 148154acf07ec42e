"""The ``annotator`` command: quickstart, users, evaluation."""

from __future__ import annotations

import re

from sqlalchemy import select

from annotator.models import Document, User
from annotator.services import accounts
from tests.conftest import SHARED


def test_quickstart_imports_the_sample_and_prints_a_password_once(runner, session):
    first = runner.invoke(args=["quickstart", "--no-serve"])
    assert first.exit_code == 0, first.output
    password = re.search(r"Created user 'admin' with password: (\S+)", first.output).group(1)
    assert "shown only once" in first.output
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin.role == "admin"
    assert accounts.authenticate(session, "admin", password) is not None
    documents = session.scalars(select(Document)).all()
    assert len(documents) == 1
    assert len(documents[0].passages) > 10
    outlets = {p.outlet.name for p in documents[0].passages if p.outlet}
    assert len(outlets) >= 3, "the sample article cites several outlets"

    again = runner.invoke(args=["quickstart", "--no-serve"])
    assert again.exit_code == 0
    assert "password" not in again.output
    assert len(session.scalars(select(Document)).all()) == 1


def test_user_create_reads_password_from_stdin(runner, session):
    result = runner.invoke(
        args=["user", "create", "carol", "--role", "curator", "--password-stdin"],
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    user = accounts.authenticate(session, "carol", "a long enough secret")
    assert user is not None
    assert user.role == "curator"


def test_user_create_refuses_bad_input(runner, session):
    short = runner.invoke(args=["user", "create", "dan", "--password-stdin"], input="short\n")
    assert short.exit_code != 0
    assert "at least 8 characters" in short.output
    bad_role = runner.invoke(args=["user", "create", "dan", "--role", "boss", "--password-stdin"])
    assert bad_role.exit_code != 0
    assert session.scalar(select(User).where(User.username == "dan")) is None


def test_evaluate_prints_the_scores_on_the_seed(runner):
    gold = SHARED / "corpus" / "seed-article.gold.json"
    result = runner.invoke(args=["evaluate", str(gold)])
    assert result.exit_code == 0, result.output
    figures = dict(
        re.findall(
            r"^(outlet accuracy|role accuracy|claim F1|suggestion accuracy)\s+([\d.]+)",
            result.output,
            re.M,
        )
    )
    assert float(figures["outlet accuracy"]) >= 0.95
    assert float(figures["role accuracy"]) >= 0.95
    assert float(figures["claim F1"]) >= 0.90
    assert float(figures["suggestion accuracy"]) >= 0.75
    assert "gold \\ suggested" in result.output


def test_evaluate_reports_a_bad_gold_file(runner, tmp_path):
    bad = tmp_path / "gold.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["evaluate", str(bad)])
    assert result.exit_code != 0
    assert "cannot read the gold file" in result.output
