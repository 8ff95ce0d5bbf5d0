"""The scripts that report a reader's numbers: the answer/abstain trade-off and the format check's rule."""

import importlib
import sys

import pytest

from qa.eval.evaluate import QuestionResult
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def scripts(request):
    sys.path.insert(0, str(ROOT / "scripts"))
    request.addfinalizer(lambda: sys.path.remove(str(ROOT / "scripts")))
    return importlib.import_module("reader_frontier"), importlib.import_module("check_runtimes")


def result(qid, score, f1, answerable=True):
    return QuestionResult(qid=qid, text="x", score=score, f1=f1, answerable=answerable, seconds=0.0)


def brute(results, t):
    """F1 and abstained share at threshold t, question by question."""
    f1 = sum((r.f1 if r.score >= t else 0.0) if r.answerable else (1.0 if r.score < t else 0.0) for r in results)
    unanswerable = [r for r in results if not r.answerable]
    return 100 * f1 / len(results), 100 * sum(r.score < t for r in unanswerable) / len(unanswerable)


def test_the_trade_off_curve_matches_deciding_each_question_at_each_threshold(scripts):
    frontier, _ = scripts
    results = [result("a", 3.0, 1.0), result("b", -1.0, 0.5), result("c", 0.5, 0.0), result("d", 2.0, 0.0, False),
               result("e", -2.0, 0.0, False), result("f", float("-inf"), 0.0, False), result("g", 1.0, 0.8)]
    thresholds, f1, abstained, answered = frontier.curve(results)
    assert list(thresholds) == sorted(r.score for r in results) + [float("inf")]
    for t in [*thresholds, 1.7, -5.0, 2.5]:  # at each score, between scores, and past the ends
        assert (frontier.at(thresholds, f1, t), frontier.at(thresholds, abstained, t)) == pytest.approx(brute(results, t))
        assert frontier.at(thresholds, answered, t) == pytest.approx(100 * sum(r.score >= t for r in results) / len(results))
    tied = [result("a", 1.0, 1.0), result("b", 1.0, 0.0, False), result("c", 0.0, 0.5)]
    t, f1, abstained, _ = frontier.curve(tied)
    assert (frontier.at(t, f1, 1.0), frontier.at(t, abstained, 1.0)) == pytest.approx(brute(tied, 1.0))  # both at 1.0 answer


def test_a_format_out_of_tolerance_only_with_its_fitted_shift_counts_unshifted(scripts):
    _, check = scripts
    base = {"a": {"f1": 80.0}, "b": {"f1": 70.0}}
    shifted_worse = {"a": {"f1": 79.9, "f1_without_shift": 79.8}, "b": {"f1": 68.9, "f1_without_shift": 69.7}}
    assert not check.within(shifted_worse, base, base) and check.within(shifted_worse, base, base, "f1_without_shift")
    assert not check.within({"a": {"f1": 80.0}, "b": {"f1": 70.0}}, base, base, "f1_without_shift")  # none recorded
    assert check.within({"a": {"f1": 80.5}, "b": {"f1": 69.5}}, base, base)
    assert not check.within({"a": {"f1": 80.51}, "b": {"f1": 70.0}}, base, base)
