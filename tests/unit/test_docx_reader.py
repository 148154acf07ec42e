"""Word documents: the body's paragraphs in reading order, marked as a Markdown file would be,
and every malformed file refused with a message that names it."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Inches, Pt
from hypothesis import HealthCheck, given, settings
from lxml import etree

from annotator.services import docx_reader, readers
from annotator.services.records import ImportFileError
from tests.helpers import STRIKE_DOCX_PARAGRAPHS, damaged_copies, refusal_of, word_document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_of(data: bytes, filename: str = "story.docx") -> str:
    (record,) = readers.read_records(filename, data)
    assert record.title is None
    assert record.external_id == filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return record.text


def add_run(paragraph, wrapper: str | None, text: str, tag: str = "t") -> None:
    """A run holding ``text`` in a ``w:<tag>``, inside a ``w:<wrapper>`` when given."""
    run = etree.SubElement(
        paragraph._p if wrapper is None else etree.SubElement(paragraph._p, f"{W}{wrapper}"),
        f"{W}r",
    )
    etree.SubElement(run, f"{W}{tag}").text = text


def test_headline_headings_lists_and_quotations_read_as_markdown():
    document = docx.Document()
    document.add_paragraph("Port strike ends (Reuters)", style="Title")
    document.add_paragraph("")
    document.add_paragraph("The Kyiv Independent reports:")
    document.add_paragraph("Dock workers returned, the union said.", style="Quote")
    document.add_paragraph("Talks resumed.", style="Intense Quote")
    libreoffice = document.styles.add_style("Quotations", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Ships sailed.", style=libreoffice)
    document.add_heading("What it means", level=2)
    document.add_paragraph("Rates fell", style="List Bullet")
    document.add_paragraph("Exporters cheered", style="List Number")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "A TABLE CELL"
    document.add_paragraph("Clearly,\tthe deal is   fragile.")
    assert text_of(saved(document)) == "\n\n".join(
        [
            "Port strike ends (Reuters)",
            "The Kyiv Independent reports:",
            "> Dock workers returned, the union said.",
            "> Talks resumed.",
            "> Ships sailed.",
            "## What it means",
            "- Rates fell",
            "- Exporters cheered",
            "Clearly, the deal is fragile.",
        ]
    )


def test_a_paragraph_indented_from_the_left_is_a_quotation_but_a_first_line_indent_is_not():
    document = docx.Document()
    document.add_paragraph("Headline")
    document.add_paragraph("Set off by hand.").paragraph_format.left_indent = Inches(0.5)
    document.add_paragraph("Indented first line.").paragraph_format.first_line_indent = Pt(18)
    document.add_paragraph("Outdented.").paragraph_format.left_indent = Inches(-0.2)
    excerpt_style = document.styles.add_style("Excerpt", WD_STYLE_TYPE.PARAGRAPH)
    excerpt_style.paragraph_format.left_indent = Inches(0.4)
    document.add_paragraph("Set off by a style.", style="Excerpt")
    flush = document.add_paragraph("Its style indents, the paragraph does not.", style="Excerpt")
    flush.paragraph_format.left_indent = 0
    numbered = document.add_paragraph("A numbered item.")
    numbered.paragraph_format.left_indent = Inches(0.5)
    properties = numbered._p.get_or_add_pPr()
    numbering = etree.SubElement(properties, f"{W}numPr")
    etree.SubElement(numbering, f"{W}numId").set(f"{W}val", "1")
    assert text_of(saved(document)).split("\n\n") == [
        "Headline",
        "> Set off by hand.",
        "Indented first line.",
        "Outdented.",
        "> Set off by a style.",
        "Its style indents, the paragraph does not.",
        "- A numbered item.",
    ]


def test_text_is_what_the_document_shows():
    """Tracked insertions and moves count, deletions and moved-away text do not; a link's
    words and a field's result count, its code does not; a text box (a pull quote that
    repeats the article) is left out."""
    document = docx.Document()
    document.add_paragraph("Headline")
    paragraph = document.add_paragraph("The mayor ")
    add_run(paragraph, "ins", "finally ")
    add_run(paragraph, "del", "never ", tag="delText")
    add_run(paragraph, "hyperlink", "signed")
    add_run(paragraph, "moveFrom", " twice")
    add_run(paragraph, "moveTo", " the deal")
    add_run(paragraph, None, " PAGE ", tag="instrText")
    add_run(paragraph, "smartTag", " on Friday")
    box = etree.SubElement(etree.SubElement(paragraph._p, f"{W}r"), f"{W}drawing")
    etree.SubElement(box, f"{W}t").text = "PULL QUOTE"
    add_run(paragraph, None, ".")
    assert text_of(saved(document)).split("\n\n") == [
        "Headline",
        "The mayor finally signed the deal on Friday.",
    ]


def add_link(paragraph, text: str, target: str) -> None:
    """A hyperlink run pointing at ``target``, as Word writes one."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml.ns import qn

    rid = paragraph.part.relate_to(target, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = etree.SubElement(paragraph._p, f"{W}hyperlink")
    link.set(qn("r:id"), rid)
    etree.SubElement(etree.SubElement(link, f"{W}r"), f"{W}t").text = text


def test_a_lead_in_keeps_its_web_links_and_other_paragraphs_their_words():
    document = docx.Document()
    document.add_paragraph("Port strike")
    lead_in = document.add_paragraph("As ")
    add_link(lead_in, "reported here", "https://www.npr.org/2024/05/01/strike")
    add_run(lead_in, None, ":")
    commentary = document.add_paragraph("Everyone ")
    add_link(commentary, "agrees", "https://example.net/poll")
    add_run(commentary, None, " with me.")
    mail = document.add_paragraph("Write to ")
    add_link(mail, "the desk", "mailto:desk@npr.org")
    add_run(mail, None, ":")
    document.add_paragraph("The port closed at noon, officials said.", style="Quote")
    assert text_of(saved(document)).split("\n\n") == [
        "Port strike",
        "As [reported here](https://www.npr.org/2024/05/01/strike):",
        "Everyone agrees with me.",
        "Write to the desk:",
        "> The port closed at noon, officials said.",
    ]


def test_paragraphs_inside_content_controls_are_read_in_their_place():
    """Templates wrap parts of a document in content controls (``w:sdt``), which python-docx
    does not list among the body's paragraphs."""
    document = docx.Document()
    document.add_paragraph("Headline")
    wrapped = document.add_paragraph("Inside a control.", style="Quote")
    document.add_paragraph("After it.")
    control = etree.Element(f"{W}sdt")
    etree.SubElement(control, f"{W}sdtPr")
    wrapped._p.addprevious(control)
    etree.SubElement(control, f"{W}sdtContent").append(wrapped._p)
    assert text_of(saved(document)).split("\n\n") == [
        "Headline",
        "> Inside a control.",
        "After it.",
    ]


def test_an_archive_member_keeps_its_path_in_messages_and_its_name_as_id():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("batch/strike.docx", word_document(*STRIKE_DOCX_PARAGRAPHS))
        writer.writestr("batch/empty.docx", word_document())
    with pytest.raises(ImportFileError, match=r"batch\.zip/batch/empty\.docx: .*holds no text"):
        readers.read_records("batch.zip", archive.getvalue())


OLE_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.docx", word_document(), "the Word document holds no text"),
        ("blank.docx", word_document(("  ", None), ("\t", None)), "the Word document holds no"),
        ("notes.docx", b"plain text, not a document", "not a Word document this can read"),
        ("old.docx", OLE_FILE, "this is a Word 97-2003 .*password"),
        ("old.doc", OLE_FILE, "this is a Word 97-2003 .*password"),
    ],
)
def test_files_that_are_not_readable_documents_are_refused_by_name(filename, data, message):
    with pytest.raises(ImportFileError, match=rf"{filename}: {message}"):
        readers.read_records(filename, data)


def test_a_word_document_named_doc_is_read():
    assert text_of(word_document(*STRIKE_DOCX_PARAGRAPHS), "strike.doc").startswith("Port strike")


def test_an_archive_that_is_not_a_word_document_is_refused():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("story.txt", "Headline\n\nBody.")
    with pytest.raises(ImportFileError, match=r"story\.docx: not a Word document this can read"):
        readers.read_records("story.docx", archive.getvalue())


def test_malformed_markup_is_refused():
    source = zipfile.ZipFile(io.BytesIO(word_document(*STRIKE_DOCX_PARAGRAPHS)))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as writer:
        for info in source.infolist():
            data = source.read(info)
            writer.writestr(info, data[:-40] if info.filename == "word/document.xml" else data)
    with pytest.raises(ImportFileError, match=r"story\.docx: not a Word document this can read"):
        readers.read_records("story.docx", broken.getvalue())


@pytest.mark.parametrize("limit", ["DOCX_MAX_XML_BYTES", "DOCX_MAX_TOTAL_BYTES"])
def test_a_document_that_unpacks_too_large_is_refused_before_it_is_parsed(monkeypatch, limit):
    data = word_document(("Headline", None), ("x " * 300_000, None))
    monkeypatch.setattr(docx_reader, limit, 1_200_000)  # the template's styles: 0.8 MB
    monkeypatch.setattr(docx, "Document", lambda *_: pytest.fail("parsed"))
    with pytest.raises(ImportFileError, match=r"big\.docx: the Word document unpacks to more"):
        readers.read_records("big.docx", data)


VALID = word_document(*STRIKE_DOCX_PARAGRAPHS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_copies(VALID, 8))
def test_damaged_bytes_give_a_document_or_a_message_never_another_error(data):
    message = refusal_of("story.docx", data)
    assert message is None or message.startswith("story.docx: ")


def repackaged(data: bytes, rename: dict[str, str], extra: dict[str, bytes]) -> bytes:
    """The package with parts renamed (and every mention of their names changed) and parts
    added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as writer:
        for info in source.infolist():
            content = source.read(info)
            for old, new in rename.items():
                content = content.replace(old.encode(), new.encode())
            writer.writestr(rename.get(info.filename, info.filename), content)
        for name, content in extra.items():
            writer.writestr(name, content)
    return result.getvalue()


def test_the_markup_limit_counts_parts_by_their_content_type_not_their_name(monkeypatch):
    long_story = word_document(("Headline", None), ("x " * 300_000, None))
    disguised = repackaged(long_story, {"word/document.xml": "word/main.dat"}, {})
    assert text_of(disguised).startswith("Headline\n\nx x")
    monkeypatch.setattr(docx_reader, "DOCX_MAX_XML_BYTES", 1_200_000)
    with pytest.raises(ImportFileError, match="of text and markup"):
        readers.read_records("story.docx", disguised)
    with_photo = repackaged(
        word_document(*STRIKE_DOCX_PARAGRAPHS), {}, {"word/media/photo.png": bytes(1_000_000)}
    )
    assert text_of(with_photo).startswith("Port strike ends after talks")
