"""File bytes -> document records: plain text, Markdown, HTML, Word, JSONL, CSV and ZIP archives.

Every reader validates the whole file before anything is stored, and its errors name the
file and the line or record. Text is decoded from UTF-8 (with or without a byte-order mark),
UTF-16 or UTF-32 with a byte-order mark, or the encoding chardet detects; Windows and
old Mac line endings become ``\\n``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import PurePosixPath
from typing import TypeVar

import chardet

from annotator.services.archives import DAMAGED_ZIP_ERRORS
from annotator.services.docx_reader import read_docx
from annotator.services.html_reader import read_html
from annotator.services.jsonl_reader import read_jsonl
from annotator.services.records import DocumentRecord, ImportFileError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
CSV_SUFFIXES = frozenset({".csv"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
DOCX_SUFFIXES = frozenset({".docx"})
ZIP_SUFFIXES = frozenset({".zip"})
SUPPORTED = (
    TEXT_SUFFIXES | JSONL_SUFFIXES | CSV_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES | ZIP_SUFFIXES
)

CSV_FIELDS = ("id", "title", "text", "url", "site", "published")
CSV_FIELD_LIMIT = 20 * 1024 * 1024
# A ZIP may not unpack to more than this, nor hold more members (zip bombs).
ZIP_MAX_TOTAL_BYTES = 200 * 1024 * 1024
ZIP_MAX_MEMBERS = 2000
MAX_ID_LENGTH = 255

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_ZIP_MAGIC = b"PK\x03\x04"
# A well-formed multi-byte UTF-8 character (U+0080 and up). 8-bit text holds some by chance
# (in Ukrainian, a capital letter before the letter i in Windows-1251 or KOI8-U), but few
# among its other bytes over 127.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)

Reader = Callable[[str, str], list[DocumentRecord]]
T = TypeVar("T")


def supported_types() -> str:
    return ", ".join(sorted(SUPPORTED))


def read_records(filename: str, data: bytes) -> list[DocumentRecord]:
    """Parse one uploaded or local file into document records, or raise ImportFileError."""
    suffix = PurePosixPath(filename).suffix.lower()
    # A .doc is read when it is a .docx renamed; read_docx refuses a Word 97-2003 one with advice.
    if suffix in DOCX_SUFFIXES or suffix == ".doc":
        return [read_docx(filename, data, _id_from_name(filename))]
    if suffix in ZIP_SUFFIXES or (suffix not in SUPPORTED and data.startswith(_ZIP_MAGIC)):
        return read_zip(filename, data)
    text = decode(filename, data)
    reader = _reader_for(suffix, text)
    if reader is None:
        raise ImportFileError(
            filename, f"unsupported file type {suffix or '(none)'}; use {supported_types()}"
        )
    return reader(filename, text)


def _reader_for(suffix: str, text: str) -> Reader | None:
    if suffix in JSONL_SUFFIXES:
        return read_jsonl
    if suffix in CSV_SUFFIXES:
        return read_csv
    if suffix in HTML_SUFFIXES or (suffix not in SUPPORTED and _HTML_START.match(text)):
        return _read_html_file
    if suffix in TEXT_SUFFIXES:
        return _read_article
    return None


def decode(filename: str, data: bytes) -> str:
    """Bytes -> text with ``\\n`` line ends; refuses binary files."""
    text = _decode_bytes(filename, data)
    if "\x00" in text:
        raise ImportFileError(filename, "this looks like a binary file, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def lines_of(text: str) -> Iterator[str]:
    """The lines of ``decode``'s text, each with its line end, one at a time: the csv
    module's input. An ``io.StringIO`` of the text holds four bytes a character, 164 MiB for
    a label file of 43 MB (docs/benchmarks.md, round 17)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _decode_bytes(filename: str, data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    filename, f"not valid {encoding} despite its byte-order mark"
                ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _mostly_utf8(data):  # UTF-8 with bad bytes: damaged, not a legacy encoding
            raise ImportFileError(
                filename, f"not valid UTF-8 (byte {exc.start}), though the rest of it is UTF-8"
            ) from exc
    return _decode_legacy(filename, data)


def _mostly_utf8(data: bytes) -> bool:
    """Whether at least half of the bytes over 127 form well-formed UTF-8 characters."""
    in_sequences = sum(len(sequence) for sequence in _UTF8_SEQUENCE.findall(data))
    return in_sequences * 2 >= len(data) - len(data.translate(None, _HIGH_BYTES))


_HIGH_BYTES = bytes(range(128, 256))


def _decode_legacy(filename: str, data: bytes) -> str:
    """Text in a legacy encoding (Windows-1252, Windows-1251, KOI8-R, ISO-8859-7...): the one
    chardet finds in the whole file, or Windows-1252 where the file reads as Western text in
    it and chardet's reading is less likely (``_likelier_western``)."""
    guess = chardet.detect(data, max_bytes=len(data), compat_names=False)["encoding"]
    text = _decoded(data, guess)
    western = _decoded(data, "cp1252")
    if (
        western is not None
        and _reads_as_western(western)
        and (text is None or _likelier_western(guess, text, western))
    ):
        return western
    if text is None:
        raise ImportFileError(
            filename, "not valid UTF-8 and its encoding could not be detected (a binary file?)"
        )
    return text


def _likelier_western(guess: str | None, text: str, western: str) -> bool:
    """Whether Windows-1252's reading of a file is likelier than chardet's: chardet named a
    Mac or DOS code page, which short Western text often fits by chance ("mayorís" for
    "mayor's" with a curly apostrophe); its reading puts two alphabets in one word ("Caf" and
    a Greek iota) or holds C1 control characters; it named Latin-1 or Latin-9, which
    Windows-1252 extends as browsers read them; or it named another Latin code page and,
    where the two readings differ, Windows-1252's has more of the letters and marks its
    languages use ("déjà" rather than "déjŕ")."""
    name = codecs.lookup(guess).name if guess else ""
    if not name.startswith(_NEWS_ENCODINGS) or _mixes_alphabets(text) or _C1.search(text):
        return True
    if name in ("iso8859-1", "iso8859-15"):
        return True
    if name in _OTHER_LATIN_PAGES:
        pairs = zip(western[:_ALPHABET_SAMPLE], text[:_ALPHABET_SAMPLE], strict=True)
        differing = [(a, b) for a, b in pairs if a != b]
        ours = sum(a in _WESTERN_COMMON for a, _ in differing)
        theirs = sum(b in _OTHER_LATIN_COMMON for _, b in differing)
        return ours > theirs
    return False


def _decoded(data: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


# The code pages news text is saved in: Windows, ISO, KOI8 and the East Asian ones; not the
# Mac and DOS code pages.
_NEWS_ENCODINGS = (
    "cp125", "iso8859-", "koi8-", "cp874", "tis-620", "gb", "big5", "shift_jis", "cp932",
    "euc_", "iso2022", "cp949", "johab",
)  # fmt: skip
# Latin code pages besides Windows-1252 and Latin-1/9, and letters and marks common in the
# languages of each side (not the rare ones: Slovak's "ŕ" is "à" in Windows-1252).
_OTHER_LATIN_PAGES = frozenset(
    ["cp1250", "cp1254", "cp1257", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-9",
     "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-16"]
)  # fmt: skip
_WESTERN_COMMON = frozenset(
    "àâäæçèéêëîïôöœùûüÿñáíóúãõåøßìòÀÂÄÆÇÈÉÊËÎÏÔÖŒÙÛÜŸÑÁÍÓÚÃÕÅØÌÒ"
    "\u2019\u2018\u201c\u201d\u2013\u2014\u2026\u20ac"  # curly quotes, dashes, ..., euro
)
_OTHER_LATIN_COMMON = frozenset(
    "čďěňřšťůžąćęłńśźżőűăâîșțşğıçöüāēģīķļņūėįųČĎĚŇŘŠŤŮŽĄĆĘŁŃŚŹŻŐŰĂÂÎȘȚŞĞİÇÖÜĀĒĢĪĶĻŅŪĖĮŲ"
)
_C1 = re.compile("[\x80-\x9f]")  # control characters: Latin-1's reading of Windows-1252's marks
_WORD = re.compile(r"[^\W_]+")
# Enough text to tell; the whole of a 50 MB file would take seconds.
_ALPHABET_SAMPLE = 200_000


def _alphabet(character: str) -> str | None:
    """The alphabet a character of a word belongs to (the first word of its Unicode name:
    LATIN, GREEK, CYRILLIC, SUPERSCRIPT...); None for ASCII digits."""
    if character.isascii():
        return "LATIN" if character.isalpha() else None
    return unicodedata.name(character, "?").split(" ", 1)[0]


def _mixes_alphabets(text: str) -> bool:
    """Whether a word holds letters of two alphabets: mojibake, not a language."""
    for word in _WORD.finditer(text, 0, _ALPHABET_SAMPLE):
        if not word.group().isascii():
            alphabets = {_alphabet(character) for character in word.group()} - {None}
            if len(alphabets) > 1:
                return True
    return False


def _reads_as_western(text: str) -> bool:
    """Latin letters only, and no word that mixes them with anything else."""
    sample = text[:_ALPHABET_SAMPLE]
    letters = (c for c in sample if not c.isascii() and c.isalpha())
    return all(_alphabet(c) == "LATIN" for c in letters) and not _mixes_alphabets(sample)


def _read_article(filename: str, text: str) -> list[DocumentRecord]:
    if not text.strip():
        raise ImportFileError(filename, "the file is empty")
    external_id = _id_from_name(filename)
    return [DocumentRecord(external_id=external_id, title=None, text=text, where=filename)]


def _read_html_file(filename: str, text: str) -> list[DocumentRecord]:
    return [read_html(filename, text, _id_from_name(filename))]


def _id_from_name(filename: str) -> str:
    return PurePosixPath(filename).stem[:MAX_ID_LENGTH] or filename


def read_csv(filename: str, text: str) -> list[DocumentRecord]:
    """CSV with a header: ``id`` and ``text`` required, ``title, url, site, published``
    optional, any other column kept as document metadata."""

    def record_reader(header: list[str]) -> Callable[[list[str], int], DocumentRecord]:
        _check_header(filename, header)
        return partial(_csv_record, filename, header)

    records = read_csv_rows(filename, text, record_reader)
    if not records:
        raise ImportFileError(filename, "the file holds no records")
    return records


def read_csv_rows(
    filename: str, text: str, row_reader: Callable[[list[str]], Callable[[list[str], int], T]]
) -> list[T]:
    """Each row of a CSV file with a header, read by the function ``row_reader`` makes from
    the header's names (stripped, lower case), with the row's line. Blank rows are skipped; a
    malformed file is refused with its line."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(lines_of(text), dialect=csv_dialect(text), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        read_row = row_reader(header)
        return [read_row(row, reader.line_num) for row in reader if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise ImportFileError(filename, f"malformed CSV ({exc})", reader.line_num) from exc


def csv_dialect(text: str) -> type[csv.Dialect]:
    """RFC 4180 with the delimiter the header uses: comma by default, semicolon or tab from
    spreadsheets. Only the delimiter is sniffed: from a header without quotes the sniffer also
    guesses that quotes are not doubled, and a field ``"He said ""no"" twice"`` would come
    out with a quote too many, or split in two."""
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        return csv.excel
    return _DIALECTS[delimiter]


class _ExcelSemicolon(csv.excel):
    delimiter = ";"


_DIALECTS: dict[str, type[csv.Dialect]] = {
    ",": csv.excel,
    ";": _ExcelSemicolon,
    "\t": csv.excel_tab,
}


def _check_header(filename: str, header: list[str]) -> None:
    if not header:
        raise ImportFileError(filename, "the file is empty")
    missing = [name for name in ("id", "text") if name not in header]
    if missing:
        raise ImportFileError(filename, f"the header lacks the column(s) {', '.join(missing)}", 1)
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ImportFileError(filename, f"duplicate column(s) {', '.join(duplicates)}", 1)


def _csv_record(filename: str, header: list[str], row: list[str], line: int) -> DocumentRecord:
    if len(row) > len(header):
        raise ImportFileError(filename, "more fields than the header has columns", line)
    values = dict(zip(header, row, strict=False))
    external_id = values.get("id", "").strip()
    body = values.get("text", "")
    if not external_id or not body.strip():
        raise ImportFileError(filename, 'fields "id" and "text" must not be empty', line)
    if len(external_id) > MAX_ID_LENGTH:
        raise ImportFileError(filename, f'"id" is longer than {MAX_ID_LENGTH} characters', line)
    extra = {k: v for k, v in values.items() if k not in CSV_FIELDS and k and v != ""}
    return DocumentRecord(
        external_id=external_id,
        title=values.get("title", "").strip() or None,
        text=body,
        url=values.get("url", "").strip() or None,
        site=values.get("site", "").strip() or None,
        published=values.get("published", "").strip() or None,
        metadata=extra or None,
        where=f"{filename}, line {line}",
    )


def read_zip(filename: str, data: bytes) -> list[DocumentRecord]:
    """Every supported file in the archive (folders, hidden files and nested archives
    skipped); refused whole when it would unpack too large or holds too many members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except DAMAGED_ZIP_ERRORS as exc:
        raise ImportFileError(filename, f"not a valid ZIP archive ({exc})") from exc
    with archive:
        members = [info for info in archive.infolist() if _wanted_member(info)]
        _check_zip_size(filename, members)
        records: list[DocumentRecord] = []
        budget = ZIP_MAX_TOTAL_BYTES
        for info in members:
            content = _read_member(filename, archive, info, budget)
            budget -= len(content)
            records.extend(read_records(f"{filename}/{info.filename}", content))
    if not records:
        raise ImportFileError(filename, f"the archive holds no {supported_types()} files")
    return records


def _wanted_member(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    if not info.filename or info.is_dir():
        return False
    if any(part.startswith((".", "__MACOSX")) for part in path.parts):
        return False
    return path.suffix.lower() in SUPPORTED - ZIP_SUFFIXES


def _check_zip_size(filename: str, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > ZIP_MAX_MEMBERS:
        raise ImportFileError(
            filename, f"the archive holds {len(members)} files; at most {ZIP_MAX_MEMBERS}"
        )
    declared = sum(info.file_size for info in members)
    if declared > ZIP_MAX_TOTAL_BYTES:
        raise ImportFileError(filename, _too_large_message())


def _read_member(
    filename: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
) -> bytes:
    """The member's bytes, reading no more than the budget allows (headers can lie)."""
    try:
        with archive.open(info) as handle:
            content = handle.read(budget + 1)
    except DAMAGED_ZIP_ERRORS as exc:
        raise ImportFileError(f"{filename}/{info.filename}", f"cannot be unpacked ({exc})") from exc
    if len(content) > budget:
        raise ImportFileError(filename, _too_large_message())
    return content


def _too_large_message() -> str:
    return f"the archive unpacks to more than {ZIP_MAX_TOTAL_BYTES // (1024 * 1024)} MiB"
