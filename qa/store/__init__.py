"""Open the passage store named by the `store` setting (a URI).

A store keeps documents, their passages and the passages' vectors. What the chatbot uses
(`qa.store.faiss_store.FaissStore` is the reference implementation):

    documents: dict[str, Document]           the indexed documents by id
    count() -> int                           number of passages
    copy() -> store                          a store to change while this one keeps answering
    upsert(documents, chunks, vectors)       add (or replace) documents with passages and vectors
    delete(doc_ids) -> int                   remove documents and their passages
    save()                                   make the changes durable (atomically)
    dense_search(vector, k) -> [(Chunk, score)]
    keyword_search(query, k) -> [(Chunk, score)]
    hybrid_search(query, vector, k, candidates, rrf_k) -> [Hit]   dense + keyword fused with RRF
    close()

Stores by URI:

    index, faiss://index              FAISS files in a folder (`qa.store.faiss_store.FaissStore`)
    milvus://index/qa.db              Milvus Lite, embedded, in that file (`qa.store.milvus_store`)
    http://host:19530, https://...    a Milvus server or cluster

A Milvus URI may end in `?collection=NAME` (collections NAME_chunks and NAME_documents;
default qa) and `&index=HNSW` (the dense index when the collections are created: FLAT by
default for Milvus Lite, AUTOINDEX for a server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # qa.config imports qa.store.base: no import cycle at run time
    from qa.config import Settings


def open_store(settings: Settings, build_info: dict[str, Any], fresh: bool = False) -> Any:
    """The store for `settings.store_uri`: a folder or faiss://FOLDER for FAISS files,
    milvus://FILE.db for Milvus Lite, http(s)://HOST:PORT for a Milvus server.

    Args:
        settings: Settings; `store_uri` picks the store.
        build_info: What built the vectors (embedder, dimension, chunking).
        fresh: Start empty (for a rebuild) instead of opening what is there.
    """
    uri = settings.store_uri
    if uri.startswith(("milvus://", "http://", "https://")):
        from qa.store.milvus_store import MilvusStore, parse_milvus_uri

        address, options = parse_milvus_uri(uri)
        return MilvusStore(address, build_info, options.get("collection", "qa"), options.get("index", ""), fresh=fresh)

    from qa.store.faiss_store import FaissStore

    path = uri[len("faiss://"):] if uri.startswith("faiss://") else uri
    if "://" in path:
        raise ValueError(f"unknown store {uri!r}: use a folder, faiss://FOLDER, milvus://FILE.db or http(s)://HOST:19530")
    if not fresh and FaissStore.exists(path):
        return FaissStore.load(path, build_info, settings.approximate_above)
    return FaissStore(path, build_info, settings.approximate_above)
