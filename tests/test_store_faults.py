"""Fault injection: every file of a saved index (and of a Milvus Lite database) truncated,
garbled or deleted. Each case ends with the full document set, or with a clear message and a
rebuild (`qa index --rebuild`) that restores it. Plus one test per defect found by probing."""

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.chatbot import Chatbot
from qa.cli import cli
from qa.config import Settings
from qa.store.base import StoreError
from tests.conftest import ROOT, HashEmbedder

TEXTS = {
    "cats.txt": "Cats sleep most of the day. A cat purrs when it is content.",
    "rome.txt": "Rome is the capital of Italy. The Colosseum was finished in 80 AD.",
    "tea.txt": "Green tea comes from Camellia sinensis leaves. Steep it for two minutes.",
}


class NoReader:
    def warm_up(self):
        pass


def make_bot(tmp_path, store=""):
    settings = Settings(index_dir=str(tmp_path / "index"), store=store, seed_dir=str(tmp_path / "seeds"), chunk_tokens=40, chunk_overlap=5)
    return Chatbot(settings, embedder=HashEmbedder(), reader=NoReader())


def build(tmp_path, store=""):
    """Seeds one document, then adds two in two saves: three generations, the newest has all."""
    (tmp_path / "seeds").mkdir(exist_ok=True)
    (tmp_path / "seeds" / "cats.txt").write_text(TEXTS["cats.txt"])
    bot = make_bot(tmp_path, store)
    bot.open()
    for name in ("rome.txt", "tea.txt"):
        (tmp_path / name).write_text(TEXTS[name])
        bot.add_paths([tmp_path / name])
    assert sources(bot) == sorted(TEXTS)
    passages = bot.store.count()
    bot.store.close()
    return passages


def sources(bot):
    return sorted(d.source for d in bot.documents())


def damage(target: Path, how: str) -> None:
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    assert files, target
    for f in files:
        data = f.read_bytes()
        if how == "truncate":
            f.write_bytes(data[: len(data) // 2])
        elif how == "garble":
            middle = len(data) // 2
            f.write_bytes(data[:middle] + bytes((b ^ 0x5A) for b in data[middle : middle + 64]) + data[middle + 64 :])
        else:
            f.unlink()


def open_or_rebuild(tmp_path, store=""):
    """The document set after reopening; when opening refuses with a message, after a rebuild."""
    bot = make_bot(tmp_path, store)
    try:
        bot.open()
    except StoreError as err:
        assert "qa index --rebuild" in str(err), err
        salvage = make_bot(tmp_path, store).rebuild()
        assert not salvage.problems or salvage.documents, salvage
        bot = make_bot(tmp_path, store)
        bot.open()
    try:
        return sources(bot), bot.store.count(), search_finds_every_document(bot)
    finally:
        bot.store.close()


def search_finds_every_document(bot):
    hits = {c.source for word in ("Cats", "Colosseum", "Camellia") for c, _ in bot.store.keyword_search(word, 1)}
    return hits == set(TEXTS)


GENERATION_FILES = ["CURRENT", "manifest.json", "vectors.faiss", "chunks.jsonl", "documents.jsonl", "bm25"]


@pytest.mark.parametrize("how", ["truncate", "garble", "delete"])
@pytest.mark.parametrize("name", GENERATION_FILES)
def test_a_damaged_file_of_the_newest_generation_loses_no_document(tmp_path, name, how):
    passages = build(tmp_path)
    index = tmp_path / "index"
    newest = sorted(index.glob("gen-*"))[-1]
    damage(index / name if name == "CURRENT" else newest / name, how)
    assert open_or_rebuild(tmp_path) == (sorted(TEXTS), passages, True)


@pytest.mark.parametrize("how", ["truncate", "garble", "delete"])
def test_a_damaged_document_archive_file_loses_no_document(tmp_path, how):
    passages = build(tmp_path)
    damage(next((tmp_path / "index" / "documents").glob("*.json")), how)
    assert open_or_rebuild(tmp_path) == (sorted(TEXTS), passages, True)


# --- the defects found by probing, each first seen failing on the code before its fix ----------

def run_cli(tmp_path, *args, monkeypatch):
    env = {"QA_SEED_DIR": str(tmp_path / "seeds"), "QA_CHUNK_TOKENS": "40", "QA_CHUNK_OVERLAP": "5"}
    parts = {"embedder": HashEmbedder(), "reader": NoReader()}
    return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), *args], env=env, obj={"parts": parts})


def listed(result):
    """The sources `qa documents` lists (lines "ID  SOURCE  TITLE")."""
    rows = [line.split() for line in result.output.splitlines()]
    return sorted(r[1] for r in rows if len(r) >= 2 and len(r[0]) == 16 and all(ch in "0123456789abcdef" for ch in r[0]))


def test_a_missing_pointer_keeps_every_added_document(tmp_path, monkeypatch):
    build(tmp_path)
    (tmp_path / "index" / "CURRENT").unlink()
    result = run_cli(tmp_path, "documents", monkeypatch=monkeypatch)
    assert result.exit_code == 0 and listed(result) == sorted(TEXTS)
    result = run_cli(tmp_path, "index", "--rebuild", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert listed(run_cli(tmp_path, "documents", monkeypatch=monkeypatch)) == sorted(TEXTS)


@pytest.mark.parametrize("name", ["vectors.faiss", "manifest.json", "chunks.jsonl", "bm25"])
def test_a_rebuild_keeps_the_newest_documents(tmp_path, monkeypatch, name):
    build(tmp_path)
    damage(sorted((tmp_path / "index").glob("gen-*"))[-1] / name, "truncate" if name == "vectors.faiss" else "garble")
    result = run_cli(tmp_path, "index", "--rebuild", monkeypatch=monkeypatch)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert listed(run_cli(tmp_path, "documents", monkeypatch=monkeypatch)) == sorted(TEXTS)


def test_a_file_indexed_again_with_new_content_replaces_the_old_version(tmp_path, monkeypatch):
    for folder, text in (("v1", "The meeting is on Monday."), ("v2", "The meeting moved to Friday.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text)
    assert run_cli(tmp_path, "index", str(tmp_path / "v1" / "notes.txt"), monkeypatch=monkeypatch).exit_code == 0
    result = run_cli(tmp_path, "index", str(tmp_path / "v2" / "notes.txt"), monkeypatch=monkeypatch)
    assert result.exit_code == 0 and "updated notes.txt" in result.output, result.output
    bot = make_bot(tmp_path)
    bot.open()
    assert [d.text for d in bot.documents()] == ["The meeting moved to Friday."]
    assert run_cli(tmp_path, "index", "--remove", "notes.txt", monkeypatch=monkeypatch).exit_code == 0
    assert listed(run_cli(tmp_path, "documents", monkeypatch=monkeypatch)) == []


def read_only(folder: Path, monkeypatch) -> None:
    """Make `folder` read-only; as root (who writes anyway) also refuse writes under it the way
    the file system would, with PermissionError."""
    for p in [folder, *folder.rglob("*")]:
        if p.is_dir():
            p.chmod(0o555)
    if os.geteuid() != 0:
        return
    import builtins

    def refuse(path):
        if str(Path(path).resolve()).startswith(str(folder.resolve())):
            raise PermissionError(13, "Permission denied", str(path))

    real_open, real_mkdir, real_replace = builtins.open, os.mkdir, os.replace

    def open_(file, mode="r", *a, **k):
        if isinstance(file, (str, os.PathLike)) and any(m in mode for m in "wax+"):
            refuse(file)
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: (refuse(path), real_mkdir(path, *a, **k))[1])
    monkeypatch.setattr(os, "replace", lambda a, b, **k: (refuse(b), real_replace(a, b, **k))[1])


@pytest.mark.parametrize("args", [["index", "NEW"], ["index", "--remove", "rome.txt"], ["index", "--rebuild"]])
def test_a_read_only_index_folder_is_a_message_and_exit_code_1(tmp_path, monkeypatch, args):
    build(tmp_path)
    (tmp_path / "new.txt").write_text("A new document about volcanoes.")
    args = [str(tmp_path / "new.txt") if a == "NEW" else a for a in args]
    index = tmp_path / "index"
    modes = {p: p.stat().st_mode for p in [index, *index.rglob("*")] if p.is_dir()}
    try:
        with monkeypatch.context() as patch:
            read_only(index, patch)
            result = run_cli(tmp_path, *args, monkeypatch=monkeypatch)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert result.exit_code == 1, result.output
    assert "writable" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, PermissionError)


def test_callers_never_check_a_store_type_or_scheme():
    for module in ("chatbot.py", "cli.py", "app.py"):
        source = (ROOT / "qa" / module).read_text()
        for leak in ("FaissStore", "MilvusStore", "getattr(store", 'startswith("faiss', 'startswith(("milvus', '"://" in', "CURRENT"):
            assert leak not in source, f"{module} mentions {leak}"


# --- Milvus Lite: the files of its database folder ------------------------------------------

MILVUS_FILES = [
    "collections/qa_chunks/manifest.json", "collections/qa_chunks/schema.json", "collections/qa_chunks/partitions",
    "collections/qa_documents/manifest.json", "collections/qa_documents/schema.json", "collections/qa_documents/partitions",
    ".",  # the whole database
]


@pytest.mark.milvus
@pytest.mark.parametrize("how", ["truncate", "garble", "delete"])
@pytest.mark.parametrize("name", MILVUS_FILES)
def test_a_damaged_milvus_lite_file_loses_no_document(tmp_path, name, how):
    store = f"milvus://{tmp_path}/index/qa.db"
    passages = build(tmp_path, store)
    target = tmp_path / "index" / "qa.db" / name
    if name == "." and how == "delete":
        shutil.rmtree(target)
    else:
        damage(target, how)
    assert open_or_rebuild(tmp_path, store) == (sorted(TEXTS), passages, True)


def milvus_cli(tmp_path, *args, monkeypatch):
    return run_cli(tmp_path, "--store", f"milvus://{tmp_path}/index/qa.db", *args, monkeypatch=monkeypatch)


@pytest.mark.milvus
@pytest.mark.parametrize("name", ["collections/qa_documents/manifest.json", "collections/qa_chunks/partitions"])
def test_a_damaged_milvus_lite_database_is_a_message_and_rebuild_restores_it(tmp_path, monkeypatch, name):
    build(tmp_path, f"milvus://{tmp_path}/index/qa.db")
    damage(tmp_path / "index" / "qa.db" / name, "garble" if name.endswith(".json") else "truncate")
    result = milvus_cli(tmp_path, "documents", monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "qa index --rebuild" in result.output and "Traceback" not in result.output, result.output
    result = milvus_cli(tmp_path, "index", "--rebuild", monkeypatch=monkeypatch)
    assert result.exit_code == 0 and "3 document(s) recovered" in result.output, result.output
    assert listed(milvus_cli(tmp_path, "documents", monkeypatch=monkeypatch)) == sorted(TEXTS)


@pytest.mark.milvus
def test_a_deleted_milvus_lite_database_is_reported_not_reseeded(tmp_path, monkeypatch):
    build(tmp_path, f"milvus://{tmp_path}/index/qa.db")
    shutil.rmtree(tmp_path / "index" / "qa.db")
    result = milvus_cli(tmp_path, "documents", monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "is missing" in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "index" / "qa.db").exists()  # nothing was started over from the seeds
    assert milvus_cli(tmp_path, "index", "--rebuild", monkeypatch=monkeypatch).exit_code == 0
    assert listed(milvus_cli(tmp_path, "documents", monkeypatch=monkeypatch)) == sorted(TEXTS)


HOLD_AND_WAIT = """
import sys, time
sys.path[:0] = [{root!r}]
from qa.config import Settings
from qa.store import open_store
from tests.conftest import STORE_INFO as INFO
store = open_store(Settings(store={store!r}), INFO)
print("open", flush=True)
time.sleep(120)
"""

CLI_WITH_HASH_EMBEDDER = """
import sys
sys.path[:0] = [{root!r}]
import qa.embed
from tests.conftest import HashEmbedder
qa.embed.Embedder = lambda *a, **k: HashEmbedder()
from qa.cli import main
sys.argv = ["qa", "--store", {store!r}, *{args!r}]
main()
"""


@pytest.mark.milvus
def test_a_busy_milvus_lite_database_is_one_clear_message(tmp_path):
    import subprocess
    import sys

    store = f"milvus://{tmp_path}/qa.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_WAIT.format(root=str(ROOT), store=store)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "open"
        env = {**os.environ, "QA_SEED_DIR": str(tmp_path / "none"), "QA_INDEX_DIR": str(tmp_path / "index")}
        code = CLI_WITH_HASH_EMBEDDER.format(root=str(ROOT), store=store, args=["documents"])
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1 and "another process" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_an_index_whose_every_version_is_gone_is_rebuilt_from_its_kept_documents(tmp_path):
    passages = build(tmp_path)
    for gen in (tmp_path / "index").glob("gen-*"):
        shutil.rmtree(gen)
    (tmp_path / "index" / "CURRENT").unlink()
    bot = make_bot(tmp_path)
    with pytest.raises(StoreError, match="qa index --rebuild"):
        bot.open()  # not silently seeded: that would drop the added documents
    assert open_or_rebuild(tmp_path) == (sorted(TEXTS), passages, True)
