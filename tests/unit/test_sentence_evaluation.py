"""The suggester against labelled sentences: reading the file, the scores, the report."""

import codecs

import pytest

from annotator.services.evaluation import read_labelled_sentences
from annotator.services.records import ImportFileError
from annotator.text.evaluate import (
    NOT_EDITORIAL,
    LabelledSentence,
    format_sentence_scores,
    score_sentences,
    sentence_scores_json,
)
from annotator.text.suggest import suggest_sentence
from tests.conftest import SHARED

REPORTED = "The ship docked in Rotterdam on Tuesday."
QUOTED = "The minister said the talks would resume next week."
EDITORIAL = "Clearly, nobody in the ministry read the report."


def labelled(*pairs: tuple[str, str]) -> list[LabelledSentence]:
    return [LabelledSentence(line, text, label) for line, (text, label) in enumerate(pairs, 2)]


def test_the_sentences_label_as_these_tests_assume() -> None:
    assert [suggest_sentence(s).label for s in (REPORTED, QUOTED, EDITORIAL)] == [
        "reported",
        "quoted",
        "editorial",
    ]


def test_three_labels_give_the_confusion_matrix_and_per_label_scores() -> None:
    scores = score_sentences(
        labelled(
            (REPORTED, "reported"),
            (QUOTED, "quoted"),
            (EDITORIAL, "editorial"),
            (REPORTED, "editorial"),  # gold editorial, suggested reported
        )
    )
    assert scores.classes == ("reported", "quoted", "editorial")
    assert scores.confusion["editorial"] == {"reported": 1, "quoted": 0, "editorial": 1}
    assert scores.sentences == 4
    assert scores.correct == 3
    assert scores.accuracy == pytest.approx(0.75)
    assert scores.precision("reported") == pytest.approx(0.5)
    assert scores.recall("reported") == pytest.approx(1.0)
    assert scores.f1("reported") == pytest.approx(2 / 3)
    assert scores.precision("editorial") == pytest.approx(1.0)
    assert scores.recall("editorial") == pytest.approx(0.5)
    assert scores.macro_f1 == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    [miss] = scores.misses
    assert (miss.line, miss.expected, miss.suggested) == (5, "editorial", "reported")
    assert miss.reason == suggest_sentence(REPORTED).reason


def test_newssd_labels_are_scored_as_editorial_or_not() -> None:
    scores = score_sentences(
        labelled((QUOTED, "obj"), (REPORTED, "obj"), (EDITORIAL, "subj"), (QUOTED, "subj"))
    )
    assert scores.classes == ("editorial", NOT_EDITORIAL)
    assert scores.confusion == {
        "editorial": {"editorial": 1, NOT_EDITORIAL: 1},
        NOT_EDITORIAL: {"editorial": 0, NOT_EDITORIAL: 2},
    }
    assert scores.f1("editorial") == pytest.approx(2 / 3)
    assert scores.f1(NOT_EDITORIAL) == pytest.approx(0.8)
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert [m.suggested for m in scores.misses] == [NOT_EDITORIAL]


def test_a_label_never_suggested_scores_zero_not_an_error() -> None:
    scores = score_sentences(labelled((REPORTED, "reported"), (REPORTED, "quoted")))
    assert scores.precision("quoted") == 0.0
    assert scores.f1("quoted") == 0.0
    assert scores.f1("editorial") == 0.0


def test_the_table_and_the_json_give_the_same_figures() -> None:
    scores = score_sentences(
        labelled((REPORTED, "reported"), (QUOTED, "quoted"), (REPORTED, "editorial"))
    )
    table = format_sentence_scores(scores, shown_misses=5)
    assert "accuracy     0.667  (2/3)" in table
    assert f"macro-F1    {scores.macro_f1:6.3f}" in table
    assert "gold \\ suggested" in table
    assert "4: reported for editorial (no attribution" in table
    data = sentence_scores_json(scores)
    assert data["sentences"] == 3
    assert data["macro_f1"] == pytest.approx(scores.macro_f1)
    assert data["labels"]["reported"]["precision"] == pytest.approx(0.5)
    assert data["misses"][0]["line"] == 4


def test_the_table_lists_as_many_misses_as_asked() -> None:
    scores = score_sentences(labelled(*[(REPORTED, "quoted")] * 3))
    table = format_sentence_scores(scores, shown_misses=1)
    assert table.count(": reported for quoted") == 1
    assert "... and 2 more" in table
    assert "misses" not in format_sentence_scores(scores, shown_misses=0)


def test_the_file_reader_takes_newssd_and_our_own_labels() -> None:
    newssd = b'Sentence,Label,Solved conflict\n"It rained, again.",OBJ,False\nAwful.,SUBJ,True\n'
    assert read_labelled_sentences("val.csv", newssd) == [
        LabelledSentence(2, "It rained, again.", "obj"),
        LabelledSentence(3, "Awful.", "subj"),
    ]
    ours = codecs.BOM_UTF8 + b"label;text\nQuoted;He said so.\n\n;\neditorial;Sadly, no.\n"
    assert read_labelled_sentences("ours.csv", ours) == [
        LabelledSentence(2, "He said so.", "quoted"),
        LabelledSentence(5, "Sadly, no.", "editorial"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"text,category\nA.,OBJ\n", 'needs a "sentence" (or "text") and a "label" column'),
        (b"sentence,label\nA.,OBJ\nB.,opinion\n", "line 3: unknown label 'opinion'"),
        (b"sentence,label\nA.,OBJ\nB.,quoted\n", "line 3: the file mixes SUBJ/OBJ"),
        (b"sentence,label\n  ,OBJ\n", "line 2: the sentence is empty"),
        (b"label,sentence\nOBJ\n", "line 2: the row has fewer fields than the header"),
        (b"sentence,label\n", "holds no labelled sentences"),
        (b'sentence,label\n"A.,OBJ\n', "malformed CSV"),
        (b"sentence,label\nA\x00,OBJ\n", "binary file"),
    ],
)
def test_a_bad_file_is_refused_with_the_line(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        read_labelled_sentences("labels.csv", data)
    assert message in str(refused.value)
    assert str(refused.value).startswith("labels.csv")


def test_newssd_train_reads_whole_quotes_doubled_inside_quoted_fields_included() -> None:
    train = SHARED / "corpus" / "newssd-eng" / "train.csv"
    sentences = read_labelled_sentences(train.name, train.read_bytes())
    assert (len(sentences), sum(s.label == "subj" for s in sentences)) == (731, 244)
    fed = next(s for s in sentences if s.text.endswith("the Fed said."))
    assert fed.text.startswith('"Recent indicators point to modest growth')
    assert fed.label == "obj"
