"""What a rebuild can start from (`FaissStore.salvage`) and how a damaged generation is judged
(`qa.store.faiss_files`): each document's text found wherever it is still readable, and every
file that could not be read named, so that `qa index --rebuild` loses nothing it could keep.

Written from the mutation run of qa/store/faiss_files.py: the fault-injection tests checked
that no document was lost, but not the messages, nor text found only in an older version."""

import json
import logging

import pytest

from qa.store.base import IndexCorruptError
from qa.store.faiss_store import FaissStore
from tests.test_store_faults import TEXTS, build, make_bot, sources


def index(tmp_path):
    return tmp_path / "index"


def generations(tmp_path):
    """The saved versions, oldest first."""
    return sorted(index(tmp_path).glob("gen-*"))


def newest(tmp_path):
    return generations(tmp_path)[-1]


def archived(tmp_path, name):
    """The kept copy of the document from file `name`."""
    for f in (index(tmp_path) / "documents").glob("*.json"):
        if json.loads(f.read_text())["source"] == name:
            return f
    raise AssertionError(name)


def salvaged(tmp_path):
    s = FaissStore.salvage(index(tmp_path))
    return sorted(d.source for d in s.documents), s.problems


def test_an_intact_index_salvages_every_document_without_a_problem(tmp_path):
    build(tmp_path)
    assert salvaged(tmp_path) == (sorted(TEXTS), [])


def test_a_garbled_line_of_the_documents_file_is_named_and_the_lines_after_it_still_read(tmp_path):
    build(tmp_path)
    docs = newest(tmp_path) / "documents.jsonl"
    lines = docs.read_text(encoding="utf-8").splitlines()
    docs.write_bytes(b"{not json\n" + b"\xff\xfe broken bytes\n" + "\n".join(lines).encode() + b"\n\n")
    for name in TEXTS:  # no kept copies: the text must come from the damaged file itself
        archived(tmp_path, name).unlink()
    got, problems = salvaged(tmp_path)
    assert got == sorted(TEXTS)
    assert problems == [f"{newest(tmp_path).name}/documents.jsonl is damaged or missing"]


def test_blank_lines_alone_do_not_make_a_file_damaged(tmp_path):
    build(tmp_path)
    docs = newest(tmp_path) / "documents.jsonl"
    docs.write_text(docs.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    assert salvaged(tmp_path) == (sorted(TEXTS), [])


@pytest.mark.parametrize("name", ["manifest.json", "chunks.jsonl"])
def test_a_missing_or_garbled_file_of_the_newest_version_is_named(tmp_path, name):
    build(tmp_path)
    (newest(tmp_path) / name).unlink()
    assert salvaged(tmp_path) == (sorted(TEXTS), [f"{newest(tmp_path).name}/{name} is damaged or missing"])
    (newest(tmp_path) / name).write_text("{garbled")
    assert salvaged(tmp_path)[1] == [f"{newest(tmp_path).name}/{name} is damaged or missing"]


def test_a_document_whose_text_is_lost_everywhere_is_named_by_its_file(tmp_path):
    build(tmp_path)
    gen = newest(tmp_path)
    for name in ("documents.jsonl", "chunks.jsonl"):
        (gen / name).unlink()
    (index(tmp_path) / "ACKNOWLEDGED").unlink()
    archived(tmp_path, "rome.txt").unlink()
    for old in generations(tmp_path)[:-1]:
        (old / "documents.jsonl").unlink()
    got, problems = salvaged(tmp_path)
    assert got == ["cats.txt", "tea.txt"]
    assert "could not recover rome.txt: its text is not readable anywhere; add the file again" in problems


def test_a_document_whose_text_only_an_older_version_holds_is_recovered_from_it(tmp_path):
    build(tmp_path)
    gens = generations(tmp_path)
    assert len(gens) >= 2
    (gens[-1] / "documents.jsonl").unlink()
    archived(tmp_path, "cats.txt").unlink()  # cats.txt was in every version
    got, problems = salvaged(tmp_path)
    assert got == sorted(TEXTS)
    assert problems == [f"{gens[-1].name}/documents.jsonl is damaged or missing"]


def test_passages_edited_after_they_were_written_are_not_served(tmp_path):
    build(tmp_path)
    chunks = newest(tmp_path) / "chunks.jsonl"
    rows = [json.loads(line) for line in chunks.read_text(encoding="utf-8").splitlines()]
    rows[0]["text"] = "Cats never sleep."  # still valid JSON, but not what was written
    chunks.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"damaged \(ValueError: chunks.jsonl changed since it was written\)"):
        make_bot(tmp_path).open()


def test_a_damaged_keyword_index_is_rebuilt_from_the_passages(tmp_path, caplog):
    build(tmp_path)
    target = sorted(p for p in (newest(tmp_path) / "bm25").rglob("*") if p.is_file())[0]
    target.write_bytes(b"garbled")
    bot = make_bot(tmp_path)
    with caplog.at_level(logging.WARNING, logger="qa"):
        bot.open()
    assert sources(bot) == sorted(TEXTS)
    assert "keyword index" in caplog.text and "damaged; rebuilding it from the passages" in caplog.text
    assert {c.source for c, _ in bot.store.keyword_search("Colosseum", 1)} == {"rome.txt"}


@pytest.mark.parametrize("journal", [
    {"generation": "gen-9", "documents": ["not", "a", "mapping"]},
    {"generation": 9, "documents": {}},
    ["not", "an", "object"],
])
def test_a_malformed_journal_is_ignored_not_a_crash(tmp_path, journal):
    build(tmp_path)
    (index(tmp_path) / "ACKNOWLEDGED").write_text(json.dumps(journal))
    bot = make_bot(tmp_path)
    bot.open()
    assert sources(bot) == sorted(TEXTS)


def test_a_malformed_row_in_an_older_version_is_passed_over_not_a_crash(tmp_path):
    build(tmp_path)
    gens = generations(tmp_path)
    (gens[-1] / "documents.jsonl").unlink()
    archived(tmp_path, "cats.txt").unlink()
    for old in gens[:-1]:  # cats.txt's row in every older version gets a field a document does not have
        docs = old / "documents.jsonl"
        rows = [json.loads(line) for line in docs.read_text(encoding="utf-8").splitlines()]
        docs.write_text("".join(json.dumps({**r, "colour": "red"} if r["source"] == "cats.txt" else r) + "\n" for r in rows),
                        encoding="utf-8")
    got, problems = salvaged(tmp_path)
    assert got == ["rome.txt", "tea.txt"]
    assert "could not recover cats.txt: its text is not readable anywhere; add the file again" in problems
