"""Interpolate two readers' weights (WiSE-FT): (1 - alpha) * A + alpha * B, same architecture.

    python scripts/interpolate_reader.py A_DIR B_DIR ALPHA OUT_DIR

Used for the shipped fast reader: A = the first training run, B = the same reader continued on
real unanswerable questions (scripts/continue_reader.py). The continued reader abstains better on
SQuAD 2.0 but lost confidence on plain answerable questions (news questions of the seed article
among them); a point between the two keeps most of both (model card, "Reader v3"). The tokenizer,
config and training record are taken from B; then run scripts/evaluate_reader.py OUT_DIR.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    a_dir, b_dir, alpha, out = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
    if not 0.0 <= alpha <= 1.0:
        raise SystemExit(f"ALPHA must be between 0 and 1, not {alpha}")
    from safetensors.torch import load_file, save_file

    a, b = load_file(a_dir / "model.safetensors"), load_file(b_dir / "model.safetensors")
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise SystemExit("the two readers have different weights (not the same architecture)")
    mixed = {k: ((1 - alpha) * a[k].float() + alpha * b[k].float()).to(a[k].dtype) for k in a}
    out.mkdir(parents=True, exist_ok=True)
    save_file(mixed, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(b_dir / name, out / name)
    info = json.loads((b_dir / "training.json").read_text())
    info["interpolated"] = {"alpha": alpha, "a": str(a_dir), "b": str(b_dir), "rule": "(1 - alpha) * a + alpha * b"}
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {out}: {1 - alpha:g} x {a_dir} + {alpha:g} x {b_dir}")


if __name__ == "__main__":
    main()
