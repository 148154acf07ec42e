"""``annotator evaluate``: import an article, read back what was stored, score it against gold."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from annotator.models import Document, Passage
from annotator.services.importing import import_files
from annotator.text.evaluate import evaluate, format_report
from annotator.text.pipeline import ClaimDraft, PassageDraft

EVALUATION_PROJECT = "evaluation"


def evaluate_against_gold(session: Session, gold_path: Path, article: str | None) -> str:
    """Score the stored analysis of ``article`` (default: the gold file's ``source``)."""
    try:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{gold_path}: cannot read the gold file ({exc})") from exc
    if not isinstance(gold, dict) or not isinstance(gold.get("passages"), list):
        raise ValueError(f"{gold_path}: not a gold annotation (no 'passages' list)")
    article_path = Path(article) if article else gold_path.parent / str(gold.get("source", ""))
    if not article_path.is_file():
        raise ValueError(f"article {article_path} not found; pass it as the second argument")
    report = import_files(
        session, [(article_path.name, article_path.read_bytes())], EVALUATION_PROJECT
    )
    if report.failed:
        raise ValueError("; ".join(report.failed))
    return format_report(evaluate(gold, stored_drafts(session, article_path.stem)))


def stored_drafts(session: Session, external_id: str) -> list[PassageDraft]:
    """The passages and claims of a stored document, as the pipeline's plain objects."""
    document = session.scalars(
        select(Document)
        .where(Document.external_id == external_id)
        .options(
            selectinload(Document.passages).selectinload(Passage.claims),
            selectinload(Document.passages).selectinload(Passage.outlet),
        )
    ).one()
    return [
        PassageDraft(
            index=p.index,
            text=p.text,
            role=p.role,
            outlet=p.outlet.name if p.outlet else None,
            cue=p.cue,
            cue_start=p.cue_start,
            cue_end=p.cue_end,
            claims=tuple(
                ClaimDraft(c.start, c.end, c.suggested_label, c.suggestion_reason) for c in p.claims
            ),
        )
        for p in document.passages
    ]
