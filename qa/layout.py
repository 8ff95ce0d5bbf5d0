"""Where in a document an offset lies, in words a reader can check: page, section, line.

The layout travels inside the document's text, so every store keeps it without a field of its
own: a PDF's pages are separated by a form feed (qa.ingest), and headings of Markdown, HTML,
Office files and e-books are lines led by "#" marks (qa.ingest, qa.formats).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from qa.types import Document

PAGE_BREAK = "\f"
_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S[^\n]*?)[ \t#]*$", re.MULTILINE)
# Sources whose "#" lines are headings (in a .txt file a "#" line may be anything).
HEADED = {".md", ".markdown", ".html", ".htm", ".docx", ".pptx", ".xlsx", ".odt", ".epub"}
PAGED = {".pdf"}


@dataclass(frozen=True)
class Place:
    """Where an offset lies: page (0 when the document has no pages), the heading of its
    section ("" when none) and its line (1-based, in the text as read)."""

    page: int = 0
    section: str = ""
    line: int = 0

    def describe(self) -> str:
        """"page 7, under 'Options'", "line 12, under 'Setup'", or "line 3"."""
        where = f"page {self.page}" if self.page else f"line {self.line}" if self.line else ""
        under = f"under \u2018{self.section}\u2019" if self.section else ""
        return ", ".join(p for p in (where, under) if p)


def _suffix(source: str) -> str:
    return PurePath(source).suffix.lower()


def place_of(doc: Document, offset: int) -> Place:
    """The page, section and line of `offset` in `doc`."""
    offset = max(0, min(offset, len(doc.text)))
    suffix = _suffix(doc.source)
    page = doc.text.count(PAGE_BREAK, 0, offset) + 1 if suffix in PAGED else 0
    return Place(page=page, section=section_at(doc.text, offset) if suffix in HEADED else "",
                 line=0 if page else doc.text.count("\n", 0, offset) + 1)


def section_at(text: str, offset: int) -> str:
    """The text of the last heading line that starts before `offset` ("" when none)."""
    found = ""
    for m in _HEADING.finditer(text, 0, offset):
        found = m.group(2)
    return found


def is_heading_line(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole line that reads as a heading: led by "#" marks, or short
    (at most eight words) with no sentence punctuation at its end, alone on its line."""
    segment = text[start:end]
    if "\n" in segment.strip():
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if text[line_start:start].strip() or text[end:line_end].strip():
        return False
    segment = segment.strip()
    if segment.startswith("#"):
        return True
    return 0 < len(segment.split()) <= 8 and segment[-1] not in ".!?:;,\"'\u201d\u2019)"


_MARKUP = re.compile(r"(?m)^[ \t]*#{1,6}[ \t]+|\*\*|__|`")


def plain(text: str) -> str:
    """Text as shown: Markdown markup (heading marks, bold, code ticks) left out."""
    return _MARKUP.sub("", text)


def shown_words(text: str) -> str:
    """An answer's words as given: markup left out, every run of white space one space."""
    return " ".join(plain(text).split())
