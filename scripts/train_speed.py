"""Training speed of the reader's choices on this machine: windows per second of one step.

    python scripts/train_speed.py [--steps 6] [--batch 32] [--length 160]

Times forward + backward + optimiser step of the MiniLM span model on random windows for
each variant, one choice changed at a time from the shipped recipe (bf16 autocast, eager
attention, no attention dropout, frozen word-piece table). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time


VARIANTS = {
    "recipe: bf16, eager attention, no attention dropout, frozen word pieces": {},
    "fp32 instead of bf16": {"bf16": False},
    "fused (sdpa) attention instead of eager": {"attn": "sdpa"},
    "attention dropout 0.1": {"attn_dropout": 0.1},
    "word-piece table trained too": {"freeze": False},
}


def measure(steps: int, batch: int, length: int, bf16: bool = True, attn: str = "eager", attn_dropout: float = 0.0, freeze: bool = True) -> float:
    import torch
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging

    from qa.train.loop import packaged_encoder_path

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(
        packaged_encoder_path(), attn_implementation=attn, attention_probs_dropout_prob=attn_dropout
    )
    model.train()
    if freeze:
        model.get_input_embeddings().weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    ids = torch.randint(1000, 20000, (batch, length))
    mask = torch.ones_like(ids)
    pos = torch.randint(0, length, (batch,))
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, attention_mask=mask, start_positions=pos, end_positions=pos).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t0)
    best = sorted(times[1:])[len(times[1:]) // 2]  # median, first (warm-up) step dropped
    return batch / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=160)
    args = ap.parse_args()
    rows = []
    for name, change in VARIANTS.items():
        rows.append((name, measure(args.steps, args.batch, args.length, **change)))
        print(f"{name}: {rows[-1][1]:.1f} windows/s", file=sys.stderr)
    base = rows[0][1]
    print(f"Training step speed, batch {args.batch} x {args.length} tokens, median of {args.steps - 1} steps "
          f"(`python scripts/train_speed.py`):\n")
    print("| variant | windows/s | vs recipe |\n|---|---|---|")
    for name, speed in rows:
        print(f"| {name} | {speed:.1f} | {speed / base:.2f}x |")


if __name__ == "__main__":
    main()
