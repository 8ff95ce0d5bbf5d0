"""The decisions made after reading, pinned with a scripted reader (fixed spans and scores).

Threshold, alternatives, "What else ...?" exclusion, confidence and quotes: each test states
the exact outcome, so that a change to any of these decisions makes one of them fail.
"""

from __future__ import annotations

import math

import pytest

from qa.answer import assemble_answer
from qa.calibration import Calibration
from qa.chatbot import Chatbot
from qa.config import Settings
from qa.types import Chunk, Hit, Span, content_id
from tests.conftest import HashEmbedder, loaded_conversation

BRIDGE = "The Larkspur Bridge over the Venn River was opened in 1931. Mayor Ada Quill cut the ribbon. It is painted green."
FERRY = "The old ferry across the Venn River was run by Bo Brandt. The ferry stopped in 1929."
MILL = "The mill on the river was built by Cy Dunmore. It still grinds flour every Sunday."
DOCS = {"bridge.txt": BRIDGE, "ferry.txt": FERRY, "mill.txt": MILL}


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# --- the chatbot, end to end with a scripted reader ------------------------------------------


@pytest.fixture
def make_bot(tmp_path, scripted_reader):
    """A chatbot over three one-passage documents that reads with a scripted reader."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(text)

    def make(script, slope=1.0, intercept=0.0, calibrated=1.0, **settings) -> Chatbot:
        s = Settings(index_dir=str(tmp_path / "index"), seed_dir=str(seeds), chunk_tokens=60, chunk_overlap=10, **settings)
        bot = Chatbot(s, embedder=HashEmbedder(), reader=scripted_reader(script, slope, intercept, calibrated),
                      conversation=loaded_conversation())  # spaCy loaded once for all tests (speed only)
        bot.open()
        assert bot.store.count() == 3  # every document is one passage, and all three are read
        return bot

    return make


def texts(answer) -> list[str]:
    return [answer.text, *(a.text for a in answer.alternatives)]


def test_answer_above_the_calibrated_threshold_with_its_probability(make_bot):
    a = make_bot({"Ada Quill": 2.0}).ask("Who cut the ribbon?")
    assert not a.abstained and texts(a) == ["Ada Quill"]
    assert a.score == pytest.approx(sigmoid(2.0), abs=1e-12)
    assert (a.source, a.start, a.end) == ("bridge.txt", BRIDGE.index("Ada Quill"), BRIDGE.index("Ada Quill") + 9)


def test_best_score_below_the_calibrated_threshold_abstains(make_bot):
    # -1.5 is under the calibrated 1.0, but above 1.0 - 3: a threshold lowered by 3 answers.
    a = make_bot({"Ada Quill": -1.5}, calibrated=1.0).ask("Who cut the ribbon?")
    assert a.abstained and a.text == "" and a.alternatives == ()
    assert a.score == pytest.approx(sigmoid(-1.5), abs=1e-12)  # the best candidate's probability


def test_a_score_equal_to_the_threshold_is_answered(make_bot):
    assert make_bot({"Ada Quill": 1.0}, calibrated=1.0).ask("Who cut the ribbon?").text == "Ada Quill"


def test_the_threshold_setting_overrides_the_calibrated_one(make_bot):
    script = {"Ada Quill": 2.0}
    assert make_bot(script, calibrated=2.5).ask("Who cut the ribbon?").abstained
    assert make_bot(script, calibrated=2.5, threshold=1.0).ask("Who cut the ribbon?").text == "Ada Quill"
    assert make_bot(script, calibrated=0.0, threshold=2.1).ask("Who cut the ribbon?").abstained


def test_alternatives_below_the_threshold_are_never_listed(make_bot):
    # Cy Dunmore's probability is 0.71 of the best one's (within the 0.6 share), but its score
    # 0.5 is below the threshold 1.0.
    a = make_bot({"Ada Quill": 2.0, "Bo Brandt": 1.5, "Cy Dunmore": 0.5}, calibrated=1.0).ask("Who was named?")
    assert texts(a) == ["Ada Quill", "Bo Brandt"]
    assert a.alternatives[0].score == pytest.approx(sigmoid(1.5), abs=1e-12)
    assert a.alternatives[0].source == "ferry.txt"
    b = make_bot({"Ada Quill": 2.0, "Bo Brandt": 1.5, "Cy Dunmore": 0.5}, calibrated=0.0, threshold=1.6).ask("Who was named?")
    assert texts(b) == ["Ada Quill"]


def test_alternatives_within_share_is_honoured(make_bot):
    # p(3) = sigmoid(2) = 0.881, p(2) = sigmoid(0) = 0.5: a share of 0.568.
    script = {"Ada Quill": 3.0, "Bo Brandt": 2.0}
    assert texts(make_bot(script, slope=2.0, intercept=-4.0).ask("Who was named?")) == ["Ada Quill"]
    wide = make_bot(script, slope=2.0, intercept=-4.0, alternatives_within=0.55).ask("Who was named?")
    assert texts(wide) == ["Ada Quill", "Bo Brandt"]
    assert wide.score == pytest.approx(sigmoid(2.0), abs=1e-12) and wide.alternatives[0].score == 0.5


@pytest.mark.parametrize("most, expected", [(0, ["Ada Quill"]), (1, ["Ada Quill", "Bo Brandt"]), (2, ["Ada Quill", "Bo Brandt", "Cy Dunmore"])])
def test_max_alternatives_is_honoured(make_bot, most, expected):
    script = {"Ada Quill": 3.0, "Bo Brandt": 2.9, "Cy Dunmore": 2.8}
    assert texts(make_bot(script, max_alternatives=most).ask("Who was named?")) == expected


def test_what_else_skips_the_answer_already_given(make_bot):
    bot = make_bot({"Ada Quill": 3.0, "Bo Brandt": 2.0}, max_alternatives=0)
    first = bot.ask("Who cut the ribbon?")
    assert texts(first) == ["Ada Quill"]
    again = bot.ask("What else did he say?", history=[("Who cut the ribbon?", first)])
    assert not again.abstained and texts(again) == ["Bo Brandt"]
    # Without "else" the same follow-up gets the best answer again.
    assert bot.ask("Who cut the ribbon?", history=[("Who cut the ribbon?", first)]).text == "Ada Quill"


def test_what_else_skips_the_alternatives_too(make_bot):
    bot = make_bot({"Ada Quill": 3.0, "Bo Brandt": 2.9, "Cy Dunmore": 2.8})
    first = bot.ask("Who was named?")
    assert texts(first) == ["Ada Quill", "Bo Brandt", "Cy Dunmore"]
    assert bot.ask("Who else?", history=[("Who?", first)]).abstained


def test_the_quote_is_the_sentence_holding_the_answer(make_bot):
    a = make_bot({"Ada Quill": 2.0}).ask("Who cut the ribbon?")
    assert a.quote == "Mayor Ada Quill cut the ribbon."
    assert a.quote_start == BRIDGE.index("Mayor")
    assert (a.passage, a.passage_start) == (BRIDGE, 0)


# --- confidence -------------------------------------------------------------------------------


def test_probability_uses_the_fitted_slope_and_intercept():
    cal = Calibration(slope=0.5, intercept=-1.0, threshold=0.3)
    assert cal.probability(2.0) == 0.5
    assert cal.probability(4.0) == pytest.approx(0.7310585786300049, abs=1e-12)
    assert cal.probability(0.0) == pytest.approx(0.2689414213699951, abs=1e-12)
    assert Calibration(slope=2.0, intercept=0.0).probability(1.0) == pytest.approx(0.8807970779778823, abs=1e-12)


def test_probability_far_below_is_zero_without_overflow():
    cal = Calibration(1.0, 0.0)
    assert cal.probability(-60.0) == pytest.approx(math.exp(-60.0), rel=1e-9)
    assert cal.probability(-1e6) == 0.0
    assert cal.probability(-59.0) == pytest.approx(math.exp(-59.0), rel=1e-9)
    assert cal.probability(1e6) == 1.0


# --- answer assembly, with passages placed by hand --------------------------------------------


def chunks_of(text: str, source: str, cuts: list[tuple[int, int]]) -> list[Chunk]:
    doc_id = content_id(text)
    return [Chunk(f"{doc_id}-{i}", doc_id, source, text[s:e], s, e) for i, (s, e) in enumerate(cuts)]


def span_in(chunk: Chunk, passage: int, text: str, score: float, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = chunk.text.index(text, start + 1)
    return Span(passage, start, start + len(text), text, score)


CAL = Calibration(1.0, 0.0, 0.0)


def test_the_same_span_read_in_two_overlapping_passages_is_one_answer():
    first, second = chunks_of(BRIDGE, "bridge.txt", [(0, 95), (60, len(BRIDGE))])
    hits = [Hit(first, 0.9), Hit(second, 0.8)]
    spans = [span_in(first, 0, "Ada Quill", 1.0), span_in(second, 1, "Ada Quill", 2.5)]
    a = assemble_answer("Who?", hits, spans, CAL)
    assert texts(a) == ["Ada Quill"]
    assert a.score == pytest.approx(sigmoid(2.5), abs=1e-12)
    assert a.start == BRIDGE.index("Ada Quill") and a.passage_start == 60 and a.passage == BRIDGE[60:]
    assert a.quote == "Mayor Ada Quill cut the ribbon." and a.quote_start == BRIDGE.index("Mayor")


def test_no_spans_abstains_with_zero_confidence():
    (chunk,) = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    a = assemble_answer("Who?", [Hit(chunk, 1.0)], [], CAL)
    assert a.abstained and a.score == 0.0 and a.text == "" and a.question == "Who?"


def test_overlapping_alternatives_in_another_passage_are_not_listed():
    first, second = chunks_of(BRIDGE, "bridge.txt", [(0, 95), (60, len(BRIDGE))])
    hits = [Hit(first, 0.9), Hit(second, 0.8)]
    spans = [span_in(first, 0, "Mayor Ada Quill", 3.0), span_in(second, 1, "Ada Quill cut the ribbon", 2.9)]
    assert texts(assemble_answer("Who?", hits, spans, CAL)) == ["Mayor Ada Quill"]


def test_alternatives_from_the_best_passage_are_not_listed():
    (chunk,) = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    spans = [span_in(chunk, 0, "Ada Quill", 3.0), span_in(chunk, 0, "1931", 2.9)]
    assert texts(assemble_answer("Who?", [Hit(chunk, 1.0)], spans, CAL)) == ["Ada Quill"]


def test_alternatives_that_say_the_same_thing_are_not_listed():
    parts = [chunks_of(t, n, [(0, len(t))])[0] for n, t in [("a.txt", "Mayor Ada Quill."), ("b.txt", "It was the Ada Quill."),
                                                            ("c.txt", "Quill did."), ("d.txt", "Ada did."), ("e.txt", "The one.")]]
    hits = [Hit(c, 1.0) for c in parts]
    spans = [span_in(parts[0], 0, "Ada Quill", 3.0), span_in(parts[1], 1, "the Ada Quill", 2.9),
             span_in(parts[2], 2, "Quill", 2.8), span_in(parts[4], 4, "The", 2.75), span_in(parts[3], 3, "Ada", 2.7)]
    a = assemble_answer("Who?", hits, spans, CAL, max_alternatives=5)
    # "the Ada Quill" and "Quill" are the same answer; "The" says nothing; "Ada" is too short to tell.
    assert texts(a) == ["Ada Quill", "Ada"]


def test_exclusion_removes_only_overlapping_spans_of_the_same_document():
    bridge, = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    ferry, = chunks_of(FERRY, "ferry.txt", [(0, len(FERRY))])
    hits = [Hit(bridge, 1.0), Hit(ferry, 0.9)]
    spans = [span_in(bridge, 0, "Ada Quill", 3.0), span_in(ferry, 1, "Bo Brandt", 2.0)]
    s = BRIDGE.index("Ada Quill")
    cases = {
        (bridge.doc_id, s, s + 9): "Bo Brandt",
        (bridge.doc_id, s + 8, s + 20): "Bo Brandt",  # one character of overlap is enough
        (bridge.doc_id, s - 6, s): "Ada Quill",  # ends where the answer starts
        (bridge.doc_id, s + 9, s + 15): "Ada Quill",  # starts where the answer ends
        (ferry.doc_id, s, s + 9): "Ada Quill",  # the same offsets in another document
    }
    for excluded, expected in cases.items():
        a = assemble_answer("Who?", hits, spans, CAL, max_alternatives=0, exclude=[excluded])
        assert a.text == expected, excluded


def test_explicit_threshold_and_the_calibrated_one():
    bridge, = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    spans = [span_in(bridge, 0, "Ada Quill", 0.5)]
    assert assemble_answer("Who?", [Hit(bridge, 1.0)], spans, Calibration(1.0, 0.0, 0.6)).abstained
    assert assemble_answer("Who?", [Hit(bridge, 1.0)], spans, Calibration(1.0, 0.0, 0.6), threshold=0.5).text == "Ada Quill"
    assert assemble_answer("Who?", [Hit(bridge, 1.0)], spans, Calibration(1.0, 0.0, 0.0), threshold=0.51).abstained


def test_alternatives_next_to_the_answer_or_at_the_same_offsets_elsewhere_are_listed():
    first, second = chunks_of(BRIDGE, "bridge.txt", [(0, 95), (60, len(BRIDGE))])
    ferry, = chunks_of(FERRY, "ferry.txt", [(0, len(FERRY))])
    hits = [Hit(first, 0.9), Hit(second, 0.8), Hit(ferry, 0.7)]
    s = BRIDGE.index("Ada Quill")
    at_same_offsets = FERRY[s : s + 9]
    spans = [
        span_in(first, 0, "Ada Quill", 3.0),
        Span(1, s + 9 - 60, s + 24 - 60, " cut the ribbon", 2.9),  # starts where the answer ends
        Span(1, 0, 6, "Mayor ", 2.8),  # ends where the answer starts
        Span(2, s, s + 9, at_same_offsets, 2.7),  # another document, the same offsets
    ]
    a = assemble_answer("Who?", hits, spans, CAL, max_alternatives=3)
    assert texts(a) == ["Ada Quill", "cut the ribbon", "Mayor", at_same_offsets]  # shown without edge spaces
    assert a.question == "Who?" and all(alt.question == "Who?" for alt in a.alternatives)
    assert a.abstained is False and all(alt.abstained is False for alt in a.alternatives)


def test_at_most_three_alternatives_unless_told():
    docs = [chunks_of(t, f"{n}.txt", [(0, len(t))])[0] for n, t in enumerate(["Ann.", "Bob.", "Cyd.", "Dan.", "Eve."])]
    spans = [span_in(c, i, c.text[:3], 3.0 - i / 10) for i, c in enumerate(docs)]
    assert texts(assemble_answer("Who?", [Hit(c, 1.0) for c in docs], spans, CAL)) == ["Ann", "Bob", "Cyd", "Dan"]


def test_alternative_exactly_at_the_threshold_or_the_share_is_listed():
    bridge, = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    ferry, = chunks_of(FERRY, "ferry.txt", [(0, len(FERRY))])
    hits = [Hit(bridge, 1.0), Hit(ferry, 0.9)]
    spans = [span_in(bridge, 0, "Ada Quill", 3.0), span_in(ferry, 1, "Bo Brandt", 1.0)]
    assert texts(assemble_answer("Who?", hits, spans, Calibration(1.0, 0.0, 1.0), alternatives_within=0.1)) == ["Ada Quill", "Bo Brandt"]
    # p(40) is exactly 1.0 and p(0) exactly 0.5: a share of exactly 0.5.
    spans = [span_in(bridge, 0, "Ada Quill", 40.0), span_in(ferry, 1, "Bo Brandt", 0.0)]
    a = assemble_answer("Who?", hits, spans, CAL, alternatives_within=0.5)
    assert (a.score, a.alternatives[0].score) == (1.0, 0.5) and texts(a) == ["Ada Quill", "Bo Brandt"]


def test_a_skipped_alternative_does_not_end_the_list():
    bridge, = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    ferry, = chunks_of(FERRY, "ferry.txt", [(0, len(FERRY))])
    spans = [span_in(bridge, 0, "Ada Quill", 3.0), span_in(bridge, 0, "1931", 2.9), span_in(ferry, 1, "Bo Brandt", 2.8)]
    assert texts(assemble_answer("Who?", [Hit(bridge, 1.0), Hit(ferry, 0.9)], spans, CAL)) == ["Ada Quill", "Bo Brandt"]


@pytest.mark.parametrize("best, other, listed", [
    ("Venn River", "Venn", False),  # a 4-letter answer inside the best one says the same
    ("Venn", "Venn River", False),  # and so does one that contains a 4-letter best one
    ("Ada", "Ada Quill", True),  # 3 letters are too few to tell
    ("Ada Quill", "Ada", True),
])
def test_short_answers_inside_others(best, other, listed):
    one, = chunks_of(f"Here: {best}.", "one.txt", [(0, len(best) + 7)])
    two, = chunks_of(f"There: {other}.", "two.txt", [(0, len(other) + 8)])
    spans = [span_in(one, 0, best, 3.0), span_in(two, 1, other, 2.9)]
    assert texts(assemble_answer("Q?", [Hit(one, 1.0), Hit(two, 0.9)], spans, CAL)) == ([best, other] if listed else [best])


def test_an_abstention_says_why():
    bridge, = chunks_of(BRIDGE, "bridge.txt", [(0, len(BRIDGE))])
    a = assemble_answer("Who?", [Hit(bridge, 1.0)], [span_in(bridge, 0, "Ada Quill", -1.0)], CAL)
    assert a.abstained is True and a.message and a.question == "Who?"


def test_a_follow_up_is_understood_with_the_entity_its_pronouns_agree_with(tmp_path, scripted_reader):
    # What the chat page does: ask with the earlier turns, render with what the user typed.
    from qa.render import render_answer

    seeds = tmp_path / "summit"
    seeds.mkdir()
    (seeds / "summit.txt").write_text("Premier Li Qiang met Lee in Beijing on Tuesday. They spoke about trade and patience.")
    s = Settings(index_dir=str(tmp_path / "summit-index"), seed_dir=str(seeds), chunk_tokens=60, chunk_overlap=10)
    bot = Chatbot(s, embedder=HashEmbedder(), reader=scripted_reader({"Beijing": 2.0, "trade": 1.5}),
                  conversation=loaded_conversation())  # spaCy loaded once for all tests (speed only)
    bot.open()
    first = bot.ask("Where did Li Qiang meet Lee?")
    assert first.text == "Beijing"
    # "he" is the person of the question, "there" the place of the answer: not the other way round.
    follow = bot.ask("What did he say there?", history=[("Where did Li Qiang meet Lee?", first)])
    assert follow.question == "What did Li Qiang say in Beijing?"
    shown = render_answer(follow, "What did he say there?")
    assert shown.startswith('<p class="qa-understood"><em>Understood as: What did Li Qiang say in Beijing?</em></p>')
