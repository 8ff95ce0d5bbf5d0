"""Shared fixtures. The test run is offline: any connection beyond this machine fails."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
for key in [k for k in os.environ if k.startswith("QA_")]:
    del os.environ[key]  # the user's own settings must not change test results

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_1d6ad4e23a77a5e2.txt"

_real_connect = socket.socket.connect


def _local_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0") and not host.startswith("/"):
        raise OSError(f"tests are offline: connection to {host} refused")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> None:
    socket.socket.connect = _local_only  # type: ignore[method-assign]


class HashEmbedder:
    """A deterministic bag-of-words embedder: fast, no model, good enough for retrieval tests."""

    name = "test-hash-embedder"
    dimension = 64

    def token_offsets(self, texts):
        return [[m.span() for m in re.finditer(r"\S+", t)] for t in texts]

    def embed(self, texts):
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Documents for the store tests: what the stores were built with, and three small documents.
STORE_INFO = {"embedder": "test-hash-embedder", "dimension": 64, "chunk_tokens": 40, "chunk_overlap": 5}
STORE_TEXTS = {
    "cats.txt": "Cats sleep most of the day. A cat purrs when it is content. Cats hunt mice at night.",
    "rome.txt": "Rome is the capital of Italy. The Colosseum was finished in 80 AD under Titus.",
    "tea.txt": "Green tea comes from Camellia sinensis leaves. Steep it at eighty degrees for two minutes.",
}


def make_docs(texts: dict[str, str] = STORE_TEXTS) -> list:
    """One document per (file name, text), titled after the file name."""
    from qa.types import Document, content_id

    return [Document(content_id(t), name, t, title=name.split(".")[0].title()) for name, t in texts.items()]


def chunks_of(docs: list) -> list:
    """The documents in passages of 40 words overlapping by 5, as STORE_INFO says."""
    from qa.chunk import chunk_document, whitespace_counter

    return [c for d in docs for c in chunk_document(d, whitespace_counter, 40, 5)]


def fill(store: object, docs: list) -> object:
    """`store` with `docs` added (hash-embedded passages); not saved."""
    chunks = chunks_of(docs)
    store.upsert(docs, chunks, HashEmbedder().embed([c.text for c in chunks]))  # type: ignore[attr-defined]
    return store


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT QA model with the packaged tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa.train.loop import packaged_encoder_path

    out = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(packaged_encoder_path())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_reader(tiny_bert: Path):
    """A reader over the tiny random model, with small windows, loaded once per session."""
    from qa.read import Reader, ReaderSettings

    reader = Reader(tiny_bert, ReaderSettings(max_length=128, stride=32))
    reader.warm_up()
    return reader


@pytest.fixture
def make_bot(tmp_path: Path, tiny_reader):
    """Makes chatbots with the hash embedder and the tiny reader over an index in tmp_path:
    `make_bot(seeds=True, **settings)`; opened, so the seed article is indexed when seeds=True."""

    def make(seeds: bool = False, **settings):
        from qa.chatbot import Chatbot
        from qa.config import Settings

        seed_dir = ROOT / "seeds" if seeds else tmp_path / "no-seeds"
        merged = {"index_dir": str(tmp_path / "index"), "seed_dir": str(seed_dir), **settings}
        bot = Chatbot(Settings(**merged), embedder=HashEmbedder(), reader=tiny_reader)
        bot.open()
        return bot

    return make


@pytest.fixture(scope="session")
def shipped_reader():
    """The shipped reader, loaded once per test session."""
    from qa.read import Reader

    reader = Reader()
    reader.warm_up()
    return reader


@pytest.fixture(scope="session")
def real_embedder():
    from qa.embed import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def seed_bot(tmp_path_factory, shipped_reader, real_embedder):
    """A chatbot over the seed article with the real models, in a temporary index."""
    from qa.chatbot import Chatbot
    from qa.config import Settings

    folder = tmp_path_factory.mktemp("seed-index")
    bot = Chatbot(Settings(index_dir=str(folder / "index"), seed_dir=str(ROOT / "seeds")), embedder=real_embedder, reader=shipped_reader)
    bot.open()
    return bot


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A real Milvus server (2.3, the `milvus` package's standalone build) on 127.0.0.1 at a free
    port, started once for the whole session (~10-25 s) and stopped at its end; its address."""
    from milvus import MilvusServer

    server = MilvusServer()
    server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server.listen_port = probe.getsockname()[1]
    server.start()
    try:
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        server.stop()
