"""What every passage store shares: the `PassageStore` protocol, its errors, the keyword
tokenisation BM25 uses, the document archive rebuilds start from, and the passage count above
which search turns approximate."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Iterable, Iterator, Protocol, Sequence, runtime_checkable

from qa.errors import StoreError
from qa.types import Chunk, Document, Hit

# Exact search up to this many passages, approximate above. Exact search grows linearly: ~15 ms
# at 100,000 passages and 120 ms at 1,000,000 on one quiet core (benchmarks/scale.py), so it
# passes the 20 ms aimed for at about 165,000. On real sentence embeddings at 1,000,000 an
# approximate index keeps recall@10 >= 0.95 in a few ms (benchmarks/scale_real.py: IVF4096
# nprobe=16, 0.973 at 1.3 ms p50).
APPROXIMATE_ABOVE = 150_000
IVF_NPROBE = 16  # IVF lists searched per question: recall@10 0.97 at 1M real-embedding passages (docs/benchmarks.md)
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where "
    "why how all any both each few more most other some such no nor not only own same so than too very "
    "is are was were be been being have has had having do does did doing i me my we our you your he him "
    "his she her it its they them their what which who whom this that these those am can will just should".split()
)


class IndexCorruptError(StoreError):
    """The index files are damaged or incomplete."""


class IndexMismatchError(StoreError):
    """The index was built with other settings; `documents` holds its documents for a rebuild."""

    def __init__(self, message: str, documents: Sequence[Document] = ()) -> None:
        super().__init__(message)
        self.documents = list(documents)


def keyword_tokens(text: str) -> list[str]:
    """Lower-cased words without English stop words: what BM25 indexes and searches."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]




def bm25_index(texts: Sequence[str]) -> Any:
    """A bm25s index of passage texts (a passage without keywords gets a placeholder token)."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([keyword_tokens(t) or ["\u2400"] for t in texts], show_progress=False)
    return bm25


def bm25_search(bm25: Any, chunks: Sequence[Chunk], query: str, k: int) -> list[tuple[Chunk, float]]:
    """The k passages of highest BM25 score that share a word with the query."""
    tokens = keyword_tokens(query)
    if bm25 is None or not chunks or not tokens or k <= 0:
        return []
    known = [t for t in tokens if t in bm25.vocab_dict]
    if not known:
        return []
    ids, scores = bm25.retrieve([known], k=min(k, len(chunks)), show_progress=False, n_threads=1)
    return [(chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]


class StoreMissingError(StoreError):
    """A store that held documents is gone (its database file deleted); nothing is replaced silently."""


@dataclass
class Salvage:
    """What a rebuild can start from: the newest readable documents, and what could not be read.

    Attributes:
        documents: The documents recovered, to be chunked and embedded again.
        origin: Where they came from, in words ("generation gen-... of index/").
        problems: One line per document or file that could not be recovered.
    """

    documents: list[Document] = field(default_factory=list)
    origin: str = ""
    problems: list[str] = field(default_factory=list)


class PassageStore(Protocol):
    """Everything qa uses of a store (FAISS, Milvus, ...): storage and search, nothing more.

    Fusing dense and keyword results is the retriever's job (`qa.retrieve.Retriever`); a store
    that can fuse them itself may also meet `NativeHybridSearch`.

    Documents are the source of truth: passages, vectors and keyword indexes are derived from
    them, so a store can always be rebuilt from `salvage` of its location (see `qa.store`).
    """

    documents: dict[str, Document]  # the indexed documents by id
    build_info: dict[str, Any]  # what built the vectors and passages (embedder, dimension, chunking)
    is_new: bool  # nothing was stored at this location before: the caller may seed it

    @property
    def mode(self) -> str:
        """How searches run here, in words (shown at startup and by `qa documents`)."""

    def count(self) -> int:
        """Number of passages."""

    def copy(self) -> "PassageStore":
        """A store to change while this one keeps answering."""

    def upsert(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: Any) -> None:
        """Add documents with their passages and vectors; a document already here is replaced."""

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and their passages; returns how many were removed."""

    def save(self) -> None:
        """Make the changes durable. Raises StoreError (e.g. a read-only folder)."""

    def is_stale(self) -> bool:
        """True when another process saved a newer version than the one held here (a question;
        it changes nothing)."""

    def refresh(self) -> "PassageStore":
        """This store when it is the newest saved version, else the newer one (this one is left
        as it was, so questions reading it are not disturbed)."""

    def lock(self) -> ContextManager[None]:
        """Serialise writers, in this process or others sharing the store."""

    def dense_search(self, vector: Any, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest inner product with a unit vector."""

    def keyword_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest BM25 score sharing a word with the query."""

    def close(self) -> None:
        """Release connections and files."""


@runtime_checkable
class NativeHybridSearch(Protocol):
    """An optional capability: a store that fuses dense and keyword results itself (Milvus does,
    server-side), with the same reciprocal rank fusion as `qa.retrieve.fuse_searches`."""

    def hybrid_search(self, query: str, vector: Any, k: int, candidates: int, rrf_k: int) -> list[Hit]:
        """Dense and keyword candidates fused by reciprocal rank fusion; the top k."""


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """An exclusive flock on `path` (created with its folder) for the duration of the block:
    how every store serialises writers on this machine. `what` names the work in the message
    of a lock file that cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")
    except OSError as err:
        raise io_problem(err, what) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def io_problem(err: OSError, what: str) -> StoreError:
    """A StoreError that says which file could not be written and what to do, for an OSError."""
    reason = err.strerror or str(err)
    hint = "check that the folder is writable" if isinstance(err, PermissionError) else "check the disk"
    return StoreError(f"cannot {what} ({reason}: {err.filename or ''}); {hint} and try again")


class DocumentArchive:
    """The documents' own text, one JSON file per document named by its id, with a checksum.

    Written next to the index so that a rebuild still has every document when a file of the
    index (or a Milvus Lite database) is damaged or lost. Files are written once (ids are
    content hashes), atomically, and never rewritten.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def put(self, documents: Iterable[Document]) -> None:
        for d in documents:
            target = self.folder / f"{d.id}.json"
            if target.exists():
                continue
            self.folder.mkdir(parents=True, exist_ok=True)
            row = {**asdict(d), "sha256": hashlib.sha256(d.text.encode("utf-8")).hexdigest()}
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, target)

    def get(self, doc_id: str) -> Document | None:
        """The document, or None when its file is missing or damaged."""
        try:
            row = json.loads((self.folder / f"{doc_id}.json").read_text(encoding="utf-8"))
            if row.pop("sha256") != hashlib.sha256(row["text"].encode("utf-8")).hexdigest():
                return None
            return Document(**row)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def ids(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*.json")} if self.folder.is_dir() else set()

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete the kept copies of documents removed on request (`qa index --remove`, or a file
        indexed again with new content). Nothing else ever deletes one."""
        for doc_id in doc_ids:
            (self.folder / f"{doc_id}.json").unlink(missing_ok=True)
