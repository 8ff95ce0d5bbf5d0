"""The FAISS index itself: exact or approximate by size, its list count, vectors read back, and
searches that ask for nothing or hold nothing."""

from __future__ import annotations

import numpy as np
import pytest

from qa.store.faiss_store import FaissStore, _all_vectors, build_faiss
from tests.conftest import STORE_INFO as INFO, HashEmbedder, fill, make_docs


def _unit_vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_an_index_of_exactly_the_limit_is_exact_and_one_more_is_approximate():
    import faiss

    vectors = _unit_vectors(41)
    assert isinstance(build_faiss(vectors[:40], approximate_above=40), faiss.IndexFlatIP)
    approximate = build_faiss(vectors, approximate_above=40)
    assert faiss.try_extract_index_ivf(approximate) is not None and approximate.ntotal == 41


@pytest.mark.parametrize("n,lists", [
    (41, 1),  # under 78 vectors: one list (at least 39 training vectors per list)
    (3_900, 100),  # 39 training vectors per list binds: 3,900 // 39
    (40_000, 800),  # about 4 * sqrt(n) binds: 4 * 200
])
def test_the_number_of_lists_follows_the_rule(n, lists):
    import faiss

    index = build_faiss(_unit_vectors(n), approximate_above=10)
    assert faiss.try_extract_index_ivf(index).nlist == lists


def test_vectors_are_read_back_from_an_approximate_index_without_its_direct_map():
    import faiss

    vectors = _unit_vectors(200)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(8), 8, 4, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    index.add(vectors)  # as an index written by an older version: no direct map
    back = _all_vectors(index)
    assert back.shape == (200, 8) and np.allclose(back, vectors)
    assert np.allclose(_all_vectors(build_faiss(vectors, approximate_above=1000)), vectors)


def test_an_empty_index_reads_back_no_vectors_of_its_width():
    import faiss

    back = _all_vectors(faiss.IndexFlatIP(8))
    assert back.shape == (0, 8) and back.dtype == np.float32


@pytest.fixture
def store(tmp_path):
    return fill(FaissStore(tmp_path / "idx", INFO), make_docs())


def test_searches_that_ask_for_nothing_find_nothing(store):
    vector = HashEmbedder().embed(["cats hunt mice"])[0]
    assert store.dense_search(vector, 0) == [] and store.keyword_search("cats hunt mice", 0) == []
    assert store.dense_search(vector, -1) == [] and store.keyword_search("cats", -1) == []
    assert store.keyword_search("?! ...", 3) == []  # no word to look for


def test_an_empty_store_finds_nothing(tmp_path):
    empty = FaissStore(tmp_path / "empty", INFO)
    assert empty.dense_search(HashEmbedder().embed(["cats"])[0], 3) == []
    assert empty.keyword_search("cats", 3) == []


def test_a_query_vector_may_be_a_plain_list_of_numbers(store):
    vector = HashEmbedder().embed(["cats hunt mice at night"])[0]
    as_list = [float(x) for x in vector]  # float64 once numpy reads it
    hits = store.dense_search(as_list, 2)
    assert [c.id for c, _ in hits] == [c.id for c, _ in store.dense_search(vector, 2)]
    assert "Cats hunt mice" in hits[0][0].text
