"""Large ingests with Ray: files are read, chunked and embedded by a pool of actors, and the
passages stream into the store in batches.

    files -> Ray Data map_batches over an actor pool (each actor loads the embedder once):
             read (qa.ingest) -> chunk (qa.chunk, the embedder's word pieces) -> embed
          -> iter_batches on this process -> whole documents (`qa.indexer.Prepared`)
          -> `Indexer.write_prepared`: the same writer as `qa index` without Ray

Ray only produces; what is new, what replaces an older version of a file, batching and saving
are the indexer's, so the two paths index the same files the same way. No more than a few
batches of vectors are held here at a time. A document is written together with all its
passages, and documents already in the store are skipped, so an interrupted ingest is finished
by running it again. Workers read the files by path: on a cluster of several
machines the files must be at the same path on each (a shared file system).

Ray started here binds to 127.0.0.1, runs no dashboard and sends no usage statistics.
"""

from __future__ import annotations

import functools
from enum import Enum
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from qa.config import Settings
from qa.errors import QAError, SettingsError
from qa.indexer import IndexReport, Prepared, Progress
from qa.types import Chunk, Document

if TYPE_CHECKING:
    from qa.chatbot import Chatbot

log = logging.getLogger("qa")
EMBED_ROWS = 256  # passages per embedder call inside an actor


class RowKind(str, Enum):
    """What a row from the workers is: a refused file, a file already indexed, a passage with its
    vector, or a document (which comes after all its passages)."""

    PROBLEM = "problem"
    UNCHANGED = "unchanged"
    CHUNK = "chunk"
    DOCUMENT = "document"


_TEXT_COLUMNS = ("kind", "file", "doc_id", "chunk_id", "source", "title", "text")


def index_with_ray(
    target: Chatbot | Settings,
    paths: Sequence[str | Path],
    workers: int = 2,
    batch_size: int = 8,
    write_batch: int = 1_000,
    save_every: int = 20_000,
    address: str | None = None,
    embedder_factory: Callable[[], Any] | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Index files and folders with a pool of Ray actors; the same content twice is indexed once.

    Args:
        target: A `qa.chatbot.Chatbot` (its store is updated and it answers from the result),
            or `Settings` (a chatbot is opened on them).
        paths: Files and folders (.txt, .md, .html, .pdf).
        workers: Actors reading, chunking and embedding, one CPU each.
        batch_size: Files per actor call.
        write_batch: Passages per write to the store.
        save_every: Passages between saves (flushes); what was saved survives a crash.
        address: A running Ray cluster (e.g. "127.0.0.1:6379"); None starts a local Ray on
            127.0.0.1 with `workers` CPUs and stops it at the end.
        embedder_factory: Builds the embedder inside each actor; default: `qa.embed.Embedder`
            on the chatbot's `embedder_path`. Must build the embedder the chatbot uses.
        progress: Called with (stage, fraction of files done).

    Returns:
        What was added, what was already there, and one message per refused file.
    """
    # Over 60 lines only through its docstring, which documents each option.
    from qa.chatbot import Chatbot
    from qa.ingest import iter_files

    if workers <= 0 or batch_size <= 0 or write_batch <= 0 or save_every <= 0:
        raise SettingsError(f"workers, batch_size, write_batch and save_every must be greater than 0, not {workers}, {batch_size}, {write_batch}, {save_every}")
    if not isinstance(target, (Chatbot, Settings)):
        raise TypeError(f"index_with_ray needs a Chatbot or Settings, not {type(target).__name__}")
    bot = target if isinstance(target, Chatbot) else Chatbot(target)
    report = IndexReport()
    files = []
    for f in iter_files(paths):
        (files.append(str(f)) if f.exists() else report.problems.append(f"{f}: no such file or folder"))
    if not files:
        return report
    s = bot.settings
    factory = embedder_factory or functools.partial(_default_embedder, s.embedder_path or None, s.embedder_precision)
    started = connect_ray(address, workers)
    try:
        with bot.indexer.updating() as store:  # questions switch to the new passages once all are written
            options = {
                "factory": factory, "chunk_tokens": s.chunk_tokens, "chunk_overlap": s.chunk_overlap,
                "known": frozenset(store.documents), "max_bytes": s.max_upload_mb * 1024 * 1024,
            }
            documents = _Assembler(report)

            def produced() -> Iterator[Prepared]:
                for batch in _pipeline(files, options, workers, batch_size):
                    yield from documents.add(batch)
                    if progress:
                        progress(f"indexed {documents.files_done}/{len(files)} files", documents.files_done / len(files))
                documents.finish()

            bot.indexer.write_prepared(store, produced(), report, write_batch, save_every)
    finally:
        if started:
            import ray

            ray.shutdown()
    return report


def _default_embedder(path: str | None, precision: str = "auto") -> Any:
    from qa.embed import Embedder

    return Embedder(path, precision=precision)


def _pipeline(files: list[str], options: dict[str, Any], workers: int, batch_size: int) -> Iterable[dict[str, Any]]:
    """Batches of rows (passages with vectors, documents, skipped files) as the actors finish them."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.execution_options.preserve_order = True  # of two files with the same text, the first is kept
    ds = ray.data.from_items([{"path": f} for f in files], override_num_blocks=max(1, min(len(files), workers * 4)))
    ds = ds.map_batches(
        _IndexActor, fn_constructor_kwargs=options, batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1, batch_format="numpy",
    )
    return ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2)


def connect_ray(address: str | None, workers: int) -> bool:
    """Connect to Ray, starting a local one on 127.0.0.1 if needed; True if started here.

    A local Ray, or a cluster at a loopback address, is bound to 127.0.0.1: on Linux Ray would
    otherwise replace 127.0.0.1 by the address that routes outside (the same switch as the
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 environment variable, applied only while connecting).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: never phone home
    try:
        import ray
        from ray._private import ray_constants
    except ImportError:
        raise QAError("indexing with Ray needs ray: pip install 'ray[data]' (or qa[scale])") from None

    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    previous = ray_constants.ENABLE_RAY_CLUSTER
    try:
        if address and address.rsplit(":", 1)[0] not in ("127.0.0.1", "localhost"):
            ray.init(address=address, **quiet)
            return True
        ray_constants.ENABLE_RAY_CLUSTER = False
        if address:
            ray.init(address=address, _node_ip_address="127.0.0.1", **quiet)
        else:
            # "local": a new Ray of our own, even when another one runs on this machine (joining it
            # would refuse num_cpus).
            ray.init(address="local", num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
    except QAError:
        raise
    except Exception as err:  # noqa: BLE001 - Ray's own errors: said in words, not as a traceback
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise QAError(f"indexing with Ray could not start {where} ({str(err).splitlines()[0] if str(err) else type(err).__name__}); "
                      "index without --ray, or check the cluster") from None
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = previous
    return True


class _IndexActor:
    """Reads, chunks and embeds a batch of files; loads the embedder once."""

    def __init__(self, factory: Callable[[], Any], chunk_tokens: int, chunk_overlap: int, known: frozenset[str], max_bytes: int) -> None:
        self.embedder = factory()
        self.size = (chunk_tokens, chunk_overlap)
        self.known = known
        self.max_bytes = max_bytes

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from qa.chunk import chunk_document
        from qa.ingest import IngestError, load_file

        rows = _Rows(int(self.embedder.dimension))
        todo: list[tuple[str, Document, list[Chunk]]] = []
        for path in batch["path"]:
            path = str(path)
            try:
                doc = load_file(path, self.max_bytes)
            except IngestError as err:
                rows.add(RowKind.PROBLEM, path, text=str(err))
                continue
            if doc.id in self.known:
                rows.add(RowKind.UNCHANGED, path, doc_id=doc.id, source=doc.source)
                continue
            todo.append((path, doc, chunk_document(doc, self.embedder.token_offsets, *self.size)))
        chunks = [(path, c) for path, _, cs in todo for c in cs]
        for lo in range(0, len(chunks), EMBED_ROWS):
            part = chunks[lo : lo + EMBED_ROWS]
            for (path, c), vector in zip(part, self.embedder.embed([c.text for _, c in part])):
                rows.add(RowKind.CHUNK, path, c.doc_id, c.id, c.source, "", c.text, c.start, c.end, vector=vector)
        for path, doc, cs in todo:
            rows.add(RowKind.DOCUMENT, path, doc.id, "", doc.source, doc.title, doc.text, parts=len(cs))
        return rows.columns()


class _Rows:
    """Column-wise rows of one kind-tagged table (Ray Data batches are columns)."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.cols: dict[str, list[Any]] = {k: [] for k in (*_TEXT_COLUMNS, "start", "end", "parts", "vector")}

    def add(self, kind: RowKind, file: str, doc_id: str = "", chunk_id: str = "", source: str = "", title: str = "",
            text: str = "", start: int = -1, end: int = -1, parts: int = 0, vector: Any = None) -> None:
        import numpy as np

        values = (kind.value, file, doc_id, chunk_id, source, title, text, start, end, parts)
        for name, value in zip((*_TEXT_COLUMNS, "start", "end", "parts"), values):
            self.cols[name].append(value)
        self.cols["vector"].append(np.zeros(self.dimension, np.float32) if vector is None else vector)

    def columns(self) -> dict[str, Any]:
        import numpy as np

        out = {k: np.array(self.cols[k], dtype=object) for k in _TEXT_COLUMNS}
        out.update({k: np.array(self.cols[k], dtype=np.int64) for k in ("start", "end", "parts")})
        out["vector"] = np.array(self.cols["vector"], dtype=np.float32).reshape(-1, self.dimension)
        return out


class _Assembler:
    """Collects each document's passages as the workers' rows arrive; yields whole documents."""

    def __init__(self, report: IndexReport) -> None:
        self.report = report
        self.owner: dict[str, str] = {}  # doc id -> the file whose rows are used (duplicates are skipped)
        self.pending: dict[str, dict[str, Any]] = {}
        self.files_done = 0

    def add(self, batch: dict[str, Any]) -> Iterator[Prepared]:
        for i, kind in enumerate(batch["kind"]):
            if kind == RowKind.PROBLEM:
                self.report.problems.append(str(batch["text"][i]))
                self.files_done += 1
            elif kind == RowKind.UNCHANGED:
                self.report.unchanged.append(str(batch["source"][i]))
                self.files_done += 1
            else:
                done = self._add_row(kind, batch, i)
                if done is not None:
                    yield done

    def _add_row(self, kind: str, batch: dict[str, Any], i: int) -> Prepared | None:
        import numpy as np

        doc_id, file = str(batch["doc_id"][i]), str(batch["file"][i])
        if self.owner.setdefault(doc_id, file) != file:  # the same content in another file
            if kind == RowKind.DOCUMENT:
                self.report.unchanged.append(str(batch["source"][i]))
                self.files_done += 1
            return None
        entry = self.pending.setdefault(doc_id, {"doc": None, "parts": -1, "chunks": [], "vectors": []})
        if kind == RowKind.CHUNK:
            entry["chunks"].append(Chunk(str(batch["chunk_id"][i]), doc_id, str(batch["source"][i]),
                                         str(batch["text"][i]), int(batch["start"][i]), int(batch["end"][i])))
            entry["vectors"].append(batch["vector"][i])
        else:
            entry["doc"] = Document(doc_id, str(batch["source"][i]), str(batch["text"][i]), str(batch["title"][i]))
            entry["parts"] = int(batch["parts"][i])
            self.files_done += 1
        if entry["doc"] is None or len(entry["chunks"]) != entry["parts"]:
            return None
        del self.pending[doc_id]
        return Prepared(entry["doc"], entry["chunks"], np.array(entry["vectors"], dtype=np.float32))

    def finish(self) -> None:
        """A document still missing passages is a bug: reported, never written half."""
        for entry in self.pending.values():
            name = entry["doc"].source if entry["doc"] else "a document"
            self.report.problems.append(f"{name}: not all its passages came back from the workers; index it again")
