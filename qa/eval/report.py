"""`qa eval --report DIR`: metrics.json and the plots a person wants to see."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.calibration import Calibration


def write_report(folder: Path, summary: dict[str, Any], calibration: Calibration) -> list[Path]:
    """Write metrics.json, reliability.png and threshold.png into `folder`; returns the files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    m = summary["metrics"]
    data = {
        "metrics": m,
        "best_threshold": _finite(summary.get("best_threshold", {})),
        "shipped_threshold": calibration.threshold,
        "calibration": {"slope": calibration.slope, "intercept": calibration.intercept, "fitted_on": calibration.fitted_on,
                        "features": list(calibration.features), "weights": list(calibration.weights)},
        "reliability": summary["reliability"],
        "curve": [_finite(p) for p in summary["curve"][:: max(1, len(summary["curve"]) // 400)]],
    }
    (folder / "metrics.json").write_text(json.dumps(data, indent=2))

    fig, ax = plt.subplots(figsize=(5, 5))
    bins = summary["reliability"]
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    if bins:
        ax.bar([b["lo"] for b in bins], [b["accuracy"] for b in bins], width=0.1, align="edge", alpha=0.6, edgecolor="k", label="share right")
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color="C3", label="mean confidence")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence of the best answer, P(right)", ylabel="share of answers right (F1 >= 0.5)",
           title=f"Reliability ({m.get('file', '')})\nECE {m['ece']:.3f}, AUROC {m.get('auroc', float('nan')):.3f}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(folder / "reliability.png", dpi=110)
    plt.close(fig)

    curve = [p for p in summary["curve"] if math.isfinite(p["threshold"])]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if curve:
        xs = [p["threshold"] for p in curve]
        ax.plot(xs, [p["f1"] for p in curve], label="overall F1")
        ax.plot(xs, [p["abstained"] for p in curve], label="% abstained")
        if any(p["noans_abstained"] for p in curve):
            ax.plot(xs, [p["noans_abstained"] for p in curve], label="% unanswerable abstained")
        ax.plot(xs, [p["hasans_answered"] for p in curve], label="% answerable answered", alpha=0.7)
        best = summary.get("best_threshold") or {}
        if best and math.isfinite(best.get("threshold", math.inf)):
            ax.axvline(best["threshold"], color="k", ls=":", label=f"best here {best['threshold']:.2f} (F1 {best['f1']:.1f})")
        ax.axvline(calibration.threshold, color="C3", ls="--", label=f"shipped {calibration.threshold:.2f}")
        import numpy as np

        lo, hi = np.quantile(xs, [0.01, 0.99], method="lower")
        ax.set_xlim(float(lo), float(hi))
    ax.set(xlabel="abstention threshold (reader score)", ylabel="percent", ylim=(0, 100),
           title=f"F1 and abstention against the threshold ({m.get('file', '')}, {m.get('mode', '')})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "threshold.png", dpi=110)
    plt.close(fig)
    return [folder / "metrics.json", folder / "reliability.png", folder / "threshold.png"]


def _finite(point: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in point.items()}
