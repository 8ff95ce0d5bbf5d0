"""The chatbot: the only place that wires ingest, chunking, embedding, the store, retrieval,
the reader and answer assembly together."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from qa.config import Settings, load_settings
from qa.types import Answer, Document

log = logging.getLogger("qa")

PREFETCH_CHARS = 2_000_000  # text whose sentences are counted in one call when indexing
WRITE_PASSAGES = 2048  # passages embedded and written to the store at a time
History = Sequence[tuple[str, str | Answer]]
Progress = Callable[[str, float], None]


@dataclass
class IndexReport:
    """What an indexing call did."""

    added: list[str] = field(default_factory=list)  # sources of new documents
    updated: list[str] = field(default_factory=list)  # sources indexed before with other content
    unchanged: list[str] = field(default_factory=list)  # already indexed (same content)
    problems: list[str] = field(default_factory=list)  # one message per refused file
    passages: int = 0  # passages added

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"indexed {len(self.added)} document(s) ({self.passages} passages): {', '.join(self.added)}")
        if self.updated:
            parts.append(f"updated {', '.join(self.updated)}")
        if self.unchanged:
            parts.append(f"already indexed: {', '.join(self.unchanged)}")
        parts.extend(self.problems)
        return "\n".join(parts) or "nothing to index"


class Chatbot:
    """Question answering over a set of documents.

    Build it with `Chatbot.load`; construction itself loads no model.

    Args:
        settings: All settings (see `qa.config.Settings`).
        embedder: The embedding model (default: the packaged all-MiniLM-L6-v2).
        reader: The reader (default: the one `settings.reader` names).
    """

    def __init__(self, settings: Settings | None = None, embedder: Any = None, reader: Any = None) -> None:
        from qa.embed import Embedder
        from qa.accurate import resolve_reader
        from qa.read import Reader

        self.settings = s = settings or Settings()
        self.embedder = embedder or Embedder(s.embedder_path or None)
        if reader is None:
            folder, device = resolve_reader(s.reader, s.reader_path)
            reader = Reader(folder, s.reader_settings(), device=device, threads=s.threads or None)
        self.reader = reader
        self._store: Any = None
        self._calibration: Any = None
        self._write_lock = threading.Lock()
        self._conversation: Any = None
        self._speller: tuple[Any, Any] | None = None  # (store, its Speller): one per index version
        self.seeded = IndexReport()  # what opening the index indexed (the seeds of a new index)

    @classmethod
    def load(cls, index_dir: str | Path = "index", **overrides: Any) -> "Chatbot":
        """Open the index in `index_dir`, building it from the seed documents when it is missing.

        Args:
            index_dir: The index folder.
            **overrides: Any setting of `qa.config.Settings` (QA_* environment variables apply too).
        """
        bot = cls(load_settings(index_dir=str(index_dir), **overrides))
        bot.open()
        return bot

    # --- the index ------------------------------------------------------------

    @property
    def store(self) -> Any:
        if self._store is None:
            self.open()
        return self._store

    def build_info(self) -> dict[str, Any]:
        """What the stored vectors and passages depend on; a store built otherwise is rebuilt."""
        return {
            "embedder": self.embedder.name,
            "dimension": self.embedder.dimension,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap": self.settings.chunk_overlap,
        }

    def open(self, rebuild: bool = False) -> None:
        """Open the store; seed a new one from `seed_dir`; re-index one built with other settings.

        Only a location where nothing was ever stored is seeded: an index without a readable
        pointer opens its newest intact version, and a missing database is reported.
        """
        from qa.store import open_store
        from qa.store.base import IndexMismatchError

        if rebuild:
            self.rebuild()
            return
        with self._write_lock:
            try:
                store = open_store(self.settings, self.build_info())
                docs = self._seed_documents() if store.is_new else []
            except IndexMismatchError as err:
                log.warning("%s: re-indexing its %d documents", err, len(err.documents))
                store, docs = open_store(self.settings, self.build_info(), fresh=True), err.documents
            self.seeded = IndexReport()  # what opening indexed: `qa index` counts it as added
            if docs:
                with store.lock():
                    self._index_into(store, docs, self.seeded)
            log.info("documents: %d; search: %s", len(store.documents), store.mode)
            self._store = store

    def rebuild(self) -> Any:
        """Re-embed the newest readable documents into a fresh store (after a settings change, or
        when the store is damaged). Returns the `qa.store.base.Salvage`: what was recovered,
        from where, and what could not be."""
        from qa.store import open_store, salvage_store

        salvage = salvage_store(self.settings)
        if not salvage.documents and not salvage.problems:
            salvage.documents = self._seed_documents()
            salvage.origin = f"the seed documents in {self.settings.seed_dir}"
        with self._write_lock:
            if self._store is not None:
                self._store.close()
            store = open_store(self.settings, self.build_info(), fresh=True)
            with store.lock():
                self._index_into(store, salvage.documents, IndexReport())
                store.save()
            self._store = store
        return salvage

    def _seed_documents(self) -> list[Document]:
        seeds = Path(self.settings.seed_dir)
        if not seeds.is_dir():
            return []
        from qa.ingest import load_paths

        docs, problems = load_paths([seeds], self.settings.max_upload_mb * 1024 * 1024)
        for p in problems:
            log.warning("%s", p)
        return docs

    def _latest_store(self) -> Any:
        """The store, reloaded first if another process saved a newer version of it."""
        store = self.store
        if store.is_stale():
            from qa.store import open_store

            store = open_store(self.settings, self.build_info())
            self._store = store
        return store

    @contextlib.contextmanager
    def updating(self) -> Iterator[Any]:
        """A copy of the latest store to change; questions go on using the current one, and
        switch to the copy when the block ends without an error. Other writers, in this process
        or another one sharing the store, wait until then."""
        self.store  # noqa: B018 - opens it before the locks are held
        with self._write_lock, self.store.lock():
            store = self._latest_store().copy()
            yield store
            self._store = store

    def documents(self) -> list[Document]:
        """The indexed documents, as saved by any process sharing the index."""
        from qa.store.base import IndexMismatchError

        try:
            store = self._latest_store()
        except IndexMismatchError:  # re-indexed with other settings elsewhere: keep this version
            store = self.store
        return list(store.documents.values())

    def add_paths(self, paths: Sequence[str | Path], progress: Progress | None = None) -> IndexReport:
        """Index files and folders (.txt, .md, .html, .pdf). Refused files are reported, not raised."""
        from qa.ingest import load_paths

        docs, problems = load_paths(paths, self.settings.max_upload_mb * 1024 * 1024, progress)
        report = self.add_documents(docs, progress)
        report.problems[:0] = problems
        return report

    def add_documents(self, docs: Sequence[Document], progress: Progress | None = None) -> IndexReport:
        """Index documents; the same content twice is indexed once."""
        report = IndexReport()
        with self.updating() as store:
            self._index_into(store, docs, report, progress)
        return report

    def remove(self, names_or_ids: Sequence[str]) -> list[str]:
        """Remove documents by id or source name; returns the sources removed."""
        wanted = set(names_or_ids)
        with self.updating() as store:
            gone = [d for d in store.documents.values() if d.id in wanted or d.source in wanted]
            if gone:
                store.delete([d.id for d in gone])
                store.save()
        return [d.source for d in gone]

    def _index_into(self, store: Any, docs: Sequence[Document], report: IndexReport, progress: Progress | None = None) -> None:
        """Chunk, embed and add the new ones of `docs` to `store`, and save it.

        A document whose file name is already indexed with other content replaces that older
        version. Documents go in batches of about `WRITE_PASSAGES` passages, so memory stays
        bounded by the batch (and the largest single document), not by the whole set.
        """
        new: dict[str, Document] = {}
        for d in docs:
            if d.id in store.documents or d.id in new:
                report.unchanged.append(d.source)
            else:
                new.pop(next((k for k, v in new.items() if v.source == d.source), ""), None)
                new[d.id] = d
        if not new:
            return
        total, done = sum(len(d.text) for d in new.values()), 0
        batch: list[tuple[Document, list[Any]]] = []
        count = self._token_counter(list(new.values()), total)
        for d in new.values():
            batch.append((d, self._chunk(d, count)))
            done += len(d.text)
            if sum(len(c) for _, c in batch) >= WRITE_PASSAGES:
                self._write_batch(store, batch, report, progress, done / total)
                batch = []
        self._write_batch(store, batch, report, progress, 1.0)
        if progress:
            progress("saving the index", 1.0)
        store.save()

    def _token_counter(self, docs: list[Document], chars: int) -> Any:
        """The embedder's word-piece counter; for up to PREFETCH_CHARS of text, with every
        sentence counted up front in one call (one call per document was a third of indexing
        many small files), beyond that per document, so memory stays bounded."""
        from qa.chunk import prefetched_counter

        return prefetched_counter(self.embedder.token_offsets, docs) if chars <= PREFETCH_CHARS else self.embedder.token_offsets

    def _chunk(self, doc: Document, count: Any) -> list[Any]:
        from qa.chunk import chunk_document

        s = self.settings
        return chunk_document(doc, count, s.chunk_tokens, s.chunk_overlap)

    def _write_batch(self, store: Any, batch: list[tuple[Document, list[Any]]], report: IndexReport, progress: Progress | None, frac: float) -> None:
        if not batch:
            return
        docs = [d for d, _ in batch]
        chunks = [c for _, cs in batch for c in cs]
        older = [o for o in store.documents.values() if any(o.source == d.source and o.id != d.id for d in docs)]
        vectors = self._embed_with_progress([c.text for c in chunks], progress)
        store.delete([o.id for o in older])
        store.upsert(docs, chunks, vectors)
        updated = {o.source for o in older}
        report.updated.extend(d.source for d in docs if d.source in updated)
        report.added.extend(d.source for d in docs if d.source not in updated)
        report.passages += len(chunks)

    def _embed_with_progress(self, texts: list[str], progress: Progress | None) -> Any:
        import numpy as np

        # Longest first over all passages, not within each call: calls of like lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        # About eight progress steps per write, so the bar moves on a short document too, in
        # calls of 16 to 128 passages (larger calls embed faster per passage).
        batch = max(16, min(128, len(texts) // 8))
        parts = []
        for lo in range(0, len(texts), batch):
            parts.append(self.embedder.embed([texts[i] for i in order[lo : lo + batch]]))
            if progress:
                done = min(lo + batch, len(texts))
                progress(f"embedding passages {done}/{len(texts)}", done / len(texts))
        if not parts:
            return self.embedder.embed([])
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors

    # --- questions ------------------------------------------------------------

    @property
    def calibration(self) -> Any:
        if self._calibration is None:
            from qa.calibration import Calibration

            self.reader.warm_up()
            self._calibration = Calibration.load(self.reader.model_path / "calibration.json")
        return self._calibration

    def warm_up(self) -> None:
        """Load every model now rather than on the first question."""
        self.store  # noqa: B018 - opens the index
        self.embedder.embed(["warm up"])
        self.reader.warm_up()
        self.calibration  # noqa: B018
        self.conversation  # noqa: B018

    @property
    def conversation(self) -> Any:
        if self._conversation is None:
            from qa.conversation import Conversation

            self._conversation = Conversation()
        return self._conversation

    def ask(self, question: str, history: History = ()) -> Answer:
        """Answer a question from the documents.

        Args:
            question: The question.
            history: Earlier turns as (question, answer) pairs, oldest first; used to understand
                follow-ups such as "What did he say then?".

        Returns:
            The answer. Its `kind` says what it is: "answer"; "abstain" when the documents don't
            say; "small_talk" or "problem" (empty question, greeting, help), with the reply in
            `message`.
        """
        from qa.conversation import check_question, clean_question

        question = clean_question(question) if isinstance(question, str) else ""
        problem = check_question(question, self.settings.max_question_chars)
        if problem:
            return Answer(text="", score=0.0, abstained=True, question=question, message=problem, kind="problem")
        store = self._latest_store()
        reply = self.conversation.reply_to_non_question(question, store.documents.values())
        if reply is not None:
            return Answer(text="", score=0.0, abstained=True, question=question, message=reply, kind="small_talk")
        understood = self.conversation.rewrite(self.speller(store).correct(question), history)
        unclear = self.conversation.needs_context(understood)
        if unclear:  # a bare "When?" with no earlier question to ask it of
            return Answer(text="", score=0.0, abstained=True, question=understood, message=unclear, kind="problem")
        exclude = given_answers(history) if _ELSE.search(understood) else []
        return self.answer(understood, store, exclude)

    def speller(self, store: Any) -> Any:
        """The typo corrector over `store`'s words, built once per version of the index."""
        cached = self._speller
        if cached is None or cached[0] is not store:
            from qa.spelling import Speller

            cached = self._speller = (store, Speller(d.text for d in store.documents.values()))
        return cached[1]

    def candidates(self, question: str, store: Any = None) -> Any:
        """Retrieve, read and merge, for a self-contained question; nothing is decided yet.

        The evaluation (`qa eval --mode e2e`) measures exactly this step.

        Args:
            question: The question.
            store: The store to search (default: the current one).

        Returns:
            A `qa.answer.Reading`: the passages read and the candidates, best first.
        """
        from qa.answer import Reading, merge_candidates
        from qa.retrieve import Retriever

        s = self.settings
        retriever = Retriever(store or self.store, self.embedder, s.candidates, s.rrf_k)
        hits = retriever.retrieve(question, s.top_k)
        spans = self.reader.read(question, [h.chunk.text for h in hits]) if hits else []
        return Reading(question, tuple(hits), tuple(merge_candidates(hits, spans, self.calibration)))

    def decide(self, reading: Any, exclude: Sequence[tuple[str, int, int]] = ()) -> Answer:
        """The answer from a `Reading`: the best candidate with close alternatives, or an abstention.

        Args:
            reading: What `candidates` found.
            exclude: (document id, start, end) of answers not to give again.
        """
        from qa.answer import decide_answer

        s = self.settings
        cut = self.calibration.threshold if s.threshold is None else s.threshold
        return decide_answer(reading, cut, s.alternatives_within, s.max_alternatives, exclude)

    def answer(self, question: str, store: Any = None, exclude: Sequence[tuple[str, int, int]] = ()) -> Answer:
        """Candidates, then decide, for a self-contained question (what `ask` does after
        understanding the question).

        Args:
            question: The question.
            store: The store to search (default: the current one).
            exclude: (document id, start, end) of answers not to give again.
        """
        from qa.answer import place_in_documents

        store = store or self.store
        return place_in_documents(self.decide(self.candidates(question, store), exclude), store.documents)


_ELSE = re.compile(r"\b(else|other|another|besides)\b", re.IGNORECASE)


def given_answers(history: History) -> list[tuple[str, int, int]]:
    """Where the answers of the last turn came from, so that "What else ...?" skips them."""
    if not history or not isinstance(history[-1][1], Answer):
        return []
    last = history[-1][1]
    return [(a.doc_id, a.start, a.end) for a in (last, *last.alternatives) if a.text]
