"""Feeding decoded text to the csv module line by line, with the dialect the header shows."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from annotator.services.readers import csv_dialect, lines_of, read_csv

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


@given(tables, st.sampled_from([",", ";", "\t"]))
def test_a_spreadsheet_file_reads_back_as_written_whatever_its_delimiter(rows, delimiter):
    """Quotes inside a quoted field are doubled (RFC 4180), as spreadsheets and pandas write
    them, with a comma, a semicolon or a tab between fields."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerows([["id", "title", "text"], *rows])
    text = buffer.getvalue().replace("\r\n", "\n").replace("\r", "\n")
    read = list(csv.reader(lines_of(text), dialect=csv_dialect(text), strict=True))
    assert read == list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_a_quotation_in_an_imported_article_keeps_its_marks():
    text = 'id,title,text\na-1,Strike,"""No,"" the mayor said of the ""final"" offer."\n'
    [record] = read_csv("articles.csv", text)
    assert record.text == '"No," the mayor said of the "final" offer.'
