"""Reciprocal rank fusion and hybrid retrieval."""

import pytest

from qa.retrieve import Retriever, reciprocal_rank_fusion
from qa.store.faiss_store import FaissStore
from tests.conftest import STORE_INFO as INFO, HashEmbedder, fill, make_docs


def test_rrf_by_hand():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [x for x, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)][0] == "b"


def test_rrf_edge_cases():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], ["x"]]) == [("x", pytest.approx(1 / 61))]
    with pytest.raises(ValueError, match="k must be greater than 0"):
        reciprocal_rank_fusion([["a"]], k=0)


class AliasEmbedder(HashEmbedder):
    """Embeds some questions as other texts: a stand-in for an embedder that knows synonyms."""

    def __init__(self, aliases=None):
        self.aliases = aliases or {}

    def embed(self, texts):
        return super().embed([self.aliases.get(t, t) for t in texts])


class FlatEmbedder(HashEmbedder):
    """Embeds every text alike: dense search ranks nothing, only keywords can."""

    def embed(self, texts):
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def test_hybrid_retrieval_finds_by_meaning_alone(tmp_path):
    # No word of the question is in any passage: only the dense side can find it.
    store = fill(FaissStore(tmp_path / "i", INFO), make_docs())
    r = Retriever(store, AliasEmbedder({"Where do gladiators fight?": "Colosseum Rome capital"}), candidates=5)
    assert store.keyword_search("Where do gladiators fight?", 5) == []
    assert r.retrieve("Where do gladiators fight?", 1)[0].chunk.source == "rome.txt"


def test_hybrid_retrieval_finds_by_rare_word_alone(tmp_path):
    # Dense search sees every passage as equal (first indexed first): only BM25 can rank tea first.
    store = fill(FaissStore(tmp_path / "i", INFO), make_docs())
    r = Retriever(store, FlatEmbedder(), candidates=5)
    assert store.chunks[0].source == "cats.txt"
    assert r.retrieve("camellia", 2)[0].chunk.source == "tea.txt"
    assert r.retrieve("Colosseum Titus", 1)[0].chunk.source == "rome.txt"


def test_hybrid_scores_are_the_fused_ranks(tmp_path):
    store = fill(FaissStore(tmp_path / "i", INFO), make_docs())
    hits = Retriever(store, HashEmbedder(), candidates=5, rrf_k=10).retrieve("cats", 3)
    assert hits[0].chunk.source == "cats.txt"
    assert hits[0].score == pytest.approx(1 / 11 + 1 / 11)  # first in both lists
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(Retriever(store, HashEmbedder(), candidates=5).retrieve("cats", 2)) == 2


def test_empty_question_or_store(tmp_path):
    r = Retriever(FaissStore(tmp_path / "i", INFO), HashEmbedder())
    assert r.retrieve("anything", 3) == []
    full = Retriever(fill(FaissStore(tmp_path / "j", INFO), make_docs()), HashEmbedder())
    assert full.retrieve("   ", 3) == []
    with pytest.raises(ValueError, match="top_k must be greater than 0"):
        full.retrieve("x", 0)


def test_retriever_settings(tmp_path):
    one = fill(FaissStore(tmp_path / "one", INFO), make_docs({"tea.txt": "Green tea from Camellia sinensis."}))
    hits = Retriever(one, HashEmbedder()).retrieve("tea", 5)  # one passage is enough to search
    assert [h.chunk.source for h in hits] == ["tea.txt"] and hits[0].score == pytest.approx(2 / 61)  # rrf_k 60
    assert Retriever(one, HashEmbedder()).candidates == 20
    assert Retriever(one, HashEmbedder(), candidates=1).retrieve("tea", 1)[0].chunk.source == "tea.txt"
    with pytest.raises(ValueError, match="candidates must be greater than 0, not 0"):
        Retriever(one, HashEmbedder(), candidates=0)
    assert reciprocal_rank_fusion([["a"]], k=1) == [("a", 0.5)]


class NativeStore:
    """A store that fuses dense and keyword results itself (as Milvus does), recording the call."""

    def __init__(self):
        self.calls = []

    def count(self):
        return 3

    def dense_search(self, vector, k):
        raise AssertionError("a store with native hybrid search is asked for the fused list")

    def keyword_search(self, query, k):
        raise AssertionError("a store with native hybrid search is asked for the fused list")

    def hybrid_search(self, query, vector, k, candidates, rrf_k):
        self.calls.append((query, list(vector), k, candidates, rrf_k))
        return ["fused"]


class OneVector:
    def embed(self, texts):
        import numpy as np

        return np.array([[0.6, 0.8] for _ in texts], dtype=np.float32)


def test_a_store_with_native_hybrid_search_gets_the_question_vector_and_settings():
    store = NativeStore()
    hits = Retriever(store, OneVector(), candidates=7, rrf_k=11).retrieve("Who built the lighthouse?", 4)
    assert hits == ["fused"]
    (query, vector, k, candidates, rrf_k), = store.calls
    assert (query, k, candidates, rrf_k) == ("Who built the lighthouse?", 4, 7, 11)
    assert vector == pytest.approx([0.6, 0.8])
