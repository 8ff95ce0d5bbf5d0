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
