"""The chatbot on a real Milvus server (the session's `milvus_server`, Milvus 2.3 standalone on
127.0.0.1): the same answers as FAISS, a page and a `qa index` in another process sharing it,
and a 2-node Ray cluster ingesting into it."""

import os
import subprocess
import sys
import uuid

import pytest

from qa.chatbot import Chatbot
from qa.config import Settings
from qa.retrieve import Retriever
from tests.conftest import ROOT, HashEmbedder

pytestmark = [pytest.mark.milvus, pytest.mark.milvus_server]
QUESTIONS = ["What did Xi say?", "Who did Lee meet on Tuesday?", "What is the capital of France?", "What has North Korea refused?"]


def server_store(milvus_server):
    return f"{milvus_server}?collection=t{uuid.uuid4().hex[:12]}"


def bot_on(tmp_path, store, embedder, reader, seeds=ROOT / "seeds"):
    settings = Settings(index_dir=str(tmp_path / "index"), store=store, seed_dir=str(seeds))
    bot = Chatbot(settings, embedder=embedder, reader=reader)
    bot.open()
    return bot


def answers(bot):
    return [(a.text, a.source, a.start, a.end, a.abstained) for a in map(bot.ask, QUESTIONS)]


def test_the_chatbot_answers_the_same_on_the_server_as_on_faiss_with_the_hash_embedder(tmp_path, milvus_server, tiny_bert):
    from qa.read import Reader, ReaderSettings

    reader = Reader(tiny_bert, ReaderSettings(max_length=128, stride=32))
    faiss_bot = bot_on(tmp_path / "faiss", "", HashEmbedder(), reader)
    milvus_bot = bot_on(tmp_path / "milvus", server_store(milvus_server), HashEmbedder(), reader)
    try:
        assert "the Milvus server" in milvus_bot.store.mode and "in this process" in milvus_bot.store.mode
        assert milvus_bot.store.count() == faiss_bot.store.count() > 0
        for question in QUESTIONS:
            a = Retriever(faiss_bot.store, HashEmbedder()).retrieve(question, 5)
            b = Retriever(milvus_bot.store, HashEmbedder()).retrieve(question, 5)
            assert [h.chunk.id for h in a] == [h.chunk.id for h in b], question
        assert answers(milvus_bot) == answers(faiss_bot)
    finally:
        milvus_bot.store.close()


@pytest.mark.slow
def test_the_chatbot_answers_the_same_on_the_server_as_on_faiss(tmp_path, milvus_server, seed_bot, shipped_reader, real_embedder):
    milvus_bot = bot_on(tmp_path, server_store(milvus_server), real_embedder, shipped_reader)
    try:
        assert milvus_bot.store.count() == seed_bot.store.count()
        assert answers(milvus_bot) == answers(seed_bot)
    finally:
        milvus_bot.store.close()


INDEX_IN_ANOTHER_PROCESS = """
import sys
sys.path[:0] = [{root!r}]
import qa.embed
from tests.conftest import HashEmbedder
qa.embed.Embedder = lambda *a, **k: HashEmbedder()
from qa.cli import main
sys.argv = ["qa", "--store", {store!r}, "index", {path!r}]
main()
"""


def test_a_page_and_qa_index_in_another_process_share_the_server(tmp_path, milvus_server, tiny_bert):
    import socket

    from gradio_client import Client

    from qa.app import serve
    from qa.read import Reader, ReaderSettings

    store = server_store(milvus_server)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(index_dir=str(tmp_path / "index"), store=store, seed_dir=str(ROOT / "seeds"), port=port)
    bot = Chatbot(settings, embedder=HashEmbedder(), reader=Reader(tiny_bert, ReaderSettings(max_length=128, stride=32)))
    bot.open()
    demo = serve(bot, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict("What did Xi say?", [], api_name="/ask")
        new = tmp_path / "harbour.txt"
        new.write_text("The harbour crane lifted forty containers before the tide turned.")
        env = {**os.environ, "QA_SEED_DIR": str(tmp_path / "none"), "QA_INDEX_DIR": str(tmp_path / "index")}
        code = INDEX_IN_ANOTHER_PROCESS.format(root=str(ROOT), store=store, path=str(new))
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "indexed 1 document" in done.stdout, done.stdout + done.stderr
        client.predict("How many containers did the crane lift?", [], api_name="/ask")  # the page notices the new save
        assert "harbour.txt" in [d.source for d in bot.documents()]
        hits = Retriever(bot.store, HashEmbedder()).retrieve("harbour crane containers tide", 3)
        assert hits[0].chunk.source == "harbour.txt"
    finally:
        demo.close()
        bot.store.close()


@pytest.mark.slow
def test_a_two_node_ray_cluster_ingests_into_the_server(tmp_path, milvus_server, cluster_address):
    from qa.ray_ingest import index_with_ray
    from tests.conftest import write_corpus

    corpus = write_corpus(tmp_path / "docs")
    settings = Settings(index_dir=str(tmp_path / "index"), store=server_store(milvus_server), seed_dir=str(tmp_path / "none"), chunk_tokens=40, chunk_overlap=5)
    bot = Chatbot(settings, embedder=HashEmbedder())
    bot.open()
    report = index_with_ray(bot, [corpus], workers=2, batch_size=2, write_batch=10, save_every=20,
                            address=cluster_address, embedder_factory=HashEmbedder)
    plain = Chatbot(settings.replace(store="", index_dir=str(tmp_path / "plain")), embedder=HashEmbedder())
    plain.open()
    expected = plain.add_paths([corpus])
    try:
        assert sorted(report.added) == sorted(expected.added) and len(report.added) == 6
        assert bot.store.count() == plain.store.count() == report.passages
        assert bot.store.documents == plain.store.documents
    finally:
        bot.store.close()
