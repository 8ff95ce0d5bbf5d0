"""Connecting to Milvus (Milvus Lite in this process, or a server), and keeping its errors short."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

from qa.errors import SettingsError
from qa.store.base import StoreError

log = logging.getLogger("qa")
_lite_lock = threading.Lock()
_lite_users: dict[str, int] = {}
_quieted = False


def parse_milvus_uri(uri: str) -> tuple[str, dict[str, str]]:
    """The address pymilvus takes (a .db path or http(s) URL) and the options in the query.

    `milvus://data/qa.db?collection=books&index=HNSW` gives ("data/qa.db",
    {"collection": "books", "index": "HNSW"}); `http://host:19530?collection=books` keeps
    the URL without its query.
    """
    parts = urlsplit(uri)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - {"collection", "index"})
    if unknown:
        raise SettingsError(f"unknown option(s) {', '.join(unknown)} in store {uri!r}; known: collection, index")
    if parts.scheme == "milvus":
        path = uri[len("milvus://"):].split("?", 1)[0]
        if not path.endswith(".db"):
            raise SettingsError(f"store {uri!r}: a Milvus Lite file must end in .db, e.g. milvus://index/qa.db")
        return path, options
    if parts.scheme in ("http", "https"):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), options
    raise SettingsError(f"store {uri!r} is not a Milvus address: use milvus://FILE.db or http(s)://HOST:19530")




class _Connection:
    """A MilvusClient shared by a store and its copies; for Milvus Lite, also its embedded server."""

    def __init__(self, address: str) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise StoreError("a Milvus store needs pymilvus: pip install 'pymilvus[milvus_lite]' (or qa[scale])") from None

        self.address = address
        self.lite_path = os.path.abspath(address) if address.endswith(".db") else ""
        if self.lite_path:
            Path(self.lite_path).parent.mkdir(parents=True, exist_ok=True)
        silence_milvus_logs()
        try:
            with _quiet_milvus_logs():
                self.client = MilvusClient(uri=address, token=os.environ.get("MILVUS_TOKEN", ""))
        except Exception as err:  # pymilvus raises several kinds; all mean "cannot connect"
            hint = " (is another process using this file, or is it damaged?)" if self.lite_path else " (is the server running?)"
            raise StoreError(f"cannot open the Milvus store {address}{hint}: {_reason(err)}") from None
        if self.lite_path:
            with _lite_lock:
                _lite_users[self.lite_path] = _lite_users.get(self.lite_path, 0) + 1
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.client.close()
        if self.lite_path:
            with _lite_lock:
                _lite_users[self.lite_path] -= 1
                last = _lite_users[self.lite_path] == 0
            if last:  # stop the embedded server so the file is released and reopened from disk
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.lite_path)




def _connect(address: str, fresh: bool, move_aside: bool = False) -> _Connection:
    """A connection; for a rebuild of a Milvus Lite file that cannot be opened (or whose
    collections cannot be dropped: `move_aside`), the damaged file is moved aside and a new one
    started."""
    if not move_aside:
        try:
            return _Connection(address)
        except StoreError:
            if not (fresh and address.endswith(".db") and Path(address).exists()):
                raise
    aside = Path(f"{address}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    log.warning("moving the unreadable Milvus database %s aside to %s", address, aside)
    shutil.move(address, aside)
    return _Connection(address)




def _reason(err: BaseException) -> str:
    """The gist of a Milvus error: its message without the stack pymilvus appends."""
    text = str(getattr(err, "message", "") or err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]




_MILVUS_LOGGERS = ("pymilvus", "pymilvus.decorators", "pymilvus.milvus_client", "pymilvus.client", "milvus_lite", "grpc")


def silence_milvus_logs() -> None:
    """From now on, pymilvus and Milvus Lite print nothing: every error of theirs is raised, and
    qa turns it into a message (their own loggers print raw tracebacks on stderr)."""
    for name in _MILVUS_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextlib.contextmanager
def _quiet_milvus_logs() -> Iterator[None]:
    """pymilvus and Milvus Lite log tracebacks of errors that are raised and reported anyway."""
    loggers = [logging.getLogger(n) for n in _MILVUS_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)




def _quiet_query_iterator() -> None:
    """Milvus Lite has no MVCC timestamps; pymilvus warns about it on every iterator."""
    global _quieted
    if not _quieted:
        logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(lambda r: "mvccTs" not in r.getMessage())
        _quieted = True
