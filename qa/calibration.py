"""The reader's calibration as the runtime applies it: score -> probability, and the threshold.

Fitting lives in `qa.eval.calibrate`; this module only reads and applies what was fitted.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Calibration:
    """A logistic map from reader score to probability of a right answer, and the threshold.

    Attributes:
        slope: a in p = sigmoid(a * score + b).
        intercept: b in the same.
        threshold: Abstain when the best span's score is below this.
        fitted_on: What the numbers were fitted on (file, question count).
    """

    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = 0.0
    fitted_on: str = "default (not fitted)"

    def probability(self, score: float) -> float:
        """Probability that an answer with this reader score is right."""
        z = self.slope * score + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        """Read a calibration file; a missing file gives the unfitted default."""
        try:
            raw = json.loads(Path(path).read_text())
        except FileNotFoundError:
            return cls()
        return cls(**{k: raw[k] for k in ("slope", "intercept", "threshold", "fitted_on") if k in raw})
