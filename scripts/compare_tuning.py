"""LoRA against full and top-layer fine-tuning of the accurate (MPNet) reader, on a small budget.

    python scripts/compare_tuning.py [--examples 300] [--eval 200] [--threads 1] [--out runs/tuning]

Each method is trained from the same all-mpnet-base-v2 base on the same random `--examples`
answerable questions of SQuAD v1.1 train (one pass, windows of `--max-length` tokens, no
synthetic unanswerables, bf16 where the processor has it), then reads the first `--eval`
questions of the SQuAD v1.1 DEV file (each against its own paragraph, always answering). The
shipped fast reader reads the same questions as a reference. Stopped runs resume (results and
checkpoints are kept in OUT). Prints a Markdown table, also written to OUT/table.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from qa.eval.squad import load_squad
from qa.eval.bench import evaluate_reader_folder as evaluate, folder_mb
from qa.train.loop import TrainConfig, train_reader
from qa.train.tuning import recipe_defaults

METHODS = ("lora", "top", "full")


def train(method: str, args: argparse.Namespace) -> dict:
    work = args.out / method
    options = recipe_defaults({"base": "accurate", "tune": method})
    cfg = TrainConfig(
        data_dir=args.data, output_dir=work / "model", work_dir=work / "work",
        files={"squad_v1.1_train": None}, max_examples=args.examples, unanswerable_ratio=0.0,
        miss_window_keep=0.0, max_length=args.max_length, batch_size=args.batch_size,
        checkpoint_minutes=5.0, **{k: v for k, v in options.items() if k != "base_model"}, base_model="accurate",
    )
    t0 = time.process_time()
    train_reader(cfg, log=lambda m: print(m, file=sys.stderr))
    info = json.loads((cfg.output_dir / "training.json").read_text())
    return {"learning_rate": cfg.learning_rate, "windows": info["data"]["windows"],
            "train_cpu_s": round(time.process_time() - t0), "train_wall_s": info["train_seconds"],
            "size_mb": round(folder_mb(cfg.output_dir), 1), "model": str(cfg.output_dir)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--eval", type=int, default=200)
    ap.add_argument("--max-length", type=int, default=192)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "tuning")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    dev = load_squad(args.data / "squad_v1.1_DEV_minus_heldout.json")[: args.eval]
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    if "fast (shipped)" not in results:
        results["fast (shipped)"] = evaluate(None, dev)
        results_file.write_text(json.dumps(results, indent=2))
    for method in args.methods.split(","):
        if method in results:
            continue
        row = train(method, args)
        row.update(evaluate(Path(row["model"]), dev))
        results[method] = row
        results_file.write_text(json.dumps(results, indent=2))
        print(method, row, file=sys.stderr, flush=True)
    table = render(results, args)
    (args.out / "table.md").write_text(table)
    print(table)


def render(results: dict, args: argparse.Namespace) -> str:
    lines = [
        f"{args.examples} SQuAD v1.1 train questions, one pass, length {args.max_length}, batch {args.batch_size}, "
        f"{args.threads} torch thread(s); first {args.eval} questions of SQuAD v1.1 DEV.",
        "",
        "| reader | learning rate | training windows | training CPU s | shipped files MB | EM | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r.get('learning_rate', '')} | {r.get('windows', '')} | {r.get('train_cpu_s', '')} | "
                     f"{r.get('size_mb', '')} | {r['em']:.1f} | {r['f1']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
