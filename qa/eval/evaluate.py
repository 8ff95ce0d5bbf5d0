"""`qa eval`: measure the reader, or the whole chatbot, on a SQuAD v1.1/v2.0 file.

Modes:
    reader: each question is read against its own paragraph.
    e2e: every paragraph of the file is indexed as a document and each question is asked
        of the whole index, as a user would ask it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from qa.eval.calibrate import Calibration, best_threshold, expected_calibration_error, threshold_curve
from qa.eval.squad import SquadExample, score_prediction, squad_metrics

# An answer counts as right for calibration when its F1 against the gold is at least this.
RIGHT_F1 = 0.5


@dataclass
class QuestionResult:
    """The best candidate for one question, before the abstention decision."""

    qid: str
    text: str
    score: float  # reader score of the best span (-inf when there was none)
    f1: float  # F1 of `text` against the gold answers (0 for unanswerable questions)
    answerable: bool
    seconds: float
    retrieved_gold: bool | None = None  # e2e: a retrieved passage holds a gold answer


@dataclass
class EvalRun:
    """Everything measured on one file."""

    results: list[QuestionResult]
    calibration: Calibration
    extra: dict[str, Any] = field(default_factory=dict)

    def predictions(self, threshold: float | None = None) -> dict[str, str]:
        """Official-format predictions: question id to answer, "" when abstaining."""
        t = self.calibration.threshold if threshold is None else threshold
        return {r.qid: (r.text if r.score >= t else "") for r in self.results}


def run_reader(
    examples: Sequence[SquadExample],
    reader: Any,
    calibration: Calibration,
    batch_questions: int = 8,
    progress: Callable[[int], None] | None = None,
) -> EvalRun:
    """Read every question against its own paragraph."""
    results: list[QuestionResult] = []
    for lo in range(0, len(examples), batch_questions):
        group = examples[lo : lo + batch_questions]
        t0 = time.perf_counter()
        spans = reader.read_many([(ex.question, [ex.context]) for ex in group])
        per_question = (time.perf_counter() - t0) / len(group)
        for ex, cands in zip(group, spans):
            results.append(_result(ex, cands[0].text if cands else "", cands[0].score if cands else float("-inf"), per_question))
        if progress:
            progress(len(group))
    return EvalRun(results, calibration)


def _result(ex: SquadExample, text: str, score: float, seconds: float, retrieved: bool | None = None) -> QuestionResult:
    f1 = score_prediction(ex, text)[1] if ex.answers and text else 0.0
    return QuestionResult(ex.qid, text, score, f1, bool(ex.answers), seconds, retrieved)


def summarize(run: EvalRun, examples: Sequence[SquadExample]) -> dict[str, Any]:
    """Official metrics at the shipped threshold, latency, calibration and the threshold curve."""
    metrics: dict[str, Any] = dict(squad_metrics(examples, run.predictions()))
    metrics["threshold"] = run.calibration.threshold
    if any(not r.answerable for r in run.results):
        abstained = [r for r in run.results if not r.answerable and r.score < run.calibration.threshold]
        metrics["NoAns_abstained"] = 100.0 * len(abstained) / sum(1 for r in run.results if not r.answerable)
    times = [r.seconds for r in run.results]
    if times:
        import numpy as np

        metrics["latency_p50_ms"] = 1000 * float(np.quantile(times, 0.5))
        metrics["latency_p95_ms"] = 1000 * float(np.quantile(times, 0.95))
    recalls = [r.retrieved_gold for r in run.results if r.retrieved_gold is not None and r.answerable]
    if recalls:
        metrics["retrieval_recall"] = 100.0 * sum(recalls) / len(recalls)
    finite = [r for r in run.results if r.score != float("-inf")]
    curve = threshold_curve(
        [r.score for r in run.results], [r.f1 for r in run.results], [r.answerable for r in run.results]
    )
    best = best_threshold(curve) if curve else {}
    probs = [run.calibration.probability(r.score) for r in finite]
    right = [is_right(r) for r in finite]
    ece, bins = expected_calibration_error(probs, right)
    metrics["ece"] = ece
    metrics.update(run.extra)
    return {"metrics": metrics, "best_threshold": best, "curve": curve, "reliability": bins}


def is_right(r: QuestionResult) -> bool:
    """Whether answering with the best span would be right (no span is right for unanswerable)."""
    return r.answerable and r.f1 >= RIGHT_F1


def fit_calibration(results: Sequence[QuestionResult], source: str) -> Calibration:
    """Fit the score-to-probability map and pick the threshold of best F1 on these results."""
    from qa.eval.calibrate import fit_platt

    finite = [r for r in results if r.score != float("-inf")]
    a, b = fit_platt([r.score for r in finite], [is_right(r) for r in finite])
    curve = threshold_curve([r.score for r in results], [r.f1 for r in results], [r.answerable for r in results])
    best = best_threshold(curve)
    return Calibration(a, b, float(best["threshold"]), f"{source} ({len(results)} questions)")
