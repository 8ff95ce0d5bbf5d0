"""Who said what: a question about one person's words is not answered with another person's quote.

Asked "What did Xi say?", a reader can point at a quotation that *mentions* Xi but that someone
else said ("I expressed to President Xi that ...", Lee's words). The quotation's speaker is
usually written next to it: after it (", Lee explained"), before it ("Lee said:"), or, for a
second quotation in the same paragraph, at the one before it. When that speaker is named and is
not the person asked about, the span is not their words, and is not answered.

Only questions of the form "What did <Name> say / tell / warn / ...?" are checked, and only spans
inside quotation marks: reported speech ("Lee noted that Xi reiterated ...") and spans outside
quotes are left to the reader. A quotation whose speaker cannot be found is left alone too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from qa.types import Chunk, Document, Span


class Placed(Protocol):
    """A reader span placed in its document (`qa.answer.Candidate`)."""

    @property
    def chunk(self) -> Chunk: ...
    @property
    def span(self) -> Span: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


C = TypeVar("C", bound=Placed)

_SPEECH = (
    r"(?:say|says|said|tell|tells|told|state|states|stated|stress|stresses|stressed|warn|warns|warned|"
    r"announce|announced|claim|claimed|argue|argued|add|added|note|noted|mention|mentioned|reply|replied|"
    r"respond|responded|answer|answered|explain|explains|explained|write|wrote|emphasi[sz]e|emphasi[sz]ed|"
    r"reiterate|reiterated|insist|insisted|declare|declared|remark|remarked|ask|asked|continue|continued)"
)
_NAME = r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3}"
_ASKED = re.compile(
    rf"^\s*what\s+(?:did|does|do|has|have|had|was|is)\s+(?P<who>{_NAME})\s+(?:just\s+|actually\s+)?{_SPEECH}\b",
    re.IGNORECASE,
)
_AFTER = re.compile(rf"^[\s,]*(?:(?P<a>{_NAME}),?\s+{_SPEECH}\b|{_SPEECH}\s+(?P<b>{_NAME}))")
_BEFORE = re.compile(rf"(?P<a>{_NAME}),?\s+{_SPEECH}\b[^“”\"\n]{{0,40}}[:,]?\s*$")
# Words of a name that do not tell two people apart.
_TITLES = {
    "president", "prime", "minister", "mr", "mrs", "ms", "dr", "sir", "general", "secretary", "chairman",
    "king", "queen", "premier", "chancellor", "senator", "governor", "the", "former", "vice", "deputy",
    "chinese", "south", "north", "korean", "american", "us", "u.s.", "state", "foreign", "leader",
}
_PRONOUNS = {"he", "she", "they", "it", "i", "we", "you", "who", "someone", "somebody", "this", "that"}
_OPEN = "“\""
_CLOSE = "”\""
_LOOK = 400  # characters searched on each side of a span for its quotation marks


def asked_speaker(question: str) -> str | None:
    """The person a "What did <Name> say?" question asks about; None for other questions (or a pronoun)."""
    match = _ASKED.match(question)
    if not match:
        return None
    who = match.group("who")
    return who if _name_words(who) and who.split()[0].lower() not in _PRONOUNS else None


def quote_speaker(text: str, start: int, end: int) -> str | None:
    """The named speaker of the quotation that holds text[start:end]; None when the span is not
    inside quotation marks or no speaker is written beside it."""
    bounds = _quotation_around(text, start, end)
    if bounds is None:
        return None
    return _speaker_of(text, *bounds)


def said_by_someone_else(question: str, text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a quotation whose named speaker is not the person the question asks about."""
    asked = asked_speaker(question)
    return asked is not None and _quoted_from_other(asked, text, start, end)


def _quoted_from_other(asked: str, text: str, start: int, end: int) -> bool:
    speaker = quote_speaker(text, start, end)
    return speaker is not None and not (_name_words(speaker) & _name_words(asked))


def _name_words(name: str) -> set[str]:
    words = {w.strip("’'.,").lower() for w in name.split()}
    words = {w[:-2] if w.endswith(("’s", "'s")) else w for w in words}
    return {w for w in words if w and w not in _TITLES and w not in _PRONOUNS}


def _quotation_around(text: str, start: int, end: int) -> tuple[int, int] | None:
    """(position of the opening mark, position after the closing mark) of the quotation holding
    the span, within one paragraph; None when the span is not quoted."""
    lo = max(0, start - _LOOK)
    para_start = text.rfind("\n", lo, start) + 1 if "\n" in text[lo:start] else lo
    first = start + 1 if start < end and text[start] in _OPEN else start  # a span may begin with the opening mark
    marks = _marks(text, para_start, first)
    if not marks or marks[-1][1] != "open":
        return None
    opened = marks[-1][0]
    hi = min(len(text), end + _LOOK)
    newline = text.find("\n", end, hi)
    stop = newline if newline != -1 else hi
    last = end - 1 if end > start and text[end - 1] in _CLOSE else end  # or end with the closing one
    closing = next((i for i, kind in _marks(text, last, stop, inside=True) if kind == "close"), None)
    if closing is None:
        return None
    return opened, closing + 1


def _marks(text: str, lo: int, hi: int, inside: bool = False) -> list[tuple[int, str]]:
    """Quotation marks in text[lo:hi] with whether each opens or closes (straight quotes alternate,
    the first one closing when text[lo] is `inside` a quotation)."""
    out: list[tuple[int, str]] = []
    straight_open = inside
    for i in range(lo, hi):
        ch = text[i]
        if ch == "“":
            out.append((i, "open"))
        elif ch == "”":
            out.append((i, "close"))
        elif ch == '"':
            straight_open = not straight_open
            out.append((i, "open" if straight_open else "close"))
    return out


def _speaker_of(text: str, opened: int, closed: int) -> str | None:
    """The speaker written after the quotation, before it, or at an earlier quotation of the paragraph."""
    after = _AFTER.match(text[closed : closed + 80])
    if after:
        return _named(after.group("a") or after.group("b"))
    line_start = text.rfind("\n", 0, opened) + 1
    before = _BEFORE.search(text[max(line_start, opened - 120) : opened])
    if before:
        return _named(before.group("a"))
    # A quotation that follows another in the same paragraph continues its speaker's words.
    earlier = _marks(text, line_start, opened)
    for (i, kind), (j, kind2) in zip(reversed(earlier[:-1]), reversed(earlier[1:])):
        if kind == "open" and kind2 == "close":
            return _speaker_of(text, i, j + 1)
    return None


def _named(name: str | None) -> str | None:
    """`name` when it names someone (not a pronoun or a title alone)."""
    name = (name or "").rstrip(".,;:’'")
    return name if name and _name_words(name) else None


def without_other_speakers(question: str, candidates: Sequence[C], documents: Mapping[str, Document]) -> list[C]:
    """`candidates` less those inside another person's quotation, when `question` asks what someone said.

    Each is judged in its document (a quotation begun in the passage before is seen whole), or in
    its passage when the document is not at hand.
    """
    asked = asked_speaker(question)
    if asked is None:
        return list(candidates)
    kept = []
    for c in candidates:
        doc = documents.get(c.chunk.doc_id)
        text, start, end = (doc.text, c.start, c.end) if doc is not None else (c.chunk.text, c.span.start, c.span.end)
        if not _quoted_from_other(asked, text, start, end):
            kept.append(c)
    return kept
