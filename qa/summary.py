"""Extractive summaries: "Summarize X" and "What is X about?" answered with the documents' own
most central sentences, in their order, each cited like any other answer.

X is a document (by file name, name without extension, or title) or a topic. For a document,
its sentences are ranked by closeness to the document's centroid (the mean of their
embeddings, the classic centroid summary); for a topic, the sentences of the passages retrieved
for it are ranked by closeness to the topic and to their centroid alike. Near-duplicates are
skipped, and the chosen sentences are shown in the order they appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Collection, Sequence

from qa.layout import is_heading_line, place_of, shown_words
from qa.text import sentence_spans, title_of
from qa.types import Answer, Document

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.embed import EmbeddingModel
    from qa.store.base import PassageStore
    from qa.types import Hit

_ASK = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+)?(?:"
    r"(?:summari[sz]e|sum up|give (?:me )?(?:a )?(?:short )?summary of|what(?:'s| is| are) the (?:gist|summary) of)\s+(?P<x>.+?)"
    r"|what(?:'s| is| are)\s+(?P<y>.+?)\s+about"
    r")\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_PRONOUNS = {"this", "these", "it", "the documents", "the document", "all this", "them"}
MIN_WORDS = 6  # shorter sentences (bylines, captions, headings) are not summary material
MOST_SENTENCES = 240  # sentences of one document ranked (spread over it), so a book stays quick
DUPLICATE = 0.9  # cosine above which a sentence repeats one already chosen


@dataclass(frozen=True)
class SummaryRequest:
    """What a summary question asks for: its subject as typed."""

    subject: str


def summary_request(question: str) -> SummaryRequest | None:
    """The subject of "Summarize X" / "What is X about?", or None for other questions (and for
    "What is this about?", which the conversation answers with every document's lead)."""
    m = _ASK.match(question)
    if not m:
        return None
    subject = (m.group("x") or m.group("y") or "").strip().strip("\"'\u201c\u201d")
    if not subject or subject.lower() in _PRONOUNS:
        return None
    return SummaryRequest(subject)


def document_named(documents: Sequence[Document], subject: str) -> Document | None:
    """The document `subject` names: its file name, its name without extension, or its title."""
    s = _key(subject)
    for d in documents:
        if s in (_key(d.source), _key(PurePath(d.source).stem), _key(title_of(d)), _key(d.id)):
            return d
    return None


def _key(text: str) -> str:
    text = re.sub(r"^(the|a|an)\s+", "", text.strip().lower())
    return " ".join(text.replace("_", " ").replace("-", " ").split())


def summarize_document(doc: Document, embedder: EmbeddingModel, n: int = 3) -> Answer:
    """The `n` most central sentences of `doc`, in order."""
    spans = _sentences(doc.text, 0, len(doc.text))
    if len(spans) > MOST_SENTENCES:  # spread over the whole document
        step = len(spans) / MOST_SENTENCES
        spans = [spans[int(i * step)] for i in range(MOST_SENTENCES)]
    found = [(doc, s, e) for s, e in spans]
    return _summary(found, embedder, None, n, f"Summary of {doc.source}")


def summarize_topic(subject: str, hits: Sequence[Hit], documents: dict[str, Document], embedder: EmbeddingModel,
                    n: int = 3) -> Answer | None:
    """The `n` sentences of the retrieved passages closest to the topic and to each other, in
    document order; None when nothing was found."""
    found = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        doc = documents.get(hit.chunk.doc_id)
        if doc is None:
            continue
        for s, e in _sentences(doc.text, hit.chunk.start, hit.chunk.end):
            if (doc.id, s) not in seen:
                seen.add((doc.id, s))
                found.append((doc, s, e))
    if not found:
        return None
    return _summary(found, embedder, subject, n, f"About \u201c{subject}\u201d")


def _sentences(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    return [(lo + s, lo + e) for s, e in sentence_spans(text[lo:hi])
            if len(text[lo + s : lo + e].split()) >= MIN_WORDS and not is_heading_line(text, lo + s, lo + e)]


def _summary(found: list[tuple[Document, int, int]], embedder: EmbeddingModel, topic: str | None, n: int,
             heading: str) -> Answer:
    import numpy as np

    if not found:
        return Answer(text="", score=0.0, abstained=True, kind="abstain", question=heading,
                      message="The documents have no sentences long enough to summarise.")
    vectors = np.asarray(embedder.embed([shown_words(d.text[s:e]) for d, s, e in found]), dtype=np.float32)
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    score = vectors @ centroid
    if topic is not None:
        score = 0.5 * score + 0.5 * (vectors @ np.asarray(embedder.embed([topic])[0], dtype=np.float32))
    chosen: list[int] = []
    for i in np.argsort(-score):
        if len(chosen) == n:
            break
        if all(float(vectors[i] @ vectors[j]) < DUPLICATE for j in chosen):
            chosen.append(int(i))
    order = sorted(chosen, key=lambda i: (found[i][0].source, found[i][1]))
    parts = tuple(_sentence_answer(*found[i]) for i in order)
    return Answer(text="", score=1.0, abstained=False, kind="summary", question=heading, alternatives=parts,
                  message=f"{heading}: the most central sentences, in their order.")


def _sentence_answer(doc: Document, start: int, end: int) -> Answer:
    place = place_of(doc, start)
    words = doc.text[start:end]
    return Answer(text=shown_words(words), score=1.0, abstained=False, source=doc.source, doc_id=doc.id, start=start,
                  end=end, passage=words, passage_start=start, quote=words, quote_start=start, title=title_of(doc),
                  page=place.page, section=place.section, line=place.line)


def answer_summary(request: SummaryRequest, documents: dict[str, Document], embedder: EmbeddingModel,
                   retrieve: Any) -> Answer | None:
    """The summary a request asks for: of the document it names, else of the passages
    `retrieve(subject)` finds; None when neither gives sentences (the question is then read as usual)."""
    doc = document_named(list(documents.values()), request.subject)
    if doc is not None:
        return summarize_document(doc, embedder)
    return summarize_topic(request.subject, retrieve(request.subject), documents, embedder)


def summary_if_asked(question: str, store: PassageStore, embedder: EmbeddingModel, settings: Settings,
                     only: Collection[str] | None = None) -> Answer | None:
    """The summary `question` asks for, over the documents of `store` (those in `only` when
    given); None for any other question."""
    request = summary_request(question)
    if request is None:
        return None
    from qa.retrieve import Retriever

    docs = {i: d for i, d in store.documents.items() if only is None or i in only}
    retriever = Retriever(store, embedder, settings.candidates, settings.rrf_k)
    return answer_summary(request, docs, embedder, lambda subject: retriever.retrieve(subject, settings.top_k, only))
