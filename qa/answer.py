"""Answer assembly: choose the best span, merge duplicates, abstain, cite, quote, list alternatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from qa.calibration import Calibration
from qa.layout import place_of, shown_words
from qa.text import normalize_answer, quote_bounds, title_of
from qa.types import Answer, Chunk, Document, Hit, Span

NOT_IN_DOCUMENTS = "The documents don't say."
MAX_ANSWER_CHARS = 300  # a longer span is cut at a word boundary and ends with "…"


@dataclass(frozen=True)
class Candidate:
    """A reader span placed in its document."""

    chunk: Chunk
    span: Span
    probability: float

    @property
    def start(self) -> int:
        return self.chunk.start + self.span.start

    @property
    def end(self) -> int:
        return self.chunk.start + self.span.end

    def overlaps(self, other: Candidate) -> bool:
        return self.chunk.doc_id == other.chunk.doc_id and self.start < other.end and other.start < self.end


def merge_candidates(hits: Sequence[Hit], spans: Sequence[Span], calibration: Calibration) -> list[Candidate]:
    """Place spans in their documents and merge the same span read in overlapping passages.

    Two spans at the same document offsets (from two overlapping passages) become one, with
    the better score. Best first.
    """
    best: dict[tuple[str, int, int], Candidate] = {}
    for span in spans:
        chunk = hits[span.passage].chunk
        cand = Candidate(chunk, span, 0.0)
        key = (chunk.doc_id, cand.start, cand.end)
        if key not in best or cand.span.score > best[key].span.score:
            best[key] = cand
    return judged(sorted(best.values(), key=lambda c: -c.span.score), calibration)


def judged(candidates: Sequence[Candidate], calibration: Calibration) -> list[Candidate]:
    """The candidates with each one's P(right), judged among the others (document offsets)."""
    probs = calibration.probabilities([(c.chunk.doc_id, c.start, c.end, c.span.text, c.span.score) for c in candidates])
    return [replace(c, probability=p) for c, p in zip(candidates, probs)]


@dataclass(frozen=True)
class Reading:
    """What retrieving and reading found for one question, before any decision.

    Attributes:
        question: The question that was retrieved and read.
        hits: The passages read, in the order given to the reader.
        candidates: The reader's spans placed in their documents, merged, best first.
    """

    question: str
    hits: tuple[Hit, ...]
    candidates: tuple[Candidate, ...]


def reading_of(question: str, hits: Sequence[Hit], spans: Sequence[Span], calibration: Calibration,
               documents: Mapping[str, Document] | None = None) -> Reading:
    """The question's candidates: spans merged (`merge_candidates`), less another person's quotation
    when it asks what someone said (`qa.attribution`; judged in `documents` where given, else in the
    passages). The confidence of those left is judged among them alone: a quotation that cannot be
    the answer is no rival to the one that can."""
    from qa.attribution import without_other_speakers

    merged = merge_candidates(hits, spans, calibration)
    kept = without_other_speakers(question, merged, documents or {})
    if len(kept) < len(merged):
        kept = judged(kept, calibration)
    return Reading(question, tuple(hits), tuple(kept))


def assemble_answer(
    question: str,
    hits: Sequence[Hit],
    spans: Sequence[Span],
    calibration: Calibration,
    threshold: float | None = None,
    alternatives_within: float = 0.6,
    max_alternatives: int = 3,
    exclude: Sequence[tuple[str, int, int]] = (),
) -> Answer:
    """The chatbot's answer from the retrieved passages and the reader's spans: merge, then decide.

    Args:
        question: The question as understood.
        hits: The passages that were read, in the order given to the reader.
        spans: The reader's candidates (their `passage` indexes into `hits`).
        calibration: Maps reader scores to probabilities; holds the shipped threshold.
        threshold, alternatives_within, max_alternatives, exclude: as for `decide_answer`.
    """
    reading = reading_of(question, hits, spans, calibration)
    cut = calibration.threshold if threshold is None else threshold
    return decide_answer(reading, cut, alternatives_within, max_alternatives, exclude)


def decide_answer(
    reading: Reading,
    threshold: float,
    alternatives_within: float = 0.6,
    max_alternatives: int = 3,
    exclude: Sequence[tuple[str, int, int]] = (),
) -> Answer:
    """Answer with the best candidate and its close alternatives, or abstain.

    Args:
        reading: The merged candidates for the question.
        threshold: Abstain when the best reader score is below this.
        alternatives_within: Other answers are listed when their probability is at least this
            share of the best one's.
        max_alternatives: Most alternatives listed.
        exclude: (document id, start, end) of answers already given ("What else ...?"); spans
            overlapping them are not answered again.

    Returns:
        The answer, or an abstention (`kind="abstain"`, empty text) when no span is good enough.
    """
    question, cut = reading.question, threshold
    candidates = [
        c for c in reading.candidates
        if not any(c.chunk.doc_id == d and c.start < e and s < c.end for d, s, e in exclude)
    ]
    if not candidates or candidates[0].span.score < cut:
        score = candidates[0].probability if candidates else 0.0
        return Answer(text="", score=score, abstained=True, question=question, message=NOT_IN_DOCUMENTS, kind="abstain")
    best = candidates[0]
    chosen = [best]
    for cand in candidates[1:]:
        if len(chosen) > max_alternatives:
            break
        if cand.span.score < cut or cand.probability < alternatives_within * best.probability:
            break  # best first: nothing after this one qualifies either
        if cand.chunk.id == best.chunk.id or any(cand.overlaps(c) for c in chosen):
            continue
        text = normalize_answer(cand.span.text)
        if not text or any(_same_answer(text, normalize_answer(c.span.text)) for c in chosen):
            continue
        chosen.append(cand)
    # Shown best first by the probability of being right (the reader's ranking, by score, can differ).
    answers = [_to_answer(question, c) for c in sorted(chosen, key=lambda c: -c.probability)]
    return _with_alternatives(answers[0], tuple(answers[1:]))


def _same_answer(a: str, b: str) -> bool:
    return a == b or (len(a) > 3 and a in b) or (len(b) > 3 and b in a)


def _to_answer(question: str, cand: Candidate) -> Answer:
    chunk, span = cand.chunk, cand.span
    q_start, q_end = quote_bounds(chunk.text, span.start, span.end)
    words = shorten_answer(span.text)
    return Answer(
        text=shown_words(words),  # the document's words; line wraps and markup not shown
        score=cand.probability,
        abstained=False,
        source=chunk.source,
        doc_id=chunk.doc_id,
        start=cand.start,
        end=cand.start + len(words.rstrip("\u2026")),
        passage=chunk.text,
        passage_start=chunk.start,
        quote=chunk.text[q_start:q_end],
        quote_start=chunk.start + q_start,
        question=question,
    )


def shorten_answer(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """`text`, or its first words up to `limit` characters followed by "…" (cut mid-word only
    when the first word alone is longer)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    head = text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:")
    return head + "\u2026"


def _with_alternatives(answer: Answer, alternatives: tuple[Answer, ...]) -> Answer:
    from dataclasses import replace

    return replace(answer, alternatives=alternatives)


def place_in_documents(answer: Answer, documents: Mapping[str, Document], margin: int = 2000) -> Answer:
    """The answer (and its alternatives) with the title of its document, and its quote taken
    from the document itself, so a sentence that runs past the end of the passage is whole."""
    doc = documents.get(answer.doc_id)
    if doc is None or not answer.text:
        return answer
    lo = max(0, answer.start - margin)
    window = doc.text[lo : answer.end + margin]
    q_start, q_end = quote_bounds(window, answer.start - lo, answer.end - lo)
    alternatives = tuple(place_in_documents(a, documents, margin) for a in answer.alternatives)
    place = place_of(doc, answer.start)
    return replace(
        answer, title=title_of(doc), quote=window[q_start:q_end], quote_start=lo + q_start, alternatives=alternatives,
        page=place.page, section=place.section, line=place.line,
    )
