"""Score pipeline output against a gold annotation (the ``seed-article.gold.json`` format).

Passages are aligned by whitespace-normalised text; a gold passage with no predicted twin counts
as wrong for outlet and role. Claims are compared by exact (whitespace-normalised) text within
aligned passages; suggestions are scored on the claims both sides agree on.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotator.text.outlets import OutletRegistry, default_registry
from annotator.text.pipeline import PassageDraft
from annotator.text.suggest import LABELS, suggest_sentence

_WHITESPACE = re.compile(r"\s+")
_MATRIX_CORNER = "gold \\ suggested"


@dataclass(frozen=True)
class EvaluationReport:
    """Agreement of predicted passages with gold ones (counts and derived rates)."""

    gold_passages: int
    predicted_passages: int
    aligned_passages: int
    outlet_correct: int
    role_correct: int
    gold_claims: int
    predicted_claims: int
    matched_claims: int
    label_correct: int
    confusion: Mapping[str, Mapping[str, int]]
    mistakes: tuple[str, ...]

    @property
    def outlet_accuracy(self) -> float:
        return _ratio(self.outlet_correct, self.gold_passages)

    @property
    def role_accuracy(self) -> float:
        return _ratio(self.role_correct, self.gold_passages)

    @property
    def claim_precision(self) -> float:
        return _ratio(self.matched_claims, self.predicted_claims)

    @property
    def claim_recall(self) -> float:
        return _ratio(self.matched_claims, self.gold_claims)

    @property
    def claim_f1(self) -> float:
        p, r = self.claim_precision, self.claim_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def suggestion_accuracy(self) -> float:
        return _ratio(self.label_correct, self.matched_claims)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def evaluate(
    gold: Mapping[str, Any],
    predicted: Sequence[PassageDraft],
    registry: OutletRegistry | None = None,
) -> EvaluationReport:
    """Compare ``predicted`` passages with a gold annotation dict (``{"passages": [...]}``).

    Outlet names are compared through ``registry`` (default: the built-in outlets), so "Tass",
    "TASS" and "The Kyiv Independent"/"Kyiv Independent" agree.
    """
    registry = registry or default_registry()
    by_text: dict[str, list[PassageDraft]] = defaultdict(list)
    for draft in predicted:
        by_text[_normalise(draft.text)].append(draft)
    tally: Counter[str] = Counter()
    confusion = {row: dict.fromkeys(LABELS, 0) for row in LABELS}
    mistakes: list[str] = []
    gold_passages = list(gold.get("passages", []))
    for passage in gold_passages:
        key = _normalise(str(passage.get("text", "")))
        candidates = by_text.get(key)
        if not candidates:
            mistakes.append(f"missing passage: {key[:60]!r}")
            continue
        draft = candidates.pop(0)
        tally["aligned"] += 1
        _score_passage(passage, draft, registry, tally, confusion, mistakes)
    return EvaluationReport(
        gold_passages=len(gold_passages),
        predicted_passages=len(predicted),
        aligned_passages=tally["aligned"],
        outlet_correct=tally["outlet"],
        role_correct=tally["role"],
        gold_claims=tally["gold_claims"],
        predicted_claims=tally["predicted_claims"],
        matched_claims=tally["matched"],
        label_correct=tally["label"],
        confusion=confusion,
        mistakes=tuple(mistakes),
    )


def _score_passage(
    passage: Mapping[str, Any],
    draft: PassageDraft,
    registry: OutletRegistry,
    tally: Counter[str],
    confusion: dict[str, dict[str, int]],
    mistakes: list[str],
) -> None:
    label = f"passage {draft.index}"
    if _same_outlet(passage.get("outlet"), draft.outlet, registry):
        tally["outlet"] += 1
    else:
        mistakes.append(f"{label}: outlet {draft.outlet!r}, gold {passage.get('outlet')!r}")
    if passage.get("role") == draft.role:
        tally["role"] += 1
    else:
        mistakes.append(f"{label}: role {draft.role!r}, gold {passage.get('role')!r}")
    predicted = {_normalise(draft.text[c.start : c.end]): c.label for c in draft.claims}
    gold_claims = passage.get("claims", [])
    tally["gold_claims"] += len(gold_claims)
    tally["predicted_claims"] += len(draft.claims)
    for claim in gold_claims:
        text = _normalise(str(claim.get("text", "")))
        if text not in predicted:
            mistakes.append(f"{label}: claim not found {text[:60]!r}")
            continue
        tally["matched"] += 1
        suggested, expected = predicted.pop(text), str(claim.get("label"))
        if expected in confusion:
            confusion[expected][suggested] = confusion[expected].get(suggested, 0) + 1
        if suggested == expected:
            tally["label"] += 1
        else:
            mistakes.append(f"{label}: {suggested} for {expected} {text[:60]!r}")
    for text in predicted:
        mistakes.append(f"{label}: extra claim {text[:60]!r}")


def _same_outlet(gold: object, predicted: str | None, registry: OutletRegistry) -> bool:
    if not gold or predicted is None:
        return not gold and predicted is None
    gold_name = registry.canonical(str(gold)) or _normalise(str(gold)).casefold()
    predicted_name = registry.canonical(predicted) or _normalise(predicted).casefold()
    return gold_name == predicted_name


def format_report(report: EvaluationReport) -> str:
    """A plain-text table of the scores, the confusion matrix and the first mistakes."""
    lines = [
        f"passages   gold {report.gold_passages}, predicted {report.predicted_passages}, "
        f"aligned {report.aligned_passages}",
        f"outlet accuracy      {report.outlet_accuracy:6.3f}",
        f"role accuracy        {report.role_accuracy:6.3f}",
        f"claim precision      {report.claim_precision:6.3f}",
        f"claim recall         {report.claim_recall:6.3f}",
        f"claim F1             {report.claim_f1:6.3f}",
        f"suggestion accuracy  {report.suggestion_accuracy:6.3f}"
        f"  ({report.label_correct}/{report.matched_claims} matched claims)",
        "",
        f"{_MATRIX_CORNER} " + "".join(f"{label:>10}" for label in LABELS),
    ]
    for row in LABELS:
        counts = report.confusion.get(row, {})
        lines.append(f"{row:<17}" + "".join(f"{counts.get(col, 0):>10}" for col in LABELS))
    if report.mistakes:
        lines += ["", "mistakes:", *(f"  {m}" for m in report.mistakes[:40])]
        if len(report.mistakes) > 40:
            lines.append(f"  ... and {len(report.mistakes) - 40} more")
    return "\n".join(lines)


# Labelled sentences: the suggester alone, on sentences without their article. A file either
# uses our labels or NewsSD-ENG's (SUBJ ~ editorial, OBJ ~ reported or quoted), which is then
# scored as "editorial or not".
SUBJECTIVE, OBJECTIVE = "subj", "obj"
NOT_EDITORIAL = "not editorial"
BINARY_CLASSES = ("editorial", NOT_EDITORIAL)


@dataclass(frozen=True)
class LabelledSentence:
    line: int
    text: str
    label: str  # one of LABELS, or SUBJECTIVE / OBJECTIVE


@dataclass(frozen=True)
class SentenceMiss:
    line: int
    text: str
    expected: str
    suggested: str
    reason: str


@dataclass(frozen=True)
class SentenceScores:
    """The suggester's labels against labelled sentences: ``confusion[gold][suggested]``."""

    classes: tuple[str, ...]
    confusion: Mapping[str, Mapping[str, int]]
    misses: tuple[SentenceMiss, ...]

    @property
    def sentences(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def correct(self) -> int:
        return sum(self.confusion[label][label] for label in self.classes)

    @property
    def accuracy(self) -> float:
        return _ratio(self.correct, self.sentences)

    def precision(self, label: str) -> float:
        suggested = sum(self.confusion[gold][label] for gold in self.classes)
        return _ratio(self.confusion[label][label], suggested)

    def recall(self, label: str) -> float:
        return _ratio(self.confusion[label][label], sum(self.confusion[label].values()))

    def f1(self, label: str) -> float:
        p, r = self.precision(label), self.recall(label)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(label) for label in self.classes) / len(self.classes)


def score_sentences(
    sentences: Sequence[LabelledSentence], registry: OutletRegistry | None = None
) -> SentenceScores:
    """Suggest a label for each sentence on its own and count it against the gold label."""
    registry = registry or default_registry()
    binary = any(s.label in (SUBJECTIVE, OBJECTIVE) for s in sentences)
    classes = BINARY_CLASSES if binary else LABELS
    confusion = {row: dict.fromkeys(classes, 0) for row in classes}
    misses: list[SentenceMiss] = []
    for sentence in sentences:
        suggestion = suggest_sentence(sentence.text, registry)
        expected, suggested = sentence.label, suggestion.label
        if binary:
            expected = "editorial" if expected == SUBJECTIVE else NOT_EDITORIAL
            suggested = suggested if suggested == "editorial" else NOT_EDITORIAL
        confusion[expected][suggested] += 1
        if expected != suggested:
            misses.append(
                SentenceMiss(sentence.line, sentence.text, expected, suggested, suggestion.reason)
            )
    return SentenceScores(classes, confusion, tuple(misses))


def format_sentence_scores(scores: SentenceScores, shown_misses: int = 20) -> str:
    """Accuracy, per-label precision / recall / F1, macro-F1, the confusion matrix and misses."""
    width = max(len(label) for label in scores.classes) + 2
    lines = [
        f"sentences   {scores.sentences}",
        f"accuracy    {scores.accuracy:6.3f}  ({scores.correct}/{scores.sentences})",
        f"macro-F1    {scores.macro_f1:6.3f}",
        "",
        f"{'label':<{width}}precision  recall      F1",
        *(
            f"{label:<{width}}{scores.precision(label):9.3f}{scores.recall(label):8.3f}"
            f"{scores.f1(label):8.3f}"
            for label in scores.classes
        ),
        "",
        f"{_MATRIX_CORNER:<{width + 2}}" + "".join(f"{c:>{width}}" for c in scores.classes),
    ]
    for row in scores.classes:
        counts = "".join(f"{scores.confusion[row][c]:>{width}}" for c in scores.classes)
        lines.append(f"{row:<{width + 2}}{counts}")
    shown = scores.misses[:shown_misses]
    if shown:
        lines += ["", "misses (line: suggested for gold, the suggester's reason):"]
        lines += [
            f"  {m.line}: {m.suggested} for {m.expected} ({m.reason}): {m.text[:80]!r}"
            for m in shown
        ]
        if len(scores.misses) > len(shown):
            lines.append(f"  ... and {len(scores.misses) - len(shown)} more")
    return "\n".join(lines)


def sentence_scores_json(scores: SentenceScores) -> dict[str, Any]:
    """The scores as plain data (``annotator evaluate-sentences --format json``)."""
    return {
        "sentences": scores.sentences,
        "accuracy": scores.accuracy,
        "macro_f1": scores.macro_f1,
        "labels": {
            label: {
                "precision": scores.precision(label),
                "recall": scores.recall(label),
                "f1": scores.f1(label),
            }
            for label in scores.classes
        },
        "confusion": {gold: dict(row) for gold, row in scores.confusion.items()},
        "misses": [
            {"line": m.line, "text": m.text, "expected": m.expected, "suggested": m.suggested,
             "reason": m.reason}
            for m in scores.misses
        ],
    }  # fmt: skip
