"""The FAISS index itself: exact or approximate by size, its list count, vectors read back, and
searches that ask for nothing or hold nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from qa.store.base import DocumentArchive, IndexCorruptError
from qa.store.faiss_store import FaissStore, _all_vectors, build_faiss
from tests.conftest import STORE_INFO as INFO, HashEmbedder, chunks_of, fill, make_docs


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


def test_a_document_deleted_in_two_steps_before_a_save_is_gone_from_the_kept_copies(tmp_path):
    store = fill(FaissStore(tmp_path / "idx", INFO), make_docs())
    store.save()
    cats, rome = (d.id for d in make_docs()[:2])
    store.delete([cats])
    store.delete([rome])
    store.save()
    kept = set(DocumentArchive(tmp_path / "idx" / "documents").ids())
    assert cats not in kept and rome not in kept and len(kept) == 1  # a rebuild cannot bring them back


def test_another_process_s_save_is_seen_after_a_refresh_with_the_same_settings(tmp_path):
    first = fill(FaissStore(tmp_path / "idx", INFO, approximate_above=7), make_docs())
    first.save()
    second = FaissStore.load(tmp_path / "idx", INFO, approximate_above=7)
    assert second.refresh() is second  # nothing newer yet
    more = make_docs({"owls.txt": "Owls hunt at night and sleep by day."})
    first.upsert(more, chunks_of(more), HashEmbedder().embed([c.text for c in chunks_of(more)]))
    first.save()
    fresh = second.refresh()
    assert more[0].id in fresh.documents and fresh.approximate_above == 7
    assert fresh.copy().approximate_above == 7


def test_a_saved_keyword_index_is_read_not_rebuilt(tmp_path, monkeypatch, caplog):
    import qa.store.faiss_store as faiss_store

    fill(FaissStore(tmp_path / "idx", INFO), make_docs()).save()
    loaded = FaissStore.load(tmp_path / "idx", INFO)

    def rebuild(texts):
        raise AssertionError("the keyword index was rebuilt from the passages")

    monkeypatch.setattr(faiss_store, "bm25_index", rebuild)
    hits = loaded.keyword_search("Colosseum Titus", 2)
    assert "Colosseum" in hits[0][0].text
    assert "rebuilding" not in caplog.text


@pytest.mark.parametrize("keep", ["CURRENT", "generations", "documents"])
def test_a_folder_with_any_part_of_an_index_left_is_an_index(tmp_path, keep):
    folder = tmp_path / "idx"
    fill(FaissStore(folder, INFO), make_docs()).save()
    for part in folder.iterdir():
        is_gen = part.name.startswith("gen-")
        wanted = (keep == "CURRENT" and part.name == "CURRENT") or (keep == "generations" and is_gen) or (keep == "documents" and part.name == "documents")
        if not wanted and part.name != ".lock":
            shutil.rmtree(part) if part.is_dir() else part.unlink()
    assert FaissStore.exists(folder)
    shutil.rmtree(folder)
    folder.mkdir()
    assert not FaissStore.exists(folder)


@pytest.mark.parametrize("edit", [{"chunks": 999}, {"format": "an older format"}])
def test_a_manifest_that_does_not_match_its_files_is_refused_with_how_to_rebuild(tmp_path, edit):
    folder = tmp_path / "idx"
    fill(FaissStore(folder, INFO), make_docs()).save()
    manifest_file = next(folder.glob("gen-*")) / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest.update(edit)
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="incomplete or from another version") as refused:
        FaissStore.load(folder, INFO)
    assert "qa index --rebuild" in str(refused.value) and f"delete the folder {folder}" in str(refused.value)


def test_opening_a_folder_without_an_index_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no index in {tmp_path / 'nothing'}"):
        FaissStore.load(tmp_path / "nothing", INFO)


def test_passages_and_vectors_of_different_counts_are_refused_with_both_counts(tmp_path):
    docs = make_docs()
    chunks = chunks_of(docs)
    vectors = HashEmbedder().embed([c.text for c in chunks])
    with pytest.raises(ValueError, match=f"^{len(chunks)} passages but {len(chunks) - 1} vectors$"):
        FaissStore(tmp_path / "idx", INFO).upsert(docs, chunks, vectors[:-1])
