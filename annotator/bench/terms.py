"""How long the loaded terms take: ``python -m annotator.bench.terms CORPUS.jsonl...``.

Each corpus is imported (``annotator import``) into a fresh database, SQLite or PostgreSQL,
whose project watches the default list of loaded terms. Then, in this process:

- *find*: the first loaded terms report after a change, which reads every passage's text
  and finds the terms in it (``term_hits``), the report's own reads included;
- *kept*: the same report again, with the terms found kept;
- *scoped*: the report of one citing site, with the terms kept;
- *one passage*: finding the terms in one passage, as the annotation page does (mean of
  all passages).

Each figure is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator import create_app
from annotator.bench.machine import processor, reference_loop_ms
from annotator.bench.measures import import_cli
from annotator.bench.servers import Database, add_database_options
from annotator.db import get_session
from annotator.models import Document, Passage, Project
from annotator.services import term_hits, term_report
from annotator.services.reports import Basis
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope
from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS, find_terms, parse_terms

PROJECT = "bench-terms"


def _median_seconds(work: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def measure(corpus: Path, kind: str, workdir: Path, pg_server: str, repeats: int) -> dict[str, Any]:
    database = Database(kind, workdir, pg_server)
    try:
        env = {**os.environ, "DATABASE_URL": database.url, "SECRET_KEY": secrets.token_hex(16)}
        app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": env["SECRET_KEY"]})
        with app.app_context():
            from annotator.cli import prepare_database

            prepare_database()
        import_cli(corpus, PROJECT, env)
        with app.app_context():
            return figures(get_session(), repeats)
    finally:
        database.drop()


def figures(session: Session, repeats: int) -> dict[str, Any]:
    """The figures of the project ``PROJECT`` (see the module)."""
    project = session.scalars(select(Project).where(Project.name == PROJECT)).one()
    project.loaded_terms = DEFAULT_LOADED_TERMS
    session.commit()
    site = session.scalar(select(Document.site).where(Document.project_id == project.id))
    scope = DocumentScope(site=site)

    def report(chosen: DocumentScope = EVERY_DOCUMENT) -> object:
        result = term_report.term_report(session, project, Basis.SETTLED_OR_MAJORITY, chosen)
        session.commit()
        return result

    def cold() -> object:
        term_hits.forget_hits()
        return report()

    texts = session.scalars(select(Passage.text).where(Passage.project_id == project.id)).all()
    terms = parse_terms(DEFAULT_LOADED_TERMS)
    started = time.perf_counter()
    holding = sum(1 for text in texts if find_terms(text, terms))
    one_passage_us = (time.perf_counter() - started) / len(texts) * 1e6
    report()
    return {
        "passages": len(texts),
        "passages_with_terms": holding,
        "find_s": _median_seconds(cold, repeats),
        "kept_s": _median_seconds(report, repeats),
        "scoped_s": _median_seconds(lambda: report(scope), repeats) if site else None,
        "one_passage_us": one_passage_us,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m annotator.bench.terms", description=__doc__)
    parser.add_argument("corpus", type=Path, nargs="+", help="JSONL corpora (make_corpus.py)")
    add_database_options(parser)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="annotator-bench-terms-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {processor()}; reference loop {reference_loop_ms():.0f} ms")
    print("database    passages  with terms  find s  kept s  scoped s  one passage µs")
    for corpus in args.corpus:
        for kind in args.databases:
            f = measure(corpus, kind, workdir, args.pg_server, args.repeats)
            scoped = "—" if f["scoped_s"] is None else f"{f['scoped_s']:.2f}"
            print(
                f"{kind:<10} {f['passages']:>9,} {f['passages_with_terms']:>11,}"
                f" {f['find_s']:>7.2f} {f['kept_s']:>7.2f} {scoped:>9}"
                f" {f['one_passage_us']:>15.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
