"""Indexing through Ray on a local two-node cluster bound to 127.0.0.1."""

import os

import numpy as np
import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray keeps 127.0.0.1 (see qa.ray_ingest)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
from tests.conftest import require  # noqa: E402
require("ray")

from qa.chatbot import Chatbot  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.store.faiss_store import FaissStore  # noqa: E402
from qa.ray_ingest import index_with_ray  # noqa: E402
from tests.conftest import HashEmbedder, write_corpus  # noqa: E402

def hash_bot(tmp_path, name):
    settings = Settings(index_dir=str(tmp_path / name), seed_dir=str(tmp_path / "no-seeds"), chunk_tokens=40, chunk_overlap=5)
    bot = Chatbot(settings, embedder=HashEmbedder())
    bot.open()  # add_paths on a bot never opened would wait forever on its own write lock
    return bot


@pytest.mark.slow
def test_ray_ingest_matches_the_plain_path_and_reruns_add_nothing(tmp_path, cluster_address):
    corpus = write_corpus(tmp_path / "docs")
    plain = hash_bot(tmp_path, "plain")
    expected = plain.add_paths([corpus])

    bot = hash_bot(tmp_path, "ray")
    report = index_with_ray(bot, [corpus], workers=2, batch_size=2, write_batch=10, save_every=20,
                            address=cluster_address, embedder_factory=HashEmbedder)
    assert sorted(report.added) == sorted(expected.added) and len(report.added) == 6
    assert report.unchanged == expected.unchanged == ["doc0.txt"]  # the first of two files with one text is kept
    assert report.problems == expected.problems == ["empty.txt: the file is empty"]
    assert report.passages == expected.passages == bot.store.count() == plain.store.count()
    assert bot.store.documents == plain.store.documents

    store = FaissStore.load(bot.settings.index_dir, bot.indexer.build_info())  # what was saved
    ray_vectors = {c.id: v for c, v in zip(store.chunks, store.vectors())}
    plain_vectors = {c.id: v for c, v in zip(plain.store.chunks, plain.store.vectors())}
    assert set(store.chunks) == set(plain.store.chunks)
    for cid, vector in plain_vectors.items():
        np.testing.assert_allclose(ray_vectors[cid], vector, atol=1e-6)

    again = index_with_ray(bot, [corpus], workers=2, address=cluster_address, embedder_factory=HashEmbedder)
    assert again.added == [] and again.passages == 0
    assert sorted(again.unchanged) == sorted([*expected.added, "doc0.txt"])
    assert bot.store.count() == report.passages


@pytest.mark.slow
def test_a_re_edited_file_indexed_with_ray_replaces_its_older_version_as_without_it(tmp_path, cluster_address):
    folder = tmp_path / "docs"
    folder.mkdir()
    note = folder / "note.txt"
    note.write_text("The lighthouse keeper was named Agnes Morrow. She lit the lamp in 1871.")
    plain, bot = hash_bot(tmp_path, "plain"), hash_bot(tmp_path, "ray")
    plain.add_paths([folder])
    index_with_ray(bot, [folder], workers=2, address=cluster_address, embedder_factory=HashEmbedder)
    note.write_text("The lighthouse keeper was named Thomas Reed. He lit the lamp in 1902.")
    expected = plain.add_paths([folder])
    report = index_with_ray(bot, [folder], workers=2, address=cluster_address, embedder_factory=HashEmbedder)

    assert report.updated == expected.updated == ["note.txt"] and report.added == expected.added == []
    assert [d.text for d in bot.documents()] == [d.text for d in plain.documents()] == [note.read_text()]
    assert set(bot.store.chunks) == set(plain.store.chunks)
    saved = FaissStore.load(bot.settings.index_dir, bot.indexer.build_info())
    assert [d.source for d in saved.documents.values()] == ["note.txt"] and "Agnes" not in " ".join(c.text for c in saved.chunks)
