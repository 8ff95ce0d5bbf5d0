"""Plain-text helpers shared by the stages: sentence spans, with character offsets."""

from __future__ import annotations

import re
import string

from qa.types import Document

# A sentence ends at . ! ? (possibly followed by closing quotes or brackets) before white space
# and a capital, digit, quote or bracket; a line break always ends one.
_END = re.compile(r"""(?<=[.!?])(["'\u201d\u2019)\]]*)[ \t]+(?=["'\u201c\u2018(\[]?[A-Z0-9])|()\s*\n\s*""")
# Words whose final period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "lt", "col",
    "capt", "sgt", "vs", "etc", "no", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "e.g", "i.e", "fig", "approx",
}
_LONGEST_ABBREVIATION = 8  # characters before the period worth looking at, with an opening quote


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character (start, end) of each sentence of `text`, white space trimmed, in order.

    A light rule-based splitter: fast, deterministic, and every span is an exact slice of
    the input, which is what offsets into documents need.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if "\n" not in m.group(0) and _is_abbreviation(text, m.start()):
            continue
        closers = m.group(1) if m.group(1) is not None else ""
        spans.append((start, m.start() + len(closers)))
        start = m.end()
    spans.append((start, len(text)))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _is_abbreviation(text: str, end: int) -> bool:
    dot = text.rfind(".", 0, end + 1)
    if dot < 0 or text[dot + 1 : end].strip("\"'\u201d\u2019)]"):
        return False
    # Look back a short way only: searching to the text's start for a space or line break made
    # a long line without one quadratic (a 5 MB one-line file took minutes to split).
    lo = max(0, dot - _LONGEST_ABBREVIATION)
    word_start = max(text.rfind(" ", lo, dot), text.rfind("\n", lo, dot), lo - 1) + 1
    word = text[word_start:dot].lower().strip("(\"'")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence(s) holding text[start:end]; a quotation is kept whole.

    When the span sits inside a quotation (“...” or "...") that runs over several sentences,
    the whole quotation with its sentence is returned, so a quote is never cut.
    """
    spans = sentence_spans(text)
    first = next((i for i, (s, e) in enumerate(spans) if e > start), len(spans) - 1)
    last = next((i for i, (s, e) in enumerate(spans) if e >= end), len(spans) - 1)
    if not spans:
        return start, end
    lo, hi = spans[first][0], spans[last][1]
    # Grow to the edges of an open quotation.
    while first > 0 and _opens_quote(text[lo:hi]) == "close":
        first -= 1
        lo = spans[first][0]
    while last < len(spans) - 1 and _opens_quote(text[lo:hi]) == "open":
        last += 1
        hi = spans[last][1]
    # A line wrapped mid-sentence (PDF, plain text) does not end the sentence.
    while first > 0 and _soft_break(text, spans[first - 1][1], spans[first][0]):
        first -= 1
        lo = spans[first][0]
    while last < len(spans) - 1 and _soft_break(text, spans[last][1], spans[last + 1][0]):
        last += 1
        hi = spans[last][1]
    return min(lo, start), max(hi, end)


MAX_QUOTE_CHARS = 600  # a longer sentence (a text without sentence ends) is quoted around its answer


def cap_quote(text: str, lo: int, hi: int, start: int, end: int, limit: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
    """(lo, hi), or when that is over `limit` characters, a window of about `limit` around the
    answer text[start:end], cut at white space, that still holds the whole answer."""
    if hi - lo <= limit:
        return lo, hi
    room = max(0, limit - (end - start)) // 2
    new_lo, new_hi = max(lo, start - room), min(hi, end + room)
    if new_lo > lo:  # start after a white space, so no word is cut
        space = text.find(" ", new_lo, start)
        new_lo = space + 1 if space != -1 else new_lo
    if new_hi < hi:
        space = text.rfind(" ", end, new_hi)
        new_hi = space if space != -1 else new_hi
    return min(new_lo, start), max(new_hi, end)


# First words of a sentence that leans on the one before ("It had uid 37."): quoted with it.
_LEANING = {"it", "its", "he", "his", "she", "her", "they", "their", "them", "this", "that", "these", "those", "there"}


def _leans_on_previous(sentence: str) -> bool:
    first = sentence.split(maxsplit=1)
    return bool(first) and first[0][0].isupper() and first[0].lower() in _LEANING


def quote_bounds(text: str, start: int, end: int, limit: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
    """The quote shown with the answer text[start:end]: its sentence (`sentence_around`), never a
    bare heading (the sentence after a heading comes with it), with the sentence before when this
    one leans on it (starts with "It", "They", "This", ...), cut to about `limit` characters."""
    from qa.layout import is_heading_line

    lo, hi = sentence_around(text, start, end)
    if is_heading_line(text, lo, hi):
        after = next(((s, e) for s, e in sentence_spans(text[hi : hi + limit]) if e > s), None)
        if after is not None and not is_heading_line(text, hi + after[0], hi + after[1]):
            hi = hi + after[1]
    elif lo > 0 and _leans_on_previous(text[lo:hi]):
        back = max(0, lo - limit)
        before = sentence_spans(text[back:lo])
        if before:
            prev_lo, prev_hi = back + before[-1][0], back + before[-1][1]
            same_paragraph = text[prev_hi:lo].count("\n") < 2
            if same_paragraph and not is_heading_line(text, prev_lo, prev_hi):
                lo = prev_lo
    return cap_quote(text, lo, hi, start, end, limit)


def _soft_break(text: str, left_end: int, right_start: int) -> bool:
    """Whether the gap between two sentence spans is a line wrapped inside one sentence: a
    single line break after a character that ends no sentence, before a lower-case letter."""
    gap = text[left_end:right_start]
    return (
        gap.count("\n") == 1 and not gap.strip() and left_end > 0 and right_start < len(text)
        and text[left_end - 1] not in _TERMINAL and text[right_start].islower()
    )


_TERMINAL = set(".!?:;\"'\u201d\u2019)]")
_SOFT_BREAK = re.compile(r"(?<=[^.!?:;\"'\u201d\u2019)\]\s])[ \t]*\n[ \t]*(?=[a-z])")
_BLANK_LINES = re.compile(r"[ \t]*\n\s*\n\s*")


def one_line(text: str) -> str:
    """Text for display on one line: every run of white space (line breaks too) is one space."""
    return re.sub(r"\s+", " ", text)


def reflow(text: str) -> str:
    """Text for display as paragraphs: lines wrapped mid-sentence are joined, blank lines
    between paragraphs become one line break, runs of spaces one space. The ends are kept, so
    pieces of a text can be shown one after the other."""
    text = _SOFT_BREAK.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text)
    return re.sub(r"[ \t\f\v]+", " ", text)


def _opens_quote(segment: str) -> str:
    """"open" if a quotation starts in `segment` and does not end there, "close" for the reverse."""
    opens = segment.count("\u201c")
    closes = segment.count("\u201d")
    if opens > closes:
        return "open"
    if closes > opens:
        return "close"
    if segment.count('"') % 2:
        # A lone straight quote: an opening one starts the segment or follows a space.
        i = segment.find('"')
        return "open" if i == 0 or segment[i - 1].isspace() else "close"
    return ""


TITLE_CHARS = 80


def first_line_title(text: str) -> str:
    """A title from the text itself: its first line of at least four words (shorter lines at
    the top are too often boilerplate such as "Share and Follow"), shortened to a few words."""
    line = next((ln for ln in text[:20_000].splitlines() if len(ln.split()) >= 4), "")
    line = " ".join(line.split()).lstrip("#").strip()
    if len(line) <= TITLE_CHARS:
        return line
    cut = line.rfind(" ", 0, TITLE_CHARS)
    return line[: cut if cut > 0 else TITLE_CHARS].rstrip(",;:") + "\u2026"


def title_of(doc: Document) -> str:
    """A document's title; one indexed before titles were kept gets its first line's (a table,
    whose first line is a row, gets none)."""
    from qa.formats import TABLES

    if doc.title or doc.source.lower().endswith(tuple(TABLES)):
        return doc.title
    return first_line_title(doc.text)


# The official SQuAD answer normalisation: answers that normalise alike are the same answer.
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra white space (official SQuAD)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())
