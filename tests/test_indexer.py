"""The indexer is the one writer: documents prepared elsewhere (Ray) follow the same rules."""

import numpy as np

from qa.config import Settings
from qa.indexer import Indexer, IndexReport, Prepared
from qa.types import Chunk, Document, content_id
from tests.conftest import HashEmbedder


def prepared(source: str, text: str) -> Prepared:
    doc = Document(content_id(text), source, text)
    chunk = Chunk(f"{doc.id}-0", doc.id, source, text, 0, len(text))
    return Prepared(doc, [chunk], HashEmbedder().embed([text]))


def make_indexer(tmp_path) -> Indexer:
    indexer = Indexer(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none")), HashEmbedder())
    indexer.open()
    return indexer


def test_prepared_documents_replace_an_older_version_of_the_same_file(tmp_path):
    indexer = make_indexer(tmp_path)
    with indexer.updating() as store:
        first = IndexReport()
        indexer.write_prepared(store, [prepared("a.txt", "Old words about the harbour."), prepared("b.txt", "Other text.")], first)
    assert sorted(first.added) == ["a.txt", "b.txt"] and first.passages == 2

    with indexer.updating() as store:
        second = IndexReport()
        indexer.write_prepared(store, [prepared("a.txt", "New words about the harbour."), prepared("b.txt", "Other text.")], second)
    assert second.updated == ["a.txt"] and second.unchanged == ["b.txt"] and second.added == []
    texts = sorted(d.text for d in indexer.documents())
    assert texts == ["New words about the harbour.", "Other text."]
    assert sorted(c.text for c in indexer.store.chunks) == texts


def test_the_later_of_two_versions_in_one_call_wins_and_nothing_new_saves_nothing(tmp_path):
    indexer = make_indexer(tmp_path)
    with indexer.updating() as store:
        report = IndexReport()
        indexer.write_prepared(store, [prepared("a.txt", "First draft."), prepared("a.txt", "Second draft.")], report)
    assert [d.text for d in indexer.documents()] == ["Second draft."] and report.added == ["a.txt"]
    generation = indexer.store.generation
    with indexer.updating() as store:
        indexer.write_prepared(store, [], IndexReport())
    assert indexer.store.generation == generation


def test_plain_and_prepared_writes_give_the_same_passages(tmp_path):
    text = "The bridge opened in 1932. " * 3
    plain = make_indexer(tmp_path / "plain")
    plain.add_documents([Document(content_id(text), "bridge.txt", text)])
    chunk = plain.store.chunks[0]
    other = make_indexer(tmp_path / "other")
    with other.updating() as store:
        other.write_prepared(store, [Prepared(plain.documents()[0], list(plain.store.chunks),
                                              HashEmbedder().embed([c.text for c in plain.store.chunks]))], IndexReport())
    assert other.store.chunks == plain.store.chunks and other.store.chunks[0] == chunk
    np.testing.assert_allclose(other.store.dense_search(HashEmbedder().embed([chunk.text])[0], 1)[0][1],
                               plain.store.dense_search(HashEmbedder().embed([chunk.text])[0], 1)[0][1])
