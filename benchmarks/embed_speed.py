"""`qa index` against its floor, a bare fp32 SentenceTransformer.encode, and the recall it keeps.

    .venv/bin/python benchmarks/embed_speed.py                    # 1,000 paragraphs, 400 questions
    .venv/bin/python benchmarks/embed_speed.py --paragraphs 300 --questions 300

The paragraphs are the first ones of the SQuAD v1.1 DEV file, one file each. Measured in one
run, so that the ratios hold on a busy machine:

1. the floor: `SentenceTransformer(...).encode` of the paragraphs, fp32, the library's defaults
   (timed before and after the rest, and averaged);
2. `Chatbot.add_paths` of the paragraph files with the app's embedder (bf16 where the CPU has
   bf16 units): reading, chunking, embedding, saving;
3. the same with the embedder in fp32, for the recall to compare with.

Retrieval recall@5 (the question's own paragraph among the 5 passages the chatbot retrieves,
dense + BM25 as it answers) is measured on DEV questions over both indexes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from qa.eval.bench import DATA

DEV = DATA / "squad_v1.1_DEV_minus_heldout.json"


def dev_items(paragraphs: int, questions: int) -> tuple[list[str], list[tuple[str, int]]]:
    """The first `paragraphs` DEV paragraphs, and up to `questions` of their questions with the
    index of their paragraph, spread over all of them."""
    data = json.loads(DEV.read_text(encoding="utf-8"))["data"]
    paras = [p for a in data for p in a["paragraphs"]][:paragraphs]
    qs = [(q["question"], i) for i, p in enumerate(paras) for q in p["qas"]]
    step = max(1, len(qs) // questions)
    return [p["context"] for p in paras], qs[::step][:questions]


def index_seconds(folder: Path, files: Path, embedder) -> tuple[float, object]:
    from qa import Chatbot, Settings

    bot = Chatbot(Settings(index_dir=str(folder), seed_dir=str(folder / "none")), embedder=embedder, reader=object())
    bot.open()
    t0 = time.perf_counter()
    bot.add_paths([files])
    return time.perf_counter() - t0, bot


def recall_at_5(bot, questions: list[tuple[str, int]]) -> float:
    from qa.retrieve import Retriever

    s = bot.settings
    retriever = Retriever(bot.store, bot.embedder, s.candidates, s.rrf_k)
    hit = 0
    for question, gold in questions:
        hit += f"p{gold:05d}.txt" in {h.chunk.source for h in retriever.retrieve(question, 5)}
    return 100.0 * hit / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from sentence_transformers import SentenceTransformer

    from qa.embed import Embedder, packaged_model_dir

    texts, questions = dev_items(args.paragraphs, args.questions)
    tmp = Path(tempfile.mkdtemp(prefix="qa-embed-speed-"))
    try:
        files = tmp / "paragraphs"
        files.mkdir()
        for i, text in enumerate(texts):
            (files / f"p{i:05d}.txt").write_text(text, encoding="utf-8")
        bare = SentenceTransformer(str(packaged_model_dir()), device="cpu")
        fast, fp32 = Embedder(), Embedder(precision="fp32")
        for model in (bare, fast.model, fp32.model):
            model.encode(texts[:32])  # warm
        floors = []
        t0 = time.perf_counter()
        bare.encode(texts)
        floors.append(time.perf_counter() - t0)
        fast_s, fast_bot = index_seconds(tmp / "fast", files, fast)
        fp32_s, fp32_bot = index_seconds(tmp / "fp32", files, fp32)
        t0 = time.perf_counter()  # the floor again, after: the mean evens out a load that changes during the run
        bare.encode(texts)
        floors.append(time.perf_counter() - t0)
        floor = sum(floors) / 2
        recall_fast, recall_fp32 = recall_at_5(fast_bot, questions), recall_at_5(fp32_bot, questions)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{len(texts)} DEV paragraphs, {len(questions)} questions | torch {torch.get_num_threads()} threads | "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| measure | value | vs floor |\n|---|---|---|")
    print(f"| bare SentenceTransformer.encode, fp32 (floor) | {floor:.1f} s | 1.00x (mean of {floors[0]:.1f} s before and {floors[1]:.1f} s after) |")
    print(f"| qa index, embedder {fast.dtype} (the app's) | {fast_s:.1f} s | {fast_s / floor:.2f}x |")
    print(f"| qa index, embedder fp32 | {fp32_s:.1f} s | {fp32_s / floor:.2f}x |")
    print(f"| retrieval recall@5, {fast.dtype} | {recall_fast:.2f} | fp32 {recall_fp32:.2f} ({recall_fast - recall_fp32:+.2f} points) |")


if __name__ == "__main__":
    main()
