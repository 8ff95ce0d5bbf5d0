"""The confidence as P(right): features, the logistic fit, AUROC, and the na_prob file."""

import json
import math
import random

import pytest

from qa.calibration import Calibration, candidate_features
from qa.eval.calibrate import auroc, fit_logistic
from qa.eval.evaluate import EvalRun, QuestionResult, confidences, fit_calibration
from qa.eval.run import no_answer_probabilities


def test_candidate_features_by_hand():
    cands = [
        (0, 10, 20, "Marie Curie", 4.0),
        (0, 6, 20, "madam Marie Curie", 3.0),  # overlaps the best: the same answer
        (1, 0, 5, "Pierre", 1.0),  # another passage: a different answer
    ]
    f = candidate_features(cands)
    assert f[0]["score"] == 4.0
    assert f[0]["gap"] == pytest.approx(3.0)  # ahead of "Pierre", not of its own variant
    assert f[2]["gap"] == pytest.approx(-3.0)
    assert f[0]["log_words"] == pytest.approx(math.log(3))
    norm = math.exp(0) + math.exp(4) + math.exp(3) + math.exp(1)
    assert f[0]["share"] == pytest.approx((math.exp(4) + math.exp(3)) / norm)
    assert f[0]["agree"] == pytest.approx(0.1) and f[2]["agree"] == 0.0  # one other candidate overlaps the best
    assert f[0]["runner_up"] == 3.0 and f[1]["runner_up"] == 4.0
    assert f[0]["caps"] == 1.0 and f[1]["caps"] == pytest.approx(2 / 3) and f[0]["digit"] == 0.0
    assert candidate_features([(0, 0, 3, "abc", 99.0)])[0]["gap"] == 12.0  # alone: the cap
    assert candidate_features([(0, 0, 3, "abc", -99.0)])[0]["score"] == -12.0


def test_fit_logistic_recovers_known_weights():
    rng = random.Random(1)
    rows, right = [], []
    for _ in range(3000):
        x1, x2 = rng.uniform(-4, 4), rng.uniform(-2, 2)
        rows.append([x1, x2])
        right.append(rng.random() < 1 / (1 + math.exp(-(0.5 + 1.2 * x1 - 0.8 * x2))))
    b, w = fit_logistic(rows, right, l2=1e-6)
    assert b == pytest.approx(0.5, abs=0.15)
    assert w[0] == pytest.approx(1.2, abs=0.15) and w[1] == pytest.approx(-0.8, abs=0.15)


def test_fit_logistic_stays_finite_when_classes_separate():
    rows = [[float(x)] for x in range(-10, 11)]
    right = [r[0] > 0 for r in rows]
    b, w = fit_logistic(rows, right)
    assert 0 < w[0] < 100 and abs(b) < 100
    assert fit_logistic([[1.0], [2.0]], [True, True]) == (0.0, [0.0])


def test_auroc_by_hand():
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    # One of 4 (right, wrong) pairs is misordered and one is tied: (2 + 0.5) / 4
    assert auroc([0.9, 0.5, 0.5, 0.7], [True, True, False, False]) == pytest.approx(0.625 - 0.125 + 0.125)
    assert auroc([0.3, 0.4], [True, True]) == 0.5


def _result(qid, score, f1, answerable, spans):
    return QuestionResult(qid, spans[0][3] if spans else "", score, f1, answerable, 0.01, None, spans)


def test_fit_calibration_on_features_is_calibrated_and_ranks():
    rng = random.Random(3)
    results = []
    for i in range(2000):
        score = rng.uniform(-6, 8)
        gap = rng.uniform(0, 6)
        right = rng.random() < 1 / (1 + math.exp(-(0.6 * score + 0.5 * gap - 2)))
        spans = [[0, 0, 5, "alpha", score], [0, 10, 15, "beta", score - gap]]
        results.append(_result(f"q{i}", score, 1.0 if right else 0.0, True, spans))
    cal = fit_calibration(results, "synthetic")
    assert cal.features and cal.weights[cal.features.index("gap")] > 0.2
    probs = confidences(results, cal)
    right = [r.f1 >= 0.5 for r in results]
    mean_gap = abs(sum(probs) / len(probs) - sum(right) / len(right))
    assert mean_gap < 0.02 and auroc(probs, right) > 0.8
    # Written and read back, the file gives the same confidences.
    assert Calibration(**{**cal.__dict__}).probabilities(results[0].spans) == cal.probabilities(results[0].spans)


def test_feature_calibration_roundtrip(tmp_path):
    cal = Calibration(0.0, -1.0, 2.5, "test", ("score", "gap"), (0.3, 0.2))
    cal.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json") == cal
    assert cal.probability(3.0) == pytest.approx(1 / (1 + math.exp(-(-1 + 0.9 + 0.2 * 12))))
    with pytest.raises(ValueError, match="features"):
        Calibration(features=("shoe size",), weights=(1.0,))


def test_na_probs_are_one_minus_confidence_in_the_official_format(tmp_path):
    cal = Calibration(0.5, -1.0, threshold=2.0)
    results = [
        _result("answered", 4.0, 1.0, True, [[0, 0, 3, "yes", 4.0]]),
        _result("abstained", 1.0, 0.0, False, [[0, 0, 2, "no", 1.0]]),
        QuestionResult("nothing", "", float("-inf"), 0.0, False, 0.01),
    ]
    na = no_answer_probabilities(EvalRun(results, cal))
    path = tmp_path / "na.json"
    path.write_text(json.dumps(na))
    loaded = json.loads(path.read_text())
    assert set(loaded) == {"answered", "abstained", "nothing"}
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in loaded.values())
    assert loaded["answered"] == pytest.approx(1 - cal.probability(4.0), abs=1e-6)
    assert loaded["abstained"] == pytest.approx(1 - cal.probability(1.0), abs=1e-6)
    assert loaded["nothing"] == 1.0


def _answer(score):
    from qa.types import Answer

    quote = "Paris is <big>."
    return Answer(text="Paris", score=score, abstained=False, source="a.txt", doc_id="d", start=0, end=5,
                  passage=quote, passage_start=0, quote=quote, quote_start=0, question="Where?")


def test_a_low_confidence_is_put_into_words_on_the_page_and_in_the_terminal():
    from qa.cli import format_answer
    from qa.render import LOW_CONFIDENCE, render_answer

    low, high = _answer(LOW_CONFIDENCE - 0.01), _answer(LOW_CONFIDENCE)
    assert "Not sure" in render_answer(low) and "Not sure" not in render_answer(high)
    assert format_answer(low).splitlines()[0] == "Not sure: Paris"
    assert format_answer(high).splitlines()[0] == "Paris"
    assert "&#60;big&#62;" in render_answer(low)  # still escaped


# --- survivors of the whole-module mutation run of qa/calibration.py ----------------------------


def test_agreement_counts_the_ten_best_candidates_in_whatever_order_the_reader_gives_them():
    # Twelve candidates; the two that overlap the best one are the two lowest-scored and come first.
    cands = [(0, 10, 20, "low a", -5.0), (0, 12, 18, "low b", -6.0), (0, 10, 20, "best", 9.0)]
    cands += [(1, 10 * i, 10 * i + 5, f"other {i}", float(i)) for i in range(9)]
    f = candidate_features(cands)
    assert f[2]["agree"] == 0.0  # neither is among the ten best
    cands[1] = (0, 12, 18, "low b", 8.5)  # now one of them is
    assert candidate_features(cands)[2]["agree"] == pytest.approx(0.1)


def test_spans_that_only_touch_are_different_answers():
    touching = [(0, 0, 5, "first", 3.0), (0, 5, 9, "second", 1.0)]
    f = candidate_features(touching)
    assert f[0]["gap"] == pytest.approx(2.0) and f[1]["gap"] == pytest.approx(-2.0)
    assert f[0]["agree"] == 0.0 and f[1]["agree"] == 0.0


def test_a_lone_candidate_has_no_runner_up_and_a_one_word_name_is_all_capitals():
    [f] = candidate_features([(0, 0, 5, "Paris", 2.0)])
    assert f["runner_up"] == -12.0
    assert f["caps"] == 1.0 and f["log_words"] == pytest.approx(math.log(2))


def test_a_score_alone_is_judged_as_a_lone_lower_case_one_word_answer():
    cal = Calibration(0.0, 0.5, 0.0, "test", ("score", "caps", "log_words"), (0.25, 3.0, 1.0))
    assert cal.probability(2.0) == pytest.approx(1 / (1 + math.exp(-(0.5 + 0.25 * 2.0 + 3.0 * 0.0 + math.log(2)))))


def test_a_calibration_is_saved_as_readable_json_and_an_older_file_without_features_still_loads(tmp_path):
    cal = Calibration(0.0, -1.0, 2.5, "test", ("score", "gap"), (0.3, 0.2))
    cal.save(tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text()
    assert json.loads(text) == {"slope": 0.0, "intercept": -1.0, "threshold": 2.5, "fitted_on": "test",
                                "features": ["score", "gap"], "weights": [0.3, 0.2]}
    assert text == json.dumps(json.loads(text), indent=2) + "\n"  # one field a line, for reading and diffs
    (tmp_path / "old.json").write_text(json.dumps({"slope": 1.5, "intercept": -0.5, "threshold": 2.0, "fitted_on": "v1"}))
    assert Calibration.load(tmp_path / "old.json") == Calibration(1.5, -0.5, 2.0, "v1")
