"""Continue a shipped reader on SQuAD 2.0 whole (reader v4): about one question in three unanswerable.

    OMP_NUM_THREADS=2 python scripts/train_squad2.py --work ~/.cache/qa/runs/reader-v4 --out ~/.cache/qa/runs/reader-v4/out

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, required=True, help="checkpoint folder (resumes)")
    ap.add_argument("--out", type=Path, required=True, help="where the new reader is written")
    ap.add_argument("--base", type=Path, default=SHIPPED_READER)
    ap.add_argument("--squad", type=int, default=12000, help="SQuAD v1.1 train answerable questions")
    ap.add_argument("--joined", type=int, default=6500, help="SQuAD 2.0 train unanswerable questions (of 41,060)")
    ap.add_argument("--tydi", type=int, default=300)
    ap.add_argument("--shifts", type=int, default=300)
    ap.add_argument("--synthetic", type=float, default=0.03, help="synthetic unanswerables per answerable")
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="auto", help="auto, fp32 or bf16 (measure with scripts/train_speed.py)")
    ap.add_argument("--seed", type=int, default=41)
    args = ap.parse_args()

    import torch

    from qa.train.data import first_run_ids_file
    from qa.train.loop import TrainConfig, train_reader

    torch.set_num_threads(args.threads)
    avoid = first_run_ids_file(args.work, args.data, args.base)
    cfg = TrainConfig(
        data_dir=args.data, output_dir=args.out, work_dir=args.work, base_model=str(args.base),
        files={"squad_v1.1_train": args.squad, "tydiqa_goldp_en_train": args.tydi, "squadshifts_new_wiki_test": args.shifts,
               V2_DEV: None, V2_PLAUSIBLE: None, V2_JOINED: None},
        unanswerable_files=(V2_DEV, V2_PLAUSIBLE, V2_JOINED), first_half_files=(V2_DEV,),
        unanswerable_caps={V2_JOINED: args.joined}, avoid_ids_file=str(avoid),
        unanswerable_ratio=args.synthetic, learning_rate=args.lr, batch_size=args.batch, precision=args.precision,
        checkpoint_minutes=6.0, seed=args.seed,
    )
    train_reader(cfg)


if __name__ == "__main__":
    main()
