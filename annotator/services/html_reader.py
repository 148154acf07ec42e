"""HTML page -> article record, with trafilatura's main-content extraction.

Navigation, ads, comments and footers are dropped; the headline, paragraphs, sub-headings,
list items and blockquotes are kept. A blockquote paragraph is passed on with a leading
``> `` (as in Markdown), which the segmenter reads as an excerpt hint: after a lead-in
("The Kyiv Independent reports:") it becomes an excerpt of the lead-in's outlet.

Link targets are dropped, except in a paragraph ending in ":" (a lead-in), which keeps its
links as Markdown links: "As [reported here](https://www.npr.org/...):" names its outlet by
the address alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree  # type: ignore[import-untyped]

from annotator.services.records import DocumentRecord, ImportFileError, markdown_link

_BLOCKS = frozenset({"p", "head", "quote", "list", "item"})
_XML_NAME = re.compile(r"[A-Za-z_][\w.-]*", re.ASCII)


def read_html(filename: str, html: str, external_id: str, url: str | None = None) -> DocumentRecord:
    """The article in an HTML page; ``url`` (when fetched) is kept as the document URL."""
    extracted = _extract(filename, html, url)
    if not extracted:
        raise ImportFileError(filename, "no article text found in the HTML page")
    doc = etree.fromstring(extracted.encode("utf-8"))
    paragraphs = list(_paragraphs(doc.find("main")))
    title = (doc.get("title") or "").strip()
    if paragraphs and title and paragraphs[0].lstrip("# ") == title:
        paragraphs = paragraphs[1:]
    if not title and paragraphs:
        title, paragraphs = paragraphs[0].lstrip("# "), paragraphs[1:]
    if not title or not paragraphs:
        raise ImportFileError(filename, "no article text found in the HTML page")
    return DocumentRecord(
        external_id=external_id,
        title=title,
        text="\n\n".join(paragraphs),
        url=url or doc.get("url") or None,
        site=doc.get("sitename") or None,
        published=doc.get("date") or None,
        where=filename,
    )


def _extract(filename: str, html: str, url: str | None) -> str | None:
    """trafilatura's XML rendering of the page's main content."""
    import trafilatura  # here, not at module level: it adds 0.1 s to every CLI command

    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    _unwrap_misnamed_elements(tree)
    try:
        return trafilatura.extract(
            tree,
            url=url,
            output_format="xml",
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=True,
            favor_recall=True,
        )
    except etree.LxmlError as exc:
        raise ImportFileError(filename, f"the HTML page cannot be read ({exc})") from exc


def _unwrap_misnamed_elements(tree: etree._Element) -> None:
    """Keeps the text of elements whose names XML cannot hold (``<a?rticle>``, from a broken
    tag that the HTML parser took for a name) but not the elements: trafilatura copies such
    names into its XML and then fails to read it back."""
    misnamed = {
        element.tag
        for element in tree.iter()
        if isinstance(element.tag, str) and not _XML_NAME.fullmatch(element.tag)
    }
    if misnamed:
        etree.strip_tags(tree, *misnamed)


def _paragraphs(main: etree._Element | None) -> Iterator[str]:
    """Paragraph texts in reading order: ``## `` before sub-headings, ``> `` before the
    paragraphs of a blockquote, ``- `` before list items."""
    if main is None:
        return
    for element in main:
        yield from _element_paragraphs(element, quoted=False)


def _element_paragraphs(element: etree._Element, *, quoted: bool) -> Iterator[str]:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "quote":
        nested = [child for child in element if child.tag in _BLOCKS]
        if nested:
            for child in nested:
                yield from _element_paragraphs(child, quoted=True)
            return
        quoted = True
    if tag == "list":
        for item in element:
            yield from _element_paragraphs(item, quoted=quoted)
        return
    text = _collapsed("".join(element.itertext()))
    if not text:
        return
    if text.endswith(":") and element.find(".//ref") is not None:
        text = _collapsed(_text_with_links(element))
    if tag == "head" and not quoted:
        yield f"## {text}"
    elif tag == "item":
        yield ("> - " if quoted else "- ") + text
    else:
        yield f"> {text}" if quoted else text


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def _text_with_links(element: etree._Element) -> str:
    """The element's text with each web link written as a Markdown link."""
    parts = [element.text or ""]
    for child in element:
        link = None
        if child.tag == "ref":
            link = markdown_link("".join(child.itertext()), child.get("target") or "")
        parts.append(link or _text_with_links(child))
        parts.append(child.tail or "")
    return "".join(parts)
