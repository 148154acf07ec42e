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

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, selectinload

from annotator.models import (
    Annotation,
    Change,
    ChangeKind,
    Document,
    DocumentSource,
    FinalLabel,
    OutletCorrection,
    Passage,
    Project,
    Review,
    ReviewStatus,
    Suggestion,
    User,
)
from annotator.services.deleting import lock_work_on_document
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


def replace_document(
    session: Session,
    project: Project,
    document: Document,
    record: DocumentRecord,
    drafts: Sequence[PassageDraft],
    outlet_ids: dict[str, int],
) -> list[str]:
    """Store the new version in place of the old; returns what lost its tags."""
    lock_work_on_document(session, document.id)
    old = _collect(session, document)
    drafts = [_with_curation(draft, old) for draft in drafts]
    session.execute(delete(Passage).where(Passage.document_id == document.id))
    session.execute(delete(DocumentSource).where(DocumentSource.document_id == document.id))
    keep_sources(session, [(document.id, record)])
    values = document_values(record, drafts)
    session.execute(
        update(Document).where(Document.id == document.id).values(**values, started_by=0)
    )
    (stored,) = insert_passages(session, project, [(document.id, drafts)], outlet_ids)
    extras = _carry(old, drafts, stored)
    write_extras(session, project, stored, extras)
    _carry_curation(session, old, drafts, stored)
    session.expire(document)
    return _lost(record.external_id, old)


def _with_curation(draft: PassageDraft, old: _OldWork) -> PassageDraft:
    curated = old.curated.get(draft.text)
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
    session: Session, old: _OldWork, drafts: Sequence[PassageDraft], stored: StoredDocument
) -> None:
    rows = [
        {**change, "passage_id": passage_id}
        for draft, passage_id in zip(drafts, stored.passage_ids, strict=True)
        for change in old.curated.pop(draft.text, _Curation([])).changes
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


def same_analysis(session: Session, document: Document, drafts: Sequence[PassageDraft]) -> bool:
    """Whether storing ``drafts`` as a new version would store the passages the document has:
    the same texts, roles, outlets, cues and claims, once what curators decided is applied."""
    passages = _stored_passages(session, document)
    decided = _OldWork()
    _collect_curation(session, passages, decided)
    wanted = [_analysis_of_draft(_with_curation(draft, decided)) for draft in drafts]
    return wanted == [_analysis_of_passage(passage) for passage in passages]


def _analysis_of_draft(draft: PassageDraft) -> tuple[Any, ...]:
    claims = tuple((c.start, c.end, c.label, c.reason) for c in draft.claims)
    cue = (draft.cue, draft.cue_start, draft.cue_end)
    return (draft.index, draft.text, draft.role, draft.outlet, cue, claims)


def _analysis_of_passage(passage: Passage) -> tuple[Any, ...]:
    claims = tuple((c.start, c.end, c.suggested_label, c.suggestion_reason) for c in passage.claims)
    cue = (passage.cue, passage.cue_start, passage.cue_end)
    outlet = passage.outlet.name if passage.outlet else None
    return (passage.index, passage.text, passage.role, outlet, cue, claims)


def _stored_passages(session: Session, document: Document) -> Sequence[Passage]:
    """Read afresh: a session that loaded the passages before a curator's decision would
    hold them as they were."""
    return session.scalars(
        select(Passage)
        .execution_options(populate_existing=True)
        .where(Passage.document_id == document.id)
        .options(selectinload(Passage.claims), selectinload(Passage.outlet))
        .order_by(Passage.index)
    ).all()


def _collect(session: Session, document: Document) -> _OldWork:
    """The old version's work, keyed by passage and claim text."""
    passages = _stored_passages(session, document)
    work = _OldWork()
    claim_by_id: dict[int, _ClaimWork] = {}
    for passage in passages:
        keys = _claim_keys(passage.text, [(c.start, c.end) for c in passage.claims])
        for claim, key in zip(passage.claims, keys, strict=True):
            item = _ClaimWork(text=key[1], passage_index=passage.index)
            work.claims[key] = item
            claim_by_id[claim.id] = item
    _collect_claim_work(session, claim_by_id)
    _collect_passage_work(session, passages, work)
    _collect_curation(session, passages, work)
    return work


def _collect_curation(session: Session, passages: Sequence[Passage], work: _OldWork) -> None:
    changes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in session.scalars(
        select(Change)
        .where(
            Change.passage_id.in_([p.id for p in passages]),
            Change.kind.in_(
                [ChangeKind.CLAIMS, ChangeKind.PASSAGE_OUTLET, ChangeKind.PASSAGE_ROLE]
            ),
        )
        .order_by(Change.id)
    ):
        changes[change.passage_id].append(
            _columns(change, ("user_id", "batch", "kind", "old_value", "new_value", "created_at"))
        )
    for passage in passages:
        kinds = {change["kind"] for change in changes.get(passage.id, [])}
        if not kinds:
            continue
        curation = _Curation(changes[passage.id])
        if ChangeKind.CLAIMS in kinds:
            curation.claims = tuple(
                ClaimDraft(c.start, c.end, c.suggested_label, c.suggestion_reason)
                for c in passage.claims
            )
        if ChangeKind.PASSAGE_OUTLET in kinds:
            name = passage.outlet.name if passage.outlet else None
            curation.outlet = (name, passage.cue, passage.cue_start, passage.cue_end)
        if ChangeKind.PASSAGE_ROLE in kinds:
            curation.role = passage.role
        work.curated[passage.text] = curation


def _collect_claim_work(session: Session, claim_by_id: dict[int, _ClaimWork]) -> None:
    ids = list(claim_by_id)
    for annotation, username in session.execute(
        select(Annotation, User.username)
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.claim_id.in_(ids))
        .order_by(Annotation.id)
    ).all():
        claim_by_id[annotation.claim_id].annotations.append(
            _columns(
                annotation,
                ("user_id", "label", "unsure", "note", "version", "created_at", "updated_at"),
            )
        )
        claim_by_id[annotation.claim_id].reviewers.append(username)
    for final in session.scalars(select(FinalLabel).where(FinalLabel.claim_id.in_(ids))):
        claim_by_id[final.claim_id].final = _columns(
            final, ("user_id", "label", "version", "updated_at")
        )
    for suggestion in session.scalars(select(Suggestion).where(Suggestion.claim_id.in_(ids))):
        claim_by_id[suggestion.claim_id].suggestions.append(
            _columns(suggestion, ("source", "label", "score", "reason", "user_id", "updated_at"))
        )


def _collect_passage_work(session: Session, passages: Sequence[Passage], work: _OldWork) -> None:
    text_of = {p.id: p.text for p in passages}
    for correction in session.scalars(
        select(OutletCorrection).where(OutletCorrection.passage_id.in_(list(text_of)))
    ):
        work.corrections.setdefault(text_of[correction.passage_id], []).append(
            _columns(correction, ("user_id", "outlet_id", "version", "created_at", "updated_at"))
        )
    for review in session.scalars(
        select(Review).where(
            Review.passage_id.in_(list(text_of)), Review.status == ReviewStatus.SKIPPED
        )
    ):
        work.skips.setdefault(text_of[review.passage_id], []).append(
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
