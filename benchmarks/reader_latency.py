"""The reader alone: one question against 5 passages of ~200 tokens, warm, p50/p95 over 50 runs.

    .venv/bin/python benchmarks/reader_latency.py [--runs 50] [--threads 1,2,0] [--reader fast|accurate|DIR]

Each torch thread count in --threads (0 = torch's default) is measured in turn in this one
process, for each weight format in --formats: fp32 (the shipped fp16 weights loaded in fp32),
auto (as `qa` loads them: bf16 on processors with bf16 units, else fp32), bf16 (the fp32 model
converted) and int8 (dynamic quantisation of the linear layers, an experiment); the fastest is
printed last.
`--reader accurate` measures the 12-layer accurate reader (needs qa[accurate]); where no trained
adapters are installed it reads with the bare base and a new span head, which costs the same.
Target: p50 under 150 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

from qa.eval.bench import percentile

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "data" / "qa-train" / "squad_v1.1_train.json"
SEED = ROOT / "seeds" / "000_1d6ad4e23a77a5e2.txt"


def passages_of(tokenizer, count: int, tokens: int) -> list[str]:
    """`count` passages cut to about `tokens` reader word pieces: the seed article, then SQuAD contexts."""
    texts = [SEED.read_text(encoding="utf-8")]
    if SQUAD.exists():
        data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
        texts += [p["context"] for article in data[:40] for p in article["paragraphs"][:1]]
    out = []
    for text in texts:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) < tokens:
            continue
        out.append(text[: enc["offset_mapping"][tokens - 1][1]])
        if len(out) == count:
            return out
    while len(out) < count:  # no SQuAD file: repeat the seed article's slices
        out.append(out[len(out) % max(1, len(out))])
    return out


def _loaded_as_the_app_does(folder):
    """The reader's model as `qa` loads it (reader_precision=auto: bf16 weights on CPUs with bf16 units)."""
    from qa.readers import reader_for

    reader = reader_for(folder or "fast")
    reader.warm_up()
    print(f"  auto loads the reader as {reader.dtype}", flush=True)
    return reader.model


def _reader_folder(name: str | None) -> str | None:
    """The folder that --reader names (None = the shipped fast reader)."""
    if name in (None, "fast"):
        return None
    if name != "accurate":
        return name
    from qa.accurate import ACCURATE_READER, base_model_dir, is_adapter_folder

    if is_adapter_folder(ACCURATE_READER):
        return str(ACCURATE_READER)
    print("  no trained accurate reader installed: timing the base with an untrained span head (same cost)")
    return str(base_model_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200, help="Word pieces per passage.")
    parser.add_argument("--threads", default="1,2,0", help="Torch thread counts to try, comma-separated (0 = torch's default).")
    parser.add_argument("--formats", default="fp32", help="Weight formats to try, comma-separated: fp32, auto (as the app loads it), bf16, int8.")
    parser.add_argument("--reader", default=None, help="fast (default), accurate, or a reader model folder.")
    parser.add_argument("--question", default="What did Xi say about North Korea?")
    args = parser.parse_args()

    import torch

    from qa.read import ReaderSettings
    from qa.readers import reader_for

    default_threads = torch.get_num_threads()
    args.reader = _reader_folder(args.reader)
    # Loaded in fp32 whatever the processor, so that each format below is what its name says.
    reader = reader_for(args.reader or "fast", ReaderSettings(precision="fp32"))
    reader.warm_up()
    passages = passages_of(reader.tokenizer, args.passages, args.tokens)
    sizes = [len(reader.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in passages]
    print(f"reader {reader.model_path} | {len(passages)} passages of {min(sizes)}-{max(sizes)} word pieces | "
          f"{args.runs} runs after {args.warmup} warm-up | torch {torch.__version__}, default threads {default_threads}")

    shipped = reader.model
    variants = {
        "fp32": lambda: shipped,
        "auto": lambda: _loaded_as_the_app_does(args.reader),
        "bf16": lambda: copy.deepcopy(shipped).to(torch.bfloat16),
        "int8": lambda: torch.ao.quantization.quantize_dynamic(copy.deepcopy(shipped), {torch.nn.Linear}, dtype=torch.qint8),
    }
    rows = []
    runs = [(f, int(t)) for f in args.formats.split(",") if f.strip() for t in args.threads.split(",") if t.strip()]
    for fmt, threads in runs:
        if fmt not in variants:
            parser.error(f"unknown format {fmt!r}; use fp32, auto, bf16 or int8")
        reader.model = variants[fmt]().eval()
        torch.set_num_threads(threads or default_threads)
        for _ in range(args.warmup):
            reader.read(args.question, passages)
        times, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            spans = reader.read(args.question, passages)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        rows.append((fmt, threads or default_threads, "default" if not threads else "", times, cpu))
        best = spans[0].text if spans else "(none)"
        print(f"  {fmt}, threads {threads or default_threads}: p50 {percentile(times, 50):.0f} ms, "
              f"p95 {percentile(times, 95):.0f} ms (best span: {best!r})", flush=True)

    # CPU time (all threads together) shows the work itself when other processes share the cores:
    # with one thread on an idle core the wall time is about the CPU time.
    print()
    print(f"| {'weights':<7} | {'torch threads':<13} | {'p50 ms':>7} | {'p95 ms':>7} | {'mean ms':>7} | {'min ms':>7} | {'CPU ms p50':>10} |")
    print(f"|{'-' * 9}|{'-' * 15}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 12}|")
    for fmt, threads, note, times, cpu in rows:
        label = f"{threads} ({note})" if note else str(threads)
        print(f"| {fmt:<7} | {label:<13} | {percentile(times, 50):>7.0f} | {percentile(times, 95):>7.0f} | "
              f"{statistics.mean(times):>7.0f} | {min(times):>7.0f} | {percentile(cpu, 50):>10.0f} |")
    fastest = min(rows, key=lambda r: percentile(r[3], 50))
    print(f"\nfastest: {fastest[0]}, {fastest[1]} thread(s), p50 {percentile(fastest[3], 50):.0f} ms (target < 150 ms)")


if __name__ == "__main__":
    main()
