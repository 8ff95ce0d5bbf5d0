"""Continue a shipped reader on SQuAD 2.0 whole (reader v4): about one question in three unanswerable.

    OMP_NUM_THREADS=2 python scripts/train_squad2.py --work ~/.cache/qa/runs/reader-v4 --out ~/.cache/qa/runs/reader-v4/out
    OMP_NUM_THREADS=2 python scripts/train_squad2.py --reader accurate --work ~/.cache/qa/runs/accurate-v2 \
        --out ~/.cache/qa/runs/accurate-v2/out

With --reader accurate the shipped accurate adapters are merged into all-mpnet-base-v2 once
(WORK/base), every encoder layer and the span head train from there (the embeddings stay frozen;
windows of 192 tokens, batch 16), and the whole change from the base is written to OUT as rank-64
adapters (a truncated SVD, `qa.train.tuning.extract_adapters`), the format the accurate reader ships.

Starts from the weights in --base (default: the shipped fast reader) and makes one pass over:
SQuAD v1.1 train answerable questions (those the first run did not draw come first), a sample of
the 41,060 real unanswerable questions of SQuAD 2.0 train joined to their passages, the 348
SQuAD 2.0 train unanswerables whose passages hold a plausible wrong answer, the first half (by
article) of SQuAD v2.0 DEV (answerable and unanswerable), and a little TyDi QA and SQuAD-Shifts.
The checkpoint lives in --work (outside the work tree, so a later session on the same machine
resumes it): restart the same command to resume. Measure the result with
scripts/evaluate_reader.py OUT, then copy OUT into qa/models/reader to ship it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.read import SHIPPED_READER

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "qa-train"
V2_DEV = "squad_v2.0_DEV_minus_heldout"
V2_PLAUSIBLE = "squad_v2.0_train_unanswerable"
V2_JOINED = "squad_v2.0_train_unanswerable_joined"
ACCURATE = Path(__file__).resolve().parent.parent / "qa" / "models" / "accurate"

# Per reader: the defaults of the options below (the accurate reader's steps cost ~5x the fast one's).
DEFAULTS = {
    "fast": {"squad": 12000, "joined": 6500, "dev_answerable": None, "dev_unanswerable": None, "tydi": 300,
             "shifts": 300, "lr": 3e-5, "batch": 32},
    "accurate": {"squad": 2600, "joined": 1400, "dev_answerable": 900, "dev_unanswerable": 520, "tydi": 150,
                 "shifts": 0, "lr": 4e-5, "batch": 16},
}


def merged_accurate_base(work: Path) -> Path:
    """WORK/base: the shipped accurate adapters merged into the base, as a plain reader folder (made once)."""
    import torch

    from qa.accurate import load_adapted_model

    out = work / "base"
    if not (out / "model.safetensors").exists():
        model, tokenizer = load_adapted_model(ACCURATE, torch.float32)
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, required=True, help="checkpoint folder (resumes)")
    ap.add_argument("--out", type=Path, required=True, help="where the new reader is written")
    ap.add_argument("--reader", choices=sorted(DEFAULTS), default="fast", help="which shipped reader to continue")
    ap.add_argument("--base", type=Path, default=None, help="a reader folder to start from instead (fast reader only)")
    ap.add_argument("--squad", type=int, help="SQuAD v1.1 train answerable questions")
    ap.add_argument("--joined", type=int, help="SQuAD 2.0 train unanswerable questions (of 41,060)")
    ap.add_argument("--dev-answerable", type=int, help="answerable questions of the first half of v2.0 DEV (default all)")
    ap.add_argument("--dev-unanswerable", type=int, help="unanswerable questions of the first half of v2.0 DEV (default all)")
    ap.add_argument("--tydi", type=int)
    ap.add_argument("--shifts", type=int)
    ap.add_argument("--synthetic", type=float, default=0.03, help="synthetic unanswerables per answerable")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="auto", help="auto, fp32 or bf16 (measure with scripts/train_speed.py)")
    ap.add_argument("--seed", type=int, default=41)
    args = ap.parse_args()
    for name, value in DEFAULTS[args.reader].items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    import torch

    from qa.train.data import first_run_ids_file
    from qa.train.loop import TrainConfig, train_reader

    torch.set_num_threads(args.threads)
    accurate = args.reader == "accurate"
    shipped = ACCURATE if accurate else (args.base or SHIPPED_READER)
    base = merged_accurate_base(args.work) if accurate else shipped
    avoid = first_run_ids_file(args.work, args.data, shipped)
    files = {"squad_v1.1_train": args.squad, "tydiqa_goldp_en_train": args.tydi, "squadshifts_new_wiki_test": args.shifts,
             V2_DEV: args.dev_answerable, V2_PLAUSIBLE: None, V2_JOINED: None}
    caps = {V2_JOINED: args.joined}
    if args.dev_unanswerable is not None:
        caps[V2_DEV] = args.dev_unanswerable
    shape = {"tune": "top", "top_layers": 12, "max_length": 192, "stride": 64} if accurate else {}
    cfg = TrainConfig(
        data_dir=args.data, output_dir=args.work / "full" if accurate else args.out, work_dir=args.work,
        base_model=str(base), files={k: v for k, v in files.items() if v != 0},
        unanswerable_files=(V2_DEV, V2_PLAUSIBLE, V2_JOINED), first_half_files=(V2_DEV,),
        unanswerable_caps=caps, avoid_ids_file=str(avoid),
        unanswerable_ratio=args.synthetic, learning_rate=args.lr, batch_size=args.batch, precision=args.precision,
        checkpoint_minutes=6.0, seed=args.seed, **shape,
    )
    train_reader(cfg)
    if accurate:
        from qa.train.tuning import extract_adapters

        extract_adapters(cfg.output_dir, args.out, rank=64)


if __name__ == "__main__":
    main()
