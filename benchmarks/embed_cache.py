"""Embed the sentences and paragraphs of the training files once, into a cache outside git.

    .venv/bin/python benchmarks/embed_cache.py --minutes 12          # ~/.cache/qa/emb-cache
    .venv/bin/python benchmarks/embed_cache.py --cache DIR --minutes 30

The cache holds real all-MiniLM-L6-v2 vectors (the app's own `qa.embed.Embedder`, so bf16 on a
CPU with bf16 units) for benchmarks/scale_real.py: first 2,000 training questions (the queries),
then the sentences of the SQuAD v1.1 training paragraphs, then the paragraphs themselves. It
stops after --minutes and resumes where it stopped when run again. Files: questions-NNNN.npy,
sentences-NNNN.npy, paragraphs-NNNN.npy (float32, unit rows) and progress.json.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from qa.eval.bench import DATA, DEFAULT_EMB_CACHE as DEFAULT_CACHE

ROOT = Path(__file__).resolve().parent.parent
TRAIN = DATA / "squad_v1.1_train.json"
PART = 2048  # texts per saved file
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def texts_by_kind(train: Path, questions: int) -> dict[str, list[str]]:
    """The queries, sentences and paragraphs of a SQuAD file, in a fixed order."""
    data = json.loads(train.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for a in data for p in a["paragraphs"]]
    qs = [q["question"] for p in paragraphs for q in p["qas"]]
    step = max(1, len(qs) // questions)
    sentences = [s.strip() for p in paragraphs for s in _SENTENCE_END.split(p["context"]) if len(s.split()) >= 4]
    return {"questions": qs[::step][:questions], "sentences": sentences, "paragraphs": [p["context"] for p in paragraphs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--minutes", type=float, default=12.0, help="Stop embedding after this long (resumable).")
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--train", type=Path, default=TRAIN)
    args = parser.parse_args()

    import numpy as np

    from qa.embed import Embedder

    args.cache.mkdir(parents=True, exist_ok=True)
    progress_file = args.cache / "progress.json"
    done = json.loads(progress_file.read_text()) if progress_file.exists() else {}
    embedder = Embedder(batch_size=64)
    deadline = time.monotonic() + args.minutes * 60
    started = time.perf_counter()
    made = 0
    for kind, texts in texts_by_kind(args.train, args.questions).items():
        at = done.get(kind, 0)
        while at < len(texts) and time.monotonic() < deadline:
            part = texts[at : at + PART]
            vectors = embedder.embed(part)
            np.save(args.cache / f"{kind}-{at // PART:04d}.npy", vectors.astype(np.float32))
            at += len(part)
            made += len(part)
            done[kind] = at
            progress_file.write_text(json.dumps(done, indent=1))
            rate = made / (time.perf_counter() - started)
            print(f"{kind}: {at}/{len(texts)}  ({rate:.0f} texts/s, {embedder.dtype})", flush=True)
    print(f"cache {args.cache}: {json.dumps(done)}")


if __name__ == "__main__":
    main()
