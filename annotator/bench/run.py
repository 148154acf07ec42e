"""One benchmark run: a fresh database, the corpus imported, servers started, M1-M6 measured,
everything stopped and dropped again."""

from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from annotator import create_app
from annotator.bench import measures
from annotator.bench.explain import explain_next
from annotator.bench.machine import CpuTicks, reference_loop_ms
from annotator.bench.measures import Timed
from annotator.bench.servers import Database, Server, start_server
from annotator.db import get_engine, get_session
from annotator.models import Claim, Document, Passage, Project, Role
from annotator.services import accounts

PROJECT = "bench"
UPLOAD_PROJECT = "bench-upload"
REVIEWERS = 4
# M6: a finished study, the same at every size: every claim of the first 1,000 documents
# labelled by three of six more reviewers (about 120,000 labels)
FINISHED_DOCUMENTS = 1000
FINISHING_REVIEWERS = 6
LABELS_PER_CLAIM = 3


@dataclass
class Options:
    workdir: Path
    pg_server: str
    make_corpus: Path
    saves: int = 3000
    next_count: int = 200
    threads: int = 1
    upload: bool = True
    log: Any = sys.stderr
    page_visits: int = 5


@dataclass
class Result:
    database: str
    documents: int
    figures: dict[str, Any] = field(default_factory=dict)
    explain: str = ""
    full_scans: list[str] = field(default_factory=list)


def corpus_for(documents: int, given: Path | None, options: Options) -> Path:
    """The given corpus, or one made by the shared script (kept in the work dir for reuse)."""
    if given is not None:
        return given
    path = options.workdir / f"corpus-{documents}.jsonl"
    if not path.exists():
        subprocess.run(  # noqa: S603 (the corpus script given on our command line)
            [sys.executable, str(options.make_corpus), str(documents), str(path)], check=True
        )
    return path


def run_one(kind: str, documents: int, corpus: Path, options: Options) -> Result:
    database = Database(kind, options.workdir, options.pg_server)
    result = Result(kind, documents)
    result.figures["load_before"] = os.getloadavg()[0]
    result.figures["reference_loop_before"] = reference_loop_ms()
    ticks_before = CpuTicks.now()
    servers: list[Server] = []
    try:
        env = {**os.environ, "DATABASE_URL": database.url, "SECRET_KEY": secrets.token_hex(32)}
        env.pop("ANNOTATOR_DATABASE_URL", None)
        app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": env["SECRET_KEY"]})
        users = _prepare(app)
        _say(options, f"[{kind} N={documents}] M1 import (CLI)")
        result.figures["m1_cli"] = measures.import_cli(corpus, PROJECT, env)
        project_id = _open_project(app)
        _say(options, f"[{kind} N={documents}] startup")
        serve = start_server("serve", env)
        servers.append(serve)
        result.figures["startup_serve"] = serve.startup_s
        serve.stop()
        gunicorn = start_server("gunicorn", env, threads=options.threads)
        servers.append(gunicorn)
        result.figures["startup_gunicorn"] = gunicorn.startup_s
        _say(options, f"[{kind} N={documents}] M2 annotate ({options.saves} saves)")
        backends = database.backend_pids if database.kind == "postgresql" else None
        result.figures["m2"], result.figures["m2_cpu"] = measures.annotate(
            gunicorn, users["reviewers"], project_id, options.saves, backends
        )
        _say(options, f"[{kind} N={documents}] M4 next ({options.next_count} requests)")
        result.figures["m4_next"], result.figures["m4_page"] = measures.next_requests(
            gunicorn, users["next"], project_id, options.next_count
        )
        result.explain, result.full_scans = explain_next(app, users["next"][0], project_id)
        _say(options, f"[{kind} N={documents}] M5 team pages")
        result.figures["m5"] = measures.team_pages(
            gunicorn, users["admin"], project_id, options.page_visits
        )
        # after M5: the download's worker has served the annotation and every team page
        _say(options, f"[{kind} N={documents}] M3 export (web, CLI)")
        try:
            result.figures["m3_web"] = measures.export_web(gunicorn, users["admin"], PROJECT)
        except (OSError, RuntimeError) as exc:  # e.g. gunicorn's 30 s worker timeout
            result.figures["m3_web_error"] = f"{type(exc).__name__}: {exc}"[:200]
        out = options.workdir / f"export-{kind}-{documents}.csv"
        result.figures["m3_cli"] = measures.export_cli(out, PROJECT, env)
        if options.upload:
            _say(options, f"[{kind} N={documents}] M1 import (upload)")
            result.figures["m1_upload"] = measures.import_upload(
                gunicorn, users["admin"], corpus, UPLOAD_PROJECT
            )
        _say(options, f"[{kind} N={documents}] M6 team pages of a finished study")
        result.figures["m6_labels"] = _finish_study(app, project_id, options.workdir, env)
        result.figures["m6"] = measures.team_pages(
            gunicorn, users["admin"], project_id, options.page_visits
        )
        result.figures["passages"] = _count_passages(app)
        result.figures["load_after"] = os.getloadavg()[0]
        result.figures["reference_loop_after"] = reference_loop_ms()
        ticks_after = CpuTicks.now()
        if ticks_before is not None and ticks_after is not None:
            result.figures["stolen"] = ticks_after.stolen_share_since(ticks_before)
        with app.app_context():
            get_engine().dispose()
    finally:
        for server in servers:
            server.stop()
        database.drop()
    return result


def _prepare(app: Flask) -> dict[str, Any]:
    """Schema, outlet registry and the benchmark's users (an admin, 4 reviewers, one more
    reviewer for "Next")."""
    from annotator.cli import prepare_database

    password = secrets.token_urlsafe(16)
    with app.app_context():
        prepare_database()
        session = get_session()
        accounts.create_user(session, "bench-admin", password, Role.ADMIN)
        names = [f"bench-reviewer-{i}" for i in range(1, REVIEWERS + 1)] + ["bench-next"]
        for name in names:
            accounts.create_user(session, name, password)
    return {
        "admin": ("bench-admin", password),
        "reviewers": [(name, password) for name in names[:REVIEWERS]],
        "next": ("bench-next", password),
    }


def _finish_study(app: Flask, project_id: int, workdir: Path, env: dict[str, str]) -> Timed:
    """M6's labels, imported as a team would bring them from elsewhere: the file
    (``write_study_labels``) goes through ``annotator import-labels``, timed as M1 is (the
    import refreshes PostgreSQL's statistics itself)."""
    labels = workdir / f"labels-{project_id}.csv"
    write_study_labels(app, project_id, labels)
    imported = measures.import_labels_cli(labels, PROJECT, env)
    labels.unlink()
    return imported


def write_study_labels(app: Flask, project_id: int, path: Path) -> None:
    """A label file: each of FINISHING_REVIEWERS reviewers labels every claim of the first
    FINISHED_DOCUMENTS documents whose id falls to them (LABELS_PER_CLAIM reviewers a claim),
    four times in five as suggested and otherwise the next label."""
    with app.app_context():
        documents = (
            select(Document.id)
            .where(Document.project_id == project_id)
            .order_by(Document.id)
            .limit(FINISHED_DOCUMENTS)
            .subquery()
        )
        claims = (
            get_session()
            .execute(
                select(Document.external_id, Passage.index, Claim.start, Claim.end)
                .add_columns(Claim.id, Claim.suggested_label)
                .join(Passage, Passage.document_id == Document.id)
                .join(Claim, Claim.passage_id == Passage.id)
                .where(Document.id.in_(select(documents.c.id)))
                .order_by(Document.id, Passage.index, Claim.index)
            )
            .all()
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_FILE_COLUMNS)
        for number in range(FINISHING_REVIEWERS):
            reviewer = f"bench-finisher-{number + 1}"
            for document, passage, start, end, claim_id, suggested in claims:
                if (claim_id + number) % FINISHING_REVIEWERS < LABELS_PER_CLAIM:
                    label = (
                        _NEXT_LABEL[suggested] if (claim_id * 7 + number) % 5 == 0 else suggested
                    )
                    writer.writerow([document, passage, start, end, reviewer, label])


LABEL_FILE_COLUMNS = (
    "document_id",
    "passage_index",
    "claim_start",
    "claim_end",
    "reviewer",
    "label",
)
_NEXT_LABEL = {"reported": "quoted", "quoted": "editorial", "editorial": "reported"}


def _open_project(app: Flask) -> int:
    with app.app_context():
        session = get_session()
        session.execute(update(Project).where(Project.name == PROJECT).values(open_to_all=True))
        session.commit()
        project_id = session.scalar(select(Project.id).where(Project.name == PROJECT))
        if project_id is None:
            raise RuntimeError("the benchmark project was not created")
        return project_id


def _count_passages(app: Flask) -> int:
    with app.app_context():
        session = get_session()
        project_id = select(Project.id).where(Project.name == PROJECT).scalar_subquery()
        count = session.scalar(
            select(func.count(Passage.id)).where(Passage.project_id == project_id)
        )
        return int(count or 0)


def _say(options: Options, message: str) -> None:
    print(message, file=options.log, flush=True)
