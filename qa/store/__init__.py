"""Open the passage store named by the `store` setting (a URI), or salvage its documents.

A store keeps documents, their passages and the passages' vectors; everything it offers is the
`qa.store.base.PassageStore` protocol, which every store meets (tests/test_store_contract.py).
Callers use only that protocol and these two functions, never a store's class or URI scheme.

Stores by URI:

    index, faiss://index              FAISS files in a folder (`qa.store.faiss_store.FaissStore`)
    milvus://index/qa.db              Milvus Lite, embedded, in that file (`qa.store.milvus_store`)
    http://host:19530, https://...    a Milvus server or cluster

A Milvus URI may end in `?collection=NAME` (collections NAME_chunks and NAME_documents;
default qa) and `&index=IVF_FLAT` or `HNSW` (the dense index when the collections are created: FLAT by
default for Milvus Lite, AUTOINDEX for a server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.errors import SettingsError
from qa.store.base import PassageStore, Salvage

if TYPE_CHECKING:  # qa.config imports qa.store.base: no import cycle at run time
    from qa.config import Settings


def open_store(settings: Settings, build_info: dict[str, Any], fresh: bool = False) -> PassageStore:
    """The store for `settings.store_uri`: a folder or faiss://FOLDER for FAISS files,
    milvus://FILE.db for Milvus Lite, http(s)://HOST:PORT for a Milvus server.

    Args:
        settings: Settings; `store_uri` picks the store.
        build_info: What built the vectors (embedder, dimension, chunking).
        fresh: Start empty (for a rebuild) instead of opening what is there.

    Raises:
        StoreError: Cannot open it (with a message saying what to do); IndexCorruptError for
            damaged files, IndexMismatchError for a store built with other settings.
    """
    uri = settings.store_uri
    if _is_milvus(uri):
        from qa.store.milvus_store import MilvusStore, parse_milvus_uri

        address, options = parse_milvus_uri(uri)
        return MilvusStore(address, build_info, options.get("collection", "qa"), options.get("index", ""), fresh=fresh)

    from qa.store.faiss_store import FaissStore

    path = _faiss_path(uri)
    if not fresh and FaissStore.exists(path):
        # Another process may be in the middle of a save: looked at again under its lock.
        return FaissStore.open_consistent(path, build_info, settings.approximate_above)
    return FaissStore(path, build_info, settings.approximate_above)


def salvage_store(settings: Settings) -> Salvage:
    """The newest documents that can still be read from the store, for `qa index --rebuild`;
    works on a damaged store too, and says what it could not recover."""
    uri = settings.store_uri
    if _is_milvus(uri):
        from qa.store.milvus_store import parse_milvus_uri, salvage_milvus

        address, options = parse_milvus_uri(uri)
        return salvage_milvus(address, options.get("collection", "qa"))
    from qa.store.faiss_store import FaissStore

    return FaissStore.salvage(_faiss_path(uri))


def _is_milvus(uri: str) -> bool:
    return uri.startswith(("milvus://", "http://", "https://"))


def _faiss_path(uri: str) -> str:
    path = uri[len("faiss://"):] if uri.startswith("faiss://") else uri
    if "://" in path:
        raise SettingsError(f"unknown store {uri!r}: use a folder, faiss://FOLDER, milvus://FILE.db or http(s)://HOST:19530")
    return path
