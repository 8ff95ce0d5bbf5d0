"""Retrieval: dense (embedder + vector search) and BM25, fused with reciprocal rank fusion.

Fusion lives here, once; a store only searches (`qa.store.base.PassageStore`), or fuses natively
when it can (`NativeHybridSearch`, Milvus).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Collection, Hashable, Sequence, TypeVar

from qa.errors import SettingsError
from qa.store.base import NativeHybridSearch
from qa.types import Chunk, Hit

if TYPE_CHECKING:
    from qa.embed import EmbeddingModel
    from qa.store.base import PassageStore

T = TypeVar("T", bound=Hashable)

SCOPED_CANDIDATES = 16_384  # passages ranked when a question is limited to some documents (Milvus' most)


def fuse_searches(dense: Sequence[tuple[Chunk, float]], keyword: Sequence[tuple[Chunk, float]], k: int, rrf_k: int) -> list[Hit]:
    """The top k of dense and keyword results fused by reciprocal rank fusion."""
    by_id = {c.id: c for c, _ in [*dense, *keyword]}
    fused = reciprocal_rank_fusion([[c.id for c, _ in dense], [c.id for c, _ in keyword]], rrf_k)
    return [Hit(by_id[cid], score) for cid, score in fused[:k]]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[T]], k: int = 60) -> list[tuple[T, float]]:
    """Fuse ranked lists: each item scores sum(1 / (k + rank)) over the lists it is in (rank from 1).

    Args:
        rankings: Lists of items, best first. An item may be missing from some lists.
        k: The RRF constant; larger values flatten the advantage of top ranks.

    Returns:
        (item, fused score), best first; ties keep the order of first appearance.
    """
    if k <= 0:
        raise SettingsError(f"k must be greater than 0, not {k}")
    scores: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


class Retriever:
    """Hybrid retrieval over a passage store.

    Args:
        store: Where the passages are.
        embedder: Turns the question into a vector (see `qa.embed.Embedder`).
        candidates: Passages each retriever proposes before fusion.
        rrf_k: The RRF constant.
    """

    def __init__(self, store: PassageStore, embedder: EmbeddingModel, candidates: int = 20, rrf_k: int = 60) -> None:
        if candidates <= 0:
            raise SettingsError(f"candidates must be greater than 0, not {candidates}")
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k

    def retrieve(self, question: str, top_k: int, only: Collection[str] | None = None) -> list[Hit]:
        """The `top_k` passages for a question, best first; empty for an empty question or store.

        Args:
            only: Document ids to search in (None: all). Each search then ranks every passage
                (up to SCOPED_CANDIDATES) and keeps the best `candidates` of those documents.
        """
        if top_k <= 0:
            raise SettingsError(f"top_k must be greater than 0, not {top_k}")
        if not question.strip() or self.store.count() == 0:
            return []
        vector = self.embedder.embed([question])[0]
        if only is not None:
            k = min(self.store.count(), SCOPED_CANDIDATES)
            dense = [(c, s) for c, s in self.store.dense_search(vector, k) if c.doc_id in only][: self.candidates]
            keyword = [(c, s) for c, s in self.store.keyword_search(question, k) if c.doc_id in only][: self.candidates]
            return fuse_searches(dense, keyword, top_k, self.rrf_k)
        if isinstance(self.store, NativeHybridSearch):
            return self.store.hybrid_search(question, vector, top_k, self.candidates, self.rrf_k)
        dense = self.store.dense_search(vector, self.candidates)
        keyword = self.store.keyword_search(question, self.candidates)
        return fuse_searches(dense, keyword, top_k, self.rrf_k)
