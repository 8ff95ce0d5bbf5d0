"""Shared fixtures. The test run is offline: any connection beyond this machine fails."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if "MUTANT_UNDER_TEST" in os.environ:
    # `make mutants` forks a test process per mutant from one that already ran torch: a torch
    # thread pool does not survive a fork (the child can hang), so it runs single-threaded.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if os.environ["MUTANT_UNDER_TEST"] == "stats":
        # Its first pass maps tests to the functions they reach, in this process only (it keeps
        # its own copy of the mark): a child process started by a test runs the plain code.
        del os.environ["MUTANT_UNDER_TEST"]
for key in [k for k in os.environ if k.startswith("QA_")]:
    del os.environ[key]  # the user's own settings must not change test results

ROOT = Path(__file__).resolve().parent.parent
# Tests keep their caches (formats timed on this processor, exported ONNX files, the unpacked
# accurate base) in the checkout's own .cache/: a format timed while the tests load the machine
# must not become the one the user's `qa` runs with.
os.environ["XDG_CACHE_HOME"] = str(ROOT / ".cache")
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



@functools.lru_cache(maxsize=None)
def _tiny_bert_folder() -> Path:
    """Built once per process (module-level, so the mutation run's forked test processes inherit
    it) in a folder removed when the process that built it ends."""
    import atexit
    import shutil
    import tempfile

    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa.train.loop import packaged_encoder_path

    out = Path(tempfile.mkdtemp(prefix="qa-tiny-bert-"))
    atexit.register(shutil.rmtree, out, True)
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
def tiny_bert() -> Path:
    """A randomly initialised 2-layer BERT QA model with the packaged tokenizer."""
    return _tiny_bert_folder()


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
def default_seed_bot(tmp_path_factory, real_embedder):
    """A chatbot over the seed article with the default reader (the cascade: the fast and the
    accurate reader), as a user gets it."""
    from qa.chatbot import Chatbot
    from qa.config import Settings

    folder = tmp_path_factory.mktemp("default-seed-index")
    bot = Chatbot(Settings(index_dir=str(folder / "index"), seed_dir=str(ROOT / "seeds")), embedder=real_embedder)
    bot.open()
    return bot


@pytest.fixture(scope="session")
def milvus_server(milvus_server_process):
    """The address of the session's real Milvus server (`milvus_server_process`)."""
    return f"http://127.0.0.1:{milvus_server_process.listen_port}"


@pytest.fixture(scope="session")
def milvus_server_process(tmp_path_factory):
    """A real Milvus server (2.3, the `milvus` package's standalone build) on 127.0.0.1 at a free
    port, started once for the whole session (~10-25 s) and stopped at its end: the running
    `milvus.MilvusServer` (its `server_proc` is the process)."""
    import milvus
    from milvus import MilvusServer, MilvusServerConfig

    base = tmp_path_factory.mktemp("milvus-server")
    # Its embedded etcd would take the fixed peer port 2380 (and two test runs would collide):
    # an etcd configuration of its own, on free ports, given through a copy of the template.
    peer, client = free_port(), free_port()
    etcd = base / "embed-etcd.yaml"
    etcd.write_text(f"listen-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\n"
                    f"initial-cluster: default=http://127.0.0.1:{peer}\n"
                    f"listen-client-urls: http://127.0.0.1:{client}\nadvertise-client-urls: http://127.0.0.1:{client}\n")
    template = (Path(milvus.__file__).parent / "data" / "config.yaml.template").read_text(encoding="utf-8")
    template = template.replace("  use:\n    embed: true", f"  use:\n    embed: true\n  config:\n    path: {etcd}", 1)
    template = template.replace("localhost:{{ etcd_port(int): 2379 }}", f"127.0.0.1:{client}", 1)
    (base / "milvus.yaml.template").write_text(template, encoding="utf-8")
    config = MilvusServerConfig(template=str(base / "milvus.yaml.template"))
    config.glog_conf_file = str(Path(milvus.__file__).parent / "data" / "glog.conf")  # set only for its own template
    # Every other port too: the package probes fixed defaults (the root coordinator's 53100, 19529,
    # 9091, ...) by binding and releasing them, so two test runs starting servers at once could both
    # find one free and then collide ("listen tcp :53100: bind: address already in use", seen with
    # two `make test` at once). Probing from ports the kernel picks makes that all but impossible.
    for key in [k for k in config.configurable_items if k.endswith("_port")]:
        config.set(key, free_port())
    server = MilvusServer(config)
    server.set_base_dir(str(base / "data"))
    server.listen_port = free_port()
    server.webservice_port = free_port()  # health and metrics
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ScriptedReader:
    """A reader with fixed answers and scores, no model: it decides nothing, so the tests of
    answer assembly and the chatbot see exactly the decisions made after reading.

    Args:
        script: Answer text -> reader score. Every occurrence of the text in a passage read
            becomes a span with that score.
        folder: Where `calibration.json` is looked for (the chatbot loads it from the reader's
            `model_path`); write one with `calibrate`.
    """

    def __init__(self, script: dict[str, float], folder: Path) -> None:
        self.script = dict(script)
        self.model_path = Path(folder)
        self.questions: list[str] = []

    def calibrate(self, slope: float, intercept: float, threshold: float) -> "ScriptedReader":
        from qa.calibration import Calibration

        self.model_path.mkdir(parents=True, exist_ok=True)
        Calibration(slope, intercept, threshold, "scripted").save(self.model_path / "calibration.json")
        return self

    def warm_up(self) -> None:
        """Nothing to load."""

    def read(self, question, passages):
        return self.read_many([(question, passages)])[0]

    def read_many(self, items):
        from qa.types import Span

        out = []
        for question, passages in items:
            self.questions.append(question)
            spans = [
                Span(p, m.start(), m.end(), text, score)
                for p, passage in enumerate(passages)
                for text, score in self.script.items()
                for m in re.finditer(re.escape(text), passage)
            ]
            out.append(sorted(spans, key=lambda s: -s.score))
        return out


@pytest.fixture
def scripted_reader(tmp_path):
    """Make a `ScriptedReader` from a script; its calibration lives in the test's folder."""

    def make(script: dict[str, float], slope: float = 1.0, intercept: float = 0.0, threshold: float = 0.0) -> ScriptedReader:
        return ScriptedReader(script, tmp_path / "scripted-reader").calibrate(slope, intercept, threshold)

    return make


@functools.lru_cache(maxsize=None)
def loaded_conversation():
    """One `Conversation` with spaCy loaded, shared by all tests: loading takes seconds, and a
    Conversation keeps nothing of a chat between calls. (Module-level, so that the mutation
    run's forked test processes inherit it loaded.)"""
    from qa.conversation import Conversation

    conv = Conversation()
    conv.nlp  # noqa: B018 - loads it
    return conv


def require(module: str):
    """Import a module the test extras provide, or fail the run saying how to install them:
    a missing extra must never turn its tests into quiet skips."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        pytest.fail(
            f"{module} is not installed ({err}). The tests need the test extras: "
            "run `pip install -e '.[test]'` (or `make install`) and run them again.",
            pytrace=False,
        )


# The Ray ingest tests (FAISS and the Milvus server): a corpus and a 2-node cluster on loopback.
WORDS = "alpha beta gamma delta river mountain city harbour bridge engine rocket violin tide crane".split()


def write_corpus(folder):
    """Six documents of random words, a duplicate and an empty file: the Ray ingest corpus."""
    import numpy as np

    rng = np.random.default_rng(7)
    folder.mkdir()
    for i in range(6):
        sentences = [" ".join(rng.choice(WORDS, 10)).capitalize() + f" number {i}." for _ in range(12)]
        (folder / f"doc{i}.txt").write_text(" ".join(sentences))
    (folder / "copy-of-doc0.txt").write_text((folder / "doc0.txt").read_text())
    (folder / "empty.txt").write_text("")
    return folder


@pytest.fixture(scope="session")
def cluster_address():
    import ray
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "object_store_memory": 80 * 1024 * 1024}
    for attempt in (1, 2):  # Ray gives a node 30 s to start: a busy machine can miss that once
        cluster = Cluster(shutdown_at_exit=True)
        try:
            cluster.add_node(**node, include_dashboard=False, include_log_monitor=False)
            cluster.add_node(**node)
            cluster.wait_for_nodes()
            break
        except Exception:
            cluster.shutdown()
            if attempt == 2:
                raise
    yield cluster.address
    ray.shutdown()
    cluster.shutdown()
