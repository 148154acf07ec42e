# ruff: noqa: RUF001  (typographic quotes are test data)
"""Paragraphs, furniture, headlines, sentences and quotation spans."""

import pytest

from annotator.text.quotes import mask_quotes, quote_spans
from annotator.text.segment import (
    Paragraph,
    is_furniture,
    normalise,
    sentence_spans,
    split_paragraphs,
    split_title,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One.\nTwo.\n\n", ["One.", "Two."]),
        ("One.\r\nTwo.\rThree.", ["One.", "Two.", "Three."]),
        ("\ufeffFirst line.\tTabbed.", ["First line. Tabbed."]),
        (
            "A wrapped\nparagraph here.\n\nSecond one\nalso wrapped.",
            [
                "A wrapped paragraph here.",
                "Second one also wrapped.",
            ],
        ),
        ("Para one.\n\n\n\n   \nPara two.", ["Para one.", "Para two."]),
        ("Text.\n![]() |\nNo comments:\nPost a Comment", ["Text."]),
        ("Text.\n|\nShare this:\nNewer Post Older Post Home\nLabels: war, talks", ["Text."]),
        ("Text.\nPosted by Anna at 10:42 PM\n![chart](https://x.org/c.png)", ["Text."]),
        ("# Heading\n\nBody text.", ["Heading", "Body text."]),
        (
            "Intro:\n\n> Quoted line one\n> and its wrap.\n\nAfter.",
            [
                "Intro:",
                "Quoted line one and its wrap.",
                "After.",
            ],
        ),
        ("#hashtag stays\n>", ["#hashtag stays"]),
        ("", []),
    ],
)
def test_split_paragraphs(text: str, expected: list[str]) -> None:
    assert [p.text for p in split_paragraphs(text)] == expected


def test_paragraph_flags_blockquote_and_heading() -> None:
    paragraphs = split_paragraphs("## Update\n\n> From the wire.\n\nMine.")
    assert paragraphs == [
        Paragraph("Update", heading=True),
        Paragraph("From the wire.", blockquote=True),
        Paragraph("Mine."),
    ]


def test_long_lines_in_a_block_are_not_hard_wraps() -> None:
    long_line = "word " * 60
    text = f"{long_line.strip()}\nSecond paragraph.\n\nThird."
    assert len(split_paragraphs(text)) == 3


@pytest.mark.parametrize(
    "line",
    [
        "![]() |",
        "![]()",
        "No comments:",
        "3 comments:",
        "Post a Comment",
        "|",
        "Share this",
        "Newer Post Older Post Home",
        "Labels: Russia, Ukraine",
        "Posted by Max at 9:01 AM",
        "Email This BlogThis! Share to Twitter Share to Facebook",
        "Email ThisBlogThis!Share to TwitterShare to Facebook",
        "Tuesday, June 3, 2025",
        "3 June 2025",
        "Photo: Reuters/Anna Lee",
    ],
)
def test_furniture(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "No comments were made by the ministry.",
        "Share prices fell.",
        "Home is far.",
        "March 3, 2025 saw riots.",
    ],
)
def test_not_furniture(line: str) -> None:
    assert not is_furniture(line)


@pytest.mark.parametrize(
    ("text", "headline", "rest"),
    [
        ("![]() |\nMedvedev: no talks (Tass) |\nBody.", "Medvedev: no talks (Tass)", "Body."),
        ("# Port strike enters week two\n\nBody.", "Port strike enters week two", "\nBody."),
        ("\n\n  Title only  ", "Title only", ""),
        ("![]() |\nNo comments:", "", ""),
    ],
)
def test_split_title(text: str, headline: str, rest: str) -> None:
    assert split_title(text) == (headline, rest)


def test_normalise_keeps_length_of_plain_text() -> None:
    assert normalise("a\r\nb\u2028c") == "a\nb\nc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "He met Mr. Smith on Jan. 5. Then he left.",
            ["He met Mr. Smith on Jan. 5.", "Then he left."],
        ),
        (
            "The U.S. Senate voted. Donald J. Trump won.",
            [
                "The U.S. Senate voted.",
                "Donald J. Trump won.",
            ],
        ),
        ("Prices rose 3.5 percent. No. 5 was hit.", ["Prices rose 3.5 percent.", "No. 5 was hit."]),
        ("See No. 5 and p. 12 here. Done", ["See No. 5 and p. 12 here.", "Done"]),
        ("It was 5 p.m. Monday in Washington.", ["It was 5 p.m. Monday in Washington."]),
        ("Really? Yes! Fine…  Next.", ["Really?", "Yes!", "Fine…", "Next."]),
        ('"It ended." He left.', ['"It ended."', "He left."]),
        (
            '"We will win. Nothing stops us," she said. Then silence.',
            [
                '"We will win. Nothing stops us," she said.',
                "Then silence.",
            ],
        ),
        ("lowercase after a stop. continues here.", ["lowercase after a stop. continues here."]),
        ("   ", []),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    spans = sentence_spans(text, quote_spans(text))
    assert [text[a:b] for a, b in spans] == expected


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ('He said "no deal" today.', ['"no deal"']),
        ("He said “no deal” and «never».", ["“no deal”", "«never»"]),
        ("Russia's army and the officials' claims.", []),
        ("He called it ‘a farce’, she said.", ["‘a farce’"]),
        ("She said 'not now' twice.", ["'not now'"]),
        ("\"'Rare moment' — Graham says 'peace'\":", ["\"'Rare moment' — Graham says 'peace'\""]),
        ('A stray unclosed "mark is ignored.', []),
        (
            '"A quote running on. Into the next paragraph',
            ['"A quote running on. Into the next paragraph'],
        ),
        ('He said: "We stay. We fight', ['"We stay. We fight']),
        ('"Multi-paragraph quotes reopen." "And close.', ['"Multi-paragraph quotes reopen."']),
    ],
)
def test_quote_spans(text: str, quoted: list[str]) -> None:
    assert [text[a:b] for a, b in quote_spans(text)] == quoted


def test_mask_quotes_keeps_offsets() -> None:
    text = 'I said "I agree" here.'
    masked = mask_quotes(text, quote_spans(text))
    assert len(masked) == len(text)
    assert masked == "I said           here."
