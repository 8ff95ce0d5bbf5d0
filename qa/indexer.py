"""The indexer: the only writer of a passage store.

Everything that changes what is indexed goes through `Indexer`: seeding a new index, `qa index`
(plain or with Ray), uploads on the page, `--remove`, `--rebuild`, and the end-to-end evaluation.
One path decides what is new (content ids), replaces an older version of a file by its new
content (same file name, other text), chunks, embeds, writes in bounded batches, saves and
reports. Ray only produces documents already chunked and embedded (`Prepared`), which are
written here like any others, so the two paths cannot drift apart.

Questions read from `Indexer.latest()`; a change is made on a copy (`updating`) and questions
switch to it when it is saved.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from qa.types import Chunk, Document

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.embed import EmbeddingModel
    from qa.store.base import PassageStore, Salvage

log = logging.getLogger("qa")

PREFETCH_CHARS = 2_000_000  # text whose sentences are counted in one call when indexing
WRITE_PASSAGES = 2048  # passages embedded and written to the store at a time
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


@dataclass
class Prepared:
    """A document read, chunked and embedded elsewhere (a Ray worker), ready to be written."""

    document: Document
    chunks: list[Chunk]
    vectors: Any  # float32 array, one row per chunk


class Indexer:
    """Opens, seeds, changes and rebuilds the passage store that `settings` names.

    Args:
        settings: All settings (the store, the chunk sizes, the seed folder, the upload limit).
        embedder: Turns passages into vectors (and counts their word pieces for chunking).
    """

    def __init__(self, settings: Settings, embedder: EmbeddingModel) -> None:
        self.settings = settings
        self.embedder = embedder
        self._store: PassageStore | None = None
        self._write_lock = threading.Lock()
        self.seeded = IndexReport()  # what opening the index indexed (the seeds of a new index)

    def build_info(self) -> dict[str, Any]:
        """What the stored vectors and passages depend on; a store built otherwise is rebuilt."""
        return {
            "embedder": self.embedder.name,
            "dimension": self.embedder.dimension,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap": self.settings.chunk_overlap,
        }

    # --- opening ------------------------------------------------------------------

    @property
    def store(self) -> PassageStore:
        """The store questions read from (opened on first use)."""
        if self._store is None:
            self.open()
        assert self._store is not None
        return self._store

    def open(self, seed: bool = True) -> None:
        """Open the store; seed a new one from `seed_dir`; re-index one built with other settings.

        Only a location where nothing was ever stored is seeded, and only when `seed` (an index
        created to hold documents the user names starts with those alone): the seed article is
        a demo, and once removed it stays removed.
        """
        from qa.store import open_store
        from qa.store.base import IndexMismatchError

        with self._write_lock:
            try:
                store = open_store(self.settings, self.build_info())
                docs = self.seed_documents() if store.is_new and seed else []
            except IndexMismatchError as err:
                log.warning("%s: re-indexing its %d documents", err, len(err.documents))
                store, docs = open_store(self.settings, self.build_info(), fresh=True), err.documents
            self.seeded = IndexReport()  # what opening indexed: `qa index` counts it as added
            if docs:
                with store.lock():
                    self.write(store, docs, self.seeded)
            log.info("documents: %d; search: %s", len(store.documents), store.mode)
            self._store = store

    def rebuild(self) -> Salvage:
        """Re-embed the newest readable documents into a fresh store (after a settings change, or
        when the store is damaged). Returns what was recovered, from where, and what could not be."""
        from qa.store import open_store, salvage_store

        salvage = salvage_store(self.settings)
        if not salvage.documents and not salvage.problems:
            salvage.documents = self.seed_documents()
            salvage.origin = f"the seed documents in {self.settings.seed_dir}"
        with self._write_lock:
            if self._store is not None:
                self._store.close()
            store = open_store(self.settings, self.build_info(), fresh=True)
            with store.lock():
                self.write(store, salvage.documents, IndexReport())
                store.save()
            self._store = store
        return salvage

    def seed_documents(self) -> list[Document]:
        """The documents of the seed folder (indexed when a new index is created)."""
        seeds = Path(self.settings.seed_dir)
        if not seeds.is_dir():
            return []
        from qa.ingest import load_paths

        docs, problems = load_paths([seeds], self.settings.max_upload_mb * 1024 * 1024)
        for p in problems:
            log.warning("%s", p)
        return docs

    def latest(self) -> PassageStore:
        """The store, reopened first if another process saved a newer version of it."""
        store = self._store = self.store.refresh()
        return store

    def documents(self) -> list[Document]:
        """The indexed documents, as saved by any process sharing the index."""
        from qa.store.base import IndexMismatchError

        try:
            store = self.latest()
        except IndexMismatchError:  # re-indexed with other settings elsewhere: keep this version
            store = self.store
        return list(store.documents.values())

    # --- changing -----------------------------------------------------------------

    @contextlib.contextmanager
    def updating(self) -> Iterator[PassageStore]:
        """A copy of the latest store to change; questions go on using the current one, and
        switch to the copy when the block ends without an error. Other writers, in this process
        or another one sharing the store, wait until then."""
        self.store  # noqa: B018 - opens it before the locks are held
        with self._write_lock, self.store.lock():
            store = self.latest().copy()
            yield store
            self._store = store

    def add_paths(self, paths: Sequence[str | Path], progress: Progress | None = None) -> IndexReport:
        """Index files and folders. Refused files are reported, not raised."""
        from qa.ingest import load_paths

        docs, problems = load_paths(paths, self.settings.max_upload_mb * 1024 * 1024, progress)
        report = self.add_documents(docs, progress)
        report.problems[:0] = problems
        return report

    def add_documents(self, docs: Sequence[Document], progress: Progress | None = None) -> IndexReport:
        """Index documents; the same content twice is indexed once."""
        report = IndexReport()
        with self.updating() as store:
            self.write(store, docs, report, progress)
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

    # --- the write path -----------------------------------------------------------

    def write(self, store: PassageStore, docs: Sequence[Document], report: IndexReport, progress: Progress | None = None) -> None:
        """Chunk, embed and add the new ones of `docs` to `store`, and save it.

        A document whose file name is already indexed with other content replaces that older
        version. Documents go in batches of about `WRITE_PASSAGES` passages, so memory stays
        bounded by the batch (and the largest single document), not by the whole set.
        """
        new = self._new_documents(store, docs, report)
        if not new:
            return
        total, done = sum(len(d.text) for d in new), 0
        batch: list[tuple[Document, list[Chunk]]] = []
        count = self._token_counter(new, total)
        for d in new:
            batch.append((d, self._chunk(d, count)))
            done += len(d.text)
            if sum(len(c) for _, c in batch) >= WRITE_PASSAGES:
                self._embed_and_write(store, batch, report, progress)
                batch = []
        self._embed_and_write(store, batch, report, progress)
        if progress:
            progress("saving the index", 1.0)
        store.save()

    def write_prepared(self, store: PassageStore, items: Iterable[Prepared], report: IndexReport,
                       write_passages: int = WRITE_PASSAGES, save_every: int = 20_000) -> None:
        """Write documents chunked and embedded elsewhere, by the same rules as `write`:
        known content is skipped, a file's older version is replaced. Saves every
        `save_every` passages (what was saved survives a crash) and at the end."""
        pending: list[Prepared] = []
        unsaved = 0
        for item in items:
            if item.document.id in store.documents:
                report.unchanged.append(item.document.source)
                continue
            pending = [p for p in pending if p.document.source != item.document.source]  # the later version wins
            pending.append(item)
            if sum(len(p.chunks) for p in pending) >= write_passages:
                unsaved += self._write_batch(store, pending, report)
                pending = []
            if unsaved >= save_every:
                store.save()
                unsaved = 0
        unsaved += self._write_batch(store, pending, report)
        if unsaved or report.added or report.updated:
            store.save()

    def _new_documents(self, store: PassageStore, docs: Sequence[Document], report: IndexReport) -> list[Document]:
        """`docs` less those already indexed; of two with one file name, the later one."""
        new: dict[str, Document] = {}
        for d in docs:
            if d.id in store.documents or d.id in new:
                report.unchanged.append(d.source)
            else:
                new.pop(next((k for k, v in new.items() if v.source == d.source), ""), None)
                new[d.id] = d
        return list(new.values())

    def _token_counter(self, docs: list[Document], chars: int) -> Any:
        """The embedder's word-piece counter; for up to PREFETCH_CHARS of text, with every
        sentence counted up front in one call (one call per document was a third of indexing
        many small files), beyond that per document, so memory stays bounded."""
        from qa.chunk import prefetched_counter

        return prefetched_counter(self.embedder.token_offsets, docs) if chars <= PREFETCH_CHARS else self.embedder.token_offsets

    def _chunk(self, doc: Document, count: Any) -> list[Chunk]:
        from qa.chunk import chunk_document

        s = self.settings
        return chunk_document(doc, count, s.chunk_tokens, s.chunk_overlap)

    def _embed_and_write(self, store: PassageStore, batch: list[tuple[Document, list[Chunk]]], report: IndexReport,
                         progress: Progress | None) -> None:
        if not batch:
            return
        chunks = [c for _, cs in batch for c in cs]
        vectors = self._embed_with_progress([c.text for c in chunks], progress)
        items, at = [], 0
        for doc, cs in batch:
            items.append(Prepared(doc, cs, vectors[at : at + len(cs)]))
            at += len(cs)
        self._write_batch(store, items, report)

    def _write_batch(self, store: PassageStore, items: list[Prepared], report: IndexReport) -> int:
        """Replace older versions of the same files, add the documents, report; returns the
        number of passages written."""
        import numpy as np

        if not items:
            return 0
        docs = [p.document for p in items]
        older = [o for o in store.documents.values() if any(o.source == d.source and o.id != d.id for d in docs)]
        chunks = [c for p in items for c in p.chunks]
        dim = int(store.build_info["dimension"])
        vectors = np.concatenate([np.asarray(p.vectors, dtype=np.float32).reshape(-1, dim) for p in items])
        store.delete([o.id for o in older])
        store.upsert(docs, chunks, vectors)
        updated = {o.source for o in older}
        report.updated.extend(d.source for d in docs if d.source in updated)
        report.added.extend(d.source for d in docs if d.source not in updated)
        report.passages += len(chunks)
        return len(chunks)

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
