"""Re-importing a changed version of a document (same id, different content).

The document keeps its row (and id); its passages and claims are replaced by the new
analysis, except that an unchanged passage keeps what curators decided about it: the claims
they corrected, the outlet and role they set. Work on a claim whose passage text and claim text are
unchanged is carried over (annotations with their versions, final labels, suggestions), as
are outlet corrections and skips of unchanged passages. Tags on claims that no longer exist
are reported, per claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Change,
    ChangeKind,
    Claim,
    Document,
    DocumentSource,
    FinalLabel,
    Outlet,
    OutletCorrection,
    Passage,
    Project,
    Review,
    ReviewStatus,
    Suggestion,
    User,
)
from annotator.services.deleting import lock_work_on_documents
from annotator.services.records import DocumentRecord
from annotator.services.restore import Extras, write_extras
from annotator.services.storing import (
    StoredDocument,
    document_values,
    insert_passages,
    keep_sources,
)
from annotator.text.pipeline import ClaimDraft, PassageDraft

ClaimKey = tuple[str, str, int]  # passage text, claim text, occurrence among equal pairs
SNIPPET = 60


@dataclass
class _ClaimWork:
    text: str
    passage_index: int
    annotations: list[dict[str, Any]] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    final: dict[str, Any] | None = None
    suggestions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tagged(self) -> bool:
        return bool(self.annotations or self.final)


@dataclass
class _OldWork:
    claims: dict[ClaimKey, _ClaimWork] = field(default_factory=dict)
    corrections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skips: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    curated: dict[str, _Curation] = field(default_factory=dict)  # by passage text


@dataclass
class _Curation:
    """What curators decided about an old passage: its claims (claim_editing), its outlet or
    its role (passage_decisions), with the history entries that say so, so that a later
    re-import finds them there again. None: left as the tool made it."""

    changes: list[dict[str, Any]]
    claims: tuple[ClaimDraft, ...] | None = None
    outlet: tuple[str | None, str | None, int | None, int | None] | None = None  # name, cue
    role: str | None = None


@dataclass(frozen=True)
class NewVersion:
    """A stored document, the record of its new version and that record's analysis."""

    document: Document
    record: DocumentRecord
    drafts: Sequence[PassageDraft]


def replace_documents(
    session: Session, project: Project, versions: Sequence[NewVersion], outlet_ids: dict[str, int]
) -> list[str]:
    """Store the new versions in place of the old ones, a round of statements for them all;
    returns what lost its tags."""
    ids = [version.document.id for version in versions]
    lock_work_on_documents(session, ids)
    olds = _collect(session, ids)
    curated = [
        [_with_curation(draft, olds[version.document.id].curated) for draft in version.drafts]
        for version in versions
    ]
    session.execute(delete(Passage).where(Passage.document_id.in_(ids)))
    session.execute(delete(DocumentSource).where(DocumentSource.document_id.in_(ids)))
    keep_sources(session, [(version.document.id, version.record) for version in versions])
    session.execute(
        update(Document),
        [
            {"id": version.document.id, **document_values(version.record, drafts), "started_by": 0}
            for version, drafts in zip(versions, curated, strict=True)
        ],
    )
    stored = insert_passages(session, project, list(zip(ids, curated, strict=True)), outlet_ids)
    carried = [
        (item, _carry(olds[item.document_id], drafts, item))
        for item, drafts in zip(stored, curated, strict=True)
    ]
    write_extras(session, project, carried)
    _carry_curation(session, olds, curated, stored)
    lost = []
    for document_id, version in zip(ids, versions, strict=True):
        lost += _lost(version.record.external_id, olds[document_id])
        session.expire(version.document)
    return lost


def _with_curation(draft: PassageDraft, curated_by_text: dict[str, _Curation]) -> PassageDraft:
    curated = curated_by_text.get(draft.text)
    if curated is None:
        return draft
    if curated.claims is not None:
        draft = replace(draft, claims=curated.claims)
    if curated.outlet is not None:
        outlet, cue, cue_start, cue_end = curated.outlet
        draft = replace(draft, outlet=outlet, cue=cue, cue_start=cue_start, cue_end=cue_end)
    if curated.role is not None:
        draft = replace(draft, role=curated.role)
    return draft


def _carry_curation(
    session: Session,
    olds: dict[int, _OldWork],
    curated: Sequence[Sequence[PassageDraft]],
    stored: Sequence[StoredDocument],
) -> None:
    rows = [
        {**change, "passage_id": passage_id}
        for drafts, item in zip(curated, stored, strict=True)
        for draft, passage_id in zip(drafts, item.passage_ids, strict=True)
        for change in olds[item.document_id].curated.pop(draft.text, _Curation([])).changes
    ]
    if rows:
        session.execute(insert(Change), rows)


def _claim_keys(passage_text: str, spans: Sequence[tuple[int, int]]) -> list[ClaimKey]:
    seen: dict[tuple[str, str], int] = defaultdict(int)
    keys = []
    for start, end in spans:
        pair = (passage_text, passage_text[start:end])
        keys.append((*pair, seen[pair]))
        seen[pair] += 1
    return keys


@dataclass(frozen=True)
class _StoredPassage:
    """A stored passage as the draft it was stored from (or as a curator decided), with its
    id and its claims' ids; read without the ORM, a batch of documents at once."""

    id: int
    claim_ids: tuple[int, ...]
    draft: PassageDraft


def unchanged_documents(
    session: Session, analyses: Sequence[tuple[int, Sequence[PassageDraft]]]
) -> set[int]:
    """The ids of the documents (of ``(document id, drafts)``) whose drafts would store the
    passages they have: the same texts, roles, outlets, cues and claims, once what curators
    decided is applied."""
    ids = [document_id for document_id, _ in analyses]
    stored = _stored_passages(session, ids)
    curations = _curations(session, ids, stored)
    unchanged = set()
    for document_id, drafts in analyses:
        passages = stored.get(document_id, [])
        curated = _curated_by_text(passages, curations)
        wanted = [_with_curation(draft, curated) for draft in drafts]
        if wanted == [passage.draft for passage in passages]:
            unchanged.add(document_id)
    return unchanged


def _stored_passages(
    session: Session, document_ids: Sequence[int]
) -> dict[int, list[_StoredPassage]]:
    """The documents' passages in order, by document id, read afresh (two queries)."""
    claims: dict[int, list[tuple[int, ClaimDraft]]] = defaultdict(list)
    for passage_id, claim_id, start, end, label, reason in session.execute(
        select(
            Claim.passage_id,
            Claim.id,
            Claim.start,
            Claim.end,
            Claim.suggested_label,
            Claim.suggestion_reason,
        )
        .join(Passage, Passage.id == Claim.passage_id)
        .where(Passage.document_id.in_(document_ids))
        .order_by(Claim.passage_id, Claim.index)
    ):
        claims[passage_id].append((claim_id, ClaimDraft(start, end, label, reason)))
    passages: dict[int, list[_StoredPassage]] = defaultdict(list)
    for row in session.execute(
        select(
            Passage.document_id,
            Passage.id,
            Passage.index,
            Passage.text,
            Passage.role,
            Outlet.name,
            Passage.cue,
            Passage.cue_start,
            Passage.cue_end,
        )
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(Passage.document_id.in_(document_ids))
        .order_by(Passage.document_id, Passage.index)
    ):
        document_id, passage_id, index, text, role, outlet, cue, cue_start, cue_end = row
        own = claims[passage_id]
        draft = PassageDraft(
            index, text, role, outlet, cue, cue_start, cue_end, tuple(c for _, c in own)
        )
        passages[document_id].append(_StoredPassage(passage_id, tuple(i for i, _ in own), draft))
    return passages


def _collect(session: Session, document_ids: Sequence[int]) -> dict[int, _OldWork]:
    """The old versions' work, by document id, keyed by passage and claim text. Read after
    the documents' work is locked: a comparison made before (``unchanged_documents``) may be
    out of date."""
    stored = _stored_passages(session, document_ids)
    olds = {document_id: _OldWork() for document_id in document_ids}
    claim_by_id: dict[int, _ClaimWork] = {}
    for document_id, passages in stored.items():
        work = olds[document_id]
        for passage in passages:
            draft = passage.draft
            keys = _claim_keys(draft.text, [(c.start, c.end) for c in draft.claims])
            for claim_id, key in zip(passage.claim_ids, keys, strict=True):
                item = _ClaimWork(text=key[1], passage_index=draft.index)
                work.claims[key] = item
                claim_by_id[claim_id] = item
    _collect_claim_work(session, document_ids, claim_by_id)
    _collect_passage_work(session, document_ids, stored, olds)
    curations = _curations(session, document_ids, stored)
    for document_id, passages in stored.items():
        olds[document_id].curated = _curated_by_text(passages, curations)
    return olds


def _passages_of(document_ids: Sequence[int]) -> Select[int]:
    return select(Passage.id).where(Passage.document_id.in_(document_ids))


def _claims_of(document_ids: Sequence[int]) -> Select[int]:
    return select(Claim.id).where(Claim.passage_id.in_(_passages_of(document_ids)))


def _curations(
    session: Session, document_ids: Sequence[int], stored: dict[int, list[_StoredPassage]]
) -> dict[int, _Curation]:
    """What curators decided about the documents' passages, by passage id (those they left
    alone are not there)."""
    changes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in session.scalars(
        select(Change)
        .where(
            Change.passage_id.in_(_passages_of(document_ids)),
            Change.kind.in_(
                [ChangeKind.CLAIMS, ChangeKind.PASSAGE_OUTLET, ChangeKind.PASSAGE_ROLE]
            ),
        )
        .order_by(Change.id)
    ):
        changes[change.passage_id].append(
            _columns(change, ("user_id", "batch", "kind", "old_value", "new_value", "created_at"))
        )
    return {
        passage.id: _curation_of(passage.draft, changes[passage.id])
        for passages in stored.values()
        for passage in passages
        if passage.id in changes
    }


def _curation_of(draft: PassageDraft, changes: list[dict[str, Any]]) -> _Curation:
    kinds = {change["kind"] for change in changes}
    curation = _Curation(changes)
    if ChangeKind.CLAIMS in kinds:
        curation.claims = draft.claims
    if ChangeKind.PASSAGE_OUTLET in kinds:
        curation.outlet = (draft.outlet, draft.cue, draft.cue_start, draft.cue_end)
    if ChangeKind.PASSAGE_ROLE in kinds:
        curation.role = draft.role
    return curation


def _curated_by_text(
    passages: Sequence[_StoredPassage], curations: dict[int, _Curation]
) -> dict[str, _Curation]:
    return {p.draft.text: curations[p.id] for p in passages if p.id in curations}


_ANNOTATION_WORK = ("user_id", "label", "unsure", "note", "version", "created_at", "updated_at")
_FINAL_WORK = ("user_id", "label", "version", "updated_at")
_SUGGESTION_WORK = ("source", "label", "score", "reason", "user_id", "updated_at")


def _collect_claim_work(
    session: Session, document_ids: Sequence[int], claim_by_id: dict[int, _ClaimWork]
) -> None:
    """The claims' labels, final labels and suggestions, read as plain rows (a batch of
    documents can carry 20,000 labels)."""
    claims = _claims_of(document_ids)
    for row in session.execute(
        select(Annotation.claim_id, User.username, *_columns_of(Annotation, _ANNOTATION_WORK))
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.claim_id.in_(claims))
        .order_by(Annotation.id)
    ):
        claim_id, username, *values = row
        claim_by_id[claim_id].annotations.append(dict(zip(_ANNOTATION_WORK, values, strict=True)))
        claim_by_id[claim_id].reviewers.append(username)
    for claim_id, *values in session.execute(
        select(FinalLabel.claim_id, *_columns_of(FinalLabel, _FINAL_WORK)).where(
            FinalLabel.claim_id.in_(claims)
        )
    ):
        claim_by_id[claim_id].final = dict(zip(_FINAL_WORK, values, strict=True))
    for claim_id, *values in session.execute(
        select(Suggestion.claim_id, *_columns_of(Suggestion, _SUGGESTION_WORK)).where(
            Suggestion.claim_id.in_(claims)
        )
    ):
        claim_by_id[claim_id].suggestions.append(dict(zip(_SUGGESTION_WORK, values, strict=True)))


def _columns_of(model: Any, names: Sequence[str]) -> list[Any]:
    return [getattr(model, name) for name in names]


def _collect_passage_work(
    session: Session,
    document_ids: Sequence[int],
    stored: dict[int, list[_StoredPassage]],
    olds: dict[int, _OldWork],
) -> None:
    where = {
        passage.id: (olds[document_id], passage.draft.text)
        for document_id, passages in stored.items()
        for passage in passages
    }
    passages = _passages_of(document_ids)
    for correction in session.scalars(
        select(OutletCorrection).where(OutletCorrection.passage_id.in_(passages))
    ):
        work, text = where[correction.passage_id]
        work.corrections.setdefault(text, []).append(
            _columns(correction, ("user_id", "outlet_id", "version", "created_at", "updated_at"))
        )
    for review in session.scalars(
        select(Review).where(Review.passage_id.in_(passages), Review.status == ReviewStatus.SKIPPED)
    ):
        work, text = where[review.passage_id]
        work.skips.setdefault(text, []).append(
            _columns(review, ("user_id", "reason", "updated_at"))
        )


def _columns(row: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _carry(old: _OldWork, drafts: Sequence[PassageDraft], stored: StoredDocument) -> Extras:
    """Old work re-keyed to the new claim and passage ids; matched claims leave ``old``."""
    extras = Extras()
    for draft, passage_id, claim_ids in zip(
        drafts, stored.passage_ids, stored.claim_ids, strict=True
    ):
        keys = _claim_keys(draft.text, [(c.start, c.end) for c in draft.claims])
        for key, claim_id in zip(keys, claim_ids, strict=True):
            item = old.claims.pop(key, None)
            if item is None:
                continue
            extras.annotations += [{**a, "claim_id": claim_id} for a in item.annotations]
            extras.suggestions += [{**s, "claim_id": claim_id} for s in item.suggestions]
            if item.final:
                extras.finals.append({**item.final, "claim_id": claim_id})
        extras.corrections += [
            {**c, "passage_id": passage_id} for c in old.corrections.pop(draft.text, [])
        ]
        extras.skips += [{**s, "passage_id": passage_id} for s in old.skips.pop(draft.text, [])]
    return extras


def _lost(external_id: str, old: _OldWork) -> list[str]:
    """One line per tagged claim of the old version that the new version no longer has."""
    lines = []
    for item in old.claims.values():
        if not item.tagged:
            continue
        snippet = item.text if len(item.text) <= SNIPPET else item.text[: SNIPPET - 1] + "…"
        who = ", ".join(sorted(item.reviewers)) or "no reviewer"
        final = "; its final label" if item.final else ""
        lines.append(
            f'{external_id}, passage {item.passage_index}: claim "{snippet}" changed or was '
            f"removed; lost {len(item.annotations)} tag(s) ({who}){final}"
        )
    return lines
