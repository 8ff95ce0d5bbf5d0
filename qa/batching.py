"""Micro-batching: questions asked at the same time share the models' forward passes.

A `MicroBatcher` runs one function over a list of items in a single worker thread. Whatever
arrives while the worker is busy (or within `wait_s` of the first item) goes into the next
call together, so one user waits for nothing extra, and many users at once are read in
batches: fewer, fuller forward passes, and no two model calls competing for the same cores.

`batch_models(bot)` puts batchers in front of a chatbot's question embedding and its reader;
the chat page does this for its users.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Generic, Sequence, TypeVar

if TYPE_CHECKING:
    from qa.chatbot import Chatbot
    from qa.embed import EmbeddingModel
    from qa.read import SpanReader
    from qa.types import Span

In = TypeVar("In")
Out = TypeVar("Out")


class MicroBatcher(Generic[In, Out]):
    """Calls `run_many` on the items of concurrent callers together; each caller gets its own result.

    Args:
        run_many: Maps a list of items to a list of results, in the same order.
        max_batch: Most items per call.
        wait_s: How long the first item of a batch waits for company.
    """

    def __init__(self, run_many: Callable[[list[In]], Sequence[Out]], max_batch: int = 16, wait_s: float = 0.002) -> None:
        if max_batch <= 0:
            raise ValueError(f"max_batch must be greater than 0, not {max_batch}")
        self.run_many = run_many
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.calls = 0  # batches run so far
        self._queue: queue.Queue[tuple[In, Future]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __call__(self, item: In) -> Out:
        future: Future = Future()
        self._queue.put((item, future))
        self._ensure_worker()
        return future.result()

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="qa-micro-batch", daemon=True)
                self._worker.start()

    def _next_batch(self) -> list[tuple[In, Future]]:
        batch = [self._queue.get()]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get(timeout=self.wait_s) if len(batch) == 1 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            self.calls += 1
            try:
                results = list(self.run_many([item for item, _ in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} items")
            except BaseException as err:  # every caller of the batch gets the error
                for _, future in batch:
                    future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results):
                future.set_result(result)


class BatchedReader:
    """A reader whose `read` calls from many threads are read together (`read_many`)."""

    def __init__(self, reader: SpanReader, max_batch: int = 16) -> None:
        self.inner = reader
        self.batcher: MicroBatcher = MicroBatcher(lambda items: reader.read_many(items), max_batch)

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        return self.batcher((question, list(passages)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BatchedEmbedder:
    """An embedder whose one-text calls (questions) from many threads share one `embed`;
    larger calls (indexing) go straight through."""

    def __init__(self, embedder: EmbeddingModel, max_batch: int = 32) -> None:
        self.inner = embedder
        self.batcher: MicroBatcher = MicroBatcher(lambda texts: list(embedder.embed(texts)), max_batch)

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if len(texts) != 1:
            return self.inner.embed(texts)
        return np.asarray(self.batcher(texts[0]))[None, :]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def batch_models(bot: Chatbot) -> Chatbot:
    """Put micro-batchers in front of `bot`'s embedder and reader (once); returns the bot."""
    if not isinstance(bot.embedder, BatchedEmbedder):
        bot.embedder = BatchedEmbedder(bot.embedder)
    if not isinstance(bot.reader, BatchedReader):
        bot.reader = BatchedReader(bot.reader)
    return bot
