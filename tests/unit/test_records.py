"""Small checks on untrusted text shared by the readers, the views and the API."""

from __future__ import annotations

import pytest

from annotator.services.records import is_whole_number


@pytest.mark.parametrize("text", ["0", "7", "2026", "00012"])
def test_ascii_digits_are_whole_numbers(text):
    assert is_whole_number(text)
    assert int(text) >= 0


NOT_WHOLE = ["", "²", "٣", "\uff11\uff12", "-1", "+1", "1.5", " 1", "1 ", "1e3"]


@pytest.mark.parametrize("text", NOT_WHOLE)
def test_anything_else_is_not(text):
    assert not is_whole_number(text)
