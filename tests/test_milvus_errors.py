"""A Milvus server that goes away mid-question gives a message, not pymilvus' traceback."""

import logging

import pytest

from qa.store.base import StoreError
from qa.store.milvus_connection import silence_milvus_logs
from qa.store.milvus_store import MilvusStore


class GoneClient:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("<_InactiveRpcError: StatusCode.UNAVAILABLE, failed to connect to all addresses>\nstack...")
        return fail


class Conn:
    client = GoneClient()
    lite_path = ""


def gone_store():
    store = MilvusStore.__new__(MilvusStore)  # as opened before the server went away
    store.address, store._conn, store._count, store.full_text, store.index_type = "http://127.0.0.1:19530", Conn(), None, True, "FLAT"
    store.chunks_name, store.docs_name, store._bm25 = "qa_chunks", "qa_documents", None
    return store


@pytest.mark.parametrize("call", ["count", "dense", "keyword", "hybrid"])
def test_a_search_on_a_server_gone_away_is_a_store_error_with_a_message(call):
    store = gone_store()
    run = {
        "count": lambda: store.count(),
        "dense": lambda: store.dense_search([0.1, 0.2], 3),
        "keyword": lambda: store.keyword_search("lighthouse keeper", 3),
        "hybrid": lambda: store.hybrid_search("lighthouse keeper", [0.1, 0.2], 3, 5, 60),
    }[call]
    with pytest.raises(StoreError, match=r"Milvus server http://127.0.0.1:19530 did not answer \(<_InactiveRpcError.*check that it is running") as err:
        run()
    assert "stack" not in str(err.value)


def test_pymilvus_prints_nothing_once_qa_uses_it():
    silence_milvus_logs()
    for name in ("pymilvus", "pymilvus.decorators", "pymilvus.milvus_client"):
        assert not logging.getLogger(name).isEnabledFor(logging.CRITICAL)
