"""Imports with worker processes analysing the texts (``annotator import --processes``) draft
and store exactly what an import without them does, in the same order, and fail as whole."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from annotator.models import Document, Passage, Project
from annotator.services import drafting, importing
from annotator.services.importing import import_files, reanalyse_project
from annotator.services.readers import read_records
from annotator.text.outlets import default_registry
from tests.conftest import SHARED
from tests.helpers import counts
from tests.integration.test_import_copy import _stored

DOCUMENTS = 2 * drafting.MIN_RECORDS_FOR_PROCESSES + 7  # several tasks, the last one short


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes]:
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    subprocess.run(
        [sys.executable, str(SHARED / "bench" / "make_corpus.py"), str(DOCUMENTS), str(path)],
        check=True,
    )
    return path.name, path.read_bytes()


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The worker pools started while the test runs."""
    started: list[Any] = []

    class CountedPool(drafting.ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.submitted = 0
            self.shut_down = False
            started.append(self)

        def submit(self, *args: Any, **kwargs: Any) -> Any:
            self.submitted += 1
            return super().submit(*args, **kwargs)

        def shutdown(self, *args: Any, **kwargs: Any) -> None:
            self.shut_down = True
            super().shutdown(*args, **kwargs)

    monkeypatch.setattr(drafting, "ProcessPoolExecutor", CountedPool)
    return started


def _batches(records: list[Any], size: int) -> list[list[Any]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def test_workers_draft_what_the_importing_process_drafts(corpus, pools):
    article = SHARED / "corpus" / "seed-article.txt"
    records = [*read_records(*corpus), *read_records(article.name, article.read_bytes())]
    batches = _batches(records, 40)
    registry = default_registry()
    here = list(drafting.drafts_by_batch(batches, registry, processes=1))
    assert not pools
    in_workers = list(drafting.drafts_by_batch(batches, registry, processes=2))
    assert len(pools) == 1
    assert in_workers == here
    assert [len(batch) for batch in in_workers] == [len(batch) for batch in batches]
    assert sum(len(drafts) for batch in here for drafts in batch) > DOCUMENTS * 10


def test_the_workers_analyse_the_next_batch_while_one_is_stored(corpus, pools, monkeypatch):
    """Once a batch's drafts are handed over, the tasks of the whole next batch are with the
    workers, so that they keep analysing while the importing process stores."""
    monkeypatch.setattr(drafting, "RECORDS_PER_TASK", 2)
    records = read_records(*corpus)
    batches = _batches(records, 40)  # 20 tasks a batch, more than the workers' queue alone
    drafts = drafting.drafts_by_batch(batches, default_registry(), processes=2)
    first = next(drafts)
    submitted = pools[0].submitted
    drafts.close()
    assert len(first) == 40
    assert submitted >= 2 * 20


def test_a_few_records_are_drafted_without_workers(corpus, pools):
    records = read_records(*corpus)[: drafting.MIN_RECORDS_FOR_PROCESSES - 1]
    drafted = list(drafting.drafts_by_batch([records], default_registry(), processes=4))
    assert not pools
    assert len(drafted[0]) == len(records)


def test_an_import_with_workers_stores_what_one_without_stores(session, corpus, pools):
    with_workers = import_files(session, [corpus], "with workers", processes=2)
    without = import_files(session, [corpus], "without", processes=1)
    assert len(pools) == 1
    assert not with_workers.failed
    assert with_workers.summary() == without.summary()
    assert len(with_workers.imported) == DOCUMENTS
    assert _stored(session, "with workers") == _stored(session, "without")


def _imported_without_outlets(session: Any, corpus: tuple[str, bytes], project: str) -> Project:
    """The corpus imported, then every passage's outlet forgotten (as if the outlets had been
    added after the import), so that analysing it again stores new versions."""
    import_files(session, [corpus], project, processes=1)
    found = session.scalar(select(Project).where(Project.name == project))
    session.execute(update(Passage).where(Passage.project_id == found.id).values(outlet_id=None))
    session.commit()
    return found


def test_a_reanalysis_with_workers_stores_what_one_without_stores(session, corpus, pools):
    with_workers = _imported_without_outlets(session, corpus, "with workers")
    without = _imported_without_outlets(session, corpus, "without")
    done = reanalyse_project(session, with_workers, processes=2)
    assert len(pools) == 1
    assert pools[0].submitted == -(-DOCUMENTS // drafting.RECORDS_PER_TASK)
    assert done.summary() == reanalyse_project(session, without, processes=1).summary()
    assert len(pools) == 1
    assert len(done.report.reanalysed) > DOCUMENTS // 2
    assert _stored(session, "with workers") == _stored(session, "without")


def test_a_reanalysis_that_fails_stops_its_workers_at_once(session, corpus, pools, monkeypatch):
    project = _imported_without_outlets(session, corpus, "failing")

    def failing(*args: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(importing, "_reanalyse_batch", failing)
    with pytest.raises(RuntimeError, match="went away") as caught:
        reanalyse_project(session, project, processes=2)
    assert caught.traceback, "the traceback, which holds the failed call's frames, is kept"
    assert pools[0].shut_down


def test_the_reanalyse_command_takes_a_number_of_processes(runner, session, corpus, pools):
    _imported_without_outlets(session, corpus, "cli")
    result = runner.invoke(args=["reanalyse", "--project", "cli", "--processes", "2"])
    assert result.exit_code == 0, result.output
    assert len(pools) == 1
    assert "analysed again with a new result," in result.output
    refused = runner.invoke(args=["reanalyse", "--project", "cli", "--processes", "0"])
    assert refused.exit_code == 2
    assert "--processes" in refused.output


def test_an_analysis_error_in_a_worker_fails_the_file_and_stores_nothing(
    session, corpus, pools, monkeypatch
):
    """Workers are forked from the test's process, so they analyse with the patched code."""
    real = drafting.analyse_document
    last_title = read_records(*corpus)[-1].title

    def failing_on_the_last(title: Any, text: str, registry: Any) -> Any:
        if title == last_title:
            raise ValueError("analysis failed")
        return real(title, text, registry)

    monkeypatch.setattr(drafting, "analyse_document", failing_on_the_last)
    before = counts(session)
    with pytest.raises(ValueError, match="analysis failed"):
        import_files(session, [corpus], "broken", processes=2)
    assert len(pools) == 1
    assert counts(session) == before
    assert session.scalar(select(Document.id).join(Project).where(Project.name == "broken")) is None


def test_the_import_command_takes_a_number_of_processes(runner, session, corpus, tmp_path: Path):
    name, data = corpus
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(args=["import", str(path), "--project", "cli", "--processes", "2"])
    assert result.exit_code == 0, result.output
    assert f"{DOCUMENTS} imported" in result.output
    refused = runner.invoke(args=["import", str(path), "--project", "cli", "--processes", "0"])
    assert refused.exit_code == 2
    assert "--processes" in refused.output


def test_a_worker_that_dies_fails_the_import_with_a_clear_message(
    runner, session, corpus, tmp_path: Path, monkeypatch
):
    real = drafting.analyse_document
    last_title = read_records(*corpus)[-1].title

    def dying_on_the_last(title: Any, text: str, registry: Any) -> Any:
        if title == last_title:
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return real(title, text, registry)

    monkeypatch.setattr(drafting, "analyse_document", dying_on_the_last)
    name, data = corpus
    path = tmp_path / name
    path.write_bytes(data)
    before = counts(session)
    result = runner.invoke(args=["import", str(path), "--project", "dying", "--processes", "2"])
    assert result.exit_code == 1
    assert "stopped before it finished" in result.output
    assert "--processes 1" in result.output
    assert counts(session) == before


def test_workers_started_by_spawn_draft_the_same(corpus, pools, monkeypatch):
    """Where fork is not used (macOS, Windows) the workers are spawned: the registry and the
    records are pickled to them and the package is imported afresh."""
    monkeypatch.setattr(drafting, "_start_method", lambda: multiprocessing.get_context("spawn"))
    records = read_records(*corpus)
    batches = _batches(records, 40)
    registry = default_registry()
    spawned = list(drafting.drafts_by_batch(batches, registry, processes=2))
    assert len(pools) == 1
    assert spawned == list(drafting.drafts_by_batch(batches, registry, processes=1))
