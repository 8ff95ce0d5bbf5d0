"""The chatbot: the composition root, where the typed parts are put together.

`Chatbot` holds an `Indexer` (the only writer of the store, `qa.indexer`), a reader
(`qa.readers` chooses it), the reader's calibration and a `Conversation`, and answers questions:
understand (follow-ups, typos) -> retrieve -> read -> decide. It implements none of these stages.
`Chatbot.load` builds the default parts; tests and the evaluation pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Iterable, Sequence

from qa.config import Settings, load_settings
from qa.indexer import IndexReport, Indexer, Progress
from qa.types import Answer, Document

if TYPE_CHECKING:
    from qa.answer import Reading
    from qa.calibration import Calibration
    from qa.conversation import Conversation
    from qa.embed import EmbeddingModel
    from qa.read import SpanReader
    from qa.spelling import Speller
    from qa.store.base import PassageStore, Salvage

__all__ = ["Chatbot", "IndexReport"]
History = Sequence[tuple[str, "str | Answer"]]


class Chatbot:
    """Question answering over a set of documents. Construction loads no model.

    Args:
        settings: All settings (see `qa.config.Settings`).
        embedder: The embedding model (default: the packaged all-MiniLM-L6-v2).
        reader: The reader (default: the one `settings.reader` names, `qa.readers`).
        indexer: The store's writer (default: an `Indexer` over `settings` and the embedder).
        calibration: The confidence and threshold (default: the reader folder's calibration.json).
        conversation: Follow-ups and small talk (default: a `Conversation`, loaded on first use).
    """

    def __init__(self, settings: Settings | None = None, *, embedder: EmbeddingModel | None = None,
                 reader: SpanReader | None = None, indexer: Indexer | None = None,
                 calibration: Calibration | None = None, conversation: Conversation | None = None) -> None:
        self.settings = s = settings or Settings()
        if indexer is None:
            from qa.embed import Embedder

            indexer = Indexer(s, embedder or Embedder(s.embedder_path or None, precision=s.embedder_precision))
        self.indexer = indexer
        self.embedder = indexer.embedder
        if reader is None:
            from qa.readers import build_reader

            reader = build_reader(s)
        self.reader = reader
        self._calibration = calibration
        self._conversation = conversation
        self._speller: tuple[PassageStore, Speller] | None = None  # one per index version

    @classmethod
    def load(cls, index_dir: str | Path = "index", **overrides: Any) -> "Chatbot":
        """The default parts over the index in `index_dir` (seeded when new); `overrides` are any
        settings of `qa.config.Settings` (QA_* environment variables apply too)."""
        bot = cls(load_settings(index_dir=str(index_dir), **overrides))
        bot.open()
        return bot

    # --- the index: the indexer's; these name its public calls on the chatbot ------------

    @property
    def store(self) -> PassageStore: return self.indexer.store  # noqa: E704 - the store questions read from

    @property
    def seeded(self) -> IndexReport: return self.indexer.seeded  # noqa: E704 - what opening the index indexed

    def open(self, rebuild: bool = False, seed: bool = True) -> None:
        self.indexer.rebuild() if rebuild else self.indexer.open(seed)

    def rebuild(self) -> Salvage:
        return self.indexer.rebuild()

    def documents(self) -> list[Document]:
        return self.indexer.documents()

    def add_paths(self, paths: Sequence[str | Path], progress: Progress | None = None) -> IndexReport:
        return self.indexer.add_paths(paths, progress)

    def add_documents(self, docs: Sequence[Document], progress: Progress | None = None) -> IndexReport:
        return self.indexer.add_documents(docs, progress)

    def remove(self, names_or_ids: Sequence[str]) -> list[str]:
        return self.indexer.remove(names_or_ids)

    # --- questions: understand, retrieve, read, decide ------------------------------

    @property
    def calibration(self) -> Calibration:
        if self._calibration is None:
            from qa.readers import load_calibration

            self.reader.warm_up()
            self._calibration = load_calibration(self.reader)
        return self._calibration

    @property
    def conversation(self) -> Conversation:
        if self._conversation is None:
            from qa.conversation import Conversation

            self._conversation = Conversation()
        return self._conversation

    def warm_up(self) -> None:
        """Load every model now rather than on the first question."""
        self.store  # noqa: B018 - opens the index
        self.embedder.embed(["warm up"])
        self.reader.warm_up()
        self.calibration, self.conversation  # noqa: B018

    def ask(self, question: str, history: History = (), scope: Sequence[str] = ()) -> Answer:
        """Answer a question; `history`: earlier (question, answer) turns, oldest first, for follow-ups;
        `scope`: documents (file names or ids) to answer from (empty: all). The answer's `kind` says
        what it is: "answer", "summary", "abstain", "small_talk" or "problem" (then see `message`)."""
        from qa.conversation import answers_to_skip, check_question, clean_question
        from qa.summary import summary_if_asked

        question = clean_question(question) if isinstance(question, str) else ""
        problem = check_question(question, self.settings.max_question_chars)
        if problem:
            return Answer(text="", score=0.0, abstained=True, question=question, message=problem, kind="problem")
        store = self.indexer.latest()
        only, unknown = documents_named(store.documents.values(), scope)
        if unknown:
            return unknown_documents(question, unknown, store.documents.values())
        reply = self.conversation.reply_to_non_question(question, store.documents.values())
        if reply is not None:
            return Answer(text="", score=0.0, abstained=True, question=question, message=reply, kind="small_talk")
        if (summary := summary_if_asked(question, store, self.embedder, self.settings, only)) is not None:
            return summary
        understood = self.conversation.rewrite(self.speller(store).correct(question), history)
        unclear = self.conversation.needs_context(understood)
        if unclear:  # a bare "When?" with no earlier question to ask it of
            return Answer(text="", score=0.0, abstained=True, question=understood, message=unclear, kind="problem")
        return self.answer(understood, store, answers_to_skip(understood, history), only)

    def speller(self, store: PassageStore) -> Speller:
        """The typo corrector over `store`'s words, built once per version of the index."""
        if self._speller is None or self._speller[0] is not store:
            from qa.spelling import Speller

            self._speller = (store, Speller(d.text for d in store.documents.values()))
        return self._speller[1]

    def candidates(self, question: str, store: PassageStore | None = None, only: Collection[str] | None = None) -> Reading:
        """Retrieve (from documents `only`, ids; None: all), read and merge; nothing decided yet (`qa eval --mode e2e`)."""
        from qa.answer import reading_of
        from qa.retrieve import Retriever

        s = self.settings
        hits = Retriever(store or self.store, self.embedder, s.candidates, s.rrf_k).retrieve(question, s.top_k, only)
        spans = self.reader.read(question, [h.chunk.text for h in hits]) if hits else []
        return reading_of(question, hits, spans, self.calibration, (store or self.store).documents)

    def decide(self, reading: Reading, exclude: Sequence[tuple[str, int, int]] = ()) -> Answer:
        """The best candidate with close alternatives, or an abstention; `exclude`: (document id, start, end) not to give again."""
        from qa.answer import decide_answer

        s = self.settings
        cut = self.calibration.threshold if s.threshold is None else s.threshold
        return decide_answer(reading, cut, s.alternatives_within, s.max_alternatives, exclude)

    def answer(self, question: str, store: PassageStore | None = None, exclude: Sequence[tuple[str, int, int]] = (),
               only: Collection[str] | None = None) -> Answer:
        """`candidates`, then `decide`, for a question already understood."""
        from qa.answer import place_in_documents

        s = store or self.store
        return place_in_documents(self.decide(self.candidates(question, s, only), exclude), s.documents)


def documents_named(documents: Iterable[Document], names: Sequence[str]) -> tuple[frozenset[str] | None, list[str]]:
    """The ids of the documents `names` name (by file name or id; None when no names are given),
    and the names that name none."""
    if not names:
        return None, []
    by_key: dict[str, str] = {}
    for d in documents:
        by_key[d.id] = d.id
        by_key.setdefault(d.source, d.id)
        by_key.setdefault(d.source.lower(), d.id)
    found = {by_key.get(n) or by_key.get(n.lower()) for n in names}
    unknown = [n for n in names if (by_key.get(n) or by_key.get(n.lower())) is None]
    return frozenset(i for i in found if i), unknown


def unknown_documents(question: str, unknown: Sequence[str], documents: Iterable[Document]) -> Answer:
    """The reply to a question limited to documents that are not indexed: which, and which are."""
    names = ", ".join(sorted(d.source for d in documents)) or "none yet"
    return Answer(text="", score=0.0, abstained=True, question=question, kind="problem",
                  message=f"No document named {', '.join(unknown)}. The documents are: {names}.")
