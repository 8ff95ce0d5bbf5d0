"""One contract for every passage store: FAISS files and Milvus (Lite, in a temporary file)."""

import json
import uuid

import pytest

from qa.retrieve import Retriever

from qa.config import Settings
from qa.store.base import IndexMismatchError
from qa.store import open_store
from tests.conftest import ROOT, STORE_INFO, STORE_TEXTS, HashEmbedder, chunks_of, fill, make_docs, require

require("pymilvus")

INFO = STORE_INFO
LONG = " ".join(f"Sentence {i} of a long report on harbour cranes and tides." for i in range(400))
TEXTS = {
    **STORE_TEXTS,
    "volcano.txt": "The volcano erupted at dawn. Lava flowed down the volcano into the sea.",
    "museum.txt": "A small volcano museum opened downtown. Tickets cost five euros.",
    "unicode.md": "Zürich café — naïve façade, 東京 and Ωmega.\n\n  Trailing spaces and tabs\t\n",
    "long.txt": LONG,  # longer than one stored part of a Milvus document
}


@pytest.fixture(params=["faiss", "faiss-ivf", pytest.param("milvus", marks=pytest.mark.milvus),
                        pytest.param("milvus-ivf", marks=pytest.mark.milvus),
                        pytest.param("milvus-server", marks=[pytest.mark.milvus, pytest.mark.milvus_server])])
def stores(request, tmp_path):
    """Opens stores of one kind on one place; every store opened is closed after the test.
    The -ivf kinds search approximately (FAISS above its limit of passages; Milvus IVF_FLAT)."""
    settings = Settings(index_dir=str(tmp_path / "index"))
    if request.param == "faiss-ivf":
        settings = settings.replace(approximate_above=2)
    if request.param in ("milvus", "milvus-ivf"):
        settings = settings.replace(store=f"milvus://{tmp_path}/qa.db" + ("?index=IVF_FLAT" if request.param == "milvus-ivf" else ""))
    if request.param == "milvus-server":  # a collection of its own on the session's server
        settings = settings.replace(store=f"{request.getfixturevalue('milvus_server')}?collection=t{uuid.uuid4().hex[:12]}")
    opened = []

    def open_(info=INFO, fresh=False):
        store = open_store(settings, info, fresh=fresh)
        opened.append(store)
        return store

    open_.settings = settings
    yield open_
    for store in opened:
        store.close()


def reopen(store, stores, info=INFO):
    store.save()
    store.close()
    return stores(info)


def all_chunks(store, expected=()):
    """The passages a search reaches: all, for exact search; an approximate index may not reach
    every passage from one query, but each passage of `expected` must find itself."""
    found = {c for c, _ in store.dense_search(HashEmbedder().embed(["x"])[0], store.count())}
    for chunk, vector in zip(expected, HashEmbedder().embed([c.text for c in expected])):
        found |= {c for c, _ in store.dense_search(vector, 1)}
    return found


def by_source(docs, name):
    return next(d for d in docs if d.source == name)


def test_a_stored_vector_finds_itself_first(stores):
    store = fill(stores(), make_docs(TEXTS))
    chunks = chunks_of(make_docs(TEXTS))
    vectors = HashEmbedder().embed([c.text for c in chunks])
    for chunk, vector in list(zip(chunks, vectors))[:: max(1, len(chunks) // 15)]:
        found, score = store.dense_search(vector, 3)[0]
        assert found == chunk and score == pytest.approx(1.0, abs=1e-5)


def test_a_keyword_finds_its_document_first(stores):
    docs = make_docs(TEXTS)
    store = fill(stores(), docs)
    assert store.keyword_search("Colosseum Titus", 3)[0][0].doc_id == by_source(docs, "rome.txt").id
    assert store.keyword_search("camellia", 3)[0][0].source == "tea.txt"
    assert store.keyword_search("zzzz unknownword", 3) == []
    assert store.keyword_search("the of and", 3) == []  # stop words only


def test_delete_and_count_agree(stores):
    docs = make_docs(TEXTS)
    store = fill(stores(), docs)
    assert store.count() == len(chunks_of(docs))
    rome = by_source(docs, "rome.txt")
    assert store.delete([rome.id, "no-such-id"]) == 1
    assert store.delete([rome.id]) == 0
    assert store.count() == len(chunks_of(docs)) - len(chunks_of([rome]))
    assert rome.id not in store.documents and len(store.documents) == len(docs) - 1
    assert store.keyword_search("Colosseum", 3) == []
    assert all(c.doc_id != rome.id for c in all_chunks(store))


def test_hybrid_fuses_dense_and_keyword_lists(stores):
    docs = make_docs(TEXTS)
    store = fill(stores(), docs)
    volcano = chunks_of([by_source(docs, "volcano.txt")])[0]
    vector = HashEmbedder().embed([volcano.text])[0]
    dense = [c.id for c, _ in store.dense_search(vector, 2)]
    keyword = [c.id for c, _ in store.keyword_search("museum tickets volcano", 2)]
    only_dense, only_keyword = set(dense) - set(keyword), set(keyword) - set(dense)
    assert dense[0] == volcano.id and volcano.id in keyword and only_dense and only_keyword  # the data is right

    # Fusion is the retriever's (a store with native hybrid search, Milvus, fuses the same way).
    retriever = Retriever(store, _FixedEmbedder(vector), candidates=2, rrf_k=60)
    hits = retriever.retrieve("museum tickets volcano", 4)
    ids = [h.chunk.id for h in hits]
    assert ids[0] == volcano.id and hits[0].score == pytest.approx(1 / 61 + 1 / (61 + keyword.index(volcano.id)))
    assert set(ids) == set(dense) | set(keyword)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(retriever.retrieve("museum tickets volcano", 1)) == 1
    assert [h.chunk.id for h in retriever.retrieve("the", 2)] == dense


class _FixedEmbedder:
    """Embeds every question as one given vector."""

    def __init__(self, vector):
        self.vector = vector

    def embed(self, texts):
        import numpy as np

        return np.array([self.vector for _ in texts], dtype=np.float32)


def test_upsert_of_the_same_document_replaces_it(stores):
    docs = make_docs(TEXTS)
    store = fill(fill(stores(), docs), docs)
    assert store.count() == len(chunks_of(docs)) and len(store.documents) == len(docs)
    long = by_source(docs, "long.txt")
    first = chunks_of([long])[:2]
    store.upsert([long], first, HashEmbedder().embed([c.text for c in first]))
    assert store.count() == len(chunks_of(docs)) - len(chunks_of([long])) + 2
    assert {c for c in all_chunks(store) if c.doc_id == long.id} == set(first)


def test_save_and_reopen_round_trips_documents_and_chunks(stores):
    docs = make_docs(TEXTS)
    store = fill(stores(), docs)
    before = all_chunks(store, chunks_of(docs))
    assert before == set(chunks_of(docs))
    again = reopen(store, stores)
    assert again.documents == {d.id: d for d in docs}
    assert again.count() == len(before) and all_chunks(again, chunks_of(docs)) == before
    for c in before:
        assert again.documents[c.doc_id].text[c.start : c.end] == c.text
    assert stores(fresh=True).count() == 0


def test_every_store_meets_the_protocol(stores):
    from qa.store.base import PassageStore

    store = stores()
    wanted = [n for n in dir(PassageStore) if not n.startswith("_")] + list(PassageStore.__annotations__)
    assert wanted and all(hasattr(store, name) for name in wanted)
    with store.lock():
        assert store.is_stale() is False


def test_salvage_finds_every_saved_document_for_a_rebuild(stores):
    from qa.store import salvage_store

    docs = make_docs(TEXTS)
    store = fill(stores(), docs)
    store.save()
    store.close()
    salvage = salvage_store(stores.settings)
    assert sorted(d.source for d in salvage.documents) == sorted(TEXTS) and salvage.problems == []
    assert {d.id: d for d in salvage.documents} == {d.id: d for d in docs}
    fresh = stores(fresh=True)
    assert fresh.count() == 0 and not fresh.is_new  # a rebuild is not a new store to seed


def test_the_search_mode_is_described(stores):
    store = stores()
    assert ("BM25" in store.mode) and store.count() == 0
    if "server" in store.mode:  # Milvus 2.3 has no full-text search: BM25 and RRF run here
        assert "in this process" in store.mode


def test_another_writer_is_seen_after_its_save(stores):
    docs = make_docs(TEXTS)
    reader = fill(stores(), docs[:2])
    reader.save()
    writer = reader.copy() if "Lite" in reader.mode else stores()  # Milvus Lite: one process, one client
    fill(writer, docs[2:4]).save()
    if reader.is_stale():
        reader = stores()
    assert len(reader.documents) == 4
    assert reader.keyword_search("Camellia", 2)[0][0].source == "tea.txt"


def test_a_copy_changes_while_the_original_keeps_its_listing(stores):
    docs = make_docs(TEXTS)
    store = fill(stores(), docs[:2])
    updated = fill(store.copy(), docs[2:3])
    assert len(store.documents) == 2 and len(updated.documents) == 3
    updated.save()
    assert len(reopen(updated, stores).documents) == 3


def test_mismatched_build_info_is_refused_with_the_documents(stores):
    store = fill(stores(), make_docs(TEXTS))
    store.save()
    store.close()
    with pytest.raises(IndexMismatchError, match="chunk_tokens: index has 40, settings say 100") as err:
        stores({**INFO, "chunk_tokens": 100})
    assert sorted(d.source for d in err.value.documents) == sorted(TEXTS)


QUESTIONS = ["What did Xi say?", "Who did Lee meet on Tuesday?", "What is the capital of France?"]


@pytest.mark.slow
def test_the_chatbot_answers_the_same_from_milvus_and_faiss(tmp_path, seed_bot, shipped_reader, real_embedder):
    from qa.chatbot import Chatbot

    settings = Settings(index_dir=str(tmp_path / "unused"), store=f"milvus://{tmp_path}/qa.db", seed_dir=str(ROOT / "seeds"))
    milvus_bot = Chatbot(settings, embedder=real_embedder, reader=shipped_reader)
    milvus_bot.open()
    try:
        assert milvus_bot.documents() and milvus_bot.store.count() == seed_bot.store.count()
        for question in QUESTIONS:
            a, b = seed_bot.ask(question), milvus_bot.ask(question)
            assert (a.text, a.source, a.start, a.end, a.abstained) == (b.text, b.source, b.start, b.end, b.abstained), question
    finally:
        milvus_bot.store.close()


@pytest.mark.slow
def test_e2e_eval_runs_on_a_milvus_store(tmp_path, monkeypatch, shipped_reader, real_embedder):
    from qa.eval.run import run_eval

    monkeypatch.setattr("qa.embed.Embedder", lambda *a, **k: real_embedder)
    monkeypatch.setattr("qa.read.Reader", lambda *a, **k: shipped_reader)
    squad = {"version": "v2.0", "data": [{"title": "Towns", "paragraphs": [
        {"context": "Lyon is a city in France. It is known for its food and its silk.", "qas": [
            {"id": "q1", "question": "What is Lyon known for?", "answers": [{"text": "its food and its silk", "answer_start": 42}], "is_impossible": False},
            {"id": "q2", "question": "Who founded Lyon?", "answers": [], "is_impossible": True}]},
        {"context": "Oslo is the capital of Norway. It lies at the end of a fjord.", "qas": [
            {"id": "q3", "question": "What is the capital of Norway?", "answers": [{"text": "Oslo", "answer_start": 0}], "is_impossible": False}]},
    ]}]}
    file = tmp_path / "tiny-squad.json"
    file.write_text(json.dumps(squad))
    summary = run_eval({"store": f"milvus://{tmp_path}/eval.db"}, file, "e2e")
    metrics = summary["metrics"]
    assert metrics["mode"] == "e2e" and metrics["questions"] == 3
    assert {"exact", "f1", "retrieval_recall", "latency_p50_ms"} <= set(metrics)
    assert metrics["retrieval_recall"] == 100.0
