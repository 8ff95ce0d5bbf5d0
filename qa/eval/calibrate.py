"""Turn reader scores into probabilities and choose the abstention threshold.

Pure functions over arrays of (score, correct) pairs, so that they are easy to test and to
refit on any held-out file with `qa eval --report`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

from qa.calibration import Calibration


def fit_platt(scores: Sequence[float], correct: Sequence[bool], iterations: int = 100) -> tuple[float, float]:
    """Fit p = sigmoid(a*score + b) to the outcomes by minimising the log loss.

    Newton steps, halved until the loss goes down (plain Newton can overshoot and run off
    to huge slopes), with Platt's smoothed targets, which keep the fit finite when the
    classes separate.

    Returns:
        (a, b).
    """
    n_pos = sum(1 for c in correct if c)
    n_neg = len(correct) - n_pos
    if not scores or n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    hi, lo = (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2)
    data = [(x, hi if c else lo) for x, c in zip(scores, correct)]

    def loss(a: float, b: float) -> float:
        total = 0.0
        for x, t in data:
            z = a * x + b
            # log(1 + e^z) - t*z, computed without overflow
            total += (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - t * z
        return total

    a, b = 0.0, math.log((n_pos + 1) / (n_neg + 1))
    current = loss(a, b)
    for _ in range(iterations):
        g_a = g_b = h_aa = h_ab = h_bb = 0.0
        for x, t in data:
            z = max(-60.0, min(60.0, a * x + b))
            p = 1.0 / (1.0 + math.exp(-z))
            w = p * (1 - p)
            g_a += (p - t) * x
            g_b += p - t
            h_aa += w * x * x
            h_ab += w * x
            h_bb += w
        h_aa += 1e-9
        h_bb += 1e-9
        det = h_aa * h_bb - h_ab * h_ab
        if det <= 0:
            break
        da = (h_bb * g_a - h_ab * g_b) / det
        db = (h_aa * g_b - h_ab * g_a) / det
        step = 1.0
        while step > 1e-6:
            trial = loss(a - step * da, b - step * db)
            if trial <= current:
                break
            step /= 2
        else:
            break
        a, b = a - step * da, b - step * db
        improved = current - trial
        current = trial
        if improved < 1e-10 * max(1.0, abs(current)):
            break
    return a, b


def expected_calibration_error(
    probabilities: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width bins, and the bins (for a reliability diagram).

    Returns:
        (ece, [{"lo", "hi", "count", "confidence", "accuracy"} per non-empty bin]).
    """
    table = []
    total = len(probabilities)
    ece = 0.0
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        idx = [i for i, p in enumerate(probabilities) if lo <= p < hi or (k == bins - 1 and p == 1.0)]
        if not idx:
            continue
        conf = sum(probabilities[i] for i in idx) / len(idx)
        acc = sum(1 for i in idx if correct[i]) / len(idx)
        ece += len(idx) / total * abs(conf - acc)
        table.append({"lo": lo, "hi": hi, "count": len(idx), "confidence": conf, "accuracy": acc})
    return ece, table


def threshold_curve(
    scores: Sequence[float], f1_if_answered: Sequence[float], answerable: Sequence[bool]
) -> list[dict[str, float]]:
    """Overall F1 and abstention rates for every useful threshold.

    A question is answered when its best score is >= the threshold. Answered, it scores the F1
    of its best span (0 for an unanswerable question); abstaining, it scores 1 if it is
    unanswerable and 0 otherwise (official SQuAD 2.0 rule).

    Returns:
        Points sorted by threshold, each {"threshold", "f1", "abstained", "noans_abstained",
        "hasans_answered"}, all rates in percent.
    """
    n = len(scores)
    if n == 0:
        return []
    n_noans = sum(1 for a in answerable if not a)
    n_has = n - n_noans
    order = sorted(range(n), key=lambda i: scores[i])
    # Start with everyone abstaining; raise questions to "answered" from the top score down.
    f1_total = float(n_noans)
    noans_abst, has_answered = n_noans, 0
    points = []
    best_first = list(reversed(order))
    cands = [scores[i] for i in best_first]
    points.append(_point(math.inf, f1_total, n, n, noans_abst, n_noans, has_answered, n_has))
    for rank, i in enumerate(best_first):
        if answerable[i]:
            f1_total += f1_if_answered[i]
            has_answered += 1
        else:
            f1_total -= 1.0
            noans_abst -= 1
        # Only emit at the last of equal scores, so each threshold is a real cut.
        if rank + 1 < n and cands[rank + 1] == scores[i]:
            continue
        points.append(_point(scores[i], f1_total, n, n - rank - 1, noans_abst, n_noans, has_answered, n_has))
    return sorted(points, key=lambda p: p["threshold"])


def _point(t: float, f1: float, n: int, abstained: int, noans_abst: int, n_noans: int, has_ans: int, n_has: int) -> dict[str, float]:
    return {
        "threshold": t,
        "f1": 100.0 * f1 / n,
        "abstained": 100.0 * abstained / n,
        "noans_abstained": 100.0 * noans_abst / n_noans if n_noans else 0.0,
        "hasans_answered": 100.0 * has_ans / n_has if n_has else 0.0,
    }


def best_threshold(curve: Sequence[dict[str, float]]) -> dict[str, float]:
    """The point of highest F1; ties go to the lower threshold (answer more)."""
    finite = [p for p in curve if math.isfinite(p["threshold"])] or list(curve)
    return max(finite, key=lambda p: (round(p["f1"], 9), -p["threshold"]))
