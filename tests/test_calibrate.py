"""Threshold curve, calibration fit and ECE."""

import math

import pytest

from qa.eval.calibrate import Calibration, best_threshold, expected_calibration_error, fit_platt, fit_score_offset, threshold_curve


def test_threshold_curve_by_hand():
    # Two answerable (F1 1.0 at score 3, F1 0.5 at score 1) and two unanswerable (scores 2, -1).
    scores = [3.0, 1.0, 2.0, -1.0]
    f1 = [1.0, 0.5, 0.0, 0.0]
    answerable = [True, True, False, False]
    curve = {p["threshold"]: p for p in threshold_curve(scores, f1, answerable)}
    assert curve[math.inf]["f1"] == pytest.approx(50.0)  # abstain on all: the two unanswerable right
    assert curve[3.0]["f1"] == pytest.approx(75.0)  # answer only q1: 1 + 1 + 1 of 4
    assert curve[2.0]["f1"] == pytest.approx(50.0)  # q3 answered wrongly
    assert curve[1.0]["f1"] == pytest.approx(62.5)  # + 0.5
    assert curve[-1.0]["f1"] == pytest.approx(37.5)
    assert curve[3.0]["noans_abstained"] == 100.0 and curve[-1.0]["noans_abstained"] == 0.0
    best = best_threshold(list(curve.values()))
    assert best["threshold"] == 3.0


def test_platt_fit_orders_probabilities_and_fits_rates():
    scores = [float(x) for x in range(-10, 11)]
    correct = [s > 0 for s in scores]
    a, b = fit_platt(scores, correct)
    cal = Calibration(a, b)
    # Separated classes: Platt's smoothed targets (11/12 and 1/13 here) keep the slope finite and
    # small; a plain sigmoid (slope 1, intercept 0) would say 99.97% at 8 and 0.03% at -8.
    assert a == pytest.approx(0.414, abs=0.01) and b == pytest.approx(-0.207, abs=0.01)
    assert -b / a == pytest.approx(0.5, abs=0.01)  # 50% half way between the classes (0 and 1)
    assert 0.93 < cal.probability(8) < 0.97 and 0.02 < cal.probability(-8) < 0.04
    assert cal.probability(-100) < cal.probability(0) < cal.probability(100)


def test_platt_degenerate_inputs_give_identity():
    assert fit_platt([], []) == (1.0, 0.0)
    assert fit_platt([1.0, 2.0], [True, True]) == (1.0, 0.0)


def test_ece_by_hand():
    probs = [0.9, 0.9, 0.1, 0.1]
    right = [True, False, False, False]
    ece, bins = expected_calibration_error(probs, right)
    # bin 0.9: conf .9 acc .5 -> .4 * 2/4; bin 0.1: conf .1 acc 0 -> .1 * 2/4  => 0.25
    assert ece == pytest.approx(0.25)
    assert [b["count"] for b in bins] == [2, 2]


def test_calibration_roundtrip(tmp_path):
    cal = Calibration(1.5, -0.5, 2.0, "test")
    cal.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json") == cal
    assert Calibration.load(tmp_path / "missing.json") == Calibration()


def test_platt_fit_stays_finite_on_wide_scores():
    # Scores far from 0 with mostly separated classes: plain Newton from (1, 0) diverges here.
    scores = [10.0 + 0.1 * i for i in range(50)] + [-5.0 + 0.1 * i for i in range(50)] + [12.0, -3.0]
    correct = [True] * 50 + [False] * 50 + [False, True]
    a, b = fit_platt(scores, correct)
    assert 0 < a < 50 and abs(b) < 500
    cal = Calibration(a, b)
    assert cal.probability(15) > 0.9 and cal.probability(-4) < 0.1


def test_platt_recovers_a_known_slope():
    import random

    rng = random.Random(0)
    scores = [rng.uniform(-6, 6) for _ in range(4000)]
    correct = [rng.random() < 1 / (1 + math.exp(-(0.8 * s - 1.0))) for s in scores]
    a, b = fit_platt(scores, correct)
    assert a == pytest.approx(0.8, abs=0.1) and b == pytest.approx(-1.0, abs=0.15)


def test_a_formats_shift_makes_it_abstain_as_often_as_fp32():
    reference = [-3.0, -1.0, 0.5, 2.0, 4.0, 6.0, -2.0, 1.0]  # 3 of 8 below the threshold 0
    shifted = [r + 1.7 for r in reference]
    offset = fit_score_offset(reference, shifted, threshold=0.0)
    assert sum(1 for s in shifted if s - offset < 0.0) == 3
    assert 0.7 < offset < 2.2  # the cut lies between the 3rd (0.7) and 4th (2.2) shifted scores
    # Not the mean difference: scores spread otherwise still abstain as often.
    spread = [2 * r + 5 for r in reference]
    assert sum(1 for s in spread if s - fit_score_offset(reference, spread, 0.0) < 0.0) == 3
    # A format that already abstains as often is not shifted, however its scores differ.
    assert fit_score_offset(reference, [r + 0.01 for r in reference], 0.0) == 0.0
    # Another threshold, the same share.
    assert sum(1 for s in shifted if s - fit_score_offset(reference, shifted, 1.0) < 1.0) == sum(1 for r in reference if r < 1.0)


def test_a_formats_shift_edge_cases():
    assert fit_score_offset([], [1.0], 0.0) == 0.0 and fit_score_offset([1.0], [], 0.0) == 0.0
    assert fit_score_offset([1.0], [float("-inf")], 0.0) == 0.0  # no span read at all: nothing to match
    # A question without any span counts as abstained, and the shift stays finite.
    offset = fit_score_offset([-1.0, 2.0, 3.0], [float("-inf"), 5.0, 6.0], 0.0)
    assert math.isfinite(offset) and [s - offset < 0.0 for s in (5.0, 6.0)] == [False, False]
    # fp32 abstained on none (all) of them: every (no) score here clears the threshold after the shift.
    assert all(s - fit_score_offset([1.0, 2.0], [-4.0, -3.0], 0.0) >= 0.0 for s in (-4.0, -3.0))
    assert all(s - fit_score_offset([-1.0, -2.0], [4.0, 3.0], 0.0) < 0.0 for s in (4.0, 3.0))
