"""Small checks on untrusted text shared by the readers, the views and the API."""

from __future__ import annotations

from datetime import date

import pytest

from annotator.services.records import MAX_ID, id_from_text, is_whole_number, publication_date


@pytest.mark.parametrize("text", ["0", "7", "2026", "00012", "9" * 18])
def test_ascii_digits_are_whole_numbers(text):
    assert is_whole_number(text)
    assert int(text) >= 0


# More than 4,300 digits make ``int`` raise; 19 already go past what the app ever stores.
NOT_WHOLE = [
    "",
    "²",
    "٣",
    "\uff11\uff12",
    "-1",
    "+1",
    "1.5",
    " 1",
    "1 ",
    "1e3",
    "9" * 19,
    "9" * 5000,
]


@pytest.mark.parametrize("text", NOT_WHOLE)
def test_anything_else_is_not(text):
    assert not is_whole_number(text)


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("0042", 42), (str(MAX_ID), MAX_ID)])
def test_ids_are_read_from_their_digits(text, expected):
    assert id_from_text(text) == expected


@pytest.mark.parametrize("text", ["0", str(MAX_ID + 1), "9" * 18, "9" * 5000, "²", "-3", ""])
def test_text_outside_the_id_range_names_no_row(text):
    assert id_from_text(text) is None


@pytest.mark.parametrize(
    ("published", "day"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        ("  2026-03-01T23:30:00-05:00 ", date(2026, 3, 1)),  # the day as the source wrote it
        ("2026-03-01 08:00", date(2026, 3, 1)),
        ("Sun, 01 Mar 2026 23:30:00 -0500", date(2026, 3, 1)),
        ("1 Mar 2026 08:00:00 GMT", date(2026, 3, 1)),
        ("2026-02-30", None),  # no such day
        ("2026-03-011", None),
        ("20260301", None),
        ("March 1, 2026", None),  # a wording whose order of day and month is a guess
        ("01/03/2026", None),
        ("", None),
        (None, None),
    ],
)
def test_publication_date_reads_iso_and_feed_dates_only(published, day):
    assert publication_date(published) == day
