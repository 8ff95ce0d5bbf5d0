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
passages, HNSW above it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from qa.store.base import APPROXIMATE_ABOVE, IndexCorruptError, IndexMismatchError, StoreError, keyword_tokens
from qa.types import Chunk, Document, Hit

FORMAT = 1
class FaissStore:
    """Passages with their vectors, searchable by vector (FAISS) and by keyword (BM25).

    Args:
        path: The index folder.
        build_info: What builds the vectors and passages (embedder, dimension, chunking); a
            saved index with other values is refused with `IndexMismatchError`.
        approximate_above: Passage count above which HNSW replaces exact search.
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
        self.generation = ""  # the saved generation this store holds ("" = not saved)

    # --- persistence -------------------------------------------------------

    @classmethod
    def exists(cls, path: str | Path) -> bool:
        return (Path(path) / "CURRENT").exists()

    @classmethod
    def load(cls, path: str | Path, build_info: dict[str, Any], approximate_above: int = APPROXIMATE_ABOVE) -> "FaissStore":
        """Open a saved index.

        Raises:
            FileNotFoundError: No index in that folder.
            IndexCorruptError: Damaged or incomplete files; the message says how to rebuild.
            IndexMismatchError: Built with other settings; the message names them.
        """
        import faiss
        import numpy as np

        path = Path(path)
        if not cls.exists(path):
            raise FileNotFoundError(f"no index in {path}")
        rebuild = f"rebuild it with `qa index --rebuild` or delete the folder {path}"
        try:
            gen = path / json.loads((path / "CURRENT").read_text())["generation"]
            manifest = json.loads((gen / "manifest.json").read_text())
            documents = [Document(**d) for d in _read_jsonl(gen / "documents.jsonl")]
            chunks = [Chunk(**c) for c in _read_jsonl(gen / "chunks.jsonl")]
            index = faiss.read_index(str(gen / "vectors.faiss"))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
            raise IndexCorruptError(f"the index in {path} is damaged ({type(err).__name__}: {err}); {rebuild}") from None
        if manifest.get("format") != FORMAT or index.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
            raise IndexCorruptError(f"the index in {path} is incomplete or from another version; {rebuild}")
        store = cls(path, build_info, approximate_above)
        built = {k: manifest.get(k) for k in build_info}
        if built != store.build_info:
            diff = ", ".join(f"{k}: index has {built[k]!r}, settings say {build_info[k]!r}" for k in build_info if built[k] != build_info[k])
            raise IndexMismatchError(f"the index in {path} was built with other settings ({diff})", documents)
        store.generation = gen.name
        store.documents = {d.id: d for d in documents}
        store.chunks = chunks
        store._vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
        store._faiss = index
        store._bm25 = _load_bm25(gen / "bm25", len(chunks))
        return store

    @classmethod
    def recover(cls, path: str | Path, build_info: dict[str, Any], approximate_above: int = APPROXIMATE_ABOVE) -> "FaissStore | None":
        """The newest generation in `path` that loads, made current again; None if none does."""
        path = Path(path)
        for gen in sorted((p for p in path.glob("gen-*") if p.is_dir()), reverse=True):
            pointer = path / "CURRENT.tmp"
            pointer.write_text(json.dumps({"generation": gen.name}))
            os.replace(pointer, path / "CURRENT")
            try:
                return cls.load(path, build_info, approximate_above)
            except IndexMismatchError as err:
                store = cls(path, build_info, approximate_above)
                store.documents = {d.id: d for d in err.documents}
                return store
            except IndexCorruptError:
                continue
        return None

    def save(self) -> Path:
        """Write a new generation and switch CURRENT to it atomically; returns its folder."""
        import faiss

        self.path.mkdir(parents=True, exist_ok=True)
        gen_name = f"gen-{time.time_ns():020d}"
        tmp = self.path / f".{gen_name}.tmp"
        tmp.mkdir()
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in self.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in self.chunks))
        faiss.write_index(self._index(), str(tmp / "vectors.faiss"))
        if self.chunks:
            self._bm25_index().save(str(tmp / "bm25"))
        manifest = {
            "format": FORMAT, **self.build_info, "faiss": self.faiss_kind, "chunks": len(self.chunks),
            "documents": {d.id: {"source": d.source, "title": d.title} for d in self.documents.values()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
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
        self.generation = gen_name
        self._remove_old_generations(keep=gen_name)
        return self.path / gen_name

    def is_stale(self) -> bool:
        """True when another process saved a newer generation than the one held here."""
        try:
            current = json.loads((self.path / "CURRENT").read_text())["generation"]
        except (OSError, ValueError, KeyError):
            return False
        return current != self.generation

    def _remove_old_generations(self, keep: str) -> None:
        # Keep the previous generation too: another process may still be reading it.
        gens = sorted(p for p in self.path.glob("gen-*") if p.is_dir() and p.name != keep)
        for old in gens[:-1]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in self.path.glob(".gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)

    # --- updates -------------------------------------------------------------

    def copy(self) -> "FaissStore":
        """A copy to change while this one keeps answering (arrays are replaced, never mutated)."""
        new = FaissStore(self.path, self.build_info, self.approximate_above)
        new.documents = dict(self.documents)
        new.chunks = list(self.chunks)
        new._vectors, new._faiss, new._bm25 = self._vectors, self._faiss, self._bm25
        new.generation = self.generation
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
        self._faiss = self._bm25 = None

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
        self._faiss = self._bm25 = None
        return len(gone)

    # --- search ---------------------------------------------------------------

    def count(self) -> int:
        return len(self.chunks)

    @property
    def faiss_kind(self) -> str:
        return "hnsw" if len(self.chunks) > self.approximate_above else "flat"

    def dense_search(self, vector: Any, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest inner product with a unit query vector."""
        import numpy as np

        if not self.chunks or k <= 0:
            return []
        scores, ids = self._index().search(np.asarray(vector, dtype=np.float32).reshape(1, -1), min(k, len(self.chunks)))
        return [(self.chunks[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest BM25 score that share a word with the query."""
        tokens = keyword_tokens(query)
        if not self.chunks or not tokens or k <= 0:
            return []
        bm25 = self._bm25_index()
        known = [t for t in tokens if t in bm25.vocab_dict]
        if not known:
            return []
        ids, scores = bm25.retrieve([known], k=min(k, len(self.chunks)), show_progress=False, n_threads=1)
        return [(self.chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

    def hybrid_search(self, query: str, vector: Any, k: int, candidates: int = 20, rrf_k: int = 60) -> list[Hit]:
        """Dense and BM25 candidates fused by reciprocal rank fusion; the top k."""
        from qa.retrieve import fuse_searches

        return fuse_searches(self.dense_search(vector, candidates), self.keyword_search(query, candidates), k, rrf_k)

    def close(self) -> None:
        """Nothing to release: the files are only open while loading or saving."""

    def _index(self) -> Any:
        if self._faiss is None:
            self._faiss = build_faiss(self._vectors, self.approximate_above)
        return self._faiss

    def _bm25_index(self) -> Any:
        if self._bm25 is None:
            import bm25s

            bm25 = bm25s.BM25()
            bm25.index([keyword_tokens(c.text) or ["\u2400"] for c in self.chunks], show_progress=False)
            self._bm25 = bm25
        return self._bm25


def build_faiss(vectors: Any, approximate_above: int) -> Any:
    """Exact inner-product index, or HNSW (M=32, efSearch=128) above `approximate_above` rows."""
    import faiss

    n, dim = vectors.shape
    if n > approximate_above:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    return index


def _load_bm25(folder: Path, n_chunks: int) -> Any:
    if not n_chunks:
        return None
    import bm25s

    try:
        return bm25s.BM25.load(str(folder))
    except (OSError, ValueError, KeyError) as err:
        raise IndexCorruptError(f"the keyword index in {folder} is damaged ({err}); rebuild with `qa index --rebuild`") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
