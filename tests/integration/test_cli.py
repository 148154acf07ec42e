"""The ``annotator`` command: quickstart, users, evaluation."""

from __future__ import annotations

import csv
import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from annotator import cli, create_app, migrate
from annotator.collector import FIRST_GENERATION_THRESHOLD
from annotator.db import get_engine, get_session, is_missing_table
from annotator.models import Document, User
from annotator.services import accounts, export_formats
from annotator.services.evaluation import read_labelled_sentences
from annotator.text.evaluate import score_sentences
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


# Bytes of an argument that are not UTF-8 reach Python as lone surrogates (surrogateescape).
NOT_UTF8 = b"caf\xe9".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--project", NOT_UTF8, "-"],
        ["export", "--reviewer", NOT_UTF8, "-"],
        ["export", "--outlet", NOT_UTF8, "-"],
        ["stats", "--project", NOT_UTF8],
        ["import-labels", "--project", NOT_UTF8, __file__],
        ["user", "create", NOT_UTF8, "--password-stdin"],
    ],
)
def test_arguments_that_are_not_utf8_are_refused_before_the_database(runner, session, args):
    """They failed inside the database driver with a traceback."""
    result = runner.invoke(args=args, input="a-long-enough-password\n")
    assert result.exit_code == 2, result.output
    assert "U+DCE9, which cannot be stored; is the terminal's encoding UTF-8?" in result.output
    assert session.scalar(select(func.count(User.id))) == 0


def test_a_password_that_is_not_utf8_is_refused(runner, session):
    result = runner.invoke(
        args=["user", "create", "dan", "--password-stdin"], input=b"long-enough-caf\xe9\n"
    )
    assert result.exit_code == 2, result.output
    assert "The password is not UTF-8 text" in result.output
    assert session.scalar(select(func.count(User.id))) == 0


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


def test_evaluate_sentences_scores_newssd_as_the_module_does(runner):
    val = SHARED / "corpus" / "newssd-eng" / "val.csv"
    expected = score_sentences(read_labelled_sentences(val.name, val.read_bytes()))
    table = runner.invoke(args=["evaluate-sentences", str(val), "--misses", "3"])
    assert table.exit_code == 0, table.output
    assert f"sentences   {expected.sentences}" in table.output
    assert f"macro-F1    {expected.macro_f1:6.3f}" in table.output
    assert re.search(r"^editorial\s+[\d.]+\s+[\d.]+\s+[\d.]+$", table.output, re.M)
    assert table.output.count(" for editorial (") + table.output.count(" for not editorial (") == 3
    as_json = runner.invoke(args=["evaluate-sentences", str(val), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["macro_f1"] == pytest.approx(expected.macro_f1)
    assert len(data["misses"]) == len(expected.misses)


def test_evaluate_sentences_refuses_a_bad_file_with_its_line(runner, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("sentence,label\nIt rained.,OBJ\nIt poured.,maybe\n", encoding="utf-8")
    result = runner.invoke(args=["evaluate-sentences", str(bad)])
    assert result.exit_code == 1
    assert "labels.csv, line 3: unknown label 'maybe'" in result.output
    assert "macro-F1" not in result.output


def test_an_app_without_the_web_part_has_the_database_and_no_pages(tmp_path):
    url = f"sqlite:///{tmp_path / 'commands.db'}"
    bare = create_app({"DATABASE_URL": url, "SECRET_KEY": "k" * 32}, web=False)
    assert [rule.endpoint for rule in bare.url_map.iter_rules()] == ["static"]
    assert not hasattr(bare, "login_manager")
    with bare.app_context():
        migrate.upgrade(get_engine())
        assert get_session().scalar(select(func.count(User.id))) == 0
    whole = create_app({"DATABASE_URL": url, "SECRET_KEY": "k" * 32})
    assert "passages.show" in {rule.endpoint for rule in whole.url_map.iter_rules()}


def test_the_installed_command_imports_and_exports_without_the_web_part(tmp_path):
    """The real entry point (a fresh process): the commands' app has no pages, and the code
    each command loads for itself is there when it runs."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'commands.db'}",
        "SECRET_KEY": "k" * 32,
    }
    sample = Path(cli.__file__).with_name("sample_article.md")
    out = tmp_path / "out.csv"
    for args in (["db", "upgrade"], ["import", str(sample)], ["export", "--all-claims", str(out)]):
        done = subprocess.run(
            [sys.executable, "-c", "from annotator.cli import main; main()", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the sample article's claims are exported"
    assert {row["document_title"] for row in rows} == {rows[0]["document_title"]}


def test_the_command_freezes_its_start_up_heap_and_collects_less_often(monkeypatch):
    seen = []
    monkeypatch.setattr(
        cli, "cli", lambda: seen.append((gc.get_freeze_count(), gc.get_threshold()))
    )
    threshold = gc.get_threshold()
    try:
        cli.main()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    [(frozen, (first, *older))] = seen
    assert frozen > 10_000, "the modules' objects are frozen"
    assert first == FIRST_GENERATION_THRESHOLD > threshold[0]
    assert older == list(threshold[1:])


def test_a_web_worker_builds_the_app_and_then_tunes_the_collector(tmp_path):
    """``annotator.wsgi:app``, what gunicorn loads in each worker."""
    probe = (
        "import gc; threshold = gc.get_threshold()[0]; import annotator.wsgi as w; "
        "print(type(w.app).__name__, threshold, gc.get_threshold()[0], gc.get_freeze_count())"
    )
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    kind, before, after, frozen = done.stdout.split()
    assert kind == "Flask"
    assert int(before) < int(after) == FIRST_GENERATION_THRESHOLD
    assert int(frozen) > 10_000, "the modules' and the app's objects are frozen"


def test_a_command_on_a_database_not_set_up_says_what_to_do(tmp_path):
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "SECRET_KEY": "k" * 32,
    }
    done = subprocess.run(
        [sys.executable, "-c", "from annotator.cli import cli; cli()", "export", "out.csv"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Run `annotator db upgrade` first." in done.stderr
    assert "no such table" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("statement", "missing"),
    [("SELECT * FROM no_such_table", True), ("SELECT no_such_column FROM users", False)],
)
def test_missing_tables_are_told_from_other_database_errors(session, statement, missing):
    with pytest.raises(DBAPIError) as failure, session.begin_nested():
        session.execute(text(statement))
    assert is_missing_table(failure.value) is missing


def test_an_export_that_fails_leaves_the_older_file_as_it_was(runner, tmp_path, monkeypatch):
    out = tmp_path / "annotations.csv"
    out.write_bytes(b"yesterday's export\r\n")

    def broken(*_args, **_kwargs):
        yield b"document_id\r\n"
        raise RuntimeError("the database went away")

    monkeypatch.setattr(export_formats, "export_chunks", broken)
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code != 0
    assert out.read_bytes() == b"yesterday's export\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["annotations.csv"], "no partial file left"
