"""Records -> passage drafts (segmentation, attribution, suggested labels), in this process or
spread over worker processes.

The analysis is pure Python and most of an import's CPU (44% of a command-line import of
1,000 documents), while storing needs the database connection of the importing process. With
``processes`` > 1 the workers analyse the next records while this process stores the ones
before (docs/benchmarks.md, round 6). The drafts are the same either way, in the same order.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import Any

from annotator.services.records import DocumentRecord
from annotator.services.storing import drafts_from_record
from annotator.text.outlets import OutletRegistry
from annotator.text.pipeline import ClaimDraft, PassageDraft, analyse_document

Drafts = list[PassageDraft]
# A PassageDraft as plain values, its claims as (start, end, label, reason)
Packed = tuple[int, str, str, str | None, str | None, int | None, int | None, tuple[Any, ...]]

# Records per task sent to a worker: small enough that the first ones come back soon, large
# enough that sending them costs little next to analysing them.
RECORDS_PER_TASK = 25
# Tasks queued per worker beyond the next batch: keeps the workers busy without holding the
# drafts of a whole file.
TASKS_AHEAD_PER_PROCESS = 4
# Fewer records than this are analysed in this process: starting workers would cost more.
MIN_RECORDS_FOR_PROCESSES = 2 * RECORDS_PER_TASK


class WorkerLost(RuntimeError):
    """A worker process stopped before it finished (killed, out of memory...)."""


def drafts_for(record: DocumentRecord, registry: OutletRegistry) -> Drafts:
    """The record's passages: as given (our own JSONL export) or found by analysing its text."""
    if record.passages is not None:
        return drafts_from_record(record.passages)
    return analyse_document(record.title, record.text, registry)


def drafts_by_batch(
    batches: Sequence[Sequence[DocumentRecord]], registry: OutletRegistry, processes: int = 1
) -> Generator[list[Drafts], None, None]:
    """The drafts of each batch of records, batch by batch, analysed by ``processes`` worker
    processes (1: here). An error in the analysis is raised here, as it would be without
    workers; a worker that stops raises WorkerLost."""
    records = sum(len(batch) for batch in batches)
    if processes <= 1 or records < MIN_RECORDS_FOR_PROCESSES:
        for batch in batches:
            yield [drafts_for(record, registry) for record in batch]
        return
    pool = ProcessPoolExecutor(
        processes,
        mp_context=_start_method(),
        initializer=_use_registry,
        initargs=(registry,),
    )
    try:
        tasks = (
            list(batch[i : i + RECORDS_PER_TASK])
            for batch in batches
            for i in range(0, len(batch), RECORDS_PER_TASK)
        )
        drafts = _results_in_order(pool, tasks, _tasks_ahead(batches, processes))
        for batch in batches:
            yield list(islice(drafts, len(batch)))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _tasks_ahead(batches: Sequence[Sequence[DocumentRecord]], processes: int) -> int:
    """Enough tasks queued for the workers to analyse a whole batch while this process stores
    the one before: with fewer, they stopped partway through it and waited for the storing
    (PostgreSQL, N=1000: 2.4 s -> 2.2 s, docs/benchmarks.md, round 7)."""
    largest = max(len(batch) for batch in batches)
    return -(-largest // RECORDS_PER_TASK) + processes * TASKS_AHEAD_PER_PROCESS


def _results_in_order(
    pool: ProcessPoolExecutor, tasks: Iterator[list[DocumentRecord]], ahead: int
) -> Iterator[Drafts]:
    """Each record's drafts in the order of the tasks, with at most ``ahead`` tasks queued."""
    pending: deque[Future[list[list[Packed]]]] = deque(
        pool.submit(_analyse_task, task) for task in islice(tasks, ahead)
    )
    while pending:
        try:
            done = pending.popleft().result()
        except BrokenProcessPool as exc:
            raise WorkerLost(
                "A process analysing the texts stopped before it finished (killed, or out of "
                "memory?), so the documents it was analysing were not stored (of a file being "
                "imported, none was). --processes 1 analyses in the command's own process."
            ) from exc
        for task in islice(tasks, 1):
            pending.append(pool.submit(_analyse_task, task))
        for packed in done:
            yield [_unpacked(passage) for passage in packed]


def _start_method() -> multiprocessing.context.BaseContext:
    # fork starts a worker in milliseconds with every module already imported; spawn (the
    # default where fork is unsafe, as on macOS) imports the package in each worker.
    return multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


_registry: OutletRegistry | None = None


def _use_registry(registry: OutletRegistry) -> None:
    """Run in each worker as it starts: the registry its tasks use."""
    global _registry
    _registry = registry


def _analyse_task(records: list[DocumentRecord]) -> list[list[Packed]]:
    if _registry is None:
        raise RuntimeError("the worker was started without the outlet registry")
    registry = _registry
    return [[_packed(draft) for draft in drafts_for(record, registry)] for record in records]


# The drafts cross between processes as plain tuples: unpickling the dataclasses took this
# process as long as storing them (docs/benchmarks.md, round 6).
def _packed(draft: PassageDraft) -> Packed:
    claims = tuple((claim.start, claim.end, claim.label, claim.reason) for claim in draft.claims)
    return (
        draft.index,
        draft.text,
        draft.role,
        draft.outlet,
        draft.cue,
        draft.cue_start,
        draft.cue_end,
        claims,
    )


def _unpacked(packed: Packed) -> PassageDraft:
    index, text, role, outlet, cue, cue_start, cue_end, claims = packed
    drafts = tuple(ClaimDraft(*claim) for claim in claims)
    return PassageDraft(index, text, role, outlet, cue, cue_start, cue_end, drafts)
