"""Fast start-up: commands that need no model load none, and the chat page is up before its
models (a question asked meanwhile waits for them and is answered)."""

import json
import socket
import subprocess
import sys
import threading

from qa.chatbot import Chatbot
from qa.config import Settings
from qa.embed import PACKAGED_NAME, Embedder, folder_dimension, packaged_model_dir
from qa.read import Reader, ReaderSettings
from tests.conftest import ROOT, SEED, HashEmbedder

HEAVY = ("torch", "transformers", "sentence_transformers")


class PackagedLookalike(HashEmbedder):
    """Builds an index that the real embedder's settings accept, without loading it."""

    name = PACKAGED_NAME
    dimension = 384


def run_cli(*args: str) -> dict:
    """Runs `qa ARGS` in a fresh interpreter; its output and the heavy modules it imported."""
    code = (
        "import sys, io, contextlib\n"
        "from qa.cli import cli\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    try: cli({list(args)!r}, prog_name='qa')\n"
        "    except SystemExit as e: code = e.code\n"
        f"print(__import__('json').dumps({{'out': out.getvalue(), 'code': code, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "QA_SEED_DIR": str(ROOT / "tests" / "no-such-folder"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_folder_dimension_is_read_without_loading_the_model():
    assert folder_dimension(packaged_model_dir()) == 384
    embedder = Embedder()
    assert embedder.dimension == 384 and not embedder.loaded


def test_folder_dimension_unknown_for_a_folder_without_modules(tmp_path):
    assert folder_dimension(tmp_path) is None


def test_documents_and_remove_load_no_model(tmp_path):
    index = tmp_path / "index"
    bot = Chatbot(Settings(index_dir=str(index), seed_dir=str(tmp_path / "none")), embedder=PackagedLookalike(), reader=object())
    bot.open()
    (tmp_path / "a.txt").write_text("Alpha paragraph about lighthouses.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Beta paragraph about harbours.", encoding="utf-8")
    bot.add_paths([tmp_path / "a.txt", tmp_path / "b.txt"])

    listed = run_cli("--index", str(index), "documents")
    assert "a.txt" in listed["out"] and "b.txt" in listed["out"]
    assert listed["heavy"] == []

    greeting = run_cli("--index", str(index), "ask", "hello")  # `qa ask` loads only what it needs
    assert "a.txt" in greeting["out"] and greeting["heavy"] == []

    removed = run_cli("--index", str(index), "index", "--remove", "a.txt")
    assert "removed: a.txt" in removed["out"] and removed["heavy"] == []
    assert [d.source for d in Chatbot(bot.settings, embedder=PackagedLookalike(), reader=object()).documents()] == ["b.txt"]


def test_argument_errors_load_no_model(tmp_path):
    result = run_cli("--index", str(tmp_path / "i"), "ask")  # the question is missing
    assert result["code"] == 2 and result["heavy"] == []


class GatedReader(Reader):
    """A tiny reader whose loading waits until the test opens the gate."""

    def __init__(self, path, gate: threading.Event) -> None:
        super().__init__(path, ReaderSettings(max_length=128, stride=32))
        self.gate = gate

    def warm_up(self) -> None:
        self.gate.wait(timeout=600)
        super().warm_up()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_page_is_up_before_the_models_and_a_question_waits_for_them(tmp_path, tiny_bert):
    from gradio_client import Client

    from qa.app import LOADING_NOTE, serve

    gate = threading.Event()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(index_dir=str(tmp_path / "index"), seed_dir=str(seeds), port=_free_port())
    bot = Chatbot(settings, embedder=HashEmbedder(), reader=GatedReader(tiny_bert, gate))
    bot.open()
    demo = serve(bot, block=False)  # returns while the reader is still "loading"
    try:
        assert not gate.is_set() and not bot.reader.loaded
        job = Client(f"http://127.0.0.1:{settings.port}/", verbose=False).submit("What did Xi say?", [], api_name="/ask")
        for _ in range(6000):  # the machine may be busy: up to 5 minutes for the first reply
            if job.outputs():
                break
            threading.Event().wait(0.05)
        first_chat = job.outputs()[0][1]
        assert first_chat[-1]["content"] and "Loading the models" in str(first_chat[-1]["content"])
        assert "Loading the models" in LOADING_NOTE
        gate.set()
        _, chat = job.result(timeout=120)
        assert [m["role"] for m in chat] == ["user", "assistant"]
        assert "Loading the models" not in str(chat[-1]["content"])
        assert bot.reader.loaded
    finally:
        gate.set()
        demo.close()
