"""The readers side by side on the seed article: fast, accurate and the cascade, the whole question path.

    .venv/bin/python benchmarks/readers.py [--readers fast,accurate,cascade] [--rounds 3] [--threads 2]

One index of the seed article and one embedder serve every reader, in this one process. Each
reader is loaded and warmed (one pass over the questions), then every seed question
(`qa.eval.bench.SEED_QUESTIONS`) and every question the article cannot answer (UNANSWERABLE) is
asked `--rounds` times; it prints the p50/p95 of the warm answer time, how many of the
answerable questions were answered, and how many of the unanswerable ones abstained on, with the
processor's name. The cascade's share of questions read by both readers is printed too.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from qa.eval.bench import SEED_QUESTIONS, SEEDS, percentile

# Questions that sound like the article but that it does not answer (tests/test_seed_questions.py has more).
UNANSWERABLE = [
    "When will Lee and Xi meet again?",
    "How many nuclear weapons does North Korea have?",
    "What did Trump say to Xi?",
    "Who won the South Korean election before Lee?",
    "What is the population of Beijing?",
    "How much trade does China do with North Korea each year?",
]


def processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readers", default="fast,accurate,cascade")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("QA_")]:
        del os.environ[key]
    from qa import Chatbot, Settings
    from qa.readers import build_reader

    tmp = Path(tempfile.mkdtemp(prefix="qa-readers-"))
    base = Settings(index_dir=str(tmp / "index"), seed_dir=str(SEEDS), threads=args.threads)
    first = Chatbot(base)
    first.open()
    print(f"{processor()}, {os.cpu_count()} cores, {args.threads} torch threads; "
          f"{len(SEED_QUESTIONS)} seed questions + {len(UNANSWERABLE)} the article does not answer, {args.rounds} rounds\n")
    print("| reader | p50 | p95 | mean | seed questions answered | unanswerable abstained | read by both (cascade) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.readers.split(","):
        settings = base.replace(reader=name)
        reader = build_reader(settings)
        bot = Chatbot(settings, reader=reader, indexer=first.indexer)
        bot.warm_up()
        counted = _count_second(reader)
        for q in SEED_QUESTIONS + UNANSWERABLE:
            bot.ask(q)
        counted.clear()
        times: list[float] = []
        answered = abstained = 0
        for _ in range(args.rounds):
            for q in SEED_QUESTIONS + UNANSWERABLE:
                t0 = time.perf_counter()
                answer = bot.ask(q)
                times.append((time.perf_counter() - t0) * 1000)
                if q in UNANSWERABLE:
                    abstained += answer.abstained
                else:
                    answered += not answer.abstained
        n = args.rounds * len(SEED_QUESTIONS)
        both = f"{100 * len(counted) / len(times):.0f}%" if hasattr(reader, "second") else ""
        print(f"| {name} | {percentile(times, 50):.0f} ms | {percentile(times, 95):.0f} ms | {statistics.mean(times):.0f} ms | "
              f"{answered / args.rounds:.0f} / {n // args.rounds} | {abstained / args.rounds:.0f} / {len(UNANSWERABLE)} | {both} |",
              flush=True)


def _count_second(reader: object) -> list[int]:
    """A list that grows by one for each question the cascade's second reader reads."""
    seen: list[int] = []
    second = getattr(reader, "second", None)
    if second is not None:
        inner = second.reader
        read_many = inner.read_many

        def counting(items):  # type: ignore[no-untyped-def]
            seen.extend(range(len(items)))
            return read_many(items)

        inner.read_many = counting
    return seen


if __name__ == "__main__":
    main()
