"""The reader's calibration as the runtime applies it: candidates -> P(right), and the threshold.

Fitting lives in `qa.eval.calibrate`; this module only reads and applies what was fitted.

The confidence shown with an answer is the probability that the answer is right (F1 >= 0.5
against what a person would answer; any answer to a question the documents cannot answer is
wrong). It is a small logistic model over features of the answer among the reader's other
candidates for the same question (`candidate_features`): its reader score, how far it is ahead
of the best answer elsewhere, and its length. An older calibration file with only a slope and
an intercept gives the 1-feature (Platt) map of the score.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

# One candidate, as the features need it: (unit, start, end, text, score). `unit` names where it
# was read (a document id or a passage index), start/end are character offsets in that unit, and
# `score` is the reader score (span logit minus the window's no-answer logit).
Candidate = tuple[object, int, int, str, float]

# The features a calibration may use, by name (see `candidate_features`).
FEATURES = ("score", "gap", "log_words", "share", "agree", "runner_up", "digit", "caps")
_CAP = 12.0  # scores and gaps are clipped to +-this: far out, more says nothing new


def candidate_features(candidates: Sequence[Candidate]) -> list[dict[str, float]]:
    """Features of each candidate among the others of the same question.

    - score: the reader score, clipped.
    - gap: score minus the best score of a candidate that does not overlap it (a different
      answer, not "the X" against "X"); the cap when there is none. Negative for runners-up.
    - log_words: log(1 + words in the answer); long spans are more often partly wrong.
    - share: the candidate's softmax share among all candidates and "no answer" (score 0),
      counting the candidates that overlap it as the same answer.
    - agree: the share of the 10 best candidates (itself left out) that overlap it: the reader
      keeps pointing at the same place.
    - runner_up: the best score of any other candidate, clipped.
    - digit, caps: the answer holds a digit; its share of capitalised words (numbers and names
      are more often exactly right than descriptions).
    """
    scores = [c[4] for c in candidates]
    top10 = sorted(range(len(candidates)), key=lambda j: -scores[j])[:10]
    top = max(scores + [0.0])
    norm = math.exp(-top) + sum(math.exp(s - top) for s in scores)
    out = []
    for i, (unit, start, end, text, score) in enumerate(candidates):
        same = {j for j, c in enumerate(candidates) if c[0] == unit and c[1] < end and start < c[2]}
        others = [c[4] for j, c in enumerate(candidates) if j not in same]
        gap = score - max(others) if others else _CAP
        share = sum(math.exp(candidates[j][4] - top) for j in same) / norm
        words = text.split()
        out.append({
            "score": _clip(score),
            "gap": _clip(gap),
            "log_words": math.log1p(len(words)),
            "share": share,
            "agree": sum(1 for j in top10 if j != i and j in same) / 10,
            "runner_up": _clip(max((s for j, s in enumerate(scores) if j != i), default=-_CAP)),
            "digit": float(any(ch.isdigit() for ch in text)),
            "caps": sum(1 for w in words if w[:1].isupper()) / max(1, len(words)),
        })
    return out


def _clip(x: float) -> float:
    return max(-_CAP, min(_CAP, x))


def _sigmoid(z: float) -> float:
    if z < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Calibration:
    """A logistic map from an answer's features to the probability that it is right, and the threshold.

    Attributes:
        slope: a in p = sigmoid(a * score + b), the 1-feature map (used when `weights` is empty).
        intercept: b in the same; also the intercept of the feature model.
        threshold: Abstain when the best span's reader score is below this.
        fitted_on: What the numbers were fitted on (file, question count).
        features: Names of the features (from `FEATURES`) of the feature model, in order.
        weights: Their weights: p = sigmoid(intercept + sum(weight * feature)).
    """

    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = 0.0
    fitted_on: str = "default (not fitted)"
    features: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or len(self.features) != len(self.weights):
            raise ValueError(f"calibration features {list(self.features)} must be some of {FEATURES}, one weight each")

    def probability(self, score: float) -> float:
        """Probability that an answer with this reader score is right (the score alone)."""
        if self.weights:
            return self.probabilities([(0, 0, 1, "answer", score)])[0]
        return _sigmoid(self.slope * score + self.intercept)

    def probabilities(self, candidates: Sequence[Candidate]) -> list[float]:
        """P(right) of each of a question's candidates, judged among the others."""
        if not self.weights:
            return [_sigmoid(self.slope * c[4] + self.intercept) for c in candidates]
        return [
            _sigmoid(self.intercept + sum(w * f[name] for name, w in zip(self.features, self.weights)))
            for f in candidate_features(candidates)
        ]

    def save(self, path: str | Path) -> None:
        data = asdict(self)
        data["features"], data["weights"] = list(self.features), list(self.weights)
        Path(path).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        """Read a calibration file; a missing file gives the unfitted default."""
        try:
            raw = json.loads(Path(path).read_text())
        except FileNotFoundError:
            return cls()
        kept = {k: raw[k] for k in ("slope", "intercept", "threshold", "fitted_on") if k in raw}
        return cls(**kept, features=tuple(raw.get("features", ())), weights=tuple(raw.get("weights", ())))
