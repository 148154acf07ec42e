# ruff: noqa: E501  (one paragraph per line: the page wraps them)
"""The default guidelines text shown beside the tagging controls (projects can edit it)."""

DEFAULT_GUIDELINES = """\
Passages
- One passage per paragraph; the headline is a passage too.
- Cited outlet: the news outlet whose reporting the passage presents or names as its source. Choose "author's own words" when the passage cites none (the author's commentary).
- Role "author": headline, summary, commentary, lead-in. Role "excerpt": text copied from the outlet after a lead-in such as "The Kyiv Independent reports ...:" or "From Reuters:", until the author speaks again.

Labels (one per claim)
- quoted: the words of an identified speaker who is not the outlet itself: quotation marks rendering someone's words, or indirect speech with a verb of saying (said, told, stated, admitted, accused, called on, warned, added). A headline "Speaker: words" is quoted.
- editorial: the writer's own judgement, interpretation, speculation or evaluation ("seemed to be a threat", "suggests ... never intended").
- reported: everything else: events and facts presented as news, including what reports and documents say ("according to a report at NPR") and actions such as proposing or agreeing.

When a sentence both quotes and reports, quoted wins. When it reports and evaluates with loaded words that carry its point, editorial wins. Mark a claim "unsure" rather than guessing, and say why in a note.
"""
