"""Continue training the shipped fast reader on real unanswerable questions (reader v3 recipe).

    OMP_NUM_THREADS=1 python scripts/continue_reader.py --work /work/runs/reader-v3 --out /work/runs/reader-v3/out

Starts from the weights in qa/models/reader (not from the bare encoder) and makes one pass, at a
lower learning rate, over: the first half (by article) of SQuAD v2.0 DEV, answerable and real
unanswerable questions; the 348 SQuAD v2.0 train unanswerable questions (whose paragraphs hold a
plausible but wrong answer); SQuAD v1.1 train questions that the first run did not use (its draw is
replayed to know which); a little TyDi QA and SQuAD-Shifts. Restart the same command to resume.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

V2_DEV = "squad_v2.0_DEV_minus_heldout"
V2_UNANS = "squad_v2.0_train_unanswerable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    parser.add_argument("--work", type=Path, required=True, help="checkpoint folder (resumes)")
    parser.add_argument("--out", type=Path, required=True, help="where the new reader is written")
    parser.add_argument("--base", type=Path, default=ROOT / "qa/models/reader")
    parser.add_argument("--squad", type=int, default=500, help="SQuAD v1.1 train questions")
    parser.add_argument("--tydi", type=int, default=80, help="TyDi QA English train questions")
    parser.add_argument("--shifts", type=int, default=80, help="SQuAD-Shifts new_wiki questions")
    parser.add_argument("--dev-answerable", type=int, default=800, help="answerable questions of the SQuAD v2.0 DEV first half")
    parser.add_argument("--unanswerable", type=int, default=1000, help="real unanswerable questions (of 2,523)")
    parser.add_argument("--repeat", type=int, default=1, help="copies of each real unanswerable question")
    parser.add_argument("--synthetic", type=float, default=0.05, help="synthetic unanswerables per answerable")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13, help="draw of the questions and of the batches")
    args = parser.parse_args()

    import torch

    from qa.train.data import first_run_ids_file
    from qa.train.loop import TrainConfig, train_reader

    torch.set_num_threads(args.threads)
    avoid = first_run_ids_file(args.work, args.data, args.base)
    cfg = TrainConfig(
        data_dir=args.data, output_dir=args.out, work_dir=args.work, base_model=str(args.base),
        files={"squad_v1.1_train": args.squad, "tydiqa_goldp_en_train": args.tydi, "squadshifts_new_wiki_test": args.shifts,
               V2_DEV: args.dev_answerable, V2_UNANS: None},
        unanswerable_files=(V2_DEV, V2_UNANS), first_half_files=(V2_DEV,), unanswerable_repeat=args.repeat, unanswerable_limit=args.unanswerable,
        avoid_ids_file=str(avoid), unanswerable_ratio=args.synthetic, learning_rate=args.lr, checkpoint_minutes=8.0,
        seed=args.seed,
    )
    train_reader(cfg)


if __name__ == "__main__":
    main()
