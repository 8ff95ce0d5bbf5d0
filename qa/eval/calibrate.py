"""Turn reader scores into probabilities and choose the abstention threshold.

Pure functions over arrays of (score, correct) pairs, so that they are easy to test and to
refit on any held-out file with `qa eval --report`.
"""

from __future__ import annotations

import math
from typing import Sequence

from qa.calibration import Calibration  # noqa: F401 - re-exported for the fitting code's callers


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


def fit_logistic(
    rows: Sequence[Sequence[float]], correct: Sequence[bool], l2: float = 1e-2, iterations: int = 50
) -> tuple[float, list[float]]:
    """Fit p = sigmoid(b + w . x) by minimising the log loss plus l2/2 * |w|^2 (Newton steps).

    The small ridge keeps the weights finite when the classes separate and when two features
    carry the same information. Pure Python: a few features and some thousand rows.

    Returns:
        (b, w).
    """
    n_pos = sum(1 for c in correct if c)
    k = len(rows[0]) if rows else 0
    if not rows or n_pos in (0, len(correct)):
        return 0.0, [0.0] * k
    xs = [[1.0, *map(float, r)] for r in rows]
    ts = [1.0 if c else 0.0 for c in correct]
    beta = [math.log(n_pos / (len(ts) - n_pos))] + [0.0] * k
    penalty = [0.0] + [l2] * k  # the intercept is not shrunk

    def loss(b: list[float]) -> float:
        total = sum(_log1pexp(sum(bi * xi for bi, xi in zip(b, x))) - t * sum(bi * xi for bi, xi in zip(b, x)) for x, t in zip(xs, ts))
        return total + 0.5 * sum(p * bi * bi for p, bi in zip(penalty, b))

    current = loss(beta)
    for _ in range(iterations):
        grad = [p * bi for p, bi in zip(penalty, beta)]
        hess = [[(p if i == j else 0.0) for j in range(k + 1)] for i, p in enumerate(penalty)]
        for x, t in zip(xs, ts):
            prob = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, sum(bi * xi for bi, xi in zip(beta, x))))))
            w = prob * (1 - prob)
            for i in range(k + 1):
                grad[i] += (prob - t) * x[i]
                for j in range(i, k + 1):
                    hess[i][j] += w * x[i] * x[j]
        for i in range(k + 1):
            hess[i][i] += 1e-9
            for j in range(i):
                hess[i][j] = hess[j][i]
        step_dir = _solve(hess, grad)
        step = 1.0
        while step > 1e-6:
            trial_beta = [bi - step * di for bi, di in zip(beta, step_dir)]
            trial = loss(trial_beta)
            if trial <= current:
                break
            step /= 2
        else:
            break
        improved, beta, current = current - trial, trial_beta, trial
        if improved < 1e-10 * max(1.0, abs(current)):
            break
    return beta[0], beta[1:]


def _log1pexp(z: float) -> float:
    return (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z)))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a x = b (Gaussian elimination with partial pivoting; a is small and positive definite)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def auroc(probabilities: Sequence[float], correct: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance that a right answer gets a higher confidence than a
    wrong one (ties count half). 0.5 when either class is empty."""
    pairs = sorted(zip(probabilities, correct))
    n_pos = sum(1 for _, c in pairs if c)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return 0.5
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # 1-based average rank of the tied block
        rank_sum += mid_rank * sum(1 for _, c in pairs[i:j] if c)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def fit_score_offset(reference: Sequence[float], scores: Sequence[float], threshold: float) -> float:
    """The shift to take off `scores` (a reader's best-span scores in another number format) so that
    as many questions fall below `threshold` as with `reference` (the same questions read in fp32).

    Matching the share abstained on, rather than the mean difference, keeps the decision that the
    threshold was fitted for: int8 rounding moves the no-answer logit, and a small shift near the
    threshold changes many answers into guesses. 0 when there is nothing to match.
    """
    finite = [s for s in scores if math.isfinite(s)]
    if not reference or not finite:
        return 0.0
    lowest = min(finite) - 1.0  # a question without any span: below every other
    ordered = sorted(s if math.isfinite(s) else lowest for s in scores)
    share = sum(1 for r in reference if r < threshold) / len(reference)
    m = round(share * len(ordered))  # how many should fall below the threshold here
    if sum(1 for s in ordered if s < threshold) == m:
        return 0.0  # already as many: no shift (a format that reads as fp32 does is left alone)
    # Any cut between the m-th and (m+1)-th score leaves m below it: take the middle.
    above = ordered[m] if m < len(ordered) else ordered[-1] + 1.0
    below = ordered[m - 1] if m > 0 else above - 1.0
    return (below + above) / 2 - threshold
