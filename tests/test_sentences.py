"""Sentence splitting, as quotes and passages depend on it: where a sentence ends and where not.

Every span must be an exact slice of the text (answers point into documents by offsets)."""

from __future__ import annotations

import pytest

from qa.text import cap_quote, quote_bounds, sentence_around, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize("text, expected", [
    ("Lee met Xi. They spoke.", ["Lee met Xi.", "They spoke."]),
    ("Is it? Yes! No.", ["Is it?", "Yes!", "No."]),
    ("Mr. Lee met Dr. Kim.", ["Mr. Lee met Dr. Kim."]),  # titles
    ("The U.S. asked China. It refused.", ["The U.S. asked China.", "It refused."]),
    ("J. Smith and Kim Jong Un met.", ["J. Smith and Kim Jong Un met."]),  # an initial
    ("Prices rose 3.5 percent. Trade fell.", ["Prices rose 3.5 percent.", "Trade fell."]),
    ("It ended. 2019 was worse.", ["It ended.", "2019 was worse."]),  # a digit starts one
    ("it ended. then it went on.", ["it ended. then it went on."]),  # no capital: no end
    ('He said "Yes." Then he left.', ['He said "Yes."', "Then he left."]),  # closing quote stays
    ("He said \u201cYes.\u201d Then he left.", ["He said \u201cYes.\u201d", "Then he left."]),
    ("It was over (finally.) Then came talks.", ["It was over (finally.)", "Then came talks."]),
    ("It was over. (Talks came later.)", ["It was over.", "(Talks came later.)"]),  # opening bracket
    ('It was over. "Talks," he said.', ["It was over.", '"Talks," he said.']),  # opening quote
    ("first line\nsecond line", ["first line", "second line"]),  # a line break always ends one
    ("Lee met Xi.\tThey spoke.", ["Lee met Xi.", "They spoke."]),  # a tab is white space
    ("They met on Jan. 5 in Seoul.", ["They met on Jan. 5 in Seoul."]),
    ("  Lee met Xi.   They spoke.  ", ["Lee met Xi.", "They spoke."]),  # trimmed
    ("", []),
    ("   \n  ", []),
])
def test_where_sentences_end(text, expected):
    assert sentences(text) == expected


def test_abbreviations_are_known_in_any_case_and_after_an_opening_quote():
    assert sentences('He met "Gen. Park" there. Then left.') == ['He met "Gen. Park" there.', "Then left."]
    assert sentences("They met ST. Kim there.") == ["They met ST. Kim there."]
    # A word merely ending in an abbreviation's letters ends a sentence: "Frankinc." is no "inc.".
    assert sentences("He met Frankinc. Then left.") == ["He met Frankinc.", "Then left."]


def test_a_long_line_without_spaces_is_one_sentence():
    text = "x" * 20000 + ". Then."
    assert sentence_spans(text) == [(0, 20001), (20002, 20007)]


def test_sentence_around_finds_the_sentence_of_a_span_and_a_span_across_two():
    text = "Lee met Xi. They spoke of trade. Kim was silent."
    i = text.index("trade")
    assert text[slice(*sentence_around(text, i, i + 5))] == "They spoke of trade."
    j = text.index("Kim")
    assert text[slice(*sentence_around(text, i, j + 3))] == "They spoke of trade. Kim was silent."
    assert sentence_around("", 0, 0) == (0, 0)
    end = len(text)
    assert text[slice(*sentence_around(text, end - 7, end))] == "Kim was silent."


def test_a_quote_leans_on_the_sentence_before():
    text = "North Korea tested a missile.\nIt flew 600 km. Seoul protested."
    i = text.index("600")
    assert text[slice(*quote_bounds(text, i, i + 6))] == "North Korea tested a missile.\nIt flew 600 km."
    # ... but not across a paragraph.
    text2 = "North Korea tested a missile.\n\nIt flew 600 km."
    i = text2.index("600")
    assert text2[slice(*quote_bounds(text2, i, i + 6))] == "It flew 600 km."
    # A sentence starting with a lower-case "it" (inside a list, say) stands alone.
    text3 = "Tests went on. it flew 600 km."
    i = text3.index("600")
    assert text3[slice(*quote_bounds(text3, i, i + 6))] == "Tests went on. it flew 600 km."


def test_a_long_sentence_is_cut_around_its_answer_at_white_space():
    words = " ".join(f"w{i}" for i in range(400))
    start = words.index("w200")
    lo, hi = cap_quote(words, 0, len(words), start, start + 4, limit=100)
    assert lo <= start and hi >= start + 4 and hi - lo <= 100
    assert words[lo - 1] == " " and words[hi] == " "  # whole words
    assert cap_quote(words, 10, 50, 20, 24, limit=100) == (10, 50)  # short enough: unchanged
    # The answer itself is never cut, however long.
    assert cap_quote(words, 0, len(words), 0, len(words), limit=100) == (0, len(words))
