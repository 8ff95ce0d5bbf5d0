"""The default store: FAISS vectors + BM25 + passages + documents, persisted under `index/`.

Layout of the folder::

    index/CURRENT               {"generation": "gen-000004"}: the complete generation in use
    index/gen-000004/manifest.json   what built it (embedder, dimension, chunking, documents)
    index/gen-000004/vectors.faiss   FAISS inner-product index of unit vectors
    index/gen-000004/chunks.jsonl    the passages, with offsets into their documents
    index/gen-000004/documents.jsonl the documents' text (so the index can be rebuilt alone)
    index/gen-000004/bm25/           the BM25 index (bm25s, numpy + JSON)

A save writes a new generation folder and only then points CURRENT at it (an atomic
rename), so a crash mid-write leaves the previous index in use. JSON and numpy only: no
pickle is ever loaded. FAISS is exact (flat inner product) up to `approximate_above`
passages, IVF above it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, ContextManager, Iterable, Sequence

from qa.store.base import (
    APPROXIMATE_ABOVE, IVF_NPROBE, DocumentArchive, bm25_index, bm25_search, IndexCorruptError, IndexMismatchError, Salvage, StoreError, file_lock, io_problem, keyword_tokens,
)
from qa.store.faiss_files import (
    _acknowledged, _current, _damaged_files, _from_older, _fsync, _generations, _manifest_documents, _read_jsonl, _readable_rows, _sha256, _write_acknowledged, _write_jsonl,
)
from qa.types import Chunk, Document

FORMAT = 1
log = logging.getLogger("qa")
__all__ = ["FaissStore", "IndexCorruptError", "IndexMismatchError", "StoreError", "build_faiss"]

class FaissStore:
    """Passages with their vectors, searchable by vector (FAISS) and by keyword (BM25).

    Args:
        path: The index folder.
        build_info: What builds the vectors and passages (embedder, dimension, chunking); a
            saved index with other values is refused with `IndexMismatchError`.
        approximate_above: Passage count above which IVF replaces exact search.
    """

    def __init__(self, path: str | Path, build_info: dict[str, Any], approximate_above: int = APPROXIMATE_ABOVE) -> None:
        import numpy as np

        self.path = Path(path)
        self.build_info = dict(build_info)
        self.approximate_above = approximate_above
        self.documents: dict[str, Document] = {}
        self.chunks: list[Chunk] = []
        self._vectors = np.zeros((0, int(build_info["dimension"])), dtype=np.float32)
        self._faiss: Any = None
        self._bm25: Any = None
        self._bm25_folder: Path | None = None  # saved keyword index, loaded on the first keyword search
        self.generation = ""  # the saved generation this store holds ("" = not saved)
        self._removed: set[str] = set()  # documents deleted since loading: their kept copies go at the next save
        self.is_new = not FaissStore.exists(self.path)  # nothing saved here yet: may be seeded

    # --- persistence -------------------------------------------------------

    @classmethod
    def exists(cls, path: str | Path) -> bool:
        """True when the folder holds an index (a pointer, a generation, or kept documents)."""
        path = Path(path)
        return (path / "CURRENT").exists() or bool(_generations(path)) or bool(DocumentArchive(path / "documents").ids())

    @classmethod
    def load(cls, path: str | Path, build_info: dict[str, Any], approximate_above: int = APPROXIMATE_ABOVE) -> "FaissStore":
        """Open a saved index: the generation CURRENT names, or without a readable CURRENT the
        newest intact one.

        Raises:
            FileNotFoundError: No index in that folder.
            IndexCorruptError: Damaged or incomplete files; the message says how to rebuild.
            IndexMismatchError: Built with other settings; the message names them.
        """
        path = Path(path)
        if not cls.exists(path):
            raise FileNotFoundError(f"no index in {path}")
        named = _current(path)
        if named is not None:
            return cls._acknowledged_or_refused(cls._load_generation(path / named, build_info, approximate_above))
        for gen in _generations(path):
            try:
                store = cls._load_generation(gen, build_info, approximate_above)
            except IndexMismatchError:
                raise
            except IndexCorruptError as err:
                log.warning("%s", err)
                continue
            return cls._acknowledged_or_refused(store)  # an older version than acknowledged is refused
        raise IndexCorruptError(f"no intact version of the index in {path}; {_rebuild_hint(path)}")

    @classmethod
    def _acknowledged_or_refused(cls, store: "FaissStore") -> "FaissStore":
        """`store` when it is the last acknowledged save or newer; an older version is refused
        (it would answer without documents that were acknowledged, or with removed ones)."""
        ack = _acknowledged(store.path)
        if ack is None or store.generation >= ack[0]:
            return store
        missing = [source for doc_id, source in ack[1].items() if doc_id not in store.documents]
        lacking = f": {len(missing)} acknowledged document(s) are not in the version left ({', '.join(sorted(missing)[:5])})" if missing else ""
        raise IndexCorruptError(
            f"the newest version of the index in {store.path} ({ack[0]}) is damaged or missing{lacking}; "
            f"{_rebuild_hint(store.path)}"
        )

    @classmethod
    def open_consistent(cls, path: str | Path, build_info: dict[str, Any], approximate_above: int = APPROXIMATE_ABOVE) -> "FaissStore":
        """`load`, looked at again under the writers' lock when it fails: another process may be
        between the steps of a save (its documents, its generation, its pointer, its journal)."""
        try:
            return cls.load(path, build_info, approximate_above)
        except IndexCorruptError:
            with FaissStore(path, build_info, approximate_above).lock():
                return cls.load(path, build_info, approximate_above)

    @classmethod
    def _load_generation(cls, gen: Path, build_info: dict[str, Any], approximate_above: int) -> "FaissStore":
        import faiss

        path = gen.parent
        try:
            manifest = json.loads((gen / "manifest.json").read_text())
            damaged = _damaged_files(gen, manifest.get("files"))
            if damaged - {"bm25"}:
                raise ValueError(f"{', '.join(sorted(damaged))} changed since it was written")
            documents = [Document(**d) for d in _read_jsonl(gen / "documents.jsonl")]
            chunks = [Chunk(**c) for c in _read_jsonl(gen / "chunks.jsonl")]
            index = faiss.read_index(str(gen / "vectors.faiss"))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError) as err:
            raise IndexCorruptError(f"the index in {path} ({gen.name}) is damaged ({type(err).__name__}: {err}); {_rebuild_hint(path)}") from None
        if manifest.get("format") != FORMAT or index.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
            raise IndexCorruptError(f"the index in {path} ({gen.name}) is incomplete or from another version; {_rebuild_hint(path)}")
        store = cls(path, build_info, approximate_above)
        built = {k: manifest.get(k) for k in build_info}
        if built != store.build_info:
            diff = ", ".join(f"{k}: index has {built[k]!r}, settings say {build_info[k]!r}" for k in build_info if built[k] != build_info[k])
            raise IndexMismatchError(f"the index in {path} was built with other settings ({diff})", documents)
        store.generation, store.is_new = gen.name, False
        store.documents = {d.id: d for d in documents}
        store.chunks = chunks
        store._vectors = _all_vectors(index)
        store._faiss = index
        if "bm25" in damaged:  # derived from the passages: rebuilt in memory, rewritten on the next save
            log.warning("the keyword index of %s is damaged; rebuilding it from the passages", gen)
        elif chunks:
            # Its checksums were verified above; reading it (and importing bm25s/scipy) waits for the
            # first keyword search, so commands that only list documents stay quick.
            store._bm25_folder = gen / "bm25"
        return store

    @classmethod
    def salvage(cls, path: str | Path) -> Salvage:
        """The newest documents that can still be read from the folder, for a rebuild.

        Which documents the newest generation holds comes from its manifest, passages and
        documents.jsonl, whichever are readable; their text from documents.jsonl, the document
        archive, or an older generation.
        """
        path = Path(path)
        gens = _generations(path)
        archive = DocumentArchive(path / "documents")
        if not gens:  # every version gone: the kept documents are all there is
            kept = [archive.get(i) for i in sorted(archive.ids())]
            lost = [f"could not recover document {i}: its kept copy is damaged" for i, d in zip(sorted(archive.ids()), kept) if d is None]
            return Salvage([d for d in kept if d is not None], f"the documents kept in {archive.folder}", lost)
        wanted: dict[str, str] = {}  # id -> source, for the messages
        found: dict[str, Document] = {}
        problems: list[str] = []
        newest = gens[0]
        for name, rows in (("manifest.json", _manifest_documents), ("documents.jsonl", _readable_rows), ("chunks.jsonl", _readable_rows)):
            got, ok = rows(newest / name)
            if not ok:
                problems.append(f"{newest.name}/{name} is damaged or missing")
            for row in got:
                doc_id = row.get("doc_id") if name == "chunks.jsonl" else row.get("id")
                if isinstance(doc_id, str):
                    wanted.setdefault(doc_id, str(row.get("source", doc_id)))
                if name == "documents.jsonl":
                    with contextlib.suppress(TypeError):
                        found.setdefault(row["id"], Document(**row))
        ack = _acknowledged(path)
        if ack is not None and ack[0] > newest.name:  # the acknowledged newest version is gone
            problems.append(f"{ack[0]} (the newest version) is missing; its documents come from the kept copies")
        for doc_id, source in [*(ack[1].items() if ack else []), *((i, i) for i in sorted(archive.ids()))]:
            wanted.setdefault(doc_id, source)  # every acknowledged and every kept document is rebuilt
        for doc_id in [d for d in wanted if d not in found]:
            doc = archive.get(doc_id) or _from_older(gens[1:], doc_id)
            if doc is not None:
                found[doc_id] = doc
            else:
                problems.append(f"could not recover {wanted[doc_id]}: its text is not readable anywhere; add the file again")
        return Salvage([found[d] for d in wanted if d in found], f"{newest.name} of {path}", problems)

    def save(self) -> None:
        """Write a new generation and switch CURRENT to it atomically.

        Raises:
            StoreError: The folder cannot be written (read-only, permissions, disk full).
        """
        try:
            self._save()
        except OSError as err:
            raise io_problem(err, f"save the index in {self.path}") from None

    def _save(self) -> Path:
        import faiss

        self.path.mkdir(parents=True, exist_ok=True)
        DocumentArchive(self.path / "documents").put(self.documents.values())
        gen_name = f"gen-{time.time_ns():020d}"
        tmp = self.path / f".{gen_name}.tmp"
        tmp.mkdir()
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in self.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in self.chunks))
        faiss.write_index(self._index(), str(tmp / "vectors.faiss"))
        if self.chunks:
            self._bm25_index().save(str(tmp / "bm25"))
        files = {str(f.relative_to(tmp)): _sha256(f) for f in sorted(tmp.rglob("*")) if f.is_file()}
        manifest = {
            "format": FORMAT, **self.build_info, "faiss": self.faiss_kind, "chunks": len(self.chunks),
            "documents": {d.id: {"source": d.source, "title": d.title} for d in self.documents.values()},
            "files": files, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        for f in tmp.rglob("*"):
            if f.is_file():
                _fsync(f)
        os.replace(tmp, self.path / gen_name)
        pointer = self.path / "CURRENT.tmp"
        pointer.write_text(json.dumps({"generation": gen_name}))
        _fsync(pointer)
        os.replace(pointer, self.path / "CURRENT")
        _write_acknowledged(self.path, gen_name, {d.id: d.source for d in self.documents.values()})
        self.generation, self.is_new = gen_name, False
        self._remove_old_generations(keep=gen_name)
        # A document's kept copy goes only when it was removed (`delete`), never by clean-up.
        DocumentArchive(self.path / "documents").remove(self._removed - set(self.documents))
        self._removed = set()
        return self.path / gen_name

    def is_stale(self) -> bool:
        """True when another process saved a newer generation than the one held here."""
        current = _current(self.path)
        return current is not None and current != self.generation

    def refresh(self) -> "FaissStore":
        """This store, or the newer generation another process saved since it was loaded."""
        return FaissStore.open_consistent(self.path, self.build_info, self.approximate_above) if self.is_stale() else self

    def lock(self) -> ContextManager[None]:
        """Serialise index writes between processes sharing the folder (an flock on index/.lock)."""
        return file_lock(self.path / ".lock", f"write to the index folder {self.path}")

    @property
    def mode(self) -> str:
        return f"FAISS files in {self.path}: {self.faiss_kind} vector search and BM25, fused with RRF"

    def _remove_old_generations(self, keep: str) -> None:
        # Keep the previous generation too: another process may still be reading it.
        gens = [p for p in _generations(self.path) if p.name != keep]
        for old in gens[1:]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in self.path.glob(".gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)

    # --- updates -------------------------------------------------------------

    def copy(self) -> "FaissStore":
        """A copy to change while this one keeps answering (arrays are replaced, never mutated)."""
        new = FaissStore(self.path, self.build_info, self.approximate_above)
        new.documents = dict(self.documents)
        new.chunks = list(self.chunks)
        new._vectors, new._faiss, new._bm25, new._bm25_folder = self._vectors, self._faiss, self._bm25, self._bm25_folder
        new.generation, new.is_new, new._removed = self.generation, self.is_new, set(self._removed)
        return new

    def upsert(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: Any) -> None:
        """Add documents with their passages and vectors; a document already here is replaced."""
        import numpy as np

        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} passages but {len(vectors)} vectors")
        self.delete([d.id for d in documents if d.id in self.documents])
        for d in documents:
            self.documents[d.id] = d
        self.chunks.extend(chunks)
        self._vectors = np.vstack([self._vectors, np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1)])
        self._faiss = self._bm25 = self._bm25_folder = None

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and their passages; returns how many documents were removed."""
        gone = {d for d in doc_ids if d in self.documents}
        if not gone:
            return 0
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in gone]
        self.chunks = [self.chunks[i] for i in keep]
        self._vectors = self._vectors[keep]
        for d in gone:
            del self.documents[d]
        self._removed |= gone
        self._faiss = self._bm25 = self._bm25_folder = None
        return len(gone)

    # --- search ---------------------------------------------------------------

    def vectors(self) -> Any:
        """A copy of the stored vectors: row i belongs to `chunks[i]`."""
        return self._vectors.copy()

    def count(self) -> int:
        return len(self.chunks)

    @property
    def faiss_kind(self) -> str:
        return "ivf" if len(self.chunks) > self.approximate_above else "flat"

    def dense_search(self, vector: Any, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest inner product with a unit query vector."""
        import numpy as np

        if not self.chunks or k <= 0:
            return []
        scores, ids = self._index().search(np.asarray(vector, dtype=np.float32).reshape(1, -1), min(k, len(self.chunks)))
        return [(self.chunks[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest BM25 score that share a word with the query."""
        if not self.chunks or not keyword_tokens(query) or k <= 0:
            return []
        return bm25_search(self._bm25_index(), self.chunks, query, k)

    def close(self) -> None:
        """Nothing to release: the files are only open while loading or saving."""

    def _index(self) -> Any:
        if self._faiss is None:
            self._faiss = build_faiss(self._vectors, self.approximate_above)
        return self._faiss

    def _bm25_index(self) -> Any:
        if self._bm25 is None and self._bm25_folder is not None:
            try:
                self._bm25 = _load_bm25(self._bm25_folder, len(self.chunks))
            except IndexCorruptError as err:  # e.g. its generation was removed by two later saves
                log.warning("%s; rebuilding the keyword index from the passages", err)
            self._bm25_folder = None
        if self._bm25 is None:
            self._bm25 = bm25_index([c.text for c in self.chunks])
        return self._bm25


def build_faiss(vectors: Any, approximate_above: int) -> Any:
    """Exact inner-product index, or IVF (inverted lists of flat vectors) above `approximate_above` rows.

    Why IVF and these numbers (docs/benchmarks.md, "A million passages"): on real sentence embeddings at
    1M passages IVF4096 with 16 lists probed gave recall@10 0.973 at 1.3 ms p50 on one core,
    where exact search takes about 120 ms; HNSW (M=32, efSearch=128) kept only 0.36 of the
    true top 10 on 100,000 random vectors and took minutes to build. About 4 * sqrt(n) lists,
    at least 39 training vectors per list (FAISS's own floor), at most 4096.
    """
    import faiss

    n, dim = vectors.shape
    if n <= approximate_above:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = max(1, min(4096, int(4 * n ** 0.5), n // 39))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 13  # the same lists for the same passages
    index.cp.niter, index.cp.max_points_per_centroid = 10, 64  # k-means on a sample: seconds, not minutes
    index.train(vectors)
    index.add(vectors)
    index.nprobe = min(nlist, IVF_NPROBE)
    index.make_direct_map()  # so the vectors can be read back when the index is loaded
    return index


def _all_vectors(index: Any) -> Any:
    """Every stored vector, in row order (the store keeps them to rebuild after changes)."""
    import faiss
    import numpy as np

    if not index.ntotal:
        return np.zeros((0, index.d), np.float32)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = min(ivf.nlist, IVF_NPROBE)
        if ivf.direct_map.type == faiss.DirectMap.NoMap:
            ivf.make_direct_map()
    return index.reconstruct_n(0, index.ntotal)


def _rebuild_hint(path: Path) -> str:
    return f"run `qa index --rebuild` to rebuild it from its documents (or delete the folder {path} to start over)"


def _load_bm25(folder: Path, n_chunks: int) -> Any:
    if not n_chunks:
        return None
    import bm25s

    try:
        return bm25s.BM25.load(str(folder))
    except (OSError, ValueError, KeyError) as err:
        raise IndexCorruptError(f"the keyword index in {folder} is damaged ({err}); rebuild with `qa index --rebuild`") from None


