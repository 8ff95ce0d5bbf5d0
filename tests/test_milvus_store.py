"""The Milvus store's own checks, on Milvus Lite: keyword search made by Milvus itself (and by
this process for servers without it), a database of another format or without its build
information refused with how to rebuild, the index kind and the listing after a reopen or a
refresh.

Not marked `milvus`: these open one small database each (about 15 s together), so `make check`
runs them and a breakage of these checks fails it, not only `make test`."""

import json

import pytest

from qa.config import Settings
from qa.store import open_store
from qa.store.base import IndexCorruptError
from qa.store.milvus_store import BUILD_ROW, FORMAT, MilvusStore, _doc_row
from tests.conftest import STORE_INFO, STORE_TEXTS, fill, make_docs, require

require("pymilvus")


def open_lite(tmp_path):
    return open_store(Settings(index_dir=str(tmp_path / "index"), store=f"milvus://{tmp_path}/qa.db"), STORE_INFO)


def test_a_new_milvus_lite_store_searches_keywords_in_milvus(tmp_path):
    store = open_lite(tmp_path)
    try:
        assert store.full_text
        assert store.mode == f"Milvus Lite in {store.address}: vector and BM25 search, fused with RRF, in Milvus"
    finally:
        store.close()


@pytest.mark.parametrize("build_row", ["another format", "missing"])
def test_a_database_of_another_format_or_without_build_information_is_refused(tmp_path, build_row):
    store = open_lite(tmp_path)
    client, docs = store.client, store.docs_name
    if build_row == "missing":
        client.delete(docs, filter=f'id == "{BUILD_ROW}"')
    else:
        client.upsert(docs, [_doc_row(BUILD_ROW, 0, 1, "", "", json.dumps({"format": FORMAT + 1, **STORE_INFO}))])
    store.save()
    store.close()
    with pytest.raises(IndexCorruptError, match=r"has no build info or another format; run `qa index --rebuild`"):
        open_lite(tmp_path)


def test_a_reopened_store_still_searches_keywords_in_milvus(tmp_path):
    open_lite(tmp_path).close()
    store = open_lite(tmp_path)
    try:
        assert store.full_text and store.mode.endswith("in Milvus")
    finally:
        store.close()


def test_keyword_search_in_this_process_finds_what_milvus_finds(tmp_path):
    # A Milvus server without full-text search (2.3) has its BM25 run here, over the stored passages.
    store = open_lite(tmp_path)
    try:
        fill(store, make_docs())
        store.save()
        in_milvus = [(c.source, c.text) for c, _ in store.keyword_search("Colosseum Titus", 3)]
        store.full_text = False
        here = [(c.source, c.text) for c, _ in store.keyword_search("Colosseum Titus", 3)]
        assert here[0] == in_milvus[0] and here[0][0] == "rome.txt"
        assert "in this process" in store.mode
        assert store.keyword_search("the of and", 3) == []  # stop words only
    finally:
        store.close()


def test_a_refresh_reads_the_listing_another_writer_saved(tmp_path):
    docs = make_docs()
    store = open_lite(tmp_path)
    try:
        fill(store, docs[:2]).save()
        fill(store.copy(), docs[2:]).save()  # Milvus Lite: one process, one client; copies share it
        assert store.is_stale()
        fresh = store.refresh()
        assert sorted(d.source for d in fresh.documents.values()) == sorted(STORE_TEXTS)
        assert len(store.documents) == 2  # the stale listing itself is left as it was
        assert fresh.refresh() is fresh  # nothing saved since
    finally:
        store.close()


def test_a_reopened_store_keeps_its_index_kind(tmp_path):
    settings = Settings(index_dir=str(tmp_path / "index"), store=f"milvus://{tmp_path}/qa.db?index=IVF_FLAT")
    open_store(settings, STORE_INFO).close()
    store = open_store(settings, STORE_INFO)
    try:
        assert store.index_type == "IVF_FLAT"
    finally:
        store.close()


def test_a_server_store_has_no_kept_copies_to_name_in_its_rebuild_hint():
    store = MilvusStore.__new__(MilvusStore)  # as opened on a server: no archive of kept copies
    store.archive = None
    assert store._rebuild_hint() == "run `qa index --rebuild` to rebuild it"
