"""The shipped reader, on a paragraph written for this test (not from any training file)."""

import pytest

from qa.calibration import Calibration

pytestmark = pytest.mark.slow

PARAGRAPH = (
    "The Larkspur Bridge, a steel arch over the Venn River, was opened in 1931 by mayor Ada Quill. "
    "It took four years to build and cost 2.4 million dollars. The bridge is painted green because "
    "the city council wanted it to match the hills behind it. In 1987 a flood closed it for six weeks. "
    "Today about 40,000 cars cross it every day, and a bicycle lane was added in 2015."
)

QUESTIONS = [
    ("When was the Larkspur Bridge opened?", "1931"),
    ("Who opened the bridge?", "Ada Quill"),
    ("What river does the bridge cross?", "Venn River"),
    ("How much did the bridge cost?", "2.4 million dollars"),
    ("Why is the bridge painted green?", "match the hills"),
    ("How many cars cross the bridge every day?", "40,000"),
    ("When was the bicycle lane added?", "2015"),
    ("How long was the bridge closed after the flood?", "six weeks"),
]


@pytest.mark.parametrize("question, expected", QUESTIONS)
def test_answers_questions_on_a_new_paragraph(shipped_reader, question, expected):
    best = shipped_reader.read(question, [PARAGRAPH])[0]
    assert expected in best.text
    assert PARAGRAPH[best.start : best.end] == best.text


def test_right_passage_wins_among_several(shipped_reader):
    passages = [
        "Otters hold hands while they sleep so that they do not drift apart.",
        PARAGRAPH,
        "The recipe needs two eggs, a cup of flour and a pinch of salt.",
    ]
    best = shipped_reader.read("Who opened the Larkspur Bridge?", passages)[0]
    assert best.passage == 1 and "Ada Quill" in best.text


def test_unrelated_question_scores_below_the_shipped_threshold(shipped_reader):
    cal = Calibration.load(shipped_reader.model_path / "calibration.json")
    spans = shipped_reader.read("What is the boiling point of mercury?", [PARAGRAPH])
    assert not spans or spans[0].score < cal.threshold
    spans = shipped_reader.read("Who opened the bridge?", [PARAGRAPH])
    assert spans[0].score > cal.threshold
    assert cal.probabilities([(s.passage, s.start, s.end, s.text, s.score) for s in spans])[0] > 0.5
