"""Micro-batching: concurrent questions share forward passes, and each caller gets its own answer."""

import threading

import pytest

from qa.batching import BatchedEmbedder, BatchedReader, MicroBatcher, batch_models
from qa.chatbot import Chatbot
from qa.config import Settings
from qa.types import Span
from tests.conftest import HashEmbedder


class CountingReader:
    """Answers each question with the first word of its first passage that the question names;
    counts forward calls (`read_many`) and slows each one down, as a model would."""

    def __init__(self, model_path) -> None:
        self.model_path = model_path  # no calibration.json there: the default calibration
        self.calls: list[int] = []

    def warm_up(self) -> None:
        pass

    def read_many(self, items):
        self.calls.append(len(items))
        threading.Event().wait(0.05)
        out = []
        for question, passages in items:
            word = question.split()[-1].rstrip("?")
            spans = []
            for p, text in enumerate(passages):
                at = text.find(word)
                if at >= 0:
                    spans.append(Span(p, at, at + len(word), word, 5.0))
            out.append(spans)
        return out

    def read(self, question, passages):
        return self.read_many([(question, passages)])[0]


def ask_together(fn, inputs):
    results = [None] * len(inputs)
    start = threading.Barrier(len(inputs))

    def one(i):
        start.wait()
        results[i] = fn(inputs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_batcher_returns_each_caller_its_own_result_and_batches():
    seen: list[int] = []

    def run_many(items):
        seen.append(len(items))
        threading.Event().wait(0.05)
        return [x * 10 for x in items]

    batcher = MicroBatcher(run_many, max_batch=16, wait_s=0.01)
    results = ask_together(batcher, list(range(12)))
    assert results == [x * 10 for x in range(12)]
    assert sum(seen) == 12 and len(seen) < 12 and max(seen) > 1


def test_batcher_gives_every_caller_of_a_failed_batch_the_error_and_keeps_working():
    def run_many(items):
        if "bad" in items:
            raise ValueError("bad item")
        return [s.upper() for s in items]

    batcher = MicroBatcher(run_many, wait_s=0.0)
    with pytest.raises(ValueError, match="bad item"):
        batcher("bad")
    assert batcher("fine") == "FINE"


def test_batcher_rejects_a_wrong_number_of_results():
    batcher = MicroBatcher(lambda items: [], wait_s=0.0)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        batcher("x")


def test_concurrent_questions_are_read_together_each_with_its_own_answer(tmp_path):
    words = ["lighthouse", "harbour", "glacier", "orchard", "volcano", "meadow", "canyon", "lagoon"]
    reader = CountingReader(tmp_path / "reader")
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none")), embedder=HashEmbedder(), reader=reader)
    for w in words:
        (tmp_path / f"{w}.txt").write_text(f"This document is about the {w} and nothing else.", encoding="utf-8")
    bot.add_paths(sorted(tmp_path.glob("*.txt")))
    batch_models(bot)
    assert isinstance(bot.reader, BatchedReader) and isinstance(bot.embedder, BatchedEmbedder)
    batch_models(bot)  # twice changes nothing
    assert isinstance(bot.reader.inner, CountingReader)

    answers = ask_together(lambda w: bot.ask(f"What is the document about, the {w}?"), words)
    assert [a.text for a in answers] == words
    assert [a.source for a in answers] == [f"{w}.txt" for w in words]
    assert sum(reader.calls) == len(words) and len(reader.calls) < len(words)


def test_batched_embedder_passes_many_texts_straight_through_and_batches_single_ones():
    inner = HashEmbedder()
    calls = []
    original = inner.embed
    inner.embed = lambda texts: (calls.append(len(texts)), original(texts))[1]  # type: ignore[method-assign]
    embedder = BatchedEmbedder(inner)
    assert embedder.dimension == 64 and embedder.name == inner.name
    many = embedder.embed(["one text", "another text"])
    assert many.shape == (2, 64) and calls == [2]
    texts = [f"question number {i}" for i in range(10)]
    vectors = ask_together(lambda t: embedder.embed([t]), texts)
    for text, vector in zip(texts, vectors):
        assert vector.shape == (1, 64)
        assert (vector[0] == original([text])[0]).all()


def test_no_batch_is_larger_than_max_batch_and_calls_count_the_batches():
    seen: list[int] = []

    def run_many(items):
        seen.append(len(items))
        threading.Event().wait(0.02)  # a forward pass: the other callers queue up meanwhile
        return [x + 1 for x in items]

    batcher = MicroBatcher(run_many, max_batch=3, wait_s=0.05)
    results = ask_together(batcher, list(range(10)))
    assert results == [x + 1 for x in range(10)]
    assert max(seen) <= 3 and sum(seen) == 10
    assert batcher.calls == len(seen)


@pytest.mark.parametrize("size", [0, -1])
def test_a_batch_size_below_one_is_refused(size):
    with pytest.raises(ValueError, match=f"max_batch must be greater than 0, not {size}"):
        MicroBatcher(lambda items: items, max_batch=size)


def test_the_batched_reader_reads_through_the_batcher_and_keeps_the_readers_other_parts(tmp_path):
    reader = CountingReader(tmp_path / "reader")
    batched = BatchedReader(reader, max_batch=4)
    spans = batched.read("Where is the harbour?", ("The harbour is north.", "No."))
    assert [(s.passage, s.text) for s in spans] == [(0, "harbour")]
    assert reader.calls == [1] and batched.batcher.calls == 1
    assert batched.model_path == tmp_path / "reader" and batched.batcher.max_batch == 4


def test_one_worker_thread_serves_every_call_and_never_keeps_a_program_alive():
    def workers():
        return [t for t in threading.enumerate() if t.name == "qa-micro-batch"]

    before = len(workers())
    batcher = MicroBatcher(lambda items: [x * 2 for x in items], wait_s=0.0)
    assert [batcher(i) for i in range(5)] == [0, 2, 4, 6, 8]
    assert len(workers()) == before + 1  # one worker for all the calls, not one per call
    assert all(t.daemon for t in workers())


def test_a_script_that_used_the_batcher_exits():
    import subprocess
    import sys

    code = "from qa.batching import MicroBatcher\nb = MicroBatcher(lambda xs: xs, wait_s=0.0)\nprint(b(41) + 1)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "42"


def test_the_first_caller_waits_for_company_and_a_caller_arriving_meanwhile_joins_its_batch():
    seen: list[list[int]] = []
    batcher = MicroBatcher(lambda items: (seen.append(list(items)), items)[1], max_batch=8, wait_s=30.0)
    first = threading.Thread(target=batcher, args=(1,))
    first.start()
    # A head start for the worker to take the first item (only how sure the check below is depends
    # on it: however late the second caller comes within 30 s, it joins the first one's batch).
    threading.Event().wait(0.2)
    assert batcher(2) == 2  # arrives while the first waits (up to 30 s) for company: one batch
    first.join(60)
    assert seen == [[1, 2]]


def test_callers_queued_behind_a_failing_batch_still_get_their_answers():
    started, release = threading.Event(), threading.Event()

    def run_many(items):
        if items == ["bad"]:
            started.set()
            release.wait(60)
            raise ValueError("bad item")
        return [s.upper() for s in items]

    batcher = MicroBatcher(run_many, max_batch=1, wait_s=0.0)
    errors, answers = [], []

    def bad():
        try:
            batcher("bad")
        except ValueError as err:
            errors.append(str(err))

    first = threading.Thread(target=bad)
    first.start()
    started.wait(60)
    second = threading.Thread(target=lambda: answers.append(batcher("fine")))
    second.start()  # queued while the bad batch runs
    release.set()
    first.join(60)
    second.join(60)  # a guard against a hang, not a measure of time
    assert errors == ["bad item"] and answers == ["FINE"]


def test_the_page_batches_up_to_16_questions_per_reading_32_per_embedding_and_a_lone_one_barely_waits(tmp_path):
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none")), embedder=HashEmbedder(),
                  reader=CountingReader(tmp_path / "reader"))
    batch_models(bot)
    assert bot.reader.batcher.max_batch == 16 and bot.embedder.batcher.max_batch == 32
    assert MicroBatcher(lambda items: items).max_batch == 16
    # The first question of a batch waits for company at most 2 ms: a lone user notices nothing.
    assert max(bot.reader.batcher.wait_s, bot.embedder.batcher.wait_s, MicroBatcher(lambda items: items).wait_s) <= 0.002
