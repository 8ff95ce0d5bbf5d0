"""A passage store in Milvus: Milvus Lite (an embedded file) or a Milvus server or cluster.

Two collections per store (names start with `collection`, "qa" by default):

    qa_chunks      one row per passage: id, doc_id, source, text, char_start, char_end, the dense
                   `vector` and `sparse`, the BM25 vector Milvus computes from `text` (a BM25
                   Function over an analyzer that splits like `qa.store.faiss_store.keyword_tokens`)
    qa_documents   the documents' text in parts of at most 16,000 characters (Milvus strings
                   are limited to 65,535 bytes), so `documents` survives a restart and the
                   index can be rebuilt alone; plus one row holding the build info (embedder,
                   dimension, chunking) that a store built otherwise is refused with

Writes are not atomic across the two collections: an upsert deletes a document's old rows,
inserts its passages, then its text. A document is listed in `documents` only once all its
parts are in, so after a crash mid-write re-adding the file repairs it.

Milvus Lite (`milvus://FILE.db`) runs inside this process and locks its file: one process at
a time. A server (`http://HOST:19530`) serves many; set MILVUS_TOKEN for one that needs a login.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Sequence, TypeVar

from qa.errors import SettingsError
from qa.store.base import (
    DocumentArchive, IVF_NPROBE, IndexCorruptError, IndexMismatchError, Salvage, StoreError, StoreMissingError, bm25_index, bm25_search,
    file_lock, io_problem, keyword_tokens,
)
from qa.store.milvus_connection import _connect, _Connection, _quiet_milvus_logs, _quiet_query_iterator, _reason, parse_milvus_uri
from qa.types import Chunk, Document, Hit

__all__ = ["MilvusStore", "parse_milvus_uri", "salvage_milvus"]

FORMAT = 1
BUILD_ROW = "__qa_build__"
REVISION_ROW = "__qa_revision__"  # changed by every save, so other processes notice new writes
DOC_PART_CHARS = 16_000  # at most 4 UTF-8 bytes each: under the 65,535-byte VARCHAR limit
MAX_VARCHAR_BYTES = 65_535
MAX_TOP_K = 16_384  # Milvus' largest limit per search
INSERT_ROWS = 1_000
DELETE_IDS = 500
CHUNK_FIELDS = ["doc_id", "source", "text", "char_start", "char_end"]

log = logging.getLogger("qa")


F = TypeVar("F", bound=Callable[..., Any])


def _answered_or_store_error(method: F) -> F:
    """A search that Milvus cannot answer (a server gone away mid-question) raises a StoreError
    with a message, never pymilvus' own exception; the next question tries again."""

    @functools.wraps(method)
    def wrapper(self: "MilvusStore", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as err:  # noqa: BLE001 - MilvusException, gRPC errors and friends
            where = "Milvus Lite database" if self.address.endswith(".db") else "Milvus server"
            raise StoreError(f"the {where} {self.address} did not answer ({_reason(err)}); "
                             "check that it is running and ask again") from None

    return wrapper  # type: ignore[return-value]


class MilvusStore:
    """Passages in Milvus, searchable by vector, by BM25 and by both fused with RRF in Milvus.

    Opening connects, creates the collections if needed and loads the documents.

    Args:
        address: A Milvus Lite file (ending in .db) or a server URL (http(s)://HOST:19530).
        build_info: What builds the vectors and passages; a store built otherwise is refused
            with `IndexMismatchError` (which carries its documents for a rebuild).
        collection: Prefix of the collections' names.
        index_type: Dense index: FLAT (exact, the default for Milvus Lite), IVF_FLAT (1,024 lists
            per segment, 16 probed: FAISS's choice above 150,000 passages), HNSW, or AUTOINDEX
            (the server default). Used when the collections are created.
        fresh: Drop what is stored and start empty.

    Raises:
        StoreError: Cannot connect. IndexCorruptError: the collections are incomplete.
    """

    def __init__(
        self, address: str, build_info: dict[str, Any], collection: str = "qa", index_type: str = "",
        fresh: bool = False, _connection: _Connection | None = None,
    ) -> None:
        if not collection.replace("_", "").isalnum():
            raise SettingsError(f"collection name {collection!r}: use letters, digits and underscores")
        self.address = address
        self.collection = collection
        self.build_info = dict(build_info)
        self.chunks_name, self.docs_name = f"{collection}_chunks", f"{collection}_documents"
        self.documents: dict[str, Document] = {}
        self._count: int | None = None
        self._bm25: Any = None  # (chunks, bm25s index) when keyword search runs on this side
        self.revision = ""
        self._removed: set[str] = set()  # documents deleted since opening: their kept copies go at the next save
        self.is_new = False
        self.full_text = True  # the server computes BM25 itself (Milvus 2.5+ and Milvus Lite)
        self.archive = DocumentArchive(_archive_folder(address, collection)) if address.endswith(".db") else None
        if _connection is None and not fresh and self.archive is not None and not Path(address).exists() and self.archive.ids():
            raise StoreMissingError(
                f"the Milvus database {address} is missing; its {len(self.archive.ids())} document(s) are kept in "
                f"{self.archive.folder}: run `qa index --rebuild` to index them again, or put the database back"
            )
        self._conn = _connection or _connect(address, fresh)
        self.index_type = (index_type or ("FLAT" if self._conn.lite_path else "AUTOINDEX")).upper()
        if _connection is None:
            try:
                self._open_quietly(fresh)
            except IndexCorruptError:
                if not (fresh and self._conn.lite_path):
                    raise
                self._conn = _connect(address, fresh, move_aside=True)  # a rebuild starts a new file
                self._open_quietly(fresh)

    def _open_quietly(self, fresh: bool) -> None:
        try:
            with _quiet_milvus_logs():
                self._open(fresh)
        except StoreError:
            self._conn.close()
            raise
        except Exception as err:  # MilvusException and friends: the stored files are unreadable
            self._conn.close()
            raise IndexCorruptError(f"the Milvus store {self.address} cannot be read ({_reason(err)}); {self._rebuild_hint()}") from None

    @property
    def client(self) -> Any:
        return self._conn.client

    @property
    def mode(self) -> str:
        where = f"Milvus Lite in {self.address}" if self._conn.lite_path else f"the Milvus server at {self.address}"
        if self.full_text:
            return f"{where}: vector and BM25 search, fused with RRF, in Milvus"
        return f"{where}: vector search in Milvus; BM25 over the passages stored there and RRF fusion in this process (the server has no full-text search)"

    def _rebuild_hint(self) -> str:
        kept = f" from the {len(self.archive.ids())} document(s) kept in {self.archive.folder}" if self.archive else ""
        return f"run `qa index --rebuild` to rebuild it{kept}"

    # --- opening ---------------------------------------------------------------

    def _open(self, fresh: bool) -> None:
        have = {name for name in (self.chunks_name, self.docs_name) if self.client.has_collection(name)}
        if fresh:
            for name in have:
                self.client.drop_collection(name)
            have = set()
        if not have:
            if not fresh and self.archive is not None and self.archive.ids():
                # Emptied under us: seeding it now would bury the documents acknowledged before.
                raise StoreMissingError(
                    f"the Milvus store {self.address} lost its collections; its {len(self.archive.ids())} document(s) "
                    f"are kept in {self.archive.folder}: run `qa index --rebuild` to index them again"
                )
            self._create_collections()
            self.is_new = not fresh
            return
        rebuild = f"{self._rebuild_hint()} (drops collections {self.chunks_name}, {self.docs_name})"
        if len(have) < 2:
            raise IndexCorruptError(f"the Milvus store {self.address} is incomplete (only {', '.join(have)}); {rebuild}")
        for name in (self.chunks_name, self.docs_name):
            self.client.load_collection(name)
        built = self._stored_build_info()
        if built is None or built.get("format") != FORMAT:
            raise IndexCorruptError(f"the Milvus store {self.address} has no build info or another format; {rebuild}")
        documents = self._load_documents()
        wanted = {k: built.get(k) for k in self.build_info}
        if wanted != self.build_info:
            diff = ", ".join(
                f"{k}: index has {wanted[k]!r}, settings say {self.build_info[k]!r}"
                for k in self.build_info if wanted[k] != self.build_info[k]
            )
            raise IndexMismatchError(f"the Milvus store {self.address} was built with other settings ({diff})", documents)
        self.documents = {d.id: d for d in documents}
        self.full_text = any(f.get("name") == "sparse" for f in self.client.describe_collection(self.chunks_name).get("fields", []))
        self.index_type = str(self.client.describe_index(self.chunks_name, "vector").get("index_type") or self.index_type).upper()
        self.revision = self._stored_revision()
        self._check_passage_count(rebuild)

    def _create_collections(self) -> None:
        try:
            self._create_chunks(full_text=True)
        except Exception as err:  # noqa: BLE001 - servers before 2.5 refuse sparse vectors (code 1100)
            log.info("the Milvus server has no full-text search (%s); keyword search runs in this process", _reason(err))
            with contextlib.suppress(Exception):
                self.client.drop_collection(self.chunks_name)
            self._create_chunks(full_text=False)
        self._create_documents()
        if self.archive is not None:  # kept copies are never cleared here: a rebuild re-indexes them
            self.archive.folder.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def _create_chunks(self, full_text: bool) -> None:
        from pymilvus import DataType, Function, FunctionType

        from qa.store.base import STOPWORDS

        self.full_text = full_text
        analyzer = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS)}]}
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)
        text_options = {"enable_analyzer": True, "analyzer_params": analyzer} if full_text else {}
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES, **text_options)
        schema.add_field("char_start", DataType.INT64)
        schema.add_field("char_end", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(self.build_info["dimension"]))
        index = self.client.prepare_index_params()
        params = {"HNSW": {"M": 32, "efConstruction": 80}, "IVF_FLAT": {"nlist": 1024}}.get(self.index_type, {})
        index.add_index("vector", index_type=self.index_type, metric_type="IP", params=params)
        if full_text:
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75})
        self.client.create_collection(self.chunks_name, schema=schema, index_params=index, consistency_level="Strong")

    def _create_documents(self) -> None:
        from pymilvus import DataType

        docs = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        docs.add_field("id", DataType.VARCHAR, is_primary=True, max_length=96)
        docs.add_field("doc_id", DataType.VARCHAR, max_length=64)
        docs.add_field("part", DataType.INT64)
        docs.add_field("parts", DataType.INT64)
        docs.add_field("source", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)
        docs.add_field("title", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)
        docs.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR_BYTES)
        docs.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        doc_index = self.client.prepare_index_params()
        doc_index.add_index("unused", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.docs_name, schema=docs, index_params=doc_index, consistency_level="Strong")
        info = json.dumps({"format": FORMAT, **self.build_info})
        self.client.insert(self.docs_name, [_doc_row(BUILD_ROW, 0, 1, "", "", info)])
        self.client.flush(self.docs_name)

    def _stored_build_info(self) -> dict[str, Any] | None:
        rows = self.client.query(self.docs_name, filter=f'id == "{BUILD_ROW}"', output_fields=["text"])
        try:
            return json.loads(rows[0]["text"]) if rows else None
        except (ValueError, KeyError):
            return None

    def _load_documents(self) -> list[Document]:
        fields = ["doc_id", "part", "parts", "source", "title", "text"]
        parts: dict[str, dict[int, dict[str, Any]]] = {}
        for row in self._iterate(self.docs_name, f'doc_id not in ["{BUILD_ROW}", "{REVISION_ROW}"]', fields):
            parts.setdefault(row["doc_id"], {})[int(row["part"])] = row
        documents = []
        for doc_id, rows in parts.items():
            first = rows[0] if 0 in rows else next(iter(rows.values()))
            if len(rows) != int(first["parts"]):
                log.warning("document %s is incomplete in %s; add it again", first["source"], self.address)
                continue
            text = "".join(rows[i]["text"] for i in range(len(rows)))
            documents.append(Document(doc_id, first["source"], text, first["title"]))
        return documents

    def _iterate(self, collection: str, expr: str, fields: list[str]) -> Iterable[dict[str, Any]]:
        _quiet_query_iterator()
        iterator = self.client.query_iterator(collection, batch_size=256, filter=expr, output_fields=fields)
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    # --- updates -----------------------------------------------------------------

    def copy(self) -> "MilvusStore":
        """A store object to change while this one keeps answering.

        The rows live in Milvus, which serves concurrent searches and writes safely (each
        search sees a consistent snapshot), so the copy shares them and the connection; only
        the `documents` listing is copied, so this one's listing doesn't change under a reader.
        Searches through either see the copy's writes as soon as Milvus has them.
        """
        new = MilvusStore(self.address, self.build_info, self.collection, self.index_type, _connection=self._conn)
        new.documents = dict(self.documents)
        new._count, new._bm25, new.revision = self._count, self._bm25, self.revision
        new.full_text, new.archive, new._removed = self.full_text, self.archive, set(self._removed)
        return new

    def upsert(self, documents: Sequence[Document], chunks: Sequence[Chunk], vectors: Any) -> None:
        """Add documents with their passages and vectors; a document already here is replaced."""
        import numpy as np

        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} passages but {len(vectors)} vectors")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1) if len(chunks) else vectors
        if len(chunks) and vectors.shape[1] != int(self.build_info["dimension"]):
            raise ValueError(f"vectors have {vectors.shape[1]} dimensions, the store {self.build_info['dimension']}")
        if self.archive is not None:
            self.archive.put(documents)
        self._delete_rows([d.id for d in documents])
        rows = [_chunk_row(c, v) for c, v in zip(chunks, vectors)]
        for lo in range(0, len(rows), INSERT_ROWS):
            self.client.insert(self.chunks_name, rows[lo : lo + INSERT_ROWS])
        doc_rows = [row for d in documents for row in _document_rows(d)]
        for lo in range(0, len(doc_rows), 64):  # parts are up to 64 KB each
            self.client.insert(self.docs_name, doc_rows[lo : lo + 64])
        for d in documents:
            self.documents[d.id] = d
        self._count = self._bm25 = None

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and their passages; returns how many documents were removed."""
        gone = [d for d in dict.fromkeys(doc_ids) if d in self.documents]
        if gone:
            self._delete_rows(gone)
            for d in gone:
                del self.documents[d]
            self._removed |= set(gone)
            self._count = self._bm25 = None
        return len(gone)

    def _delete_rows(self, doc_ids: Sequence[str]) -> None:
        for lo in range(0, len(doc_ids), DELETE_IDS):
            expr = f"doc_id in {json.dumps(list(doc_ids[lo : lo + DELETE_IDS]))}"
            self.client.delete(self.chunks_name, filter=expr)
            self.client.delete(self.docs_name, filter=expr)

    def save(self) -> None:
        """Flush both collections to durable storage and mark a new revision for other processes.

        Raises:
            StoreError: Milvus refused the write (for Milvus Lite: e.g. a read-only folder).
        """
        try:
            with _quiet_milvus_logs():
                self._count = None
                revision = json.dumps({"at": f"{time.time_ns()}-{os.getpid()}", "passages": self.count()})
                self.client.upsert(self.docs_name, [_doc_row(REVISION_ROW, 0, 1, "", "", revision)])
                self.client.flush(self.chunks_name)
                self.client.flush(self.docs_name)
            if self.archive is not None:  # only documents removed on request lose their kept copy
                self.archive.remove(self._removed - set(self.documents))
                self._removed = set()
        except OSError as err:
            raise io_problem(err, f"save the Milvus store {self.address}") from None
        except Exception as err:  # noqa: BLE001 - MilvusException and friends
            raise StoreError(f"cannot save to the Milvus store {self.address}: {_reason(err)}") from None
        self.revision, self.is_new = revision, False

    def is_stale(self) -> bool:
        """True when another process saved since this store's listing was read."""
        return self._stored_revision() != self.revision

    def refresh(self) -> "MilvusStore":
        """This store, or when another process saved since, a copy with the listing of that save
        (the rows are shared: Milvus holds them); the keyword index kept here is rebuilt on the
        next search."""
        stored = self._stored_revision()
        if stored == self.revision:
            return self
        new = self.copy()
        with _quiet_milvus_logs():
            new.documents = {d.id: d for d in self._load_documents()}
        new._count = new._bm25 = None
        new.revision = stored
        return new

    def lock(self) -> ContextManager[None]:
        """Serialise writers on this machine (an flock on a file beside the Milvus Lite database,
        or in the user's cache folder for a server), so that two processes' changes of the
        document listing never interleave."""
        return file_lock(_lock_file(self.address, self.collection), f"lock the Milvus store {self.address}")

    def _check_passage_count(self, rebuild: str) -> None:
        """The passage count of the last save against the rows there: a damaged file can make
        Milvus (Lite) open a collection empty or partly empty without any error."""
        for attempt in range(3):  # another process may be between its writes and its save
            try:
                expected = json.loads(self.revision)["passages"]
            except (ValueError, KeyError, TypeError):
                return  # saved before counts were kept
            self._count = None
            if self.count() == expected:
                return
            time.sleep(attempt)
            self.revision = self._stored_revision()
        raise IndexCorruptError(f"the Milvus store {self.address} lost passages ({self.count()} of {expected} are left); {rebuild}")

    def _stored_revision(self) -> str:
        rows = self.client.query(self.docs_name, filter=f'id == "{REVISION_ROW}"', output_fields=["text"])
        return str(rows[0]["text"]) if rows else ""

    # --- search --------------------------------------------------------------------

    @_answered_or_store_error
    def count(self) -> int:
        """Number of passages (asked of Milvus after each change, then remembered)."""
        if self._count is None:
            rows = self.client.query(self.chunks_name, filter="", output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"]) if rows else 0
        return self._count

    @_answered_or_store_error
    def dense_search(self, vector: Any, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest inner product with a unit query vector."""
        if k <= 0 or not self.count():
            return []
        hits = self.client.search(
            self.chunks_name, data=[_as_list(vector)], anns_field="vector", limit=min(k, MAX_TOP_K),
            output_fields=CHUNK_FIELDS, search_params=self._dense_params(k),
        )[0]
        return [(_chunk(h), float(h["distance"])) for h in hits]

    @_answered_or_store_error
    def keyword_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The k passages of highest BM25 score (computed by Milvus) that share a word with the query."""
        if k <= 0 or not keyword_tokens(query) or not self.count():
            return []
        if not self.full_text:
            chunks, bm25 = self._client_bm25()
            return bm25_search(bm25, chunks, query, k)
        hits = self.client.search(
            self.chunks_name, data=[query], anns_field="sparse", limit=min(k, MAX_TOP_K),
            output_fields=CHUNK_FIELDS, search_params={"metric_type": "BM25"},
        )[0]
        # Milvus Lite reports -score as the distance, a server +score: BM25 scores are never negative.
        return [(_chunk(h), abs(float(h["distance"]))) for h in hits if h["distance"]]

    @_answered_or_store_error
    def hybrid_search(self, query: str, vector: Any, k: int, candidates: int = 20, rrf_k: int = 60) -> list[Hit]:
        """Dense and BM25 candidates fused by reciprocal rank fusion inside Milvus; the top k.

        Milvus' RRFRanker scores 1 / (rrf_k + rank) per list, like `qa.retrieve.fuse_searches`.
        A query without a searchable word (only stop words) has no BM25 list; its dense list is
        fused alone, on this side, with the same formula.
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        if k <= 0 or not self.count():
            return []
        limit = min(candidates, MAX_TOP_K)
        if not keyword_tokens(query) or not self.full_text:
            from qa.retrieve import fuse_searches

            return fuse_searches(self.dense_search(vector, limit), self.keyword_search(query, limit), k, rrf_k)
        requests = [
            AnnSearchRequest(data=[_as_list(vector)], anns_field="vector", param=self._dense_params(limit), limit=limit),
            AnnSearchRequest(data=[query], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit),
        ]
        hits = self.client.hybrid_search(
            self.chunks_name, requests, RRFRanker(rrf_k), limit=min(k, MAX_TOP_K), output_fields=CHUNK_FIELDS
        )[0]
        return [Hit(_chunk(h), float(h["distance"])) for h in hits]

    def close(self) -> None:
        """Close the connection (shared with copies); Milvus Lite's file is released with the last one."""
        self._conn.close()

    def _client_bm25(self) -> tuple[list[Chunk], Any]:
        """BM25 over the passage texts stored in Milvus, built here (for servers without it)."""
        if self._bm25 is None:
            rows = self._iterate(self.chunks_name, 'id != ""', ["id", *CHUNK_FIELDS])
            chunks = [_chunk({"id": r["id"], "entity": r}) for r in rows]
            self._bm25 = (chunks, bm25_index([c.text for c in chunks]))
        return self._bm25

    def _dense_params(self, k: int) -> dict[str, Any]:
        if self.index_type == "HNSW":
            return {"metric_type": "IP", "params": {"ef": max(128, k)}}
        if self.index_type == "IVF_FLAT":
            return {"metric_type": "IP", "params": {"nprobe": IVF_NPROBE}}
        return {"metric_type": "IP"}


def salvage_milvus(address: str, collection: str = "qa") -> Salvage:
    """The documents a rebuild can start from: those stored in Milvus, with any text missing
    there taken from the document archive kept beside a Milvus Lite file."""
    archive = DocumentArchive(_archive_folder(address, collection)) if address.endswith(".db") else None
    found: dict[str, Document] = {}
    problems: list[str] = []
    wanted = set(archive.ids()) if archive else set()
    if not address.endswith(".db") or Path(address).exists():
        try:
            with _quiet_milvus_logs():
                conn = _connect(address, False)
                try:
                    store = MilvusStore(address, {}, collection, _connection=conn)
                    if store.client.has_collection(store.docs_name):
                        store.client.load_collection(store.docs_name)
                        found.update({d.id: d for d in store._load_documents()})
                finally:
                    conn.close()
            wanted |= set(found)
        except Exception as err:  # noqa: BLE001 - damaged files: fall back to the archive
            problems.append(f"the Milvus store {address} cannot be read ({_reason(err)}); using the kept documents")
    for doc_id in sorted(wanted - set(found)):
        doc = archive.get(doc_id) if archive else None
        if doc is None:
            problems.append(f"could not recover document {doc_id}: its text is not readable anywhere; add the file again")
        else:
            found[doc_id] = doc
    return Salvage(list(found.values()), f"the Milvus store {address}", problems)


def _archive_folder(address: str, collection: str) -> Path:
    return Path(f"{address}.{collection}-documents")


def _lock_file(address: str, collection: str) -> Path:
    if address.endswith(".db"):
        return Path(f"{address}.{collection}.lock")
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "milvus-locks"
    return root / (re.sub(r"[^A-Za-z0-9.-]+", "_", address) + f"-{collection}.lock")


def _chunk_row(c: Chunk, vector: Any) -> dict[str, Any]:
    for name in ("text", "source"):
        if len(getattr(c, name).encode("utf-8")) > MAX_VARCHAR_BYTES:
            raise ValueError(f"passage {c.id} of {c.source}: its {name} is over Milvus' {MAX_VARCHAR_BYTES}-byte limit")
    return {
        "id": c.id, "doc_id": c.doc_id, "source": c.source, "text": c.text,
        "char_start": c.start, "char_end": c.end, "vector": vector.tolist(),
    }


def _document_rows(d: Document) -> list[dict[str, Any]]:
    for name in ("source", "title"):
        if len(getattr(d, name).encode("utf-8")) > MAX_VARCHAR_BYTES:
            raise ValueError(f"document {d.source[:80]}: its {name} is over Milvus' {MAX_VARCHAR_BYTES}-byte limit")
    pieces = [d.text[lo : lo + DOC_PART_CHARS] for lo in range(0, len(d.text), DOC_PART_CHARS)] or [""]
    return [_doc_row(d.id, i, len(pieces), d.source, d.title, text) for i, text in enumerate(pieces)]


def _doc_row(doc_id: str, part: int, parts: int, source: str, title: str, text: str) -> dict[str, Any]:
    row_id = doc_id if doc_id in (BUILD_ROW, REVISION_ROW) else f"{doc_id}:{part}"
    return {"id": row_id, "doc_id": doc_id, "part": part, "parts": parts, "source": source, "title": title, "text": text, "unused": [0.0, 0.0]}


def _chunk(hit: dict[str, Any]) -> Chunk:
    e = hit["entity"]
    return Chunk(str(hit["id"]), e["doc_id"], e["source"], e["text"], int(e["char_start"]), int(e["char_end"]))


def _as_list(vector: Any) -> list[float]:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).reshape(-1).tolist()


