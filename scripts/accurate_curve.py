"""The accurate reader's CPU run, measured along the way: a learning curve and the adapter rank.

    python scripts/accurate_curve.py runs/accurate-cpu [--eval 300] [--ranks 32,64,128]

Reads the first `--eval` questions of SQuAD v1.1 DEV (each against its own paragraph, always
answering; official EM/F1) with:
- every checkpoint that `scripts/accurate_watch.sh` copied to RUN/curve/batch-N.safetensors
  while `scripts/train_accurate.py --recipe cpu` trained (N batches of 16 windows);
- the finished, fully trained model (RUN/full);
- adapters extracted from it at each of `--ranks` (the shipped form; RUN/rank-R);
- the shipped fast reader, for reference.
Prints a Markdown table for the model card.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from qa.eval.bench import evaluate_reader_folder as evaluate, folder_mb


def checkpoint_folder(weights: Path, base: Path, work: Path) -> Path:
    """A reader folder around a training checkpoint's weights: the base's config and tokenizer."""
    folder = work / weights.stem
    folder.mkdir(parents=True, exist_ok=True)
    for f in base.iterdir():
        if f.is_file() and f.name not in ("model.safetensors", "SHA256"):
            shutil.copy2(f, folder / f.name)
    target = folder / "model.safetensors"
    target.unlink(missing_ok=True)
    target.symlink_to(weights.resolve())
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path, help="the --out folder of scripts/train_accurate.py --recipe cpu")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--eval", type=int, default=300, help="first questions of SQuAD v1.1 DEV to read")
    ap.add_argument("--ranks", default="64,128", help="adapter ranks to extract and measure")
    ap.add_argument("--batch-size", type=int, default=16, help="windows per training batch of the run")
    args = ap.parse_args()

    from qa.accurate import base_model_dir
    from qa.eval.squad import load_squad
    from qa.train.tuning import extract_adapters

    examples = load_squad(args.data / "squad_v1.1_DEV_minus_heldout.json")[: args.eval]
    base = base_model_dir()
    rows = [("fast reader (shipped)", "", "", evaluate(None, examples))]
    curve = sorted((args.run / "curve").glob("batch-*.safetensors"), key=lambda p: int(re.findall(r"\d+", p.stem)[0]))
    for weights in curve:
        batches = int(re.findall(r"\d+", weights.stem)[0])
        folder = checkpoint_folder(weights, base, args.run / "curve-readers")
        rows.append((f"accurate, checkpoint after {batches} batches", f"{batches * args.batch_size:,}", "", evaluate(folder, examples)))
        print(rows[-1], file=sys.stderr)
    full = args.run / "full"
    rows.append(("accurate, finished (all weights, fp16)", "all", f"{folder_mb(full):.0f} MB", evaluate(full, examples)))
    for rank in (int(r) for r in args.ranks.split(",") if r):
        out = args.run / f"rank-{rank}"
        if not (out / "adapter_model.safetensors").exists():
            extract_adapters(full, out, rank, log=lambda m: print(m, file=sys.stderr))
        rows.append((f"accurate, rank-{rank} adapters from the change", "all", f"{folder_mb(out):.1f} MB", evaluate(out, examples)))
        print(rows[-1], file=sys.stderr)
    print(f"First {len(examples)} questions of SQuAD v1.1 DEV, always answering (`python scripts/accurate_curve.py`):\n")
    print("| reader | training windows seen | files | EM | F1 |\n|---|---|---|---|---|")
    for name, windows, size, m in rows:
        print(f"| {name} | {windows} | {size} | {m['em']:.1f} | {m['f1']:.1f} |")


if __name__ == "__main__":
    main()
