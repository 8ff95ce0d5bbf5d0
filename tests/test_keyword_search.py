"""Keyword search (BM25) and what every store shares: the words it indexes, which passages a
question finds, the archive of documents rebuilds start from, the writers' lock and its message."""

from __future__ import annotations

import json
import threading

import pytest

from qa.errors import StoreError
from qa.store.base import DocumentArchive, bm25_index, bm25_search, file_lock, io_problem, keyword_tokens
from qa.types import Chunk, Document, content_id


def test_keyword_tokens_are_lower_case_words_without_stop_words():
    assert keyword_tokens("What did Xi say to the U.N. in 2019?") == ["xi", "say", "u", "n", "2019"]
    assert keyword_tokens("Où est Séoul?") == ["où", "est", "séoul"]
    assert keyword_tokens("the and of") == []


def chunks_of(*texts: str) -> list[Chunk]:
    return [Chunk(f"c{i}", f"d{i}", f"{i}.txt", t, 0, len(t)) for i, t in enumerate(texts)]


TEXTS = (
    "Lee met Xi in Beijing on Tuesday.",
    "Trade with China grew. China is the biggest trading partner; China said so.",
    "The weather was mild.",
    "",  # a passage without a keyword
)


@pytest.fixture(scope="module")
def index():
    chunks = chunks_of(*TEXTS)
    return bm25_index([c.text for c in chunks]), chunks


def test_the_passage_sharing_most_of_the_question_comes_first(index):
    bm25, chunks = index
    found = bm25_search(bm25, chunks, "Where did Lee meet Xi?", 5)
    assert [c.text for c, _ in found] == [TEXTS[0]]  # only passages sharing a word, best first
    found = bm25_search(bm25, chunks, "What did China say about trade with Beijing?", 5)
    assert [c.text for c, _ in found] == [TEXTS[1], TEXTS[0]]
    assert found[0][1] > found[1][1] > 0


def test_case_does_not_matter_and_k_limits_the_list(index):
    bm25, chunks = index
    assert bm25_search(bm25, chunks, "CHINA BEIJING", 1) == bm25_search(bm25, chunks, "china beijing", 1)
    assert len(bm25_search(bm25, chunks, "china beijing", 1)) == 1
    assert len(bm25_search(bm25, chunks, "china beijing", 50)) == 2  # more than there are: all that match


@pytest.mark.parametrize("query, k", [
    ("what is it", 5),  # stop words only
    ("Pyongyang", 5),  # a word no passage has
    ("Beijing", 0),  # nothing asked for
    ("Beijing", -1),
    ("", 5),
])
def test_nothing_is_found_without_a_shared_keyword_or_a_place_for_it(index, query, k):
    bm25, chunks = index
    assert bm25_search(bm25, chunks, query, k) == []


def test_no_index_or_no_passages_find_nothing(index):
    bm25, chunks = index
    assert bm25_search(None, chunks, "Beijing", 5) == []
    assert bm25_search(bm25, [], "Beijing", 5) == []


def test_a_known_and_an_unknown_word_search_with_the_known_one(index):
    bm25, chunks = index
    assert [c.text for c, _ in bm25_search(bm25, chunks, "weather Pyongyang", 5)] == [TEXTS[2]]


def doc(text: str, source: str = "a.txt") -> Document:
    return Document(content_id(text), source, text, "A title")


def test_the_archive_keeps_each_document_once_and_returns_it_whole(tmp_path):
    archive = DocumentArchive(tmp_path / "docs")
    assert archive.ids() == set() and archive.get("missing") is None
    d = doc("Lee met Xi. Ünïcode kept.")
    archive.put([d, d])
    assert archive.ids() == {d.id} and archive.get(d.id) == d
    assert not list((tmp_path / "docs").glob("*.tmp"))  # written through a temporary file
    (tmp_path / "docs" / f"{d.id}.json").write_text("{}")  # never rewritten once there
    archive.put([d])
    assert archive.get(d.id) is None


@pytest.mark.parametrize("damage", ["text", "checksum", "json", "fields"])
def test_a_damaged_archived_document_is_not_returned(tmp_path, damage):
    archive = DocumentArchive(tmp_path)
    d = doc("The original text.")
    archive.put([d])
    path = tmp_path / f"{d.id}.json"
    row = json.loads(path.read_text())
    if damage == "text":
        row["text"] = "Another text."
    elif damage == "checksum":
        del row["sha256"]
    elif damage == "fields":
        row["unknown"] = 1
    path.write_text("{not json" if damage == "json" else json.dumps(row))
    assert archive.get(d.id) is None


def test_removing_archived_documents_removes_only_those(tmp_path):
    archive = DocumentArchive(tmp_path)
    a, b = doc("First."), doc("Second.")
    archive.put([a, b])
    archive.remove([a.id, "never-there"])
    assert archive.ids() == {b.id}


def test_the_lock_lets_one_writer_in_at_a_time(tmp_path):
    lock = tmp_path / "sub" / "write.lock"
    order = []

    def other():
        with file_lock(lock, "write the index"):
            order.append("other")

    with file_lock(lock, "write the index"):
        assert lock.exists()  # made with its folder
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.2)
        assert thread.is_alive()  # still waiting for the lock (a working lock never lets it finish here)
        order.append("first")
    thread.join()
    assert order == ["first", "other"]


def test_a_lock_that_cannot_be_made_says_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot write the index .*check the disk"):
        with file_lock(blocker / "write.lock", "write the index"):
            pass


def test_io_problems_name_the_file_and_the_fix():
    denied = io_problem(PermissionError(13, "Permission denied", "/x/index.faiss"), "save the index")
    assert str(denied) == "cannot save the index (Permission denied: /x/index.faiss); check that the folder is writable and try again"
    full = io_problem(OSError(28, "No space left on device"), "save the index")
    assert str(full) == "cannot save the index (No space left on device: ); check the disk and try again"

    bare = io_problem(OSError("the device went away"), "save the index")
    assert str(bare) == "cannot save the index (the device went away: ); check the disk and try again"


def test_a_keyword_search_prints_nothing(index, capfd):
    bm25, chunks = index
    assert bm25_search(bm25, chunks, "Where did Lee meet Xi?", 5)
    assert capfd.readouterr() == ("", "")


def test_the_archive_makes_its_folder_with_the_folders_above_it(tmp_path):
    archive = DocumentArchive(tmp_path / "new" / "index" / "documents")
    d = doc("Lee met Xi in Beijing.")
    archive.put([d])
    assert archive.get(d.id) == d


def test_building_a_keyword_index_prints_nothing(capfd):
    bm25_index(["Lee met Xi.", "Trade grew."])
    assert capfd.readouterr() == ("", "")
