"""New versions and reanalyses, whole commands: ``python -m annotator.bench.versions CORPUS``.

Into a fresh database, SQLite or PostgreSQL: the corpus is imported (``annotator import``)
and its claims labelled by three reviewers each (M6's label file, ``annotator
import-labels``). Then, each timed as a whole process with its peak RSS:

- *reanalyse, nothing to change*: ``annotator reanalyse``;
- *import --reanalyse, nothing to change*: the corpus again with ``--reanalyse``;
- *reanalyse, outlets cleared*: every passage's outlet cleared in the database first, so
  that every document that cites one comes out different and is stored as a new version,
  its labels carried;
- *import, every text changed*: the corpus with a line added to every text, so that every
  document is stored as a new version;
- *background run, outlets cleared*: the outlets cleared again and the run the project page
  starts (``reanalysis_runs.start`` and ``launch``), from this process as a web worker would,
  timed until its row says it finished; with this process's RSS before and after, which the
  run, in a process of its own, must leave as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from annotator import create_app
from annotator.bench.machine import processor, reference_loop_ms
from annotator.bench.measures import import_cli, import_labels_cli
from annotator.bench.run import write_study_labels
from annotator.bench.servers import Database, add_database_options, rss_mb, run_measured, tool
from annotator.db import get_engine, get_session
from annotator.models import Passage, Project, RunState, User
from annotator.services import reanalysis_runs

PROJECT = "bench-versions"
ADDED_LINE = "A closing line from the editors."
STEPS = (
    "reanalyse, nothing to change",
    "import --reanalyse, nothing to change",
    "reanalyse, outlets cleared",
    "import, every text changed",
    "background run, outlets cleared",
)


def measure(corpus: Path, kind: str, workdir: Path, pg_server: str) -> dict[str, Any]:
    """The figures of one database (see the module): per step, seconds, peak RSS in MiB and
    the documents stored as new versions; and the labels the documents carried."""
    database = Database(kind, workdir, pg_server)
    env = {**os.environ, "DATABASE_URL": database.url, "SECRET_KEY": secrets.token_hex(16)}
    app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": env["SECRET_KEY"]})
    try:
        with app.app_context():
            from annotator.cli import prepare_database

            prepare_database()
        import_cli(corpus, PROJECT, env)
        labels_file = workdir / "versions-labels.csv"
        with app.app_context():
            project_id = (
                get_session().scalars(select(Project.id).where(Project.name == PROJECT)).one()
            )
        write_study_labels(app, project_id, labels_file)
        labels = import_labels_cli(labels_file, PROJECT, env).items
        labels_file.unlink()
        changed = workdir / "versions-changed.jsonl"
        _write_changed(corpus, changed)
        figures = {
            STEPS[0]: _timed(["reanalyse", "--project", PROJECT], env),
            STEPS[1]: _timed(["import", str(corpus), "--project", PROJECT, "--reanalyse"], env),
        }
        with app.app_context():
            session = get_session()
            session.execute(update(Passage).values(outlet_id=None))
            session.commit()
        figures[STEPS[2]] = _timed(["reanalyse", "--project", PROJECT], env)
        figures[STEPS[3]] = _timed(["import", str(changed), "--project", PROJECT], env)
        changed.unlink()
        with app.app_context():
            figures[STEPS[4]] = _background_run(get_session(), database.url)
        return {"labels": labels, "steps": figures}
    finally:
        with app.app_context():
            get_engine().dispose()
        database.drop()


def _background_run(session: Session, database_url: str) -> dict[str, Any]:
    session.execute(update(Passage).values(outlet_id=None))
    session.commit()
    project = session.scalars(select(Project).where(Project.name == PROJECT)).one()
    someone = session.scalars(select(User).limit(1)).one()
    before = rss_mb(os.getpid())
    start = time.perf_counter()
    run_id = reanalysis_runs.start(session, project, someone, preview=False)
    reanalysis_runs.launch(database_url, run_id).wait()
    seconds = time.perf_counter() - start
    status = reanalysis_runs.latest(session, project)
    if status is None or status.state != RunState.FINISHED:
        raise RuntimeError(f"the background run did not finish: {status}")
    return {
        "seconds": seconds,
        "rss_mib": None,
        "new_versions": new_versions(status.summary),
        "launcher_rss_mib": (before, rss_mb(os.getpid())),
    }


def _write_changed(corpus: Path, out: Path) -> None:
    with corpus.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for line in source:
            if line.strip():
                document = json.loads(line)
                document["text"] += f"\n\n{ADDED_LINE}"
                target.write(json.dumps(document) + "\n")


def _timed(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    seconds, rss, out = run_measured([tool("annotator"), *args], env)
    return {"seconds": seconds, "rss_mib": rss, "new_versions": new_versions(out)}


def new_versions(summary: str) -> int:
    """Documents an import's or a reanalysis's summary says it stored as new versions."""
    found = re.findall(
        r"([\d,]+) (?:updated to a new version|(?:documents? )?analysed again with a new result)",
        summary,
    )
    if not found:
        raise RuntimeError(f"unexpected summary: {summary!r}")
    return sum(int(number.replace(",", "")) for number in found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m annotator.bench.versions", description=__doc__)
    parser.add_argument("corpus", type=Path, help="a JSONL corpus (make_corpus.py)")
    add_database_options(parser)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="annotator-bench-versions-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {processor()}; reference loop {reference_loop_ms():.0f} ms")
    for kind in args.databases:
        measured = measure(args.corpus, kind, workdir, args.pg_server)
        print(f"{kind}: {measured['labels']:,} labels")
        for step, figures in measured["steps"].items():
            rss = figures["rss_mib"]
            print(
                f"  {step:<40} {figures['seconds']:>7.2f} s "
                + (f"{rss:>6.0f} MiB" if rss is not None else " " * 10)
                + f" {figures['new_versions']:>7,} new versions",
                flush=True,
            )
            if "launcher_rss_mib" in figures:
                before, after = figures["launcher_rss_mib"]
                print(f"    the starting process's RSS: {before:.0f} MiB before, {after:.0f} after")


if __name__ == "__main__":
    main()
