"""Feeding decoded text to the csv module line by line."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from annotator.services.readers import lines_of

cells = st.text(alphabet=st.sampled_from('ab ,"\n\r;é😀'), max_size=8)
tables = st.lists(st.lists(cells, min_size=1, max_size=4), max_size=6)


@given(st.text(alphabet=st.sampled_from("ab\n"), max_size=30))
def test_lines_keep_every_character_and_end_at_line_ends(text):
    lines = list(lines_of(text))
    assert "".join(lines) == text
    assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines[:-1])
    assert all(lines)


@given(tables)
def test_the_csv_module_reads_lines_as_it_reads_the_whole_text(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue().replace("\r\n", "\n").replace("\r", "\n")  # as decode() leaves it
    whole = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert list(csv.reader(lines_of(text), strict=True)) == whole
