"""Small-scale ablations of the reader recipe: what each choice adds on the DEV files.

    python scripts/ablate_reader.py [--examples 4000] [--eval 1000] [--out runs/ablations]

Each variant changes one choice of the shipped recipe and is trained on the same random
`--examples` answerable questions (plus its synthetic unanswerables), then read on the first
`--eval` questions of the SQuAD v1.1 and v2.0 DEV files. For v2.0 the F1 is taken at the best
threshold on those questions (each variant gets its own), with the share of unanswerable
questions abstained there. Prints a Markdown table (also written to OUT/ablations.md) and the
training speed of each variant.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from qa.eval.calibrate import Calibration, best_threshold, threshold_curve
from qa.eval.evaluate import run_reader
from qa.read import Reader
from qa.eval.squad import load_squad, squad_metrics
from qa.train.loop import TrainConfig, train_reader

VARIANTS = {
    "recipe (as shipped, scaled down)": {},
    "no synthetic unanswerables": {"unanswerable_ratio": 0.0, "miss_window_keep": 0.0},
    "windows of 256 tokens instead of 192": {"max_length": 256},
    "fp32 instead of bf16": {"precision": "fp32"},
    "word-piece table trained too": {"freeze_word_embeddings": False},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=4000)
    ap.add_argument("--eval", type=int, default=1000)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "ablations")
    ap.add_argument("--only", nargs="*", help="run only these variant names")
    args = ap.parse_args()

    v1 = load_squad(args.data / "squad_v1.1_DEV_minus_heldout.json")[: args.eval]
    v2 = load_squad(args.data / "squad_v2.0_DEV_minus_heldout.json")[: args.eval]
    base = TrainConfig(data_dir=args.data, output_dir=args.out, max_examples=args.examples, checkpoint_minutes=1e9)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for name, change in VARIANTS.items():
        if (args.only and name not in args.only) or name in results:
            continue
        slug = "".join(c if c.isalnum() else "-" for c in name)[:40]
        cfg = replace(base, output_dir=args.out / slug / "model", work_dir=args.out / slug / "work", **change)
        t0 = time.time()
        train_reader(cfg, log=lambda m: print(m, file=sys.stderr))
        seconds = time.time() - t0
        info = json.loads((cfg.output_dir / "training.json").read_text())
        reader = Reader(cfg.output_dir)
        r1 = run_reader(v1, reader, Calibration(threshold=float("-inf")))
        m1 = squad_metrics(v1, r1.predictions())
        r2 = run_reader(v2, reader, Calibration())
        curve = threshold_curve([r.score for r in r2.results], [r.f1 for r in r2.results], [r.answerable for r in r2.results])
        best = best_threshold(curve)
        results[name] = {
            "v1_f1": m1["f1"], "v1_em": m1["exact"], "v2_f1_best": best["f1"], "v2_noans_abstained": best["noans_abstained"],
            "windows": info["data"]["windows"], "train_seconds": round(seconds), "windows_per_s": info["data"]["windows"] / max(1, info["train_seconds"]),
        }
        args.out.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(results, indent=2))
    table = render(results, args)
    (args.out / "ablations.md").write_text(table)
    print(table)


def render(results: dict, args: argparse.Namespace) -> str:
    base = results.get("recipe (as shipped, scaled down)")
    lines = [
        f"Small-scale runs: {args.examples} answerable training questions each (same sample), read on the first "
        f"{args.eval} questions of each DEV file; made by `python scripts/ablate_reader.py --examples {args.examples} --eval {args.eval}`. "
        "v2.0 F1 is at each model's own best threshold on those questions. Differences of a point or two are within noise at this scale.",
        "",
        "| variant | v1.1 F1 | v2.0 F1 (best thr.) | unanswerable abstained % | windows/s trained | vs recipe v1.1 / v2.0 F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        diff = "" if not base or r is base else f"{r['v1_f1'] - base['v1_f1']:+.1f} / {r['v2_f1_best'] - base['v2_f1_best']:+.1f}"
        lines.append(f"| {name} | {r['v1_f1']:.1f} | {r['v2_f1_best']:.1f} | {r['v2_noans_abstained']:.1f} | {r['windows_per_s']:.1f} | {diff} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
