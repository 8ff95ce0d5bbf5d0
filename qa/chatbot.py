"""The chatbot: the only place that wires ingest, chunking, embedding, the store, retrieval,
the reader and answer assembly together."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from qa.config import Settings, load_settings
from qa.types import Answer, Document

log = logging.getLogger("qa")

History = Sequence[tuple[str, str | Answer]]
Progress = Callable[[str, float], None]


@dataclass
class IndexReport:
    """What an indexing call did."""

    added: list[str] = field(default_factory=list)  # sources of new documents
    unchanged: list[str] = field(default_factory=list)  # already indexed (same content)
    problems: list[str] = field(default_factory=list)  # one message per refused file
    passages: int = 0  # passages added

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"indexed {len(self.added)} document(s) ({self.passages} passages): {', '.join(self.added)}")
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
        reader: The reader (default: the shipped one, or `settings.reader_path`).
    """

    def __init__(self, settings: Settings | None = None, embedder: Any = None, reader: Any = None) -> None:
        from qa.embed import Embedder
        from qa.read import Reader, ReaderSettings

        self.settings = s = settings or Settings()
        self.embedder = embedder or Embedder(s.embedder_path or None)
        self.reader = reader or Reader(
            s.reader_path or None, ReaderSettings(precision=s.reader_precision), threads=s.threads or None
        )
        self._store: Any = None
        self._calibration: Any = None
        self._write_lock = threading.Lock()
        self._conversation: Any = None

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
        """Open the store; build it from `seed_dir` if it is empty, re-index if it was built otherwise."""
        from qa.store.base import IndexMismatchError
        from qa.store import open_store

        with self._write_lock, self._file_lock():
            docs: list[Document] = []
            try:
                store = open_store(self.settings, self.build_info())
                if rebuild:
                    docs = list(store.documents.values())
                    store = open_store(self.settings, self.build_info(), fresh=True)
            except IndexMismatchError as err:
                log.warning("%s: re-indexing its %d documents", err, len(err.documents))
                docs = err.documents
                store = open_store(self.settings, self.build_info(), fresh=True)
            seeds = Path(self.settings.seed_dir)
            if not docs and not store.documents and seeds.is_dir():
                from qa.ingest import load_paths

                docs, problems = load_paths([seeds], self.settings.max_upload_mb * 1024 * 1024)
                for p in problems:
                    log.warning("%s", p)
            self._index_into(store, docs, IndexReport())
            self._store = store

    def _latest_store(self) -> Any:
        """The store, reloaded first if another process saved a newer version of it."""
        store = self.store
        stale = getattr(store, "is_stale", None)
        if stale is not None and stale():
            from qa.store import open_store

            store = open_store(self.settings, self.build_info())
            self._store = store
        return store

    @contextlib.contextmanager
    def updating(self) -> Iterator[Any]:
        """A copy of the latest store to change; questions go on using the current one, and
        switch to the copy when the block ends without an error. Other writers, in this process
        or another one sharing the index folder, wait until then."""
        self.store  # noqa: B018 - opens it before the locks are held
        with self._write_lock, self._file_lock():
            store = self._latest_store().copy()
            yield store
            self._store = store

    def documents(self) -> list[Document]:
        """The indexed documents."""
        return list(self.store.documents.values())

    def add_paths(self, paths: Sequence[str | Path], progress: Progress | None = None) -> IndexReport:
        """Index files and folders (.txt, .md, .html, .pdf). Refused files are reported, not raised."""
        from qa.ingest import load_paths

        docs, problems = load_paths(paths, self.settings.max_upload_mb * 1024 * 1024)
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
        """Chunk, embed and add the new ones of `docs` to `store`, and save it."""
        from qa.chunk import chunk_document, prefetched_counter

        new: dict[str, Document] = {}
        for d in docs:
            if d.id in store.documents or d.id in new:
                report.unchanged.append(d.source)
            else:
                new[d.id] = d
        if not new:
            return
        size = self.settings.chunk_tokens, self.settings.chunk_overlap
        count = prefetched_counter(self.embedder.token_offsets, list(new.values()))
        chunks = [c for d in new.values() for c in chunk_document(d, count, *size)]
        vectors = self._embed_with_progress([c.text for c in chunks], progress)
        if progress:
            progress("saving the index", 1.0)
        store.upsert(list(new.values()), chunks, vectors)
        store.save()
        report.added.extend(d.source for d in new.values())
        report.passages += len(chunks)

    def _embed_with_progress(self, texts: list[str], progress: Progress | None) -> Any:
        import numpy as np

        # Longest first over all passages, not within each part: parts of like lengths pad
        # little (the embedder only sorts within one call).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batch = 256
        parts = []
        for lo in range(0, len(texts), batch):
            if progress:
                progress(f"embedding passages {lo}/{len(texts)}", lo / max(1, len(texts)))
            parts.append(self.embedder.embed([texts[i] for i in order[lo : lo + batch]]))
        if not parts:
            return self.embedder.embed([])
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialise index writes between processes sharing the folder."""
        folder = Path(self.settings.index_dir)
        if "://" in self.settings.store_uri and not self.settings.store_uri.startswith("faiss://"):
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
            The answer; `abstained` is set when the documents don't say, and `message` holds a
            reply that is not an answer (empty question, greeting, help).
        """
        from qa.conversation import check_question, clean_question

        question = clean_question(question) if isinstance(question, str) else ""
        problem = check_question(question, self.settings.max_question_chars)
        if problem:
            return Answer(text="", score=0.0, abstained=True, question=question, message=problem)
        store = self._latest_store()
        reply = self.conversation.reply_to_non_question(question, store.documents.values())
        if reply is not None:
            return Answer(text="", score=0.0, abstained=True, question=question, message=reply)
        understood = self.conversation.rewrite(question, history)
        exclude = given_answers(history) if _ELSE.search(understood) else []
        return self.answer(understood, store, exclude)

    def answer(self, question: str, store: Any = None, exclude: Sequence[tuple[str, int, int]] = ()) -> Answer:
        """Retrieve, read and assemble, for a self-contained question.

        Args:
            question: The question.
            store: The store to search (default: the current one).
            exclude: (document id, start, end) of answers not to give again.
        """
        from qa.answer import assemble_answer
        from qa.retrieve import Retriever

        s = self.settings
        retriever = Retriever(store or self.store, self.embedder, s.candidates, s.rrf_k)
        hits = retriever.retrieve(question, s.top_k)
        spans = self.reader.read(question, [h.chunk.text for h in hits]) if hits else []
        return assemble_answer(
            question, hits, spans, self.calibration, s.threshold, s.alternatives_within, s.max_alternatives, exclude
        )


_ELSE = re.compile(r"\b(else|other|another|besides)\b", re.IGNORECASE)


def given_answers(history: History) -> list[tuple[str, int, int]]:
    """Where the answers of the last turn came from, so that "What else ...?" skips them."""
    if not history or not isinstance(history[-1][1], Answer):
        return []
    last = history[-1][1]
    return [(a.doc_id, a.start, a.end) for a in (last, *last.alternatives) if a.text]
