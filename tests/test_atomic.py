"""A save interrupted at any point leaves an index that loads: the previous one or the new one.

The writer is stopped at the n-th file-system operation it makes (opening, creating, renaming
or removing a file or folder, seen through Python's audit hooks), for every n, whatever calls
the save happens to use. In this process the stop is an exception nothing catches; in a child
process it is SIGKILL. Then the index is read back as a user would.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from qa.store.base import IndexCorruptError, IndexMismatchError, StoreError
from qa.store.faiss_store import FaissStore
from tests.conftest import ROOT, STORE_INFO as INFO, STORE_TEXTS as TEXTS, HashEmbedder, fill, make_docs

FS_EVENTS = frozenset({"open", "os.rename", "os.mkdir", "os.remove", "os.rmdir", "shutil.rmtree", "os.truncate", "os.symlink", "os.link"})
NEW = {"new.txt": "A brand new document about volcanoes erupting near the coast."}


class Crash(BaseException):
    """The writer dies here (a BaseException: no `except Exception` or `ignore_errors` stops it)."""


class _Tripwire:
    """Counts file-system operations while armed and raises `Crash` at the chosen one."""

    def __init__(self) -> None:
        self.at = 0  # 0 = disarmed
        self.seen = 0

    def __call__(self, event: str, args: tuple) -> None:
        if self.at and event in FS_EVENTS:
            self.seen += 1
            if self.seen == self.at:
                self.at = 0
                raise Crash(event)

    def arm(self, at: int) -> None:
        self.seen, self.at = 0, at


_TRIPWIRE = _Tripwire()
sys.addaudithook(_TRIPWIRE)  # audit hooks cannot be removed; disarmed it costs one comparison


def three_generations(folder):
    """An index saved three times (so a save also removes an old generation), and its documents."""
    docs = make_docs()
    for i in range(3):
        store = FaissStore(folder, INFO) if i == 0 else FaissStore.load(folder, INFO)
        fill(store, docs[i : i + 1]).save()
    return sorted(TEXTS)


def save_with_new_document(folder, crash_at: int = 0) -> int:
    """Load, add a document and save, crashing at the `crash_at`-th operation; how many ran."""
    store = fill(FaissStore.load(folder, INFO), make_docs(NEW))
    _TRIPWIRE.arm(crash_at or 10**9)
    try:
        store.save()
    finally:
        seen, _TRIPWIRE.at = _TRIPWIRE.seen, 0
    return seen


def assert_loads_old_or_new(folder, old: list[str]) -> list[str]:
    loaded = FaissStore.load(folder, INFO)
    sources = sorted(d.source for d in loaded.documents.values())
    assert sources in (old, sorted([*old, *NEW])), sources
    assert loaded.count() == len(loaded.chunks) == len(loaded.dense_search(HashEmbedder().embed(["x"])[0], 100))
    # Both searches work on what was loaded.
    query = "capital of Italy Colosseum"
    assert loaded.keyword_search(query, 3)[0][0].source == "rome.txt"
    assert loaded.dense_search(HashEmbedder().embed([query])[0], 1)[0][0].source == "rome.txt"
    return sources


def test_a_save_makes_file_operations_to_interrupt(tmp_path):
    old = three_generations(tmp_path / "idx")
    assert save_with_new_document(tmp_path / "idx") >= 10
    assert assert_loads_old_or_new(tmp_path / "idx", old) == sorted([*old, *NEW])


def test_a_crash_at_every_step_of_a_save_leaves_a_loadable_index(tmp_path):
    template = tmp_path / "template"
    old = three_generations(template)
    shutil.copytree(template, tmp_path / "count")
    total = save_with_new_document(tmp_path / "count")  # a full save, to count its steps
    outcomes = []
    for at in range(1, total + 1):
        folder = tmp_path / f"idx{at}"
        shutil.copytree(template, folder)
        with pytest.raises(Crash):
            save_with_new_document(folder, crash_at=at)
        outcomes.append(assert_loads_old_or_new(folder, old))
        # The next save works, and cleans up what the crash left.
        save_with_new_document(folder)
        assert sorted(d.source for d in FaissStore.load(folder, INFO).documents.values()) == sorted([*old, *NEW])
        assert not list(folder.glob(".gen-*.tmp"))
    # Early crashes keep the old index, late ones (after the switch) already show the new one.
    assert outcomes[0] == old and outcomes[-1] == sorted([*old, *NEW])


def test_saves_keep_the_current_and_the_previous_generation(tmp_path):
    folder = tmp_path / "idx"
    three_generations(folder)
    gens = sorted(p.name for p in folder.glob("gen-*"))
    current = json.loads((folder / "CURRENT").read_text())["generation"]
    assert len(gens) == 2 and current == gens[-1]
    (folder / ".gen-0000.tmp").mkdir()  # left by a writer that died
    save_with_new_document(folder)
    after = sorted(p.name for p in folder.glob("gen-*"))
    assert len(after) == 2 and after[0] == current  # a reader of the previous one can go on reading it
    assert not (folder / ".gen-0000.tmp").exists()


KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{root!r}]
    from tests.test_atomic import FS_EVENTS, NEW
    from qa.store.faiss_store import FaissStore
    from tests.conftest import STORE_INFO as INFO, fill, make_docs
    store = fill(FaissStore.load({path!r}, INFO), make_docs(NEW))
    seen = 0
    def die(event, args):
        global seen
        if event in FS_EVENTS:
            seen += 1
            if seen == {at}:
                os.kill(os.getpid(), signal.SIGKILL)
    sys.addaudithook(die)
    store.save()
""")


@pytest.mark.parametrize("at", [2, 6, 14, 22])
def test_a_writer_killed_mid_save_leaves_a_loadable_index(tmp_path, at):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    code = KILLER.format(root=str(ROOT), path=str(folder), at=at)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert_loads_old_or_new(folder, old)
    save_with_new_document(folder)
    assert sorted(d.source for d in FaissStore.load(folder, INFO).documents.values()) == sorted([*old, *NEW])


# --- recovery -------------------------------------------------------------------------------------


def test_a_damaged_newest_version_loses_no_document_in_a_rebuild(tmp_path):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    save_with_new_document(folder)
    newest = json.loads((folder / "CURRENT").read_text())["generation"]
    data = (folder / newest / "vectors.faiss").read_bytes()
    (folder / newest / "vectors.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        FaissStore.load(folder, INFO)
    salvage = FaissStore.salvage(folder)  # what a rebuild re-embeds: the newest documents
    assert sorted(d.source for d in salvage.documents) == sorted([*old, *NEW]) and salvage.problems == []


def test_an_index_built_otherwise_hands_over_its_documents(tmp_path):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    with pytest.raises(IndexMismatchError) as caught:
        FaissStore.load(folder, {**INFO, "chunk_tokens": 99})
    assert sorted(d.source for d in caught.value.documents) == old


def test_documents_outlive_every_broken_passage_file(tmp_path):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    for gen in folder.glob("gen-*"):
        (gen / "chunks.jsonl").write_text("{broken")
    with pytest.raises(IndexCorruptError):
        FaissStore.load(folder, INFO)
    assert sorted(d.source for d in FaissStore.salvage(folder).documents) == old
    empty = FaissStore.salvage(tmp_path / "empty")
    assert empty.documents == [] and empty.problems == []


def test_a_save_says_what_it_wrote(tmp_path):
    folder = tmp_path / "deep" / "er" / "idx"  # folders that do not exist yet
    store = fill(FaissStore(folder, INFO), make_docs())
    names = []
    for _ in range(3):
        store.save()
        written = folder / store.generation
        current = json.loads((folder / "CURRENT").read_text())
        assert current == {"generation": written.name} and written.parent == folder
        assert store.generation == written.name and not store.is_stale()
        names.append(written.name)
    assert names == sorted(names) and len(set(names)) == 3  # later generations sort later
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["faiss"] == "flat" and manifest["chunks"] == store.count() == 3
    assert manifest["documents"] == {d.id: {"source": d.source, "title": d.title} for d in make_docs()}
    assert {k: manifest[k] for k in INFO} == INFO
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", manifest["created"])
    lines = (written / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["source"] for line in lines] == sorted(TEXTS, key=list(TEXTS).index)


def test_a_broken_pointer_opens_the_newest_generation(tmp_path):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    save_with_new_document(folder)
    (folder / "CURRENT").write_text("{broken")
    (folder / "gen-99999999999999999999").write_text("a file, not a generation")
    assert sorted(d.source for d in FaissStore.load(folder, INFO).documents.values()) == sorted([*old, *NEW])


class _DenyRemoval:
    """While on, every file or folder removal fails as if another process held it."""

    on = False

    def __call__(self, event: str, args: tuple) -> None:
        if self.on and event in ("os.remove", "os.rmdir"):
            raise PermissionError(f"{event} denied by the test")


_DENY = _DenyRemoval()
sys.addaudithook(_DENY)


def test_a_save_succeeds_when_old_generations_cannot_be_removed(tmp_path):
    folder = tmp_path / "idx"
    old = three_generations(folder)
    (folder / ".gen-0000.tmp").mkdir()
    (folder / ".gen-0000.tmp" / "half.jsonl").write_text("{")
    _DENY.on = True
    try:
        save_with_new_document(folder)
    finally:
        _DENY.on = False
    assert assert_loads_old_or_new(folder, old) == sorted([*old, *NEW])
    assert len(list(folder.glob("gen-*"))) == 3  # the old one stays until a later save can remove it


def test_a_loaded_index_keeps_the_exact_search_limit(tmp_path):
    folder = tmp_path / "idx"
    three_generations(folder)
    assert FaissStore.load(folder, INFO, approximate_above=2).faiss_kind == "ivf"  # 3 passages > 2
    assert FaissStore.load(folder, INFO).faiss_kind == "flat"
    rebuilt = fill(FaissStore(tmp_path / "other", INFO, approximate_above=2), make_docs())
    assert rebuilt.faiss_kind == "ivf"


def test_an_approximate_index_survives_a_save_and_a_load(tmp_path):
    # IVF keeps vectors in lists: loading must read every one back, in passage order.
    store = fill(FaissStore(tmp_path / "idx", INFO, approximate_above=2), make_docs())
    query = HashEmbedder().embed([store.chunks[1].text])[0]
    before = [c.id for c, _ in store.dense_search(query, 3)]
    store.save()
    loaded = FaissStore.load(tmp_path / "idx", INFO, approximate_above=2)
    assert type(loaded._faiss).__name__ == "IndexIVFFlat"
    assert (loaded.vectors() == store.vectors()).all()
    assert [c.id for c, _ in loaded.dense_search(query, 3)] == before
    assert before[0] == store.chunks[1].id


def test_the_keyword_index_is_read_when_first_searched(tmp_path):
    three_generations(tmp_path / "idx")
    store = FaissStore.load(tmp_path / "idx", INFO)
    assert store._bm25 is None  # listing documents does not read it
    word = max(store.chunks[0].text.split(), key=len).strip(".,;:")
    first = store.keyword_search(word, 3)
    assert first and store._bm25 is not None
    # Its version of the index removed meanwhile (two later saves by other processes): rebuilt.
    again = FaissStore.load(tmp_path / "idx", INFO)
    shutil.rmtree(tmp_path / "idx" / again.generation / "bm25")
    assert [c.id for c, _ in again.keyword_search(word, 3)] == [c.id for c, _ in first]


def test_a_save_that_cannot_write_says_where_and_why(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the index folder should be")
    store = fill(FaissStore(blocked, INFO), make_docs())
    with pytest.raises(StoreError) as err:
        store.save()
    message = str(err.value)
    assert message.startswith(f"cannot save the index in {blocked} (") and "check the disk and try again" in message
    assert "exists" in message.lower() or "directory" in message.lower()  # the system's reason
