"""Hostile article text for the untrusted-text tests: markup and script in every form a
scraped page can carry, entities, bidi overrides, zero-width characters, template syntax and
a very long unbroken line. Script payloads set ``window.__pwned`` or open a dialog, so a test
can tell whether any of them ran."""

from __future__ import annotations

import json

LONG_WORD = "Supercalifragilistic" * 300  # 6000 characters, no break opportunity
PAYLOADS = (
    '<script>window.__pwned = "script"; alert("script")</script>',
    "<img src=x onerror=\"window.__pwned='img'; alert('img')\">",
    '<svg onload="alert(\'svg\')"><circle r="4"/></svg>',
    "<a href=\"javascript:alert('link')\">click me</a>",
    '"><script>alert("attribute breakout")</script>',
    "</textarea></title><script>alert('breakout')</script>",
    "<iframe src=\"javascript:alert('frame')\"></iframe>",
    "&lt;b&gt;escaped&lt;/b&gt; &amp; &#60;script&#62;alert('entity')&#60;/script&#62;",
    "{{ 7 * 7 }} {% raw %}jinja{% endraw %} ${7*7}",
    "[markdown](javascript:alert('md'))",
)
RTL = "Rights \u202egnp.exe\u202c and \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 mixed"
ZERO_WIDTH = "zero\u200bwidth\u200cjoin\u200dword\u2060joiner\ufeffbom"

# A lead-in whose only cue is a link to an outlet, with a very long address that tries to
# break out of the attribute the annotation page puts it in.
CITED_ADDRESS = "https://www.npr.org/" + "long-path-" * 300
CUE_LINK = f'From [the report]({CITED_ADDRESS})"onmouseover="alert(\'cue link\')" and more:'

TITLE = '<script>alert("title")</script> Officials said <b>bold</b> things (Reuters)'
PARAGRAPHS = (
    "Reuters reports: " + PAYLOADS[0] + " the council said on Monday.",
    'The mayor said "' + PAYLOADS[1] + '" was not a threat.',
    PAYLOADS[2] + " " + PAYLOADS[3] + " " + PAYLOADS[4],
    PAYLOADS[5] + " " + PAYLOADS[6],
    PAYLOADS[7] + " " + PAYLOADS[8] + " " + PAYLOADS[9],
    RTL + ". " + ZERO_WIDTH + ".",
    "A long line: " + LONG_WORD + " ends here.",
    CUE_LINK,
)
TEXT = "\n\n".join(PARAGRAPHS)
URL = "javascript:alert('source link')"

# Fragments that must come through verbatim, as text, wherever the article is shown or sent.
VERBATIM = ("<script>", "onerror=", "javascript:alert", "&lt;b&gt;", "{{ 7 * 7 }}", "\u202e")


def hostile_jsonl() -> bytes:
    """One hostile document, as an import file."""
    record = {"id": "hostile-1", "title": TITLE, "text": TEXT, "url": URL, "site": "<b>site</b>"}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()
