"""The FAISS store: save, load, update, mismatch, damage, and crashes mid-write."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from qa.store.faiss_store import FaissStore, IndexCorruptError, IndexMismatchError, build_faiss
from tests.conftest import ROOT, STORE_INFO as INFO, STORE_TEXTS as TEXTS, HashEmbedder, fill, make_docs


def test_save_load_roundtrip_and_search(tmp_path):
    store = fill(FaissStore(tmp_path / "idx", INFO), make_docs())
    store.save()
    loaded = FaissStore.load(tmp_path / "idx", INFO)
    assert loaded.count() == store.count() == 3
    assert set(d.source for d in loaded.documents.values()) == set(TEXTS)
    q = HashEmbedder().embed(["capital of Italy"])[0]
    assert loaded.dense_search(q, 1)[0][0].source == "rome.txt"
    assert loaded.keyword_search("Colosseum Titus", 2)[0][0].source == "rome.txt"
    assert loaded.keyword_search("zzzz unknownword", 2) == []
    manifest = json.loads(next((tmp_path / "idx").glob("gen-*/manifest.json")).read_text())
    assert manifest["embedder"] == "test-hash-embedder" and manifest["dimension"] == 64
    assert manifest["chunk_tokens"] == 40 and len(manifest["documents"]) == 3


def test_add_and_remove_without_rebuilding(tmp_path):
    docs = make_docs()
    store = fill(FaissStore(tmp_path / "idx", INFO), docs[:2])
    store.save()
    vectors_before = store.vectors()
    store = FaissStore.load(tmp_path / "idx", INFO)
    fill(store, docs[2:])
    assert np.allclose(store.vectors()[: len(vectors_before)], vectors_before)  # old vectors kept, not re-embedded
    assert store.delete([docs[0].id]) == 1
    assert store.delete(["nope"]) == 0
    store.save()
    loaded = FaissStore.load(tmp_path / "idx", INFO)
    assert sorted(d.source for d in loaded.documents.values()) == ["rome.txt", "tea.txt"]
    assert all(c.doc_id != docs[0].id for c in loaded.chunks)
    assert loaded.keyword_search("cats purrs", 3) == []


def test_upsert_same_document_replaces_it(tmp_path):
    docs = make_docs()
    store = fill(fill(FaissStore(tmp_path / "idx", INFO), docs), docs)
    assert store.count() == 3 and len(store.documents) == 3


def test_settings_mismatch_is_refused_with_the_documents(tmp_path):
    fill(FaissStore(tmp_path / "idx", INFO), make_docs()).save()
    with pytest.raises(IndexMismatchError, match="chunk_tokens: index has 40, settings say 100") as err:
        FaissStore.load(tmp_path / "idx", {**INFO, "chunk_tokens": 100})
    assert len(err.value.documents) == 3


@pytest.mark.parametrize("damage", ["truncate_faiss", "garbage_chunks", "drop_manifest"])
def test_damaged_index_gives_a_clear_message(tmp_path, damage):
    fill(FaissStore(tmp_path / "idx", INFO), make_docs()).save()
    gen = next((tmp_path / "idx").glob("gen-*"))
    if damage == "truncate_faiss":
        data = (gen / "vectors.faiss").read_bytes()
        (gen / "vectors.faiss").write_bytes(data[: len(data) // 3])
    elif damage == "garbage_chunks":
        (gen / "chunks.jsonl").write_text("{not json")
    elif damage == "drop_manifest":
        (gen / "manifest.json").unlink()
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        FaissStore.load(tmp_path / "idx", INFO)


def test_a_garbled_pointer_falls_back_to_the_newest_intact_generation(tmp_path):
    store = fill(FaissStore(tmp_path / "idx", INFO), make_docs())
    store.save()
    fill(store, make_docs({"new.txt": "A newer document about rivers."})).save()
    (tmp_path / "idx" / "CURRENT").write_text("\x00\x01")
    assert len(FaissStore.load(tmp_path / "idx", INFO).documents) == 4


# Kills at every step of a save, whatever calls it makes: tests/test_atomic.py (in make check);
# this one kills a real saving loop at moments of the clock's choosing, so it runs in make test.


@pytest.mark.slow
def test_kill_at_random_moments_never_breaks_the_index(tmp_path):
    fill(FaissStore(tmp_path / "idx", INFO), make_docs()).save()
    loop = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(ROOT)!r}]
        from qa.store.faiss_store import FaissStore; from tests.conftest import STORE_INFO as INFO, fill, make_docs
        i = 0
        while True:
            store = FaissStore.load({str(tmp_path / "idx")!r}, INFO)
            fill(store, make_docs({{f"n{{i}}.txt": f"Document number {{i}} about rivers."}}))
            store.save(); i += 1
    """)
    for delay in (0.9, 1.3, 1.7, 2.2):
        proc = subprocess.Popen([sys.executable, "-c", loop], cwd=ROOT)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        loaded = FaissStore.load(tmp_path / "idx", INFO)
        assert loaded.count() == len(loaded.chunks) >= 3


def test_approximate_index_above_the_limit_finds_neighbours():
    # Clustered like sentence embeddings (topics), not uniform: what IVF's lists are made for.
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 32))
    vectors = (centres[rng.integers(0, 40, 2000)] + 0.35 * rng.normal(size=(2000, 32))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, approx = build_faiss(vectors, 10_000), build_faiss(vectors, 1000)
    assert type(exact).__name__ == "IndexFlatIP" and type(approx).__name__ == "IndexIVFFlat"
    assert approx.nprobe == 16 < approx.nlist
    _, e_ids = exact.search(vectors[:50], 10)
    _, a_ids = approx.search(vectors[:50], 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(a_ids, e_ids)])
    assert recall > 0.9
    assert (a_ids[:, 0] == np.arange(50)).all()
