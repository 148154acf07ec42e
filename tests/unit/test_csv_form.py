"""How a claim's text is written in the CSV export, decided when the claim is stored."""

from __future__ import annotations

import csv
import io

import pytest

from annotator.models import CsvForm
from annotator.services.exporting import FORMULA_PREFIXES, csv_form_of, neutralise_cell


def _csv_cell(value: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise_cell(value)])
    return buffer.getvalue().removesuffix("\r\n")


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("The bridge closed on Friday.", CsvForm.AS_IS),
        ("it's 😀 zoë", CsvForm.AS_IS),
        ("Officials said, on Friday, it closed.", CsvForm.QUOTED),
        ('He called it "a disgrace".', CsvForm.QUOTED),
        ("two\nlines", CsvForm.QUOTED),
        ("ends in CR\r", CsvForm.QUOTED),
        *((prefix + "1, 2", CsvForm.CHECKED) for prefix in FORMULA_PREFIXES),
        ("", CsvForm.CHECKED),
    ],
)
def test_forms(text, form):
    assert csv_form_of(text) == form


@pytest.mark.parametrize(
    "text", ["plain", "a, b", 'say "hi"', "x\ny", "a\rb", "=1", "-", "", "'quoted'", " pad "]
)
def test_as_is_and_quoted_cells_are_what_the_csv_module_writes(text):
    form = csv_form_of(text)
    if form == CsvForm.AS_IS:
        assert _csv_cell(text) == text
    elif form == CsvForm.QUOTED:
        assert _csv_cell(text) == '"' + text.replace('"', '""') + '"'
