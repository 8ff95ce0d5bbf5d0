"""Documents -> passages (`Chunk`s): sentence-aware, overlapping, offsets kept.

Sentences are packed into a passage until the next one would pass `max_tokens` word pieces
(the embedder reads at most 256). The next passage starts with the last sentences of the
previous one, up to `overlap` word pieces, so that an answer near a cut is whole in one of
them. A single sentence longer than `max_tokens` is cut at word-piece boundaries.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from qa.errors import SettingsError
from qa.text import sentence_spans
from qa.types import Chunk, Document, content_id

MAX_PASSAGE_CHARS = 2_000  # ~ 2x the characters of 200 English word pieces

# Counts word pieces of each text; given as a function so tests can use a simple one.
TokenCounter = Callable[[Sequence[str]], list[list[tuple[int, int]]]]


def wordpiece_counter(tokenizer: Any) -> TokenCounter:
    """A counter returning each text's word-piece character offsets, from a fast tokenizer."""

    def offsets(texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        if not texts:
            return []
        enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [list(map(tuple, o)) for o in enc["offset_mapping"]]

    return offsets


def prefetched_counter(count: TokenCounter, docs: Sequence[Document]) -> TokenCounter:
    """`count`, with the sentences of all `docs` counted up front in one call: one large batch
    instead of one small one per document (per-call overhead was a third of `qa index`)."""
    texts = list(dict.fromkeys(d.text[s:e] for d in docs for s, e in sentence_spans(d.text)))
    known = dict(zip(texts, count(texts)))

    def offsets(batch: Sequence[str]) -> list[list[tuple[int, int]]]:
        missing = [t for t in batch if t not in known]
        if missing:
            known.update(zip(missing, count(missing)))
        return [known[t] for t in batch]

    return offsets


def whitespace_counter(texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """Offsets of white-space separated words: a tokenizer-free stand-in."""
    import re

    return [[m.span() for m in re.finditer(r"\S+", t)] for t in texts]


def chunk_document(
    doc: Document, count: TokenCounter, max_tokens: int = 200, overlap: int = 40, max_chars: int = MAX_PASSAGE_CHARS,
) -> list[Chunk]:
    """Split a document into passages with exact offsets: `doc.text[c.start:c.end] == c.text`.

    Args:
        doc: The document.
        count: Gives the word-piece offsets of texts (see `wordpiece_counter`).
        max_tokens: Most word pieces per passage.
        overlap: Word pieces of trailing sentences repeated at the start of the next passage.
        max_chars: Most characters per passage.

    Returns:
        The passages in document order; none for a document without text.
    """
    if max_tokens <= 0:
        raise SettingsError(f"max_tokens must be greater than 0, not {max_tokens}")
    if not 0 <= overlap < max_tokens:
        raise SettingsError(f"overlap must be at least 0 and under max_tokens, not {overlap}")
    if max_chars <= 0:
        raise SettingsError(f"max_chars must be greater than 0, not {max_chars}")
    units = _units(doc.text, count, max_tokens, max_chars)
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or (used + units[j][2] <= max_tokens and units[j][1] - units[i][0] <= max_chars)):
            used += units[j][2]
            j += 1
        pieces.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward: the
        # next passage must still hold the sentence after this one, or it would only repeat it.
        back, k = 0, j
        while (k - 1 > i and back + units[k - 1][2] <= overlap and back + units[k - 1][2] + units[j][2] <= max_tokens
               and units[j][1] - units[k - 1][0] <= max_chars):
            k -= 1
            back += units[k][2]
        i = k
    return [
        Chunk(content_id(f"{doc.id}:{s}:{e}"), doc.id, doc.source, doc.text[s:e], s, e) for s, e in pieces
    ]


def _units(text: str, count: TokenCounter, max_tokens: int, max_chars: int) -> list[tuple[int, int, int]]:
    """(start, end, word pieces) of each sentence; over-long sentences cut into pieces."""
    spans = [part for span in sentence_spans(text) for part in _split_long(text, *span, max_chars)]
    offsets = count([text[s:e] for s, e in spans])
    units = []
    for (s, e), offs in zip(spans, offsets):
        if len(offs) <= max_tokens:
            units.append((s, e, max(1, len(offs))))
            continue
        for lo in range(0, len(offs), max_tokens):
            part = offs[lo : lo + max_tokens]
            start = s + part[0][0]
            end = s + (offs[lo + max_tokens][0] if lo + max_tokens < len(offs) else e - s)
            end = start + len(text[start:end].rstrip())
            units.append((start, end, len(part)))
    return units


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """(start, end) pieces of at most `max_chars` characters, cut after the last white space
    in the second half of the bound, or hard at the bound when there is none."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = max(text.rfind(" ", start + max_chars // 2, limit + 1), text.rfind("\n", start + max_chars // 2, limit + 1))
        cut = cut if cut > start else limit
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces
