"""The pipeline against the gold seed article, the evaluation report, and NewsSD sanity."""

import csv
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from annotator.services.evaluation import read_labelled_sentences
from annotator.text.evaluate import EvaluationReport, evaluate, format_report, score_sentences
from annotator.text.outlets import default_registry
from annotator.text.pipeline import ClaimDraft, PassageDraft, analyse_document
from annotator.text.suggest import EDITORIAL, suggest_sentence

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
REGISTRY = default_registry()


def load_gold() -> dict[str, Any]:
    gold: dict[str, Any] = json.loads(
        (CORPUS / "seed-article.gold.json").read_text(encoding="utf-8")
    )
    return gold


def seed_report() -> EvaluationReport:
    text = (CORPUS / "seed-article.txt").read_text(encoding="utf-8")
    return evaluate(load_gold(), analyse_document(None, text, REGISTRY))


def test_seed_targets() -> None:
    report = seed_report()
    summary = format_report(report)
    assert report.outlet_accuracy >= 0.95, summary
    assert report.role_accuracy >= 0.95, summary
    assert report.claim_f1 >= 0.90, summary
    assert report.suggestion_accuracy >= 0.75, summary


def test_seed_as_jsonl_record_keeps_its_analysis() -> None:
    """Imported as {"title", "text"} with blank-line paragraphs, the seed reads the same."""
    lines = (CORPUS / "seed-article.txt").read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[2:] if line not in ("No comments:", "Post a Comment")]
    passages = analyse_document(lines[1].rstrip(" |"), "\n\n".join(body), REGISTRY)
    assert seed_report().outlet_correct == evaluate(load_gold(), passages).outlet_correct


def gold_as_drafts(gold: dict[str, Any]) -> list[PassageDraft]:
    drafts = []
    for index, passage in enumerate(gold["passages"]):
        text = passage["text"]
        claims = []
        for claim in passage["claims"]:
            start = text.index(claim["text"])
            claims.append(ClaimDraft(start, start + len(claim["text"]), claim["label"], "gold"))
        cue = passage["cue"]
        cue_start = text.find(cue) if cue else None
        drafts.append(
            PassageDraft(
                index, text, passage["role"], passage["outlet"], cue, cue_start,
                None if cue is None or cue_start is None else cue_start + len(cue),
                tuple(claims),
            )
        )  # fmt: skip
    return drafts


def test_evaluate_gold_against_itself_is_perfect() -> None:
    gold = load_gold()
    report = evaluate(gold, gold_as_drafts(gold))
    assert (report.outlet_accuracy, report.role_accuracy) == (1.0, 1.0)
    assert (report.claim_precision, report.claim_recall, report.claim_f1) == (1.0, 1.0, 1.0)
    assert report.suggestion_accuracy == 1.0
    assert report.mistakes == ()
    assert sum(report.confusion[label][label] for label in report.confusion) == 40


def test_evaluate_compares_outlets_through_aliases() -> None:
    gold = load_gold()
    drafts = [
        replace(d, outlet="The Kyiv Independent") if d.outlet == "Kyiv Independent" else d
        for d in gold_as_drafts(gold)
    ]
    assert evaluate(gold, drafts).outlet_accuracy == 1.0


def test_evaluate_takes_a_gold_outlet_given_as_its_web_address() -> None:
    gold = load_gold()
    addresses = {"Kyiv Independent": "https://kyivindependent.com/a", "NPR": "npr.org"}
    gold_by_address = {
        **gold,
        "passages": [
            {**p, "outlet": addresses.get(p.get("outlet"), p.get("outlet"))}
            for p in gold["passages"]
        ],
    }
    assert gold_by_address != gold
    assert evaluate(gold_by_address, gold_as_drafts(gold)).outlet_accuracy == 1.0


def test_evaluate_counts_missing_passages_and_wrong_labels() -> None:
    gold = load_gold()
    drafts = gold_as_drafts(gold)
    first = drafts[0]
    relabelled = replace(first, claims=tuple(replace(c, label="reported") for c in first.claims))
    report = evaluate(gold, [relabelled, *drafts[2:]])
    assert report.outlet_correct == len(drafts) - 1
    assert report.role_accuracy == pytest.approx((len(drafts) - 1) / len(drafts))
    assert report.confusion["quoted"]["reported"] == 1
    assert report.suggestion_accuracy < 1.0
    assert any("missing passage" in m for m in report.mistakes)


def test_format_report_is_a_readable_table() -> None:
    text = format_report(seed_report())
    assert "outlet accuracy" in text
    assert "claim F1" in text
    assert "gold \\ suggested" in text
    assert len(text.splitlines()) >= 12


def newssd_macro_f1(split: str) -> float:
    """Editorial vs not on NewsSD-ENG (SUBJ ~ editorial), macro-F1 over the two classes."""
    path = CORPUS / "newssd-eng" / f"{split}.csv"
    return score_sentences(read_labelled_sentences(path.name, path.read_bytes())).macro_f1


def test_newssd_validation_sanity() -> None:
    """Rules are no subjectivity model; this only guards against a collapse (e.g. all one class)."""
    assert newssd_macro_f1("val") > 0.45


def test_newssd_scores_as_counted_sentence_by_sentence() -> None:
    """The scores of ``annotator evaluate-sentences`` against a count written out here."""
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    with (CORPUS / "newssd-eng" / "val.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            predicted = suggest_sentence(row["Sentence"], REGISTRY).label == EDITORIAL
            gold = row["Label"] == "SUBJ"
            counts[("t" if predicted == gold else "f") + ("p" if predicted else "n")] += 1
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    expected = (2 * tp / (2 * tp + fp + fn) + 2 * tn / (2 * tn + fn + fp)) / 2
    assert newssd_macro_f1("val") == pytest.approx(expected)


def test_pipeline_speed_sanity() -> None:
    """Far looser than the product budget (under 50 us/passage): catches accidental blow-ups."""
    text = (CORPUS / "seed-article.txt").read_text(encoding="utf-8")
    started = time.perf_counter()
    passages = sum(len(analyse_document(None, text, REGISTRY)) for _ in range(30))
    per_passage = (time.perf_counter() - started) / passages
    assert per_passage < 500e-6


def test_huge_paragraphs_stay_linear() -> None:
    """One 150 KB paragraph with thousands of claims, quotes and outlet names: no quadratic step."""
    sentence = 'Reuters said "we will win," the minister said. I think it seemed bad. '
    started = time.perf_counter()
    passages = analyse_document("Title", sentence * 2000, REGISTRY)
    assert len(passages[1].claims) == 4000
    assert time.perf_counter() - started < 5.0
