"""Train the accurate reader's LoRA adapters with the full recipe, on a CUDA GPU, then measure them.

    python scripts/train_accurate_gpu.py [--out runs/accurate] [--install]
    python scripts/train_accurate_gpu.py --tiny          # a few-minute check of the whole path on a CPU

The recipe: every answerable question of the training files that may be trained on (SQuAD v1.1
train, TyDi QA English train, the three SQuAD-Shifts sets, COVID-QA: about 119,000), synthetic
unanswerables as for the fast reader, 2 epochs, windows of 384 tokens (stride 128), batch 32,
LoRA rank 32 on every linear layer of all-mpnet-base-v2 plus a new span head, peak learning
rate 5e-4, bf16 autocast. Stopped runs resume from OUT/work.

Afterwards the reader reads SQuAD v1.1 DEV and the second half of SQuAD v2.0 DEV (official
scoring) and the numbers go to OUT/model/metrics.json. With --install the adapters are copied
to qa/models/accurate/ only when they beat the shipped fast reader on v1.1 DEV (F1 75.58).

The GPU needs a CUDA build of PyTorch (the Makefile installs the CPU one), for example:
    pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST_READER_V11_F1 = 75.58  # the shipped fast reader on SQuAD v1.1 DEV (README)
ALL_FILES = {
    "squad_v1.1_train": None,
    "tydiqa_goldp_en_train": None,
    "squadshifts_new_wiki_test": None,
    "squadshifts_reddit_test": None,
    "squadshifts_amazon_test": None,
    "covid_qa_200423": None,
}


def recipe(data: Path, out: Path, tiny: bool):
    from qa.train.loop import TrainConfig

    cfg = TrainConfig(
        data_dir=data, output_dir=out / "model", work_dir=out / "work", base_model="accurate", tune="lora",
        lora_rank=32, files=dict(ALL_FILES), epochs=2.0, max_length=384, stride=128, max_question_tokens=64,
        batch_size=32, learning_rate=5e-4, precision="auto", checkpoint_minutes=10.0,
    )
    if tiny:  # the same code path, small enough for a CPU: 24 questions, one short pass
        cfg = replace(cfg, max_examples=24, epochs=1.0, max_length=192, stride=64, batch_size=8)
    return cfg


def measure(model: Path, data: Path, limit: int | None) -> dict:
    from qa.calibration import Calibration
    from qa.eval.evaluate import run_reader
    from qa.eval.run import select_part
    from qa.eval.squad import load_squad, squad_metrics
    from qa.read import Reader
    from qa.accurate import resolve_reader

    folder, device = resolve_reader(str(model))
    reader = Reader(folder, device=device)
    results = {}
    for name, file, part in (("v1.1 DEV", "squad_v1.1_DEV_minus_heldout.json", None),
                             ("v2.0 DEV second half", "squad_v2.0_DEV_minus_heldout.json", "second")):
        examples = select_part(load_squad(data / file), part)[:limit]
        run = run_reader(examples, reader, Calibration.load(model / "calibration.json"))
        results[name] = {k: round(v, 2) for k, v in squad_metrics(examples, run.predictions()).items()}
        print(name, results[name], flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "accurate")
    ap.add_argument("--tiny", action="store_true", help="A quick check of the whole path (CPU is fine).")
    ap.add_argument("--install", action="store_true", help="Copy the adapters to qa/models/accurate/ if they beat the fast reader.")
    args = ap.parse_args()

    import torch

    if not args.tiny and not torch.cuda.is_available():
        sys.exit("no CUDA GPU visible to PyTorch: install a CUDA build of torch (see this script's help), "
                 "or run with --tiny to check the path on the CPU")
    from qa.train.loop import train_reader

    cfg = recipe(args.data, args.out, args.tiny)
    t0 = time.time()
    train_reader(cfg, log=lambda m: print(m, flush=True))
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
    metrics = measure(cfg.output_dir, args.data, 40 if args.tiny else None)
    (cfg.output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    f1 = metrics["v1.1 DEV"]["f1"]
    if args.install and not args.tiny:
        if f1 <= FAST_READER_V11_F1:
            sys.exit(f"not installed: v1.1 DEV F1 {f1:.2f} does not beat the fast reader's {FAST_READER_V11_F1}")
        target = ROOT / "qa" / "models" / "accurate"
        for f in cfg.output_dir.iterdir():
            if f.is_file():
                shutil.copy2(f, target / f.name)
        print(f"installed in {target}; now fit its calibration with qa --reader accurate eval ... --calibrate")


if __name__ == "__main__":
    main()
