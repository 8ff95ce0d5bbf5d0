"""The readers side by side on the seed article: fast, accurate and the cascade, the whole question path.

    .venv/bin/python benchmarks/readers.py [--readers fast,accurate,cascade] [--rounds 3] [--threads 2] [--top-k 5]

One index of the seed article and one embedder serve every reader, in this one process. Each
reader is loaded and warmed (one pass over the questions), then every seed question
(`qa.eval.bench.SEED_QUESTIONS`) and every question the article cannot answer (UNANSWERABLE) is
asked `--rounds` times; it prints the p50/p95 of the warm answer time, the F1 of the answers
against the answers written below for each seed question (SQuAD scoring; an abstention scores 0),
how many of the questions the article cannot answer were abstained on, with the processor's name.
The cascade's share of questions read by both readers is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from qa.eval.bench import SEED_QUESTIONS, SEEDS, percentile
from qa.eval.squad import f1_score
from qa.runtime import processor_name

# What a reader of the article would accept as the answer to each seed question (any of them).
GOLD = {
    "What did Xi say?": ["the need for patience regarding North Korean issues", "need for patience",
                         "recognized South Korea\u2019s efforts and reiterated the importance of maintaining patience in the situation",
                         "the importance of maintaining patience in the situation"],
    "Who did Lee meet on Tuesday?": ["Chinese Premier Li Qiang", "Li Qiang"],
    "What has North Korea refused?": ["to engage in dialogue with South Korea and the US"],
    "Who is China's Premier?": ["Li Qiang"],
    "Where did Lee meet Xi?": ["Beijing"],
    "When did Lee meet Xi in Beijing?": ["Monday", "earlier in the week"],
    "Where was Lee visiting when he spoke to journalists?": ["Shanghai"],
    "What did Lee ask Xi to do?": ["to mediate in the ongoing North Korean nuclear crisis and to help ease tensions between North and South Korea",
                                   "mediate in the ongoing North Korean nuclear crisis",
                                   "to assume the role of mediator to promote peace"],
    "Who is North Korea's biggest trading partner?": ["China"],
    "When did Kim Jong Un's diplomacy with Trump collapse?": ["2019", "in 2019"],
    "Who is Kim Yo Jong?": ["Kim\u2019s sister and senior official", "Kim\u2019s sister"],
    "What did Kim Yo Jong criticise?": ["the Lee government\u2019s \u201cblind trust\u201d in South Korea\u2019s alliance with the US and hostility toward North Korea",
                                        "\u201cblind trust\u201d in South Korea\u2019s alliance with the US"],
    "When did Lee take office?": ["last June", "June"],
    "What did Lee say about communication channels with North Korea?": ["all communication channels with North Korea are completely blocked",
                                                                         "completely blocked"],
    "What did Li Qiang tell Lee?": ["the need to have patience", "about the need to have patience"],
    "What does Lee want North Korea to freeze first?": ["North Korea\u2019s nuclear and missile programs", "nuclear and missile programs"],
    "What did Lee tell Chinese officials?": ["about his stated push to seek phased, gradual denuclearization steps by North Korea in return for giving it corresponding benefits",
                                            "his stated push to seek phased, gradual denuclearization steps by North Korea"],
    "What has China urged all parties to do?": ["to exercise restraint", "exercise restraint"],
    "What did China block?": ["the US and others\u2019 attempts to toughen sanctions on North Korea", "attempts to toughen sanctions on North Korea"],
    "What did China say it would do?": ["it will anyway make such efforts", "make such efforts"],
    "What will North Korea not put on the negotiating table?": ["denuclearization"],
    "What is being produced continuously?": ["(North Korea\u2019s) nuclear weapons", "nuclear weapons"],
    "Who shared Lee's view?": ["China"],
    "What kind of denuclearization steps does Lee seek?": ["phased, gradual", "phased, gradual denuclearization steps"],
    "What would be a loss for Northeast Asia?": ["Leaving the current status"],
    "Who ignored Lee's overture?": ["Pyongyang"],
    "What did South Korea and the U.S. ask China to do?": ["to use its unique influence to persuade North Korea to resume long-dormant diplomacy or denuclearize",
                                                          "use its unique influence to persuade North Korea"],
    "What is Lee's government pushing for?": ["to reopen talks with North Korea", "reopen talks with North Korea"],
    "Who is the South Korean President?": ["Lee Jae Myung"],
    "What did Xi recognize?": ["South Korea\u2019s efforts"],
}

# Questions that sound like the article but that it does not answer (tests/test_seed_questions.py has more).
UNANSWERABLE = [
    "When will Lee and Xi meet again?",
    "How many nuclear weapons does North Korea have?",
    "What did Trump say to Xi?",
    "Who won the South Korean election before Lee?",
    "What is the population of Beijing?",
    "How much trade does China do with North Korea each year?",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readers", default="fast,accurate,cascade")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top-k", type=int, default=0, help="passages read per question (default: the setting's default)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("QA_")]:
        del os.environ[key]
    from qa import Chatbot, Settings
    from qa.readers import build_reader

    tmp = Path(tempfile.mkdtemp(prefix="qa-readers-"))
    base = Settings(index_dir=str(tmp / "index"), seed_dir=str(SEEDS), threads=args.threads)
    if args.top_k:
        base = base.replace(top_k=args.top_k)
    first = Chatbot(base)
    first.open()
    print(f"{processor_name()}, {os.cpu_count()} cores, {args.threads} torch threads, {base.top_k} passages read; "
          f"{len(SEED_QUESTIONS)} seed questions + {len(UNANSWERABLE)} the article does not answer, {args.rounds} rounds\n")
    assert set(GOLD) == set(SEED_QUESTIONS), "every seed question needs its answers"
    print("| reader | p50 | p95 | mean | F1 on the seed questions (answered) | unanswerable abstained | read by both (cascade) |")
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
        f1 = 0.0
        for _ in range(args.rounds):
            for q in SEED_QUESTIONS + UNANSWERABLE:
                t0 = time.perf_counter()
                answer = bot.ask(q)
                times.append((time.perf_counter() - t0) * 1000)
                if q in UNANSWERABLE:
                    abstained += answer.abstained
                else:
                    answered += not answer.abstained
                    f1 += 0.0 if answer.abstained else max(f1_score(answer.text, g) for g in GOLD[q])
        n = args.rounds * len(SEED_QUESTIONS)
        both = f"{100 * len(counted) / len(times):.0f}%" if hasattr(reader, "second") else ""
        print(f"| {name} | {percentile(times, 50):.0f} ms | {percentile(times, 95):.0f} ms | {statistics.mean(times):.0f} ms | "
              f"{100 * f1 / n:.1f} ({answered / args.rounds:.0f} / {n // args.rounds}) | "
              f"{abstained / args.rounds:.0f} / {len(UNANSWERABLE)} | {both} |",
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
