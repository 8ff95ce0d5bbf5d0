"""`qa eval`: measure the reader, or the whole chatbot, on a SQuAD v1.1/v2.0 file.

Modes:
    reader: each question is read against its own paragraph.
    e2e: every paragraph of the file is indexed as a document and each question is asked
        of the whole index, as a user would ask it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from qa.calibration import FEATURES, candidate_features
from qa.eval.calibrate import Calibration, auroc, best_threshold, expected_calibration_error, threshold_curve
from qa.eval.squad import SquadExample, score_prediction, squad_metrics

if TYPE_CHECKING:
    from qa.read import SpanReader

# An answer counts as right for calibration when its F1 against the gold is at least this.
RIGHT_F1 = 0.5
# Candidates kept per question for the confidence features (the gap to the next answer needs a few).
KEEP_SPANS = 20


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
    # The best candidates, best first, as [unit, start, end, text, score] (unit: the passage or
    # document they were read in): what the confidence features are computed from.
    spans: list = field(default_factory=list)


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
    reader: SpanReader,
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
            top = [[c.passage, c.start, c.end, c.text, c.score] for c in cands[:KEEP_SPANS]]
            results.append(_result(ex, cands[0].text if cands else "", cands[0].score if cands else float("-inf"), per_question, spans=top))
        if progress:
            progress(len(group))
    return EvalRun(results, calibration)


def _result(
    ex: SquadExample, text: str, score: float, seconds: float, retrieved: bool | None = None, spans: list | None = None
) -> QuestionResult:
    f1 = score_prediction(ex, text)[1] if ex.answers and text else 0.0
    return QuestionResult(ex.qid, text, score, f1, bool(ex.answers), seconds, retrieved, spans or [])


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
    curve = threshold_curve(
        [r.score for r in run.results], [r.f1 for r in run.results], [r.answerable for r in run.results]
    )
    best = best_threshold(curve) if curve else {}
    scored = [(p, is_right(r)) for r, p in zip(run.results, confidences(run.results, run.calibration)) if p is not None]
    ece, bins = expected_calibration_error([p for p, _ in scored], [c for _, c in scored])
    metrics["ece"] = ece
    metrics["auroc"] = auroc([p for p, _ in scored], [c for _, c in scored])
    metrics.update(run.extra)
    return {"metrics": metrics, "best_threshold": best, "curve": curve, "reliability": bins}


def is_right(r: QuestionResult) -> bool:
    """Whether answering with the best span would be right (no span is right for unanswerable)."""
    return r.answerable and r.f1 >= RIGHT_F1


def confidences(results: Sequence[QuestionResult], calibration: Calibration) -> list[float | None]:
    """The confidence of each question's best answer, P(right); None when there was no candidate."""
    out: list[float | None] = []
    for r in results:
        if r.spans:
            out.append(calibration.probabilities(r.spans)[0])
        else:
            out.append(None if r.score == float("-inf") else calibration.probability(r.score))
    return out


def feature_rows(results: Sequence[QuestionResult], features: Sequence[str] = FEATURES) -> list[list[float]]:
    """The calibration features of each question's best answer (results with candidates only)."""
    rows = []
    for r in results:
        cands = r.spans or [[0, 0, 1, r.text, r.score]]
        f = candidate_features(cands)[0]
        rows.append([f[name] for name in features])
    return rows


def fit_calibration(
    results: Sequence[QuestionResult], source: str, features: Sequence[str] = FEATURES
) -> Calibration:
    """Fit P(right) over `features` and pick the threshold of best F1 on these results.

    Right: the best answer has F1 >= 0.5 against a gold answer; an answer to an unanswerable
    question is wrong. Questions without any candidate are left out of the fit.
    """
    from qa.eval.calibrate import fit_logistic, fit_platt

    finite = [r for r in results if r.score != float("-inf")]
    right = [is_right(r) for r in finite]
    if features:  # the feature model replaces the score-only map (its slope is then unused)
        a, (b, weights) = 0.0, fit_logistic(feature_rows(finite, features), right)
    else:
        (a, b), weights = fit_platt([r.score for r in finite], right), []
    curve = threshold_curve([r.score for r in results], [r.f1 for r in results], [r.answerable for r in results])
    best = best_threshold(curve)
    return Calibration(
        a, b, float(best["threshold"]), f"{source} ({len(results)} questions)", tuple(features), tuple(weights)
    )

