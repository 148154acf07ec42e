"""``annotator evaluate``: import an article, read back what was stored, score it against gold;
``annotator evaluate-sentences``: read a file of labelled sentences for the suggester alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from annotator.models import Document, Passage
from annotator.services.importing import import_files
from annotator.services.readers import decode, read_csv_rows
from annotator.services.records import ImportFileError
from annotator.text.evaluate import (
    OBJECTIVE,
    SUBJECTIVE,
    LabelledSentence,
    evaluate,
    format_report,
)
from annotator.text.pipeline import ClaimDraft, PassageDraft
from annotator.text.suggest import LABELS

EVALUATION_PROJECT = "evaluation"
SENTENCE_COLUMNS = ("sentence", "text")
_OUR_LABELS = frozenset(LABELS)
_NEWSSD_LABELS = frozenset({SUBJECTIVE, OBJECTIVE})


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


def read_labelled_sentences(filename: str, data: bytes) -> list[LabelledSentence]:
    """A CSV with a ``sentence`` (or ``text``) and a ``label`` column, other columns ignored.
    Labels are ours (reported, quoted, editorial) or NewsSD-ENG's (SUBJ, OBJ), in any case,
    one kind per file; a row that breaks this is refused with its line."""

    def sentence_reader(header: list[str]) -> Callable[[list[str], int], LabelledSentence]:
        columns = _sentence_header(filename, header)
        return lambda row, line: _labelled_sentence(filename, row, line, *columns)

    sentences = read_csv_rows(filename, decode(filename, data), sentence_reader)
    if not sentences:
        raise ImportFileError(filename, "the file holds no labelled sentences")
    _check_one_kind_of_label(filename, sentences)
    return sentences


def _sentence_header(filename: str, header: list[str]) -> tuple[int, int]:
    """The positions of the sentence and the label column."""
    sentence = next((header.index(name) for name in SENTENCE_COLUMNS if name in header), None)
    if sentence is None or "label" not in header:
        raise ImportFileError(
            filename, 'the header needs a "sentence" (or "text") and a "label" column', 1
        )
    return sentence, header.index("label")


def _labelled_sentence(
    filename: str, row: list[str], line: int, sentence_column: int, label_column: int
) -> LabelledSentence:
    if max(sentence_column, label_column) >= len(row):
        raise ImportFileError(filename, "the row has fewer fields than the header", line)
    sentence, label = row[sentence_column].strip(), row[label_column].strip().lower()
    if not sentence:
        raise ImportFileError(filename, "the sentence is empty", line)
    if label not in _OUR_LABELS | _NEWSSD_LABELS:
        raise ImportFileError(
            filename,
            f"unknown label {row[label_column].strip()!r}: use reported, quoted or editorial, "
            "or NewsSD-ENG's SUBJ and OBJ",
            line,
        )
    return LabelledSentence(line, sentence, label)


def _check_one_kind_of_label(filename: str, sentences: list[LabelledSentence]) -> None:
    first_kind = sentences[0].label in _NEWSSD_LABELS
    for sentence in sentences:
        if (sentence.label in _NEWSSD_LABELS) != first_kind:
            raise ImportFileError(
                filename,
                "the file mixes SUBJ/OBJ with reported/quoted/editorial labels; use one kind",
                sentence.line,
            )
