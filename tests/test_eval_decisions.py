"""`qa eval`'s predictions abstain below the threshold, as the chatbot does (fast: scripted reader)."""

from __future__ import annotations

import pytest

from qa.calibration import Calibration
from qa.eval.evaluate import run_reader, summarize
from qa.eval.squad import SquadExample

BRIDGE = "The Larkspur Bridge over the Venn River was opened in 1931 by mayor Ada Quill. It is painted green."
EXAMPLES = [
    SquadExample("who", "Who opened the Larkspur Bridge?", BRIDGE, (("Ada Quill", BRIDGE.index("Ada Quill")),)),
    SquadExample("when", "When was the bridge opened?", BRIDGE, (("1931", BRIDGE.index("1931")),)),
    SquadExample("melt", "What is the melting point of tungsten?", BRIDGE, ()),
]


class QuestionScriptedReader:
    """Reads one fixed span per question: question -> (answer text, score)."""

    def __init__(self, script):
        self.script = script

    def read_many(self, items):
        from qa.types import Span

        out = []
        for question, (passage,) in items:
            text, score = self.script[question]
            start = passage.index(text)
            out.append([Span(0, start, start + len(text), text, score)])
        return out


READER = QuestionScriptedReader({
    "Who opened the Larkspur Bridge?": ("Ada Quill", 2.0),
    "When was the bridge opened?": ("1931", 0.4),
    "What is the melting point of tungsten?": ("green", -1.0),
})


def test_predictions_abstain_below_the_threshold():
    run = run_reader(EXAMPLES, READER, Calibration(1.0, 0.0, 0.5))
    assert run.predictions() == {"who": "Ada Quill", "when": "", "melt": ""}
    assert run.predictions(threshold=0.4) == {"who": "Ada Quill", "when": "1931", "melt": ""}
    assert run.predictions(threshold=-3.0) == {"who": "Ada Quill", "when": "1931", "melt": "green"}


def test_metrics_count_abstentions_at_the_shipped_threshold():
    summary = summarize(run_reader(EXAMPLES, READER, Calibration(1.0, 0.0, 0.5)), EXAMPLES)
    m = summary["metrics"]
    assert m["threshold"] == 0.5
    assert m["NoAns_exact"] == 100.0 and m["NoAns_abstained"] == 100.0
    assert m["HasAns_exact"] == 50.0 and m["exact"] == pytest.approx(200 / 3)
    # A lower threshold answers the unanswerable question: the metrics must show it.
    low = summarize(run_reader(EXAMPLES, READER, Calibration(1.0, 0.0, -2.0)), EXAMPLES)["metrics"]
    assert low["NoAns_exact"] == 0.0 and low["NoAns_abstained"] == 0.0 and low["HasAns_exact"] == 100.0
    assert summary["best_threshold"]["threshold"] == 0.4  # answers both answerable ones, abstains on tungsten
