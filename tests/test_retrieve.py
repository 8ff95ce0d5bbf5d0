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


def test_hybrid_retrieval_finds_by_meaning_and_by_rare_word(tmp_path):
    store = fill(FaissStore(tmp_path / "i", INFO), make_docs())
    r = Retriever(store, HashEmbedder(), candidates=5)
    assert r.retrieve("When was the Colosseum finished?", 1)[0].chunk.source == "rome.txt"
    assert r.retrieve("camellia", 2)[0].chunk.source == "tea.txt"
    hits = r.retrieve("cats", 3)
    assert hits[0].chunk.source == "cats.txt"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_empty_question_or_store(tmp_path):
    r = Retriever(FaissStore(tmp_path / "i", INFO), HashEmbedder())
    assert r.retrieve("anything", 3) == []
    full = Retriever(fill(FaissStore(tmp_path / "j", INFO), make_docs()), HashEmbedder())
    assert full.retrieve("   ", 3) == []
    with pytest.raises(ValueError, match="top_k must be greater than 0"):
        full.retrieve("x", 0)
