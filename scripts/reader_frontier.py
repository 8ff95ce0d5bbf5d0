"""A reader's trade-off between answering and abstaining, from its cached validation reads.

    python scripts/reader_frontier.py READER_DIR [READER_DIR ...] [--min-abstained 60]

For each abstention threshold (every score at which a decision changes), the F1 on SQuAD v1.1 DEV
and on the second half of SQuAD v2.0 DEV and the share of v2.0's unanswerable questions abstained
on; it prints, per reader, the threshold that gives the best v1.1 F1 while abstaining on at least
--min-abstained percent, and a few points of the curve. Reads only `scripts/evaluate_reader.py`'s
cache (run that first, for each reader): no model is loaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_reader import FILES, read_file  # noqa: E402


def curve(results: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds (each score, ascending, then +inf) and, at each, the file's F1 (percent),
    unanswerable questions abstained on (percent) and questions answered (percent): a question is
    answered when its best span's score is at or above the threshold. Where scores tie, the first
    of them holds the value (`at` looks it up so)."""
    scores = np.array([r.score for r in results], dtype=float)
    gain = np.array([r.f1 if r.answerable else 0.0 for r in results])  # answering
    abstain = np.array([0.0 if r.answerable else 1.0 for r in results])  # abstaining
    order = np.argsort(scores, kind="stable")
    # At index i, the questions before i (in score order) abstain and the others answer.
    abst_cum = np.concatenate([[0.0], np.cumsum(abstain[order])])
    gain_rev = np.concatenate([np.cumsum(gain[order][::-1])[::-1], [0.0]])
    n = len(results)
    thresholds = np.concatenate([scores[order], [np.inf]])
    f1 = 100 * (abst_cum + gain_rev) / n
    abstained = 100 * abst_cum / max(1.0, abstain.sum())
    answered = 100 * (n - np.arange(n + 1)) / n
    return thresholds, f1, abstained, answered


def at(thresholds: np.ndarray, values: np.ndarray, t: float) -> float:
    """The value of a curve at threshold t: the questions scored below t abstain."""
    return float(values[min(int(np.searchsorted(thresholds, t, side="left")), len(values) - 1)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("readers", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "eval-cache")
    ap.add_argument("--min-abstained", type=float, default=60.0)
    args = ap.parse_args()
    (v1_file, v1_part), (v2_file, v2_part) = FILES["squad_v1.1_DEV"], FILES["squad_v2.0_DEV second half"]
    print("| reader | threshold | v1.1 F1 | v2.0 2nd half F1 | v2.0 abstained % |\n|---|---|---|---|---|")
    for folder in args.readers:
        v1 = curve(read_file(folder, args.data / v1_file, v1_part, args.cache)[1])
        v2 = curve(read_file(folder, args.data / v2_file, v2_part, args.cache)[1])
        points = sorted(set(np.concatenate([v1[0], v2[0]])) - {np.inf, -np.inf})
        rows = [(t, at(v1[0], v1[1], t), at(v2[0], v2[1], t), at(v2[0], v2[2], t)) for t in points]
        enough = [r for r in rows if r[3] >= args.min_abstained]
        best_v1 = max(enough, key=lambda r: r[1]) if enough else None
        best_v2 = max(rows, key=lambda r: r[2])
        shown = {"best v2.0 F1": best_v2, f"best v1.1 F1 with >= {args.min_abstained:g}% abstained": best_v1}
        for label, row in shown.items():
            if row is not None:
                print(f"| {folder} ({label}) | {row[0]:.3f} | {row[1]:.2f} | {row[2]:.2f} | {row[3]:.1f} |")


if __name__ == "__main__":
    main()
