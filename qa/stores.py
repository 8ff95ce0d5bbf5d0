"""Open the passage store named by the `store` setting (a URI).

A store keeps documents, their passages and the passages' vectors. What the chatbot uses
(`qa.index.FaissStore` is the reference implementation):

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
"""

from __future__ import annotations

from typing import Any

from qa.config import Settings


def open_store(settings: Settings, build_info: dict[str, Any], fresh: bool = False) -> Any:
    """The store for `settings.store_uri`: a folder or faiss://FOLDER for FAISS files.

    Args:
        settings: Settings; `store_uri` picks the store.
        build_info: What built the vectors (embedder, dimension, chunking).
        fresh: Start empty (for a rebuild) instead of opening what is there.
    """
    from qa.index import FaissStore

    uri = settings.store_uri
    path = uri[len("faiss://"):] if uri.startswith("faiss://") else uri
    if "://" in path:
        raise ValueError(f"unknown store {uri!r}: use a folder or faiss://FOLDER")
    if not fresh and FaissStore.exists(path):
        return FaissStore.load(path, build_info, settings.approximate_above)
    return FaissStore(path, build_info, settings.approximate_above)
