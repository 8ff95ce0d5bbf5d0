"""Train the accurate reader's adapters, then measure them.

    python scripts/train_accurate.py [--out runs/accurate] [--install]             # GPU recipe
    python scripts/train_accurate.py --recipe cpu --out runs/accurate-cpu [--install]  # CPU recipe
    python scripts/train_accurate.py --recipe tiny        # a few-minute check of the whole path on a CPU

The GPU recipe: every answerable question of the training files that may be trained on (SQuAD v1.1
train, TyDi QA English train, the three SQuAD-Shifts sets, COVID-QA: about 119,000), synthetic
unanswerables as for the fast reader, 2 epochs, windows of 384 tokens (stride 128), batch 32,
LoRA rank 32 on every linear layer of all-mpnet-base-v2 plus a new span head, peak learning
rate 5e-4, bf16 autocast. Stopped runs resume from OUT/work.

The CPU recipe (about 1.5 hours on 2 cores): one pass over about 20,000 windows of 192 tokens:
11,000 SQuAD v1.1 train questions, a little TyDi QA and SQuAD-Shifts, the answerable and the 2,175
real unanswerable questions of the first half of SQuAD v2.0 DEV, the 348 SQuAD v2.0 train
unanswerables, and synthetic unanswerables (0.1 per answerable). Every encoder layer and the span
head are trained (the embeddings stay frozen), which learns more per CPU second than LoRA here;
the change of each linear layer is then written as rank-r LoRA adapters by a truncated SVD
(`qa.train.tuning.extract_adapters`), so the same small adapter folder ships.

Afterwards the reader reads SQuAD v1.1 DEV and the second half of SQuAD v2.0 DEV (official
scoring) and the numbers go to OUT/model/metrics.json. With --install the adapters are copied
to qa/models/accurate/ only when they beat the shipped fast reader on v1.1 DEV (the F1 in
qa/models/reader/metrics.json).

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

ALL_FILES = {
    "squad_v1.1_train": None,
    "tydiqa_goldp_en_train": None,
    "squadshifts_new_wiki_test": None,
    "squadshifts_reddit_test": None,
    "squadshifts_amazon_test": None,
    "covid_qa_200423": None,
}


V2_DEV = "squad_v2.0_DEV_minus_heldout"
V2_UNANS = "squad_v2.0_train_unanswerable"


def recipe(data: Path, out: Path, name: str):
    from qa.train.loop import TrainConfig

    if name == "cpu":
        return TrainConfig(
            data_dir=data, output_dir=out / "full", work_dir=out / "work", base_model="accurate", tune="top", top_layers=12,
            files={"squad_v1.1_train": 11000, "tydiqa_goldp_en_train": 400, "squadshifts_new_wiki_test": 300, V2_DEV: None, V2_UNANS: None},
            unanswerable_files=(V2_DEV, V2_UNANS), first_half_files=(V2_DEV,), unanswerable_ratio=0.1,
            max_length=192, stride=64, batch_size=16, learning_rate=8e-5, precision="auto", checkpoint_minutes=10.0,
        )
    cfg = TrainConfig(
        data_dir=data, output_dir=out / "model", work_dir=out / "work", base_model="accurate", tune="lora",
        lora_rank=32, files=dict(ALL_FILES), epochs=2.0, max_length=384, stride=128, max_question_tokens=64,
        batch_size=32, learning_rate=5e-4, precision="auto", checkpoint_minutes=10.0,
    )
    if name == "tiny":  # the same code path, small enough for a CPU: 24 questions, one short pass
        cfg = replace(cfg, max_examples=24, epochs=1.0, max_length=192, stride=64, batch_size=8)
    return cfg


def measure(model: Path, data: Path, limit: int | None) -> dict:
    from qa.calibration import Calibration
    from qa.eval.evaluate import run_reader
    from qa.eval.run import select_part
    from qa.eval.squad import load_squad, squad_metrics
    from qa.readers import reader_for

    reader = reader_for(model)
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
    ap.add_argument("--recipe", choices=("gpu", "cpu", "tiny"), default="gpu",
                    help="gpu: the full recipe (needs CUDA); cpu: about 1.5 hours on 2 cores; tiny: a quick check of the path")
    ap.add_argument("--steps", default="train,measure", help="comma-separated: train, measure (default: both)")
    ap.add_argument("--rank", type=int, default=64, help="rank of the adapters written from the cpu recipe's change")
    ap.add_argument("--threads", type=int, default=None, help="torch threads on the CPU (default: torch's choice)")
    ap.add_argument("--install", action="store_true", help="Copy the adapters to qa/models/accurate/ if they beat the fast reader.")
    args = ap.parse_args()
    steps = set(args.steps.split(","))

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.recipe == "gpu" and not torch.cuda.is_available():
        sys.exit("no CUDA GPU visible to PyTorch: install a CUDA build of torch (see this script's help), "
                 "or use --recipe cpu (hours) or --recipe tiny (a check of the path)")
    from qa.train.loop import train_reader

    cfg = recipe(args.data, args.out, args.recipe)
    adapters = cfg.output_dir
    if "train" in steps:
        t0 = time.time()
        train_reader(cfg, log=lambda m: print(m, flush=True))
        print(f"trained in {time.time() - t0:.0f} s", flush=True)
    if args.recipe == "cpu":
        adapters = args.out / "model"
        if "train" in steps or not adapters.exists():
            from qa.train.tuning import extract_adapters

            extract_adapters(cfg.output_dir, adapters, args.rank, log=lambda m: print(m, flush=True))
    if "measure" not in steps:
        return
    metrics = measure(adapters, args.data, 40 if args.recipe == "tiny" else None)
    (adapters / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    f1 = metrics["v1.1 DEV"]["f1"]
    if args.install and args.recipe != "tiny":
        fast = json.loads((ROOT / "qa/models/reader/metrics.json").read_text())["files"]["squad_v1.1_DEV"]["f1"]
        if f1 <= fast:
            sys.exit(f"not installed: v1.1 DEV F1 {f1:.2f} does not beat the shipped fast reader's {fast:.2f}")
        target = ROOT / "qa" / "models" / "accurate"
        for f in adapters.iterdir():
            if f.is_file():
                shutil.copy2(f, target / f.name)
        print(f"installed in {target}; now fit its calibration with qa --reader accurate eval ... --calibrate")


if __name__ == "__main__":
    main()
