"""Values from the data shown in Dagster's markdown metadata, as the text they are.

A customer id, a segment or a file name comes from a landing file, so it may hold markdown (`[click](...)`,
`**`, a `|` that splits a table cell, a line break that ends the table). CommonMark lets a backslash escape
every ASCII punctuation character, so escaping all of them shows any value literally; line breaks become
spaces so a value stays in its table cell or list item.
"""

from __future__ import annotations

import re

PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
LINE_BREAKS = re.compile(r"[\r\n]+")


def markdown_text(value: object) -> str:
    """`value` as markdown that renders as its own text, on one line."""
    return PUNCTUATION.sub(r"\\\1", LINE_BREAKS.sub(" ", str(value)))
