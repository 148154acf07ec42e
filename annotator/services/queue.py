"""The review queue: which passage a reviewer gets next, and reservations.

A passage needs ``project.overlap`` completed reviews. "Next" keeps a reviewer in document
order inside the document they are working on, and otherwise sends them to the open document
that the fewest reviewers have started, so a team spreads across documents. A served passage
is reserved for the reviewer for a while; active reservations of others count against the
overlap, expired ones do not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    ScalarSelect,
    Update,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from annotator.db import begin_write, in_chunks, retrying_deadlocks, table_of
from annotator.models import Document, Passage, Project, Review, ReviewStatus, User, utcnow

NEW_DOCUMENTS_PER_LOOK = 20
# "Save and next" and "Next" run the statements below on every request; built on the tables,
# once (building a statement costs SQLAlchemy more than running it), and run on the session's
# connection, which spares them the ORM's execution (nothing they touch waits unflushed in
# the session).
_PASSAGES = table_of(Passage)
_REVIEWS = table_of(Review)
_DOCUMENTS = table_of(Document)


def next_passage(
    session: Session,
    user: User,
    project: Project,
    reservation: timedelta,
    *,
    current_document: int | None = None,
) -> int | None:
    """Reserve the next passage for the user in a transaction of its own and return its id,
    or None when nothing is left. The reservation locks the passage before the user's review
    of it, the other way round from a save and from a new version of the document, which
    lock reviews before passages; PostgreSQL breaks such a deadlock by ending one of them,
    and the reservation is then made again. "Nothing left" is checked in a transaction of
    its own: a look that waited for a new version of a document to commit finds the old
    passages gone and cannot see the new ones (a statement sees the data as of its start)."""

    def reserve() -> int | None:
        begin_write(session)
        passage_id = reserve_next(
            session, user, project, reservation, current_document=current_document
        )
        session.commit()
        return passage_id

    reserved = retrying_deadlocks(session, reserve)
    return reserved if reserved is not None else retrying_deadlocks(session, reserve)


def reserve_next(
    session: Session,
    user: User,
    project: Project,
    reservation: timedelta,
    *,
    current_document: int | None = None,
) -> int | None:
    """``next_passage`` inside the caller's write transaction (which the caller commits).
    ``current_document``: the document the user is known to be working on (the one of the
    passage just saved), so that it need not be looked up."""
    now = utcnow()
    current = current_document or _current_document(session, user, project)
    for document_id in _documents_to_try(session, user, project, current):
        passage_id = _open_passage_in(session, user, project, document_id, now)
        if passage_id is None:
            continue
        first_start = document_id != current and not _started(session, user, document_id)
        passage = (passage_id, document_id)
        if not _reserve_if_room(session, user, project, passage, now, now + reservation):
            continue
        if first_start:
            _add_document_start(session, document_id)
        return passage_id
    return None


def _documents_to_try(
    session: Session, user: User, project: Project, current: int | None
) -> Iterator[int]:
    """The document the user is working on, then unstarted documents (fewest reviewers first),
    then documents the user started and left. Lazily: each list is only queried when the
    ones before it had no room, which is rare."""
    groups: tuple[Callable[[], list[int]], ...] = (
        lambda: [current] if current is not None else [],
        lambda: _unstarted_documents(session, user, project),
        lambda: _started_documents(session, user, project),
    )
    seen: set[int] = set()
    for group in groups:
        for document_id in group():
            if document_id not in seen:
                seen.add(document_id)
                yield document_id


def _current_document(session: Session, user: User, project: Project) -> int | None:
    return session.scalar(
        select(Review.document_id)
        .join(Document, Document.id == Review.document_id)
        .where(Review.user_id == user.id, Document.project_id == project.id)
        .order_by(Review.updated_at.desc())
        .limit(1)
    )


def _unstarted_documents(session: Session, user: User, project: Project) -> list[int]:
    started = exists().where(Review.user_id == user.id, Review.document_id == Document.id)
    return list(
        session.scalars(
            select(Document.id)
            .where(Document.project_id == project.id, Document.open_passages > 0, ~started)
            .order_by(Document.started_by, Document.id)
            .limit(NEW_DOCUMENTS_PER_LOOK)
        )
    )


def _started_documents(session: Session, user: User, project: Project) -> list[int]:
    """Driven from the user's own reviews: as ``documents.id IN (subquery)`` SQLite walked
    every document of the project (3.9x slower "Next" at 290,000 passages)."""
    started = select(Review.document_id).where(Review.user_id == user.id).distinct().subquery()
    return list(
        session.scalars(
            select(Document.id)
            .join(started, started.c.document_id == Document.id)
            .where(Document.project_id == project.id, Document.open_passages > 0)
            .order_by(Document.id)
        )
    )


def _others_reserving(passage_column: Any) -> ScalarSelect[int]:
    """Active reservations of the passage by others (parameters ``user_id`` and ``now``)."""
    return (
        select(func.count(_REVIEWS.c.id))
        .where(
            _REVIEWS.c.passage_id == passage_column,
            _REVIEWS.c.status == ReviewStatus.RESERVED,
            _REVIEWS.c.reserved_until > bindparam("now"),
            _REVIEWS.c.user_id != bindparam("user_id"),
        )
        .scalar_subquery()
    )


# Whether the user completed or skipped the passage, as a count rather than NOT EXISTS:
# PostgreSQL turned NOT EXISTS into an anti-join against all of the user's reviews, whose cost
# grew with the work the reviewer had done; a count is one probe of (passage_id, user_id).
_USER_FINISHED = (
    select(func.count(_REVIEWS.c.id))
    .where(
        _REVIEWS.c.passage_id == _PASSAGES.c.id,
        _REVIEWS.c.user_id == bindparam("user_id"),
        _REVIEWS.c.status != ReviewStatus.RESERVED,
    )
    .scalar_subquery()
)
_OPEN_PASSAGE = (
    select(_PASSAGES.c.id)
    .where(
        _PASSAGES.c.document_id == bindparam("document_id"),
        _PASSAGES.c.claim_count > 0,
        _PASSAGES.c.completed_count < bindparam("overlap"),
        _USER_FINISHED == 0,
        _PASSAGES.c.completed_count + _others_reserving(_PASSAGES.c.id) < bindparam("overlap"),
    )
    .order_by(_PASSAGES.c.index)
    .limit(1)
)
# Locks the passage it finds on PostgreSQL (another reviewer may be about to reserve it; see
# ``_reserve_if_room``). SQLite has no row locks: there the transaction has held the
# database's write lock (BEGIN IMMEDIATE) since before this look.
_OPEN_PASSAGE_LOCKED = _OPEN_PASSAGE.with_for_update(of=_PASSAGES)


def _open_passage_in(
    session: Session, user: User, project: Project, document_id: int, now: datetime
) -> int | None:
    """First passage (by index) of the document that still has room and that the user has
    neither completed nor skipped."""
    params = {"document_id": document_id, "overlap": project.overlap, "user_id": user.id}
    return session.connection().scalar(_OPEN_PASSAGE_LOCKED, {**params, "now": now})


def _reserve_if_room(
    session: Session,
    user: User,
    project: Project,
    passage: tuple[int, int],
    now: datetime,
    until: datetime,
) -> bool:
    """Reserve the passage for the user if it still has room: a new review, or the user's
    expired reservation renewed (``_open_passage_in`` never offers a passage the user
    completed or skipped). ``passage``: its id and its document's. The room is counted by
    this statement, after ``_open_passage_in`` locked the passage: a statement sees the data
    as of its start, so a count in the locking query could miss the reservation it waited
    for."""
    passage_id, document_id = passage
    params = {
        "passage": passage_id,
        "document": document_id,
        "project": project.id,
        "user_id": user.id,
        "overlap": project.overlap,
        "until": until,
        "now": now,
    }
    upsert = _RESERVE_IF_ROOM[session.get_bind().dialect.name]
    return session.connection().scalar(upsert, params) is not None


def _reserve_if_room_statement(insert: Any) -> Any:
    """INSERT .. SELECT of the reservation, whose SELECT has a row only while the passage has
    room; the upsert renews the user's expired reservation. Returns the review's id, or no
    row when there was no room."""
    reserved = {
        "status": ReviewStatus.RESERVED,
        "reserved_until": bindparam("until", type_=Review.reserved_until.type),
        "updated_at": bindparam("now", type_=Review.updated_at.type),
    }
    completed = select(_PASSAGES.c.completed_count).where(_PASSAGES.c.id == bindparam("passage"))
    others = _others_reserving(bindparam("passage"))
    room = completed.scalar_subquery() + others < bindparam("overlap")
    row: dict[str, Any] = {
        "passage_id": bindparam("passage", type_=Integer),
        "document_id": bindparam("document", type_=Integer),
        "project_id": bindparam("project", type_=Integer),
        "user_id": bindparam("user_id", type_=Integer),
        "status": literal(ReviewStatus.RESERVED.value),
        "reason": literal(""),
        "reserved_until": reserved["reserved_until"],
        "updated_at": reserved["updated_at"],
    }
    return (
        insert(_REVIEWS)
        .from_select(list(row), select(*row.values()).where(room))
        .on_conflict_do_update(index_elements=["passage_id", "user_id"], set_=reserved)
        .returning(_REVIEWS.c.id)
    )


_RESERVE_IF_ROOM = {
    "sqlite": _reserve_if_room_statement(sqlite_insert),
    "postgresql": _reserve_if_room_statement(postgresql_insert),
}


def _started(session: Session, user: User, document_id: int) -> bool:
    """Whether the user has a review in the document (reserved, completed or skipped)."""
    return bool(
        session.scalar(
            select(exists().where(Review.user_id == user.id, Review.document_id == document_id))
        )
    )


_ADD_DOCUMENT_STARTS = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .values(started_by=_DOCUMENTS.c.started_by + bindparam("delta"))
)


def _add_document_start(session: Session, document_id: int) -> None:
    session.connection().execute(_ADD_DOCUMENT_STARTS, {"document": document_id, "delta": 1})


def _count_document_start(session: Session, user: User, document_id: int) -> None:
    if not _started(session, user, document_id):
        _add_document_start(session, document_id)


_THIS_REVIEW = (
    _REVIEWS.c.passage_id == bindparam("passage"),
    _REVIEWS.c.user_id == bindparam("reviewer"),
)
_COMPLETED_NOW: dict[str, Any] = {
    "status": ReviewStatus.COMPLETED,
    "reserved_until": None,
    "updated_at": bindparam("now", type_=Review.updated_at.type),
}
_COMPLETE_REVIEW = (
    update(_REVIEWS)
    .where(*_THIS_REVIEW, _REVIEWS.c.status != ReviewStatus.COMPLETED)
    .values(_COMPLETED_NOW)
    .returning(_REVIEWS.c.id)
)
_COMPLETE_REVIEWS = update(_REVIEWS).where(*_THIS_REVIEW).values(_COMPLETED_NOW)
_REVIEW_OF = select(_REVIEWS.c.id).where(*_THIS_REVIEW)


def _add_completed_review_statement(insert: Any) -> Any:
    """A completed review, unless the reviewer has a review of the passage already (one
    that a save wrote meanwhile, say); returns the pair when the review was written."""
    return (
        insert(_REVIEWS)
        .values(
            passage_id=bindparam("passage", type_=Integer),
            document_id=bindparam("document", type_=Integer),
            project_id=bindparam("project", type_=Integer),
            user_id=bindparam("reviewer", type_=Integer),
            status=ReviewStatus.COMPLETED,
            updated_at=bindparam("now", type_=Review.updated_at.type),
        )
        .on_conflict_do_nothing(index_elements=["passage_id", "user_id"])
        .returning(_REVIEWS.c.passage_id, _REVIEWS.c.user_id)
    )


_ADD_COMPLETED_REVIEW = {
    "sqlite": _add_completed_review_statement(sqlite_insert),
    "postgresql": _add_completed_review_statement(postgresql_insert),
}


class ClaimsChanged(Exception):
    """The passage no longer has the number of claims its completion was judged on: a
    curator's claim edit committed meanwhile. The transaction is to be rolled back."""


def record_completion(session: Session, user: User, passage: Passage, claims: int) -> None:
    """Mark the user's review completed and keep the passage/document counters in step. A
    passage completed without having been served gets its review written at once, on the
    table (the ORM would flush it alone). ``claims``: how many claims the user's labels
    were found to cover. The passage's counter is raised only while it has that many: the
    statement waits for a claim edit in progress and sees one committed since the claims
    were read, so raises ClaimsChanged rather than complete a passage that gained a claim."""
    connection = session.connection()
    params = {"passage": passage.id, "reviewer": user.id, "now": utcnow()}
    completed_now = connection.scalar(_COMPLETE_REVIEW, params)
    if completed_now is None:  # completed before, or never served
        if connection.scalar(_REVIEW_OF, params) is not None:
            return
        started = _started(session, user, passage.document_id)
        where = {"document": passage.document_id, "project": passage.project_id}
        insert_ = _ADD_COMPLETED_REVIEW[session.get_bind().dialect.name]
        if connection.execute(insert_, {**params, **where}).first() is None:
            return  # written meanwhile by another transaction, which counted it
        if not started:
            _add_document_start(session, passage.document_id)
    _change_completed_count(session, passage, +1, claims=claims)


def withdraw_completion(session: Session, user: User, passage: Passage) -> None:
    """Undo of a tag that had completed the passage: back to reserved."""
    review = session.scalar(
        select(Review).where(Review.passage_id == passage.id, Review.user_id == user.id)
    )
    if review is None or review.status != ReviewStatus.COMPLETED:
        return
    review.status = ReviewStatus.RESERVED
    review.reserved_until = utcnow()
    review.updated_at = utcnow()
    _change_completed_count(session, passage, -1)


def record_completions(
    session: Session, project: Project, pairs: Collection[tuple[int, int]]
) -> None:
    """``record_completion`` for many pairs of passage id and reviewer id in the project at
    once, for a label import: each kind of change is one statement for all the pairs, where
    pair by pair 76,000 completions took 45 s to 2 minutes (docs/benchmarks.md, round 17).
    Pairs already completed are left as they are. Rows are locked in the order a save locks
    them (reviews, then passages), so a save meanwhile is waited for and not counted twice."""
    reviews = _reviews_for_update(session, project, {user_id for _, user_id in pairs})
    completed = {
        pair for pair, review in reviews.items() if review.status == ReviewStatus.COMPLETED
    }
    newly = sorted(set(pairs) - completed)
    served = [pair for pair in newly if pair in reviews]
    if served:
        now = utcnow()
        session.connection().execute(
            _COMPLETE_REVIEWS, [{"passage": p, "reviewer": u, "now": now} for p, u in served]
        )
    unserved = [pair for pair in newly if pair not in reviews]
    added = _add_completed_reviews(session, project, unserved)
    started = {(user_id, review.document_id) for (_, user_id), review in reviews.items()}
    new_starts = {(user_id, document_id) for _, user_id, document_id in added} - started
    _add_to_documents(session, _ADD_DOCUMENT_STARTS, Counter(d for _, d in new_starts))
    completions = Counter(p for p, _ in served) + Counter(p for p, _, _ in added)
    _add_completions(session, project, completions)


class _HeldReview(NamedTuple):
    status: str
    document_id: int


def _reviews_for_update(
    session: Session, project: Project, user_ids: Collection[int]
) -> dict[tuple[int, int], _HeldReview]:
    """The users' reviews in the project by (passage id, user id), locked until the
    transaction ends (on PostgreSQL; on SQLite the writer holds the whole database)."""
    reviews: dict[tuple[int, int], _HeldReview] = {}
    for chunk in in_chunks(user_ids):
        rows = session.connection().execute(
            select(_REVIEWS.c.passage_id, _REVIEWS.c.user_id)
            .add_columns(_REVIEWS.c.status, _REVIEWS.c.document_id)
            .where(_REVIEWS.c.project_id == project.id, _REVIEWS.c.user_id.in_(chunk))
            .with_for_update()
        )
        reviews.update(((p, u), _HeldReview(status, d)) for p, u, status, d in rows)
    return reviews


def _add_completed_reviews(
    session: Session, project: Project, pairs: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Completed reviews for pairs that had none; returns (passage id, user id, document id)
    of those written (see ``_ADD_COMPLETED_REVIEW``)."""
    if not pairs:
        return []
    documents = dict(
        row
        for chunk in in_chunks({passage_id for passage_id, _ in pairs})
        for row in session.connection().execute(
            select(_PASSAGES.c.id, _PASSAGES.c.document_id).where(_PASSAGES.c.id.in_(chunk))
        )
    )
    now = utcnow()
    rows = [
        {"passage": p, "reviewer": u, "document": documents[p], "project": project.id, "now": now}
        for p, u in pairs
    ]
    insert_ = _ADD_COMPLETED_REVIEW[session.get_bind().dialect.name]
    written = session.connection().execute(insert_, rows)
    return [(p, u, documents[p]) for p, u in written]


_SET_COMPLETED = (
    update(_PASSAGES)
    .where(_PASSAGES.c.id == bindparam("passage"))
    .values(completed_count=bindparam("count"))
)


def _add_completions(session: Session, project: Project, completions: Mapping[int, int]) -> None:
    """The passages' counters after ``completions`` more each, read and written under lock; a
    document has one open passage fewer for each of its passages that reaches the overlap."""
    before: dict[int, tuple[int, int]] = {}  # passage id: (document id, completed count)
    for chunk in in_chunks(completions):
        before.update(
            (p, (d, count))
            for p, d, count in session.connection().execute(
                select(_PASSAGES.c.id, _PASSAGES.c.document_id, _PASSAGES.c.completed_count)
                .where(_PASSAGES.c.id.in_(chunk))
                .with_for_update()
            )
        )
    after = {p: before[p][1] + n for p, n in sorted(completions.items())}
    if after:
        session.connection().execute(
            _SET_COMPLETED, [{"passage": p, "count": n} for p, n in after.items()]
        )
    closed = Counter(before[p][0] for p, n in after.items() if before[p][1] < project.overlap <= n)
    _add_to_documents(session, _ADD_TO_OPEN, {d: -n for d, n in closed.items()})
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Passage) and loaded.id in after:
            set_committed_value(loaded, "completed_count", after[loaded.id])


def _add_to_documents(session: Session, statement: Update, deltas: Mapping[int, int]) -> None:
    """One of the documents' counters changed by each document's delta, in id order."""
    if deltas:
        session.connection().execute(
            statement, [{"document": d, "delta": n} for d, n in sorted(deltas.items())]
        )


_ADD_TO_COMPLETED = (
    update(_PASSAGES)
    .where(_PASSAGES.c.id == bindparam("passage"))
    .values(completed_count=_PASSAGES.c.completed_count + bindparam("delta"))
    .returning(_PASSAGES.c.completed_count)
)
_ADD_TO_COMPLETED_WITH_CLAIMS = _ADD_TO_COMPLETED.where(
    _PASSAGES.c.claim_count == bindparam("claims")
)
# Document counters are read by the queue's SQL only, never from loaded documents, so the
# updates go to the table: the ORM's UPDATE compared every document in the session with the
# statement, which made a label import of 120,000 labels take minutes (docs/benchmarks.md,
# round 16).
_ADD_TO_OPEN = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document"))
    .values(open_passages=_DOCUMENTS.c.open_passages + bindparam("delta"))
)


def _change_completed_count(
    session: Session, passage: Passage, delta: int, *, claims: int | None = None
) -> None:
    """Atomic counter update; the document's open count changes when the passage crosses the
    project's overlap. With ``claims``, only while the passage has that many claims."""
    overlap = project_of(session, passage).overlap
    connection = session.connection()
    params = {"passage": passage.id, "delta": delta}
    if claims is None:
        after = connection.scalar(_ADD_TO_COMPLETED, params) or 0
    else:
        after = connection.scalar(_ADD_TO_COMPLETED_WITH_CLAIMS, {**params, "claims": claims})
        if after is None:
            raise ClaimsChanged(passage.id)
    crossed_down = delta > 0 and after == overlap
    crossed_up = delta < 0 and after == overlap - 1
    if crossed_down or crossed_up:
        delta_open = -1 if crossed_down else 1
        session.connection().execute(
            _ADD_TO_OPEN, {"document": passage.document_id, "delta": delta_open}
        )
    set_committed_value(passage, "completed_count", after)


def project_of(session: Session, passage: Passage) -> Project:
    """The passage's project, from the session when the request has loaded it already."""
    project = session.get(Project, passage.project_id)
    if project is None:
        raise LookupError(f"passage {passage.id} has no project")
    return project


def skip(session: Session, user: User, passage: Passage, reason: str) -> None:
    """Record a skip; the passage goes back to the pool for others."""
    review = session.scalar(
        select(Review).where(Review.passage_id == passage.id, Review.user_id == user.id)
    )
    if review is None:
        _count_document_start(session, user, passage.document_id)
        review = Review(
            passage_id=passage.id,
            document_id=passage.document_id,
            project_id=passage.project_id,
            user_id=user.id,
        )
        session.add(review)
    elif review.status == ReviewStatus.COMPLETED:
        _change_completed_count(session, passage, -1)
    review.status = ReviewStatus.SKIPPED
    review.reason = reason.strip()[:1000]
    review.reserved_until = None
    review.updated_at = utcnow()
