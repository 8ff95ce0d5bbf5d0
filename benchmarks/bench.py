"""End-to-end numbers in one table: index build, warm answer latency, app start-up, peak memory.

    .venv/bin/python benchmarks/bench.py                      # the full run (10,000 paragraphs)
    .venv/bin/python benchmarks/bench.py --paragraphs 2000    # smaller
    .venv/bin/python benchmarks/bench.py --paragraphs 0 --no-serve

Everything goes through the public API (`qa.Chatbot`); indexes are built in a temporary folder.
The paragraphs are SQuAD v1.1 train contexts (synthetic text when that file is missing), written
as files of 50 paragraphs and indexed with `Chatbot.add_paths`, so reading, chunking, embedding
and saving are all counted. Targets: warm answer p50 < 300 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from qa.eval.bench import DATA, REPO as ROOT, SEEDS, SEED_QUESTIONS as QUESTIONS, free_port, percentile, proc_status_mb, start_server, stop_server  # noqa: F401
SQUAD = DATA / "squad_v1.1_train.json"

# About the seed article; a few are follow-ups or small talk, as users ask them.


def paragraphs(count: int) -> list[str]:
    """`count` distinct paragraphs: SQuAD train contexts, or synthetic ones without that file."""
    if SQUAD.exists():
        data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
        seen = dict.fromkeys(p["context"].strip() for a in data for p in a["paragraphs"])
        found = list(seen)[:count]
        if len(found) == count:
            return found
    else:
        found = []
    rng = random.Random(13)
    words = "river city council harvest bridge festival engine school market treaty valley museum".split()
    while len(found) < count:
        n = len(found)
        found.append(" ".join(f"Paragraph {n}: the {rng.choice(words)} of place {n} was built in {1800 + n % 200}."
                              for _ in range(6)))
    return found


def write_files(texts: list[str], folder: Path, per_file: int) -> None:
    folder.mkdir(parents=True)
    for i in range(0, len(texts), per_file):
        (folder / f"part_{i // per_file:05d}.txt").write_text("\n\n".join(texts[i : i + per_file]), encoding="utf-8")


def serve_start_seconds(index_dir: Path, seeds: Path, timeout: float) -> tuple[float, float, float]:
    """Seconds from launching `qa serve` to the page answering HTTP 200 on 127.0.0.1 and to its
    first answer (the models load in the background), and the server's peak memory (MB) then."""
    from gradio_client import Client

    started = time.perf_counter()
    proc, url, seconds = start_server(index_dir, seeds, timeout, index_dir.parent / "server.log")
    try:
        Client(url, verbose=False, download_files=False, analytics_enabled=False).predict(QUESTIONS[0], [], api_name="/ask")
        return seconds, time.perf_counter() - started, proc_status_mb(proc.pid, "VmHWM")
    finally:
        stop_server(proc)


EMPTY_PAGE = """
import sys, gradio as gr
with gr.Blocks() as demo:
    gr.Markdown("empty")
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), prevent_thread_lock=True, quiet=True)
demo.block_thread()
"""


def empty_page_seconds(timeout: float) -> float:
    """The floor of start-up: seconds until an empty Gradio page answers HTTP 200."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", EMPTY_PAGE, str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    if reply.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the empty Gradio page did not start")
    finally:
        stop_server(proc)


def command_seconds(args: list[str], index_dir: Path, seeds: Path) -> tuple[float, float]:
    """Seconds a `qa` command takes, process start to exit, and the CPU seconds it used (the
    work itself, whatever else runs on the machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(index_dir), QA_SEED_DIR=str(seeds), PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", *args], env=env, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def command_rows(index_dir: Path, seeds: Path) -> list[tuple[str, str, str]]:
    """The model-free commands against the floor of any Python command (`python -c pass`)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    floor = time.perf_counter() - started
    rows = [("python start-up (floor of a command)", f"{floor:.2f} s", "python -c pass")]
    for args, note in ((["documents"], "target < 3 s; loads no model"),
                       (["index", str(seeds)], "make run's first step, nothing new: loads no model")):
        secs, cpu = command_seconds(args, index_dir, seeds)
        rows.append((f"qa {' '.join(args[:1])}" + (" seeds (unchanged)" if args[0] == "index" else ""), f"{secs:.2f} s",
                     f"{secs / floor:.1f}x the floor; CPU {cpu:.2f} s; {note}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=10_000, help="Paragraphs for the large index (0 = skip).")
    parser.add_argument("--per-file", type=int, default=50, help="Paragraphs per file of the large index.")
    parser.add_argument("--questions", type=int, default=30, help="Questions for the latency (cycled from a fixed list).")
    parser.add_argument("--no-serve", action="store_true", help="Skip the app start-up measurement.")
    parser.add_argument("--serve-timeout", type=float, default=300)
    parser.add_argument("--threads", type=int, default=0, help="Torch threads (0 = torch's default).")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    for key in [k for k in os.environ if k.startswith("QA_")]:
        del os.environ[key]  # measure the defaults
    from qa import Chatbot, Settings

    rows: list[tuple[str, str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        t0 = time.perf_counter()
        bot = Chatbot(Settings(index_dir=str(tmp / "empty"), seed_dir=str(tmp / "none"), threads=args.threads))
        bot.embedder.embed(["warm up"])
        bot.reader.warm_up()
        rows.append(("models load (embedder + reader)", f"{time.perf_counter() - t0:.1f} s", "once per process"))

        # The seed article: a fresh index built by Chatbot.load-style opening, models already loaded.
        seed_bot = Chatbot(Settings(index_dir=str(tmp / "seed-index"), seed_dir=str(SEEDS), threads=args.threads),
                           embedder=bot.embedder, reader=bot.reader)
        t0 = time.perf_counter()
        seed_bot.open()
        seed_secs = time.perf_counter() - t0
        passages = seed_bot.store.count()
        rows.append(("index build: seed article", f"{seed_secs * 1000:.0f} ms", f"{len(seed_bot.documents())} document, {passages} passages"))

        if args.paragraphs:
            texts = paragraphs(args.paragraphs)
            folder = tmp / "paragraphs"
            write_files(texts, folder, args.per_file)
            big = Chatbot(Settings(index_dir=str(tmp / "big-index"), seed_dir=str(tmp / "none"), threads=args.threads),
                          embedder=bot.embedder, reader=bot.reader)
            big.open()  # (add_paths on a Chatbot that was never opened waits forever on its own lock)
            t0 = time.perf_counter()
            report = big.add_paths([folder])
            secs = time.perf_counter() - t0
            rows.append((f"index build: {len(texts):,} paragraphs", f"{secs:.1f} s",
                         f"{len(report.added)} files, {report.passages:,} passages, {report.passages / secs:.0f} passages/s"))
            t0 = time.perf_counter()
            big.ask("Which NFL team represented the AFC at Super Bowl 50?")
            rows.append((f"answer over {len(texts):,} paragraphs (first)", f"{(time.perf_counter() - t0) * 1000:.0f} ms", "one question"))
            del big

        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.questions)]
        for q in QUESTIONS[:3]:
            seed_bot.ask(q)  # warm: spaCy, caches
        times, cpu, answered = [], [], 0
        for q in questions:
            t0, c0 = time.perf_counter(), time.process_time()
            answer = seed_bot.ask(q)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            answered += bool(answer.text)
        # CPU time (all threads) is the work itself, whatever else runs on the machine.
        rows.append(("warm answer latency p50 (seed)", f"{percentile(times, 50):.0f} ms",
                     f"target < 300 ms; {len(times)} questions; CPU time p50 {percentile(cpu, 50):.0f} ms"))
        rows.append(("warm answer latency p95 (seed)", f"{percentile(times, 95):.0f} ms",
                     f"mean {statistics.mean(times):.0f} ms; {answered}/{len(times)} answered, rest abstained"))

        rows.extend(command_rows(tmp / "seed-index", SEEDS))
        if not args.no_serve:
            floor = empty_page_seconds(args.serve_timeout)
            secs, first, server_mb = serve_start_seconds(tmp / "seed-index", SEEDS, args.serve_timeout)
            rows.append(("empty Gradio page start (floor)", f"{floor:.1f} s", "process start to HTTP 200"))
            rows.append(("app start to page ready (qa serve)", f"{secs:.1f} s", f"{secs / floor:.2f}x the floor (target 1.5x); models load in the background"))
            rows.append(("app start to first answer", f"{first:.1f} s", "process start to a question answered: models loaded"))

        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        big_note = f", with the {args.paragraphs:,}-paragraph index built" if args.paragraphs else ""
        rows.append(("peak memory (this process)", f"{me:.0f} MB", f"ru_maxrss: models{big_note}"))
        if not args.no_serve:
            # VmHWM of the server itself: a child's ru_maxrss starts from the parent's at fork.
            rows.append(("peak memory (qa serve, ready)", f"{server_mb:.0f} MB", "VmHWM of the server process, seed index"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    import torch

    print(f"\nqa benchmark | {os.cpu_count()} CPUs | torch {torch.__version__}, {torch.get_num_threads()} threads | load average "
          f"{os.getloadavg()[0]:.1f}\n")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | {'value':>9} | note")
    print(f"|{'-' * (width + 2)}|{'-' * 11}|{'-' * 40}")
    for name, value, note in rows:
        print(f"| {name:<{width}} | {value:>9} | {note}")


if __name__ == "__main__":
    main()
