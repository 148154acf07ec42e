"""Word document (.docx) -> article record, read with python-docx.

The body's paragraphs become the article's text in the form a Markdown file has: the first
paragraph is the headline, a later heading gets ``## ``, a list paragraph ``- `` and a
quotation ``> ``: Word's styles Quote, Intense Quote or Block Text, LibreOffice's Quotations,
or a paragraph indented from the left, which is how Word and Google Docs users set off an
excerpt. After a lead-in ("The Kyiv Independent reports:") such a paragraph is an excerpt of
the lead-in's outlet, as a blockquote of an HTML page is.

Text is what the document shows: tracked insertions count and tracked deletions do not;
tables, text boxes, headers, footers, footnotes and comments are left out, as an HTML page's
tables and furniture are. Link targets are dropped, except in a paragraph ending in ":" (a
lead-in), which keeps its web links as Markdown links, as the HTML reader does.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lxml import etree  # type: ignore[import-untyped]

from annotator.services.archives import DAMAGED_ZIP_ERRORS
from annotator.services.records import DocumentRecord, ImportFileError, markdown_link

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph

# A .docx is a ZIP archive; its parts may not unpack to more than this (zip bombs), and its
# XML, which is parsed whole, to more than the smaller figure.
DOCX_MAX_TOTAL_BYTES = 200 * 1024 * 1024
DOCX_MAX_XML_BYTES = 32 * 1024 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_QUOTE_STYLES = frozenset({"quote", "intense quote", "block text", "quotations"})
# Subtrees that are not the paragraph's visible text: deleted or moved-away text, drawings and
# text boxes (a pull quote repeats the article), field codes, properties.
_HIDDEN = frozenset(
    f"{_W}{tag}" for tag in ("del", "moveFrom", "drawing", "pict", "pPr", "rPr", "instrText")
) | {"{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"}
_BLOCK_WRAPPERS = frozenset(f"{_W}{tag}" for tag in ("sdt", "sdtContent", "customXml"))
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SPACES = frozenset(f"{_W}{tag}" for tag in ("tab", "br", "cr", "ptab"))
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MAX_CONTENT_TYPES_BYTES = 1024 * 1024


def _damaged_package_errors() -> tuple[type[Exception], ...]:
    from docx.opc.exceptions import PackageNotFoundError

    # python-docx reads parts lazily and trusts their types, so a damaged package surfaces
    # as any of these, when the document is opened or while its paragraphs are read.
    return (
        *DAMAGED_ZIP_ERRORS,
        PackageNotFoundError,
        etree.XMLSyntaxError,
        KeyError,
        AttributeError,
        TypeError,
    )


def read_docx(filename: str, data: bytes, external_id: str) -> DocumentRecord:
    """The article in a Word document, or ImportFileError naming the file."""
    if data.startswith(_OLE_MAGIC):
        raise ImportFileError(
            filename,
            "this is a Word 97-2003 document or a password-protected one; "
            "save it as a Word document (.docx) without a password",
        )
    _check_size(filename, data)
    try:
        paragraphs = list(_paragraphs(data))
    except _damaged_package_errors() as exc:
        raise ImportFileError(filename, f"not a Word document this can read ({exc})") from exc
    if not paragraphs:
        raise ImportFileError(filename, "the Word document holds no text")
    return DocumentRecord(
        external_id=external_id, title=None, text="\n\n".join(paragraphs), where=filename
    )


def _check_size(filename: str, data: bytes) -> None:
    """Refuses a document whose parts would unpack too large, or whose XML would, before
    anything is parsed. Python's zipfile unpacks no more of a part than its header declares,
    so the declared sizes bound what is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            xml_types = _xml_content_types(archive)
    except _damaged_package_errors() as exc:
        raise ImportFileError(filename, f"not a Word document this can read ({exc})") from exc
    total = sum(part.file_size for part in parts)
    xml = sum(part.file_size for part in parts if _parsed_as_xml(part.filename, xml_types))
    if total > DOCX_MAX_TOTAL_BYTES or xml > DOCX_MAX_XML_BYTES:
        raise ImportFileError(
            filename,
            f"the Word document unpacks to more than {DOCX_MAX_TOTAL_BYTES // 2**20} MiB "
            f"(or more than {DOCX_MAX_XML_BYTES // 2**20} MiB of text and markup)",
        )


def _xml_content_types(archive: zipfile.ZipFile) -> tuple[set[str], set[str]] | None:
    """The extensions and the part names that ``[Content_Types].xml`` gives an XML type:
    python-docx parses those parts (and the relationship parts) as XML. None when the list is
    too long to read (then every part counts as XML)."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return set(), set()
    if info.file_size > _MAX_CONTENT_TYPES_BYTES:
        return None
    types = etree.fromstring(archive.read(info), etree.XMLParser(resolve_entities=False))
    extensions = {
        (element.get("Extension") or "").lower()
        for element in types.iter(f"{_CT}Default")
        if "xml" in (element.get("ContentType") or "")
    }
    names = {
        (element.get("PartName") or "").lstrip("/").lower()
        for element in types.iter(f"{_CT}Override")
        if "xml" in (element.get("ContentType") or "")
    }
    return extensions, names


def _parsed_as_xml(name: str, xml_types: tuple[set[str], set[str]] | None) -> bool:
    if xml_types is None:
        return True
    extensions, names = xml_types
    name = name.lower()
    extension = name.rpartition(".")[2] if "." in name else ""
    return name.endswith(".rels") or name in names or extension in extensions


def _paragraphs(data: bytes) -> Iterator[str]:
    import docx  # here, not at module level: only imports of .docx files need it

    document = docx.Document(io.BytesIO(data))
    first = True
    for paragraph in _body_paragraphs(document, document.element.body):
        text = " ".join(_visible_text(paragraph._p).split())
        if not text:
            continue
        if text.endswith(":") and paragraph._p.find(f".//{_W}hyperlink") is not None:
            text = " ".join(_visible_text(paragraph._p, _link_targets(paragraph)).split())
        yield text if first else _marker(paragraph) + text
        first = False


def _body_paragraphs(document: Document, element: etree._Element) -> Iterator[Paragraph]:
    """The body's paragraphs in reading order, those inside content controls and custom XML
    included (python-docx lists only the body's own); tables are left out."""
    from docx.text.paragraph import Paragraph

    for child in element:
        if child.tag == f"{_W}p":
            yield Paragraph(child, document)
        elif child.tag in _BLOCK_WRAPPERS:
            yield from _body_paragraphs(document, child)


def _link_targets(paragraph: Paragraph) -> dict[str, str]:
    """Relationship id -> web address, for the paragraph's hyperlinks."""
    return {
        rid: relationship.target_ref
        for rid, relationship in paragraph.part.rels.items()
        if relationship.is_external
    }


def _visible_text(element: etree._Element, link_targets: dict[str, str] | None = None) -> str:
    """The text Word shows; with ``link_targets``, web links as Markdown links."""
    parts: list[str] = []
    for child in element:
        if child.tag in _HIDDEN:
            continue
        if link_targets is not None and child.tag == f"{_W}hyperlink":
            anchor = _visible_text(child)
            target = link_targets.get(child.get(_RELATIONSHIP_ID) or "", "")
            parts.append(markdown_link(anchor, target) or anchor)
        elif child.tag == f"{_W}t":
            parts.append(child.text or "")
        elif child.tag in _SPACES:
            parts.append(" ")
        elif child.tag == f"{_W}noBreakHyphen":
            parts.append("-")
        else:
            parts.append(_visible_text(child, link_targets))
    return "".join(parts)


def _marker(paragraph: Paragraph) -> str:
    style = paragraph.style
    name = (style.name or "").lower() if style is not None else ""
    if name == "title" or name.startswith("heading"):
        return "## "
    if name.startswith("list") or _numbered(paragraph):
        return "- "
    if name in _QUOTE_STYLES or _indented(paragraph):
        return "> "
    return ""


def _numbered(paragraph: Paragraph) -> bool:
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _indented(paragraph: Paragraph) -> bool:
    direct = paragraph.paragraph_format.left_indent
    if direct is not None:
        return int(direct) > 0
    style = paragraph.style
    inherited = style.paragraph_format.left_indent if style is not None else None
    return inherited is not None and int(inherited) > 0
