"""Open the passage store named by the `store` setting (a URI)."""

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
