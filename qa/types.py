"""Small records that cross the stages of the pipeline. Offsets are character offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, get_args

# What a reply is: an answer from the documents; an abstention (the documents don't say);
# small talk (a greeting, thanks, help, "what is this about?"); or a problem with the question
# (empty, too long, no words); or a summary (its sentences, each cited, in `alternatives`). Interfaces and the chat history decide from this, never from
# the message's wording.
ReplyKind = Literal["answer", "abstain", "small_talk", "problem", "summary"]
REPLY_KINDS: tuple[str, ...] = get_args(ReplyKind)


class ReaderKind(str, Enum):
    """The readers a setting can name (besides a model folder)."""

    FAST = "fast"  # the shipped MiniLM reader
    ACCURATE = "accurate"  # the 12-layer MPNet reader (needs qa[accurate])
    AUTO = "auto"  # accurate where it is installed (qa[accurate]; on a GPU when there is one), else fast
    CASCADE = "cascade"  # fast first, accurate when the fast reader is unsure (qa.cascade)

    @classmethod
    def parse(cls, value: str) -> ReaderKind | None:
        """The kind `value` names, or None when it names a folder."""
        try:
            return cls(value)
        except ValueError:
            return None


def content_id(text: str) -> str:
    """Stable id of a text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    """A document as read from a file.

    Attributes:
        id: Content hash of `text`; the same text always has the same id.
        source: Where it came from (a file name), shown to the user.
        text: The plain text that answers point into.
        title: A title if the file had one.
    """

    id: str
    source: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `document.text[start:end] == text`."""

    id: str
    doc_id: str
    source: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused retrieval score (higher is better)."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Span:
    """A candidate answer found by the reader in one passage.

    Attributes:
        passage: Index of the passage it was read from.
        start: Character start in that passage.
        end: Character end in that passage.
        text: `passage_text[start:end]`.
        score: Span logit minus the no-answer logit of the same window; above 0 the reader
            prefers this span to "no answer here". Comparable across windows and passages.
    """

    passage: int
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    """What the chatbot says to a question.

    Attributes:
        text: The exact answer span ("" when abstaining).
        score: Probability, between 0 and 1, that the answer is right.
        abstained: True when the documents don't say.
        source: The document the answer comes from.
        doc_id: That document's id.
        start: Character start of the span in the document.
        end: Character end of the span in the document.
        passage: The passage the span was read in.
        passage_start: Character offset of the passage in the document.
        quote: The sentence (or quotation) holding the span.
        quote_start: Character offset of `quote` in the document.
        question: The question as understood (after resolving follow-ups).
        alternatives: Other distinct answers that scored close to this one, best first.
        message: A reply that is not an answer (greeting, help, a problem with the question).
        kind: What the reply is (see `ReplyKind`); by default "abstain" when `abstained`, else
            "answer".
        title: The title of the document the answer comes from ("" when it has none).
        page: The page of a PDF the answer is on (0: not a paged document).
        section: The heading of the section the answer is in ("" when none).
        line: The line of the document the answer starts on (0 when a page is given instead).
    """

    text: str
    score: float
    abstained: bool
    source: str = ""
    doc_id: str = ""
    start: int = -1
    end: int = -1
    passage: str = ""
    passage_start: int = -1
    quote: str = ""
    quote_start: int = -1
    question: str = ""
    alternatives: tuple[Answer, ...] = field(default_factory=tuple)
    message: str = ""
    title: str = ""
    kind: ReplyKind | None = None
    page: int = 0
    section: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", "abstain" if self.abstained else "answer")
        elif self.kind not in REPLY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(REPLY_KINDS)}, not {self.kind!r}")
        if (self.kind in ("answer", "summary")) == self.abstained:
            raise ValueError(f"an Answer of kind {self.kind!r} cannot have abstained={self.abstained}")


def answer_from_dict(data: dict) -> Answer:
    """An `Answer` from its plain data (`dataclasses.asdict`), alternatives included; unknown keys are ignored."""
    from dataclasses import fields

    names = {f.name for f in fields(Answer)}
    values = {k: v for k, v in data.items() if k in names}
    values["alternatives"] = tuple(answer_from_dict(a) for a in data.get("alternatives") or ())
    return Answer(**values)
