"""`qa index` against its floor, a bare fp32 SentenceTransformer.encode, and the recall it keeps.

    .venv/bin/python benchmarks/embed_speed.py                    # 1,000 paragraphs, 400 questions
    .venv/bin/python benchmarks/embed_speed.py --paragraphs 300 --questions 300
    .venv/bin/python benchmarks/embed_speed.py --formats fp32,bf16,onnx,onnx-int8 --write   # the accuracy check

The paragraphs are the first ones of the SQuAD v1.1 DEV file (then SQuAD-Shifts new_wiki's), one file each. Measured in one
run, so that the ratios hold on a busy machine:

1. the floor: `SentenceTransformer(...).encode` of the paragraphs, fp32, the library's defaults
   (timed before and after the rest, and averaged);
2. `Chatbot.add_paths` of the paragraph files with the app's embedder (the format `qa.runtime`
   chose on this processor): reading, chunking, embedding, saving;
3. the same with the embedder in each of `--formats` (fp32 always), for the recall to compare with.

Retrieval recall@5 (the question's own paragraph among the 5 passages the chatbot retrieves,
dense + BM25 as it answers) is measured on DEV questions over each index. With --write, the
formats whose recall@5 is not below fp32's are recorded as the ones the packaged embedder may
use (`qa/models/embedder/runtimes.json`); the app chooses among them by speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from qa.eval.bench import DATA

DEV = DATA / "squad_v1.1_DEV_minus_heldout.json"
MORE = DATA / "squadshifts_new_wiki_test.json"


def dev_items(paragraphs: int, questions: int) -> tuple[list[str], list[tuple[str, int]]]:
    """The first `paragraphs` DEV paragraphs (the file has 802; SQuAD-Shifts new_wiki's follow),
    and up to `questions` of their questions with the index of their paragraph, spread over all of them."""
    paras = []
    for path in (DEV, MORE):
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        paras += [p for a in data for p in a["paragraphs"]]
    paras = paras[:paragraphs]
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
    parser.add_argument("--formats", default="fp32,onnx,onnx-int8",
                        help="embedder formats to index with besides the app's choice (fp32 always)")
    parser.add_argument("--write", action="store_true",
                        help="record which formats keep fp32's recall@5 in qa/models/embedder/runtimes.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from sentence_transformers import SentenceTransformer

    from qa.embed import Embedder, packaged_model_dir

    formats = ["fp32"] + [f for f in args.formats.split(",") if f and f != "fp32"]
    texts, questions = dev_items(args.paragraphs, args.questions)
    tmp = Path(tempfile.mkdtemp(prefix="qa-embed-speed-"))
    seconds: dict[str, float] = {}
    recall: dict[str, float] = {}
    try:
        files = tmp / "paragraphs"
        files.mkdir()
        for i, text in enumerate(texts):
            (files / f"p{i:05d}.txt").write_text(text, encoding="utf-8")
        bare = SentenceTransformer(str(packaged_model_dir()), device="cpu")
        app = Embedder()
        embedders = {"app": app, **{f: Embedder(precision=f) for f in formats}}
        bare.encode(texts[:32])  # warm
        for e in embedders.values():
            e.embed(texts[:32])  # loads (an ONNX format is built here, once) and warms
        floors = []
        t0 = time.perf_counter()
        bare.encode(texts)
        floors.append(time.perf_counter() - t0)
        bots = {}
        for name, e in embedders.items():
            seconds[name], bots[name] = index_seconds(tmp / name, files, e)
        t0 = time.perf_counter()  # the floor again, after: the mean evens out a load that changes during the run
        bare.encode(texts)
        floors.append(time.perf_counter() - t0)
        floor = sum(floors) / 2
        recall = {name: recall_at_5(bot, questions) for name, bot in bots.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    from qa.runtime import processor_name

    print(f"\n{len(texts)} DEV paragraphs, {len(questions)} questions | {processor_name()} | torch "
          f"{torch.get_num_threads()} threads | load average {os.getloadavg()[0]:.1f}")
    print("| measure | time | vs floor | recall@5 |\n|---|---|---|---|")
    print(f"| bare SentenceTransformer.encode, fp32 (floor) | {floor:.1f} s | 1.00x (mean of {floors[0]:.1f} s before and "
          f"{floors[1]:.1f} s after) | |")
    for name in embedders:
        label = f"qa index, embedder {app.dtype} (the app's choice)" if name == "app" else f"qa index, embedder {name}"
        print(f"| {label} | {seconds[name]:.1f} s | {seconds[name] / floor:.2f}x | {recall[name]:.2f} |")
    allowed = [f for f in formats if recall[f] >= recall["fp32"]]
    print(f"formats that keep fp32's recall@5 ({recall['fp32']:.2f}): {', '.join(allowed)}")
    if args.write:
        record = {
            "allowed": allowed,
            "rule": "retrieval recall@5 (dense + BM25, as the chatbot retrieves) not below fp32's",
            "recall_at_5": {f: round(recall[f], 2) for f in formats},
            "index_seconds_vs_floor": {f: round(seconds[f] / floor, 2) for f in formats},
            "paragraphs": len(texts), "questions": len(questions),
            "processor": processor_name(),
            "command": "python benchmarks/embed_speed.py " + " ".join(sys.argv[1:]),
        }
        out = ROOT / "qa" / "models" / "embedder" / "runtimes.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
