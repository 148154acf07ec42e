"""Saving a reviewer's work on a passage (labels, unsure flags, notes, outlet verdict, skips),
keeping every change in the history, and undoing the last one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Exists, Select, bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from annotator.db import begin_write, table_of
from annotator.models import (
    Annotation,
    Change,
    ChangeKind,
    Claim,
    Label,
    MemberRole,
    Outlet,
    OutletCorrection,
    Passage,
    Project,
    RevealLabels,
    Review,
    ReviewStatus,
    User,
    utcnow,
)
from annotator.services import queue
from annotator.services.records import first_unstorable, id_from_text, unstorable_reason

AUTHOR_OWN_WORDS = "none"
DETECTED = "detected"
MAX_NOTE_LENGTH = 2000


class SaveError(ValueError):
    """The submitted work does not fit the passage; nothing was saved."""


# On PostgreSQL nothing is locked when a save reads the passage's claims, so a curator's
# edit can commit before the save does (queue.record_completion finds it out).
CLAIMS_CHANGED_WHILE_SAVING = (
    "A curator corrected the claims of this passage while this save was made. Nothing was "
    "saved; reload the page."
)


PASSAGE_GONE = (
    "This passage no longer exists: its document was imported again as a new version, or "
    "deleted, while this save was made. Nothing was saved; open the document again."
)


class PassageGone(SaveError):
    """The passage was deleted while the save was made."""


class StaleSave(SaveError):
    """A save based on a version the reviewer had not seen; ``current`` shows what is stored."""

    def __init__(self, current: dict[int, str]) -> None:
        super().__init__(
            "These tags were changed elsewhere (another tab or device) since this page was "
            "loaded. Nothing was saved; the current values are shown."
        )
        self.current = current


@dataclass(frozen=True)
class TagSubmission:
    """What the annotation page sends. ``versions`` are those the page was built on; claims
    missing from ``unsure``/``notes`` keep their stored flag/note; ``outlet_choice`` "" keeps
    the current verdict, "none" = author's own words, or an outlet id."""

    labels: Mapping[int, str]
    versions: Mapping[int, int]
    unsure: Mapping[int, bool] = field(default_factory=dict)
    notes: Mapping[int, str] = field(default_factory=dict)
    outlet_choice: str = ""


def submission_from_json(payload: Any) -> TagSubmission:
    """The tags of a JSON save, from the page or the API: objects keyed by claim id."""
    if not isinstance(payload, dict):
        raise SaveError("Expected a JSON object.")
    outlet = payload.get("outlet", "")
    if not isinstance(outlet, str):
        raise SaveError('"outlet" must be "", "none" or an outlet id as a string.')
    return TagSubmission(
        labels=_by_claim(payload.get("labels", {}), str, "labels"),
        versions=_by_claim(payload.get("versions", {}), int, "versions"),
        unsure=_by_claim(payload.get("unsure", {}), bool, "unsure"),
        notes=_by_claim(payload.get("notes", {}), str, "notes"),
        outlet_choice=outlet,
    )


def _by_claim(value: Any, kind: type, name: str) -> dict[int, Any]:
    if not isinstance(value, dict):
        raise SaveError(f'"{name}" must be an object keyed by claim id.')
    result: dict[int, Any] = {}
    for key, item in value.items():
        claim_id = id_from_text(key)
        if claim_id is None:
            raise SaveError(f'"{name}" keys must be claim ids.')
        if not isinstance(item, kind) or (kind is not bool and isinstance(item, bool)):
            raise SaveError(f'"{name}" has values of the wrong type.')
        result[claim_id] = item
    return result


# Rows written in one executemany each, on the session's connection, without the unit of
# work: a save adds several.
_INSERT_CHANGES = insert(table_of(Change))
_INSERT_ANNOTATIONS = insert(table_of(Annotation))


class _History:
    """Collects the changes of one save so that undo can revert them together; ``write``
    stores them (before the transaction commits)."""

    def __init__(self, session: Session, user: User, passage: Passage) -> None:
        self.session, self.user, self.passage = session, user, passage
        self.batch = uuid.uuid4().hex
        self.rows: list[dict[str, Any]] = []

    def record(
        self, kind: str, old: str | None, new: str | None, claim_id: int | None = None
    ) -> None:
        if old == new:
            return
        self.rows.append(
            {
                "user_id": self.user.id,
                "passage_id": self.passage.id,
                "claim_id": claim_id,
                "batch": self.batch,
                "kind": kind,
                "old_value": old,
                "new_value": new,
            }
        )

    def write(self) -> None:
        if self.rows:
            self.session.connection().execute(_INSERT_CHANGES, self.rows)
            self.rows = []


def claim_ids_of(passage_id: Any) -> Select[int]:
    """The ids of the passage's claims (``passage_id``: a parameter, or the column of a
    passage in an enclosing query)."""
    return select(Claim.id).where(Claim.passage_id == passage_id).correlate(Passage)


# The queries of the annotation page and the save are built once, with bound parameters:
# building a statement costs SQLAlchemy more than running it does (docs/benchmarks.md).
# Found through the passage's claims rather than a list of claim ids: an IN list is
# rendered anew on every run, and its text changes with the number of claims. A subquery
# rather than a join, so that SQLite looks up each claim's annotation by its unique index
# instead of walking the user's annotations.
_ANNOTATIONS_OF = select(Annotation).where(
    Annotation.user_id == bindparam("user_id"),
    Annotation.claim_id.in_(claim_ids_of(bindparam("passage_id"))),
)
# re-read rows already in the session: the lock may have waited for a writer
_ANNOTATIONS_FOR_UPDATE = _ANNOTATIONS_OF.with_for_update().execution_options(
    populate_existing=True
)
_CORRECTION_OF = select(OutletCorrection).where(
    OutletCorrection.user_id == bindparam("user_id"),
    OutletCorrection.passage_id == bindparam("passage_id"),
)
_REVIEW_OF = select(Review).where(
    Review.passage_id == bindparam("passage_id"), Review.user_id == bindparam("user_id")
)
_CHANGES, _USERS = table_of(Change), table_of(User)
_HISTORY = (
    select(
        _CHANGES.c.claim_id,
        _CHANGES.c.kind,
        _CHANGES.c.old_value,
        _CHANGES.c.new_value,
        _CHANGES.c.undone,
        _CHANGES.c.created_at,
        _USERS.c.username,
    )
    .join_from(_CHANGES, _USERS, _USERS.c.id == _CHANGES.c.user_id)
    .where(_CHANGES.c.passage_id == bindparam("passage_id"))
    .order_by(_CHANGES.c.id.desc())
    .limit(200)
)
_OWN_HISTORY = _HISTORY.where(_CHANGES.c.user_id == bindparam("user_id"))


def annotated_by_user(passage_id: Any) -> Exists:
    """Whether the user (parameter ``user_id``) has annotations on the passage's claims
    (``passage_id``: a column or parameter). The page looks them up only then: "Next" mostly
    serves passages new to the reviewer."""
    return exists().where(
        Annotation.user_id == bindparam("user_id"),
        Annotation.claim_id.in_(claim_ids_of(passage_id)),
    )


def annotations_of(
    session: Session, user: User, passage: Passage, *, for_update: bool = False
) -> dict[int, Annotation]:
    """The user's annotations on the passage's claims, by claim id (optionally row-locked)."""
    query = _ANNOTATIONS_FOR_UPDATE if for_update else _ANNOTATIONS_OF
    params = {"user_id": user.id, "passage_id": passage.id}
    return {a.claim_id: a for a in session.scalars(query, params)}


def correction_of(session: Session, user: User, passage: Passage) -> OutletCorrection | None:
    return session.scalar(_CORRECTION_OF, {"user_id": user.id, "passage_id": passage.id})


def review_of(session: Session, user: User, passage: Passage) -> Review | None:
    return session.scalar(_REVIEW_OF, {"passage_id": passage.id, "user_id": user.id})


@dataclass(frozen=True)
class Saved:
    """What a save stored, by claim id, and the passage reserved next (when asked for)."""

    annotations: dict[int, Annotation]
    next_passage_id: int | None = None


def save_passage(
    session: Session,
    user: User,
    passage: Passage,
    submission: TagSubmission,
    *,
    reserve_next: timedelta | None = None,
) -> Saved:
    """Store the submission atomically. Unknown claims, labels or outlets and stale versions
    are refused without changing anything. With ``reserve_next`` the user's next passage in
    the project is reserved for that long once the save is committed ("Save and next")."""
    ids = (user.id, passage.id)  # for the refusal, after a rollback has expired both
    begin_write(session)
    # As the request loaded them: a curator's claim edit committed since is caught by the
    # labels' foreign key (a deleted claim) or by the completion (queue.record_completion).
    claim_ids = {claim.id for claim in passage.claims}
    _validate(submission, claim_ids)
    if submission.outlet_choice:
        _parse_outlet_choice(session, submission.outlet_choice)
    try:
        stored = (
            {}
            if _first_save_of_every_claim(submission, len(claim_ids))
            else annotations_of(session, user, passage, for_update=True)
        )
        _check_versions(submission, stored)
        history = _History(session, user, passage)
        new: list[Annotation] = []
        for claim_id, label in submission.labels.items():
            annotation = _apply_label(history, stored.get(claim_id), claim_id, label)
            if claim_id not in stored:
                new.append(annotation)
            stored[claim_id] = annotation
            _apply_extras(history, annotation, submission)
        _insert_annotations(session, new)
        _apply_outlet_choice(session, history, submission.outlet_choice)
        history.write()
        if len(stored) == len(claim_ids):
            queue.record_completion(session, user, passage, len(claim_ids))
    except IntegrityError as exc:  # flushed early: same race as in _commit_or_stale
        session.rollback()
        raise _stale(session, *ids) from exc
    except queue.ClaimsChanged:
        session.rollback()
        raise SaveError(CLAIMS_CHANGED_WHILE_SAVING) from None
    except Exception:
        session.rollback()
        raise
    _commit_or_stale(session, *ids)
    if reserve_next is None:
        return Saved(stored)
    return Saved(stored, _reserve_next(session, user, passage, reserve_next))


def _reserve_next(
    session: Session, user: User, passage: Passage, reservation: timedelta
) -> int | None:
    """The reservation runs in a transaction of its own: on PostgreSQL, locking the next
    passage while still holding the saved one's row lock can deadlock with a reviewer who
    does the same the other way round."""
    project = queue.project_of(session, passage)
    return queue.next_passage(
        session, user, project, reservation, current_document=passage.document_id
    )


def _first_save_of_every_claim(submission: TagSubmission, claim_count: int) -> bool:
    """Whether the submission labels every claim of the passage, each as seen unlabelled
    (version 0). Such a save needs no look at the stored annotations: any would make it
    stale, and inserting over it breaks the unique constraint, which the save reports as
    stale (see ``_stale``)."""
    versions = submission.versions
    return len(submission.labels) == claim_count and not any(
        versions.get(claim_id, 0) for claim_id in submission.labels
    )


def _check_versions(submission: TagSubmission, stored: Mapping[int, Annotation]) -> None:
    for claim_id in submission.labels:
        annotation = stored.get(claim_id)
        current_version = annotation.version if annotation else 0
        if submission.versions.get(claim_id, 0) != current_version:
            raise StaleSave({c: a.label for c, a in stored.items()})


def _apply_label(
    history: _History, annotation: Annotation | None, claim_id: int, label: str
) -> Annotation:
    """Label the stored annotation, or make a new one (not yet stored: see
    ``_insert_annotations``)."""
    now = utcnow()
    if annotation is None:
        annotation = Annotation(
            claim_id=claim_id, project_id=history.passage.project_id, user_id=history.user.id,
            label=label, version=1, unsure=False, note="", created_at=now, updated_at=now,
        )  # fmt: skip
        history.record(ChangeKind.LABEL, None, label, claim_id)
    elif annotation.label != label:
        history.record(ChangeKind.LABEL, annotation.label, label, claim_id)
        annotation.label = label
        _touch(annotation)
    return annotation


def _apply_extras(history: _History, annotation: Annotation, submission: TagSubmission) -> None:
    claim_id = annotation.claim_id
    if claim_id in submission.unsure and submission.unsure[claim_id] != annotation.unsure:
        history.record(
            ChangeKind.UNSURE,
            _flag(annotation.unsure),
            _flag(submission.unsure[claim_id]),
            claim_id,
        )
        annotation.unsure = submission.unsure[claim_id]
        _touch(annotation)
    if claim_id in submission.notes and submission.notes[claim_id] != annotation.note:
        history.record(ChangeKind.NOTE, annotation.note, submission.notes[claim_id], claim_id)
        annotation.note = submission.notes[claim_id]
        _touch(annotation)


def _insert_annotations(session: Session, annotations: list[Annotation]) -> None:
    """New annotations in one statement. They stay outside the session: the save answers
    with their values, and nothing else in the request reads them back."""
    if annotations:
        session.connection().execute(_INSERT_ANNOTATIONS, [_annotation_row(a) for a in annotations])


def _annotation_row(annotation: Annotation) -> dict[str, Any]:
    return {
        "claim_id": annotation.claim_id,
        "project_id": annotation.project_id,
        "user_id": annotation.user_id,
        "label": annotation.label,
        "unsure": annotation.unsure,
        "note": annotation.note,
        "version": annotation.version,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
    }


def _touch(annotation: Annotation) -> None:
    annotation.version += 1
    annotation.updated_at = utcnow()


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def _commit_or_stale(session: Session, user_id: int, passage_id: int) -> None:
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent first save of the same claim won the race
        session.rollback()
        raise _stale(session, user_id, passage_id) from exc


def _stale(session: Session, user_id: int, passage_id: int) -> SaveError:
    """The refusal for a save that lost a race: the values that won, or PassageGone when the
    passage itself went (its claims' labels then break their foreign key). Takes ids: the
    rollback expired the loaded objects, and a deleted passage cannot be loaded again."""
    if not _passage_exists(session, passage_id):
        return PassageGone(PASSAGE_GONE)
    params = {"user_id": user_id, "passage_id": passage_id}
    return StaleSave({a.claim_id: a.label for a in session.scalars(_ANNOTATIONS_OF, params)})


def _passage_exists(session: Session, passage_id: int) -> bool:
    return session.scalar(select(Passage.id).where(Passage.id == passage_id)) is not None


def _validate(submission: TagSubmission, claim_ids: set[int]) -> None:
    unknown = (set(submission.labels) | set(submission.unsure) | set(submission.notes)) - claim_ids
    if unknown:
        raise SaveError(
            f"Claim(s) {sorted(unknown)} are not claims of this passage: a curator may have "
            "corrected its claims since the page was loaded. Nothing was saved; reload the page."
        )
    bad = {label for label in submission.labels.values() if label not in set(Label)}
    if bad:
        raise SaveError(f"Unknown label(s) {sorted(bad)}; use reported, quoted or editorial.")
    unlabelled = (set(submission.unsure) | set(submission.notes)) - set(submission.labels)
    if unlabelled:
        raise SaveError("Unsure flags and notes need a label on the same claim.")
    if any(len(note) > MAX_NOTE_LENGTH for note in submission.notes.values()):
        raise SaveError(f"Notes are limited to {MAX_NOTE_LENGTH} characters.")
    if (character := first_unstorable(list(submission.notes.values()))) is not None:
        raise SaveError(f"A note contains {unstorable_reason(character)}.")


def _apply_outlet_choice(session: Session, history: _History, choice: str) -> None:
    if choice == "":
        return
    outlet_id = _parse_outlet_choice(session, choice)
    passage, user = history.passage, history.user
    correction = correction_of(session, user, passage)
    old = _outlet_value(correction)
    if correction is None:
        if outlet_id == passage.outlet_id:
            return
        correction = OutletCorrection(passage_id=passage.id, user_id=user.id, outlet_id=outlet_id)
        session.add(correction)
    elif correction.outlet_id != outlet_id:
        correction.outlet_id = outlet_id
        correction.version += 1
        correction.updated_at = utcnow()
    history.record(ChangeKind.OUTLET, old, _outlet_value(correction))


def _outlet_value(correction: OutletCorrection | None) -> str:
    if correction is None:
        return DETECTED
    return str(correction.outlet_id) if correction.outlet_id is not None else AUTHOR_OWN_WORDS


def _parse_outlet_choice(session: Session, choice: str) -> int | None:
    if choice == AUTHOR_OWN_WORDS:
        return None
    outlet_id = id_from_text(choice)
    if outlet_id is None or session.get(Outlet, outlet_id) is None:
        raise SaveError(f"Unknown outlet {choice!r}.")
    return outlet_id


def skip_passage(session: Session, user: User, passage: Passage, reason: str) -> None:
    if (bad := first_unstorable(reason)) is not None:
        raise SaveError(f"The skip reason contains {unstorable_reason(bad)}.")
    passage_id = passage.id
    begin_write(session)
    try:
        review = review_of(session, user, passage)
        old = review.status if review else None
        history = _History(session, user, passage)
        queue.skip(session, user, passage, reason)
        skipped = ReviewStatus.SKIPPED + (f": {reason}" if reason else "")
        history.record(ChangeKind.SKIP, old, skipped)
        history.write()
        session.commit()
    except IntegrityError as exc:  # the passage went meanwhile, or a plain error
        session.rollback()
        if _passage_exists(session, passage_id):
            raise
        raise PassageGone(PASSAGE_GONE) from exc


# Curators' decisions, which a reviewer's undo never reverts.
CURATORS_CHANGES = (
    ChangeKind.FINAL,
    ChangeKind.CLAIMS,
    ChangeKind.PASSAGE_OUTLET,
    ChangeKind.PASSAGE_ROLE,
)


def undo_last(session: Session, user: User) -> Change | None:
    """Revert the user's most recent save (or skip); returns one of its changes, or None."""
    begin_write(session)
    last = session.scalar(
        select(Change)
        .where(
            Change.user_id == user.id,
            Change.undone.is_(False),
            Change.kind.not_in(CURATORS_CHANGES),
            ~Change.batch.like("undo-%"),
        )
        .order_by(Change.id.desc())
        .limit(1)
    )
    if last is None:
        return None
    changes = session.scalars(
        select(Change)
        .where(Change.batch == last.batch, Change.undone.is_(False))
        .order_by(Change.id.desc())
    ).all()
    passage = session.get_one(Passage, last.passage_id)
    history = _History(session, user, passage)
    history.batch = "undo-" + history.batch[:27]
    for change in changes:
        _revert(session, history, change)
        change.undone = True
    sync_completion(session, user, passage)
    history.write()
    session.commit()
    return last


def _revert(session: Session, history: _History, change: Change) -> None:
    user, passage = history.user, history.passage
    if change.kind == ChangeKind.SKIP:
        review = review_of(session, user, passage)
        if review is not None:
            review.status = ReviewStatus.RESERVED
            review.reserved_until = utcnow()
        history.record(ChangeKind.SKIP, change.new_value, change.old_value)
        return
    if change.kind == ChangeKind.OUTLET:
        _revert_outlet(session, history, change.old_value)
        history.record(ChangeKind.OUTLET, change.new_value, change.old_value)
        return
    annotation = session.scalar(
        select(Annotation).where(
            Annotation.user_id == user.id, Annotation.claim_id == change.claim_id
        )
    )
    if annotation is None:
        return
    history.record(change.kind, change.new_value, change.old_value, change.claim_id)
    if change.kind == ChangeKind.LABEL and change.old_value is None:
        session.delete(annotation)
        session.flush()
        return
    if change.kind == ChangeKind.LABEL:
        annotation.label = change.old_value or annotation.label
    elif change.kind == ChangeKind.UNSURE:
        annotation.unsure = change.old_value == "yes"
    elif change.kind == ChangeKind.NOTE:
        annotation.note = change.old_value or ""
    annotation.version += 1
    annotation.updated_at = utcnow()


def _revert_outlet(session: Session, history: _History, old: str | None) -> None:
    correction = correction_of(session, history.user, history.passage)
    if old in (None, DETECTED):
        if correction is not None:
            session.delete(correction)
        return
    outlet_id = None if old == AUTHOR_OWN_WORDS else int(old)
    if correction is None:
        session.add(
            OutletCorrection(
                passage_id=history.passage.id, user_id=history.user.id, outlet_id=outlet_id
            )
        )
    else:
        correction.outlet_id = outlet_id
        correction.version += 1


def sync_completion(session: Session, user: User, passage: Passage) -> None:
    """After an undo the passage may no longer be fully labelled (or may be again)."""
    labelled = len(annotations_of(session, user, passage))
    review = review_of(session, user, passage)
    if labelled < len(passage.claims):
        queue.withdraw_completion(session, user, passage)
    elif review is None or review.status == ReviewStatus.RESERVED:
        queue.record_completion(session, user, passage, len(passage.claims))


def may_see_others(
    session: Session,
    user: User,
    passage: Passage,
    project: Project,
    role: str | None,
    *,
    just_reserved: bool = False,
) -> bool:
    """Curators always; reviewers per the project's setting (by default once they finished
    the passage, which is only looked up then). ``role`` is the user's role in the project
    (``projects.member_role``); ``just_reserved``: the passage was reserved for the user in
    this request, so the user has not finished it."""
    if role == MemberRole.CURATOR:
        return True
    reveal = project.reveal_labels
    if reveal != RevealLabels.AFTER_COMPLETION:
        return reveal == RevealLabels.ALWAYS
    if just_reserved:
        return False
    review = review_of(session, user, passage)
    return review is not None and review.status == ReviewStatus.COMPLETED


def others_labels(session: Session, user: User, passage: Passage) -> dict[int, list[Annotation]]:
    """Other reviewers' annotations per claim (ask ``may_see_others`` first)."""
    rows = session.scalars(
        select(Annotation)
        .where(
            Annotation.claim_id.in_([c.id for c in passage.claims]),
            Annotation.user_id != user.id,
        )
        .options(selectinload(Annotation.user))
        .order_by(Annotation.id)
    )
    result: dict[int, list[Annotation]] = {}
    for annotation in rows:
        result.setdefault(annotation.claim_id, []).append(annotation)
    return result


def has_history(passage_id: Any) -> Exists:
    """Whether anyone changed the passage's tags (``passage_id``: a parameter, or the column
    of a passage in an enclosing query): the page reads its history only then."""
    return exists().where(_CHANGES.c.passage_id == passage_id)


def history_of(session: Session, passage: Passage, only_user: User | None) -> Sequence[Any]:
    """The passage's changes, newest first: everyone's, or only ``only_user``'s when the user
    may not see others' work (see ``may_see_others``). Rows with ``claim_id``, ``kind``,
    ``old_value``, ``new_value``, ``undone``, ``created_at`` and ``username`` (who)."""
    if only_user is None:
        return session.execute(_HISTORY, {"passage_id": passage.id}).all()
    params = {"passage_id": passage.id, "user_id": only_user.id}
    return session.execute(_OWN_HISTORY, params).all()
