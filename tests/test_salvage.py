"""What a rebuild can start from (`FaissStore.salvage`) and how a damaged generation is judged
(`qa.store.faiss_files`): each document's text found wherever it is still readable, and every
file that could not be read named, so that `qa index --rebuild` loses nothing it could keep.

Written from the mutation run of qa/store/faiss_files.py: the fault-injection tests checked
that no document was lost, but not the messages, nor text found only in an older version."""

import json
import logging
import shutil

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
    assert f"the keyword index of {newest(tmp_path)} is damaged; rebuilding it from the passages" in caplog.messages
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


# --- salvage's survivors of the whole-module run of qa/store/faiss_store.py ---------------------


def test_salvage_says_which_version_the_documents_came_from(tmp_path):
    build(tmp_path)
    s = FaissStore.salvage(index(tmp_path))
    assert s.origin == f"{newest(tmp_path).name} of {index(tmp_path)}"


def test_with_every_version_gone_the_kept_copies_are_salvaged_and_a_damaged_one_is_named(tmp_path):
    build(tmp_path)
    for gen in generations(tmp_path):
        shutil.rmtree(gen)
    broken = archived(tmp_path, "rome.txt")
    broken.write_text("{not json")
    doc_id = json.loads((index(tmp_path) / "ACKNOWLEDGED").read_text())["documents"]
    rome = next(i for i, source in doc_id.items() if source == "rome.txt")
    s = FaissStore.salvage(index(tmp_path))
    assert sorted(d.source for d in s.documents) == ["cats.txt", "tea.txt"]
    assert s.origin == f"the documents kept in {index(tmp_path) / 'documents'}"
    assert s.problems == [f"could not recover document {rome}: its kept copy is damaged"]


def only_the_passages_name_the_documents(tmp_path):
    """An index whose newest version lost its manifest and documents file, and no journal."""
    build(tmp_path)
    gen = newest(tmp_path)
    (gen / "manifest.json").unlink()
    (gen / "documents.jsonl").unlink()
    (index(tmp_path) / "ACKNOWLEDGED").unlink()
    return gen


def test_a_document_only_the_passages_name_is_still_recovered_from_an_older_version(tmp_path):
    gen = only_the_passages_name_the_documents(tmp_path)
    archived(tmp_path, "cats.txt").unlink()  # its text now only in the older versions
    got, problems = salvaged(tmp_path)
    assert got == sorted(TEXTS)
    assert problems == [f"{gen.name}/manifest.json is damaged or missing", f"{gen.name}/documents.jsonl is damaged or missing"]


def test_a_document_named_only_by_passages_without_a_source_is_named_by_its_id_when_lost(tmp_path):
    gen = only_the_passages_name_the_documents(tmp_path)
    chunks = gen / "chunks.jsonl"
    rows = [json.loads(line) for line in chunks.read_text(encoding="utf-8").splitlines()]
    for row in rows:  # rows that name their document but not its file
        row.pop("source", None)
    chunks.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lost = rows[-1]["doc_id"]
    for f in (index(tmp_path) / "documents").glob("*.json"):
        if json.loads(f.read_text())["id"] == lost:
            f.unlink()
    for old in generations(tmp_path)[:-1]:
        (old / "documents.jsonl").unlink()
    _, problems = salvaged(tmp_path)
    assert f"could not recover {lost}: its text is not readable anywhere; add the file again" in problems


def test_a_row_of_the_documents_file_with_unknown_fields_is_passed_over_not_a_crash(tmp_path):
    build(tmp_path)
    docs = newest(tmp_path) / "documents.jsonl"
    rows = [json.loads(line) for line in docs.read_text(encoding="utf-8").splitlines()]
    rows[0]["colour"] = "green"  # valid JSON, not a document this version writes
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got, problems = salvaged(tmp_path)
    assert got == sorted(TEXTS) and problems == []  # its text comes from the kept copy


def test_an_acknowledged_version_that_is_gone_is_named_and_its_documents_come_from_the_kept_copies(tmp_path):
    build(tmp_path)
    gone = newest(tmp_path)
    shutil.rmtree(gone)
    got, problems = salvaged(tmp_path)
    assert got == sorted(TEXTS)  # tea.txt was only in the version that is gone: its kept copy
    assert problems == [f"{gone.name} (the newest version) is missing; its documents come from the kept copies"]


def test_an_acknowledged_document_lost_everywhere_is_named_by_its_file(tmp_path):
    build(tmp_path)
    shutil.rmtree(newest(tmp_path))
    archived(tmp_path, "tea.txt").unlink()  # added in the version that is gone; kept copy gone too
    got, problems = salvaged(tmp_path)
    assert got == ["cats.txt", "rome.txt"]
    assert "could not recover tea.txt: its text is not readable anywhere; add the file again" in problems


def test_every_file_changed_since_it_was_written_is_named_with_how_to_rebuild(tmp_path):
    build(tmp_path)
    gen = newest(tmp_path)
    for name in ("chunks.jsonl", "documents.jsonl"):
        with open(gen / name, "a", encoding="utf-8") as f:
            f.write("\n")  # a byte more: not what the manifest's checksum says
    with pytest.raises(IndexCorruptError) as err:
        make_bot(tmp_path).open()
    assert "damaged (ValueError: chunks.jsonl, documents.jsonl changed since it was written)" in str(err.value)
    assert str(err.value).endswith(f"(or delete the folder {index(tmp_path)} to start over)")


def test_every_setting_an_index_was_built_with_that_differs_is_named(tmp_path):
    from qa.store.base import IndexMismatchError

    build(tmp_path)
    built = json.loads((newest(tmp_path) / "manifest.json").read_text())
    settings = {k: built[k] for k in ("embedder", "dimension")}
    settings.update(chunk_tokens=built["chunk_tokens"] + 1, chunk_overlap=built["chunk_overlap"] + 1)
    with pytest.raises(IndexMismatchError) as err:
        FaissStore.load(index(tmp_path), settings)
    assert (f"(chunk_tokens: index has {built['chunk_tokens']}, settings say {built['chunk_tokens'] + 1}, "
            f"chunk_overlap: index has {built['chunk_overlap']}, settings say {built['chunk_overlap'] + 1})") in str(err.value)
