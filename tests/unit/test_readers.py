# ruff: noqa: RUF001, RUF003  (Cyrillic and Greek test texts)
"""Reading files: decoding text in any encoding, feeding it to the csv module line by line with
the dialect the header shows, and damaged ZIP archives."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.services.readers import csv_dialect, decode, lines_of, read_csv, read_records
from annotator.services.records import ImportFileError
from tests.helpers import damaged_copies, refusal_of

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


# What newsrooms' legacy files hold: Western European text in Windows-1252 or Latin-1 (from
# spreadsheets), Cyrillic in Windows-1251 or KOI8, Greek, and Central European text.
LEGACY_TEXTS = {
    "fr": "Les dockers de Saint-Nazaire sont en grève depuis lundi, selon Le Monde. « Nous ne "
    "céderons pas », a déclaré le délégué syndical.",
    "de": "Bundeskanzler Müller sagte am Dienstag, die Gespräche seien gescheitert. Die "
    "Gewerkschaft kündigte weitere Streiks an.",
    "en": "The mayor of Malmö said the naïve plan would fail, according to Reuters.",
    "es": "El alcalde José Álvarez afirmó que la huelga continuará, según El País.",
    "ru": "Президент заявил, что переговоры продолжатся в среду, сообщает ТАСС.",
    "uk": "Президент України заявив, що переговори тривають, повідомляє Укрінформ.",
    "el": "Ο πρωθυπουργός δήλωσε ότι οι συνομιλίες θα συνεχιστούν την Τετάρτη.",
    "pl": "Premier powiedział w środę, że rozmowy będą kontynuowane. Związkowcy zapowiedzieli "
    "dalsze strajki.",
    "cs": "Předseda vlády řekl, že jednání budou pokračovat ve středu.",
    # Capital letters before "і": byte pairs that are also well-formed UTF-8.
    "uk_i": "Вінниця і Київ: Він сказав, що Віктор піде.",
    # Short English from a word processor: chardet alone reads Mac or DOS code pages.
    "en_quotes": "The mayor’s plan won’t work, officials said.",
    "en_money": "Price: 5 € or £4, it’s said.",
    # Read by chardet as Central European, Latin-9 and Maltese ("déjŕ", "œ" for "½", controls).
    "en_accent": "power” €5 would workers union mayor workers next déjà power.",
    "en_half": "city plan officials plan union union plan ½ the city strike.",
    "en_dash": "union deal next union union– union talks talks.",
}
LEGACY_ENCODINGS = [
    ("fr", "cp1252"), ("fr", "latin-1"), ("de", "cp1252"), ("de", "latin-1"),
    ("en", "cp1252"), ("es", "latin-1"), ("ru", "cp1251"), ("ru", "koi8-r"),
    ("uk", "cp1251"), ("el", "cp1253"), ("el", "iso-8859-7"), ("pl", "cp1250"),
    ("pl", "iso-8859-2"), ("cs", "cp1250"), ("uk_i", "cp1251"), ("uk_i", "koi8-u"),
    ("en_quotes", "cp1252"), ("en_money", "cp1252"), ("en_accent", "cp1252"),
    ("en_half", "cp1252"), ("en_dash", "cp1252"),
]  # fmt: skip


@pytest.mark.parametrize(("language", "encoding"), LEGACY_ENCODINGS)
def test_an_article_in_a_legacy_encoding_reads_as_written(language, encoding):
    text = LEGACY_TEXTS[language]
    for file in (f'id,title,text\na-1,{text.split(",")[0]},"{text}"\n', f"Headline\n\n{text}\n"):
        assert decode("article.csv", file.encode(encoding)) == file


def test_a_guess_that_mixes_alphabets_in_a_word_gives_way_to_windows_1252():
    assert decode("menu.txt", "Café crème".encode("cp1252")) == "Café crème"  # not "Cafι"


def test_damaged_utf8_is_still_refused_as_such():
    data = "Le délégué a déclaré la grève.".encode() + b"\xe9\n"
    with pytest.raises(ImportFileError, match=r"not valid UTF-8 \(byte \d+\), though the rest"):
        decode("damaged.txt", data)


def test_the_encoding_is_read_from_the_whole_file_not_its_start():
    file = "The port reopened on Monday.\n" * 20_000 + "Le délégué a déclaré la grève.\n"
    assert decode("long.txt", file.encode("cp1252")) == file


def an_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "Harbour reopens\n\n" + "Ships docked on Monday. " * 40)
        archive.writestr("b.csv", "id,text\nb-1,The port reopened.\n")
    return buffer.getvalue()


ARCHIVE = an_archive()
CENTRAL = ARCHIVE.find(b"PK\x01\x02")


def damaged(at: int, replacement: bytes) -> bytes:
    return ARCHIVE[:at] + replacement + ARCHIVE[at + len(replacement) :]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (ARCHIVE[: len(ARCHIVE) // 2], "batch.zip: not a valid ZIP archive"),
        (damaged(56, b"\xff" * 4), "batch.zip/a.txt: cannot be unpacked"),  # its deflate stream
        (damaged(CENTRAL + 6, b"\x63\x00"), r"batch.zip: not a valid ZIP archive \(zip file vers"),
    ],
)
def test_a_damaged_archive_is_refused_by_name(data, message):
    assert re.match(message, refusal_of("batch.zip", data) or "")


def test_a_member_without_a_name_is_skipped():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"nameless")
        archive.writestr("a.txt", "Harbour reopens\n\nShips docked.")
    (record,) = read_records("batch.zip", buffer.getvalue())
    assert record.where == "batch.zip/a.txt"


@settings(max_examples=300, deadline=None)
@given(damaged_copies(ARCHIVE, 6))
def test_a_damaged_archive_is_read_or_refused_never_with_another_error(data):
    message = refusal_of("batch.zip", data)
    assert message is None or message.startswith("batch.zip")
