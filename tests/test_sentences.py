"""Sentence splitting, as quotes and passages depend on it: where a sentence ends and where not.

Every span must be an exact slice of the text (answers point into documents by offsets)."""

from __future__ import annotations

import pytest

from qa.text import cap_quote, quote_bounds, reflow, sentence_around, sentence_spans


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


# What the mutation run of qa/text.py showed untested (python scripts/mutation_report.py --run text).

def test_a_span_at_a_sentences_edges_or_in_trailing_space_is_placed_in_the_right_sentence():
    text = "Lee met Xi. Kim came.  "
    assert sentence_around(text, 8, 11) == (0, 11)  # ends exactly where "Lee met Xi." ends
    assert sentence_around(text, 11, 15) == (11, 21)  # starts on the space after it
    assert sentence_around(text, 22, 23) == (12, 23)  # in the trailing spaces: the last sentence


@pytest.mark.parametrize("text, word, quote", [
    # curly quotes: a quotation over two sentences is kept whole from either of them
    ("\u201cWe talked. We agreed,\u201d Lee said. Kim came.", "talked", "\u201cWe talked. We agreed,\u201d Lee said."),
    ("\u201cWe talked. We agreed,\u201d Lee said. Kim came.", "agreed", "\u201cWe talked. We agreed,\u201d Lee said."),
    # straight quotes the same
    ('"We talked. We agreed," Lee said. Kim came.', "talked", '"We talked. We agreed," Lee said.'),
    ('"We talked. We agreed," Lee said. Kim came.', "agreed", '"We talked. We agreed," Lee said.'),
    # a quotation closed in its own sentence takes nothing more
    ('He said "yes" then. Kim came.', "yes", 'He said "yes" then.'),
    # the text begins inside a quotation, or ends before one closes
    ("Peace now,\u201d Lee said. Kim came.", "Peace", "Peace now,\u201d Lee said."),
    ("Kim came. Lee said: \u201cWe will talk.", "talk", "Lee said: \u201cWe will talk."),
    ("Peace now,\u201d Lee said. Kim came.", "now", "Peace now,\u201d Lee said."),
    # a straight quote after a space opens; a quoted title inside a quotation does not close it
    ('Lee said "we talked. We agreed." Kim came.', "talked", 'Lee said "we talked. We agreed."'),
    ('Lee said: "We read "The Times" every day. Then we talk." Kim came.', "every",
     'Lee said: "We read "The Times" every day. Then we talk."'),
    # over several sentences, from the last one back or the first one on
    ("\u201cA one. B two. C three. D four,\u201d Lee said. Kim came.", "D four", "\u201cA one. B two. C three. D four,\u201d Lee said."),
    ("Kim came. \u201cWe talked. We agreed,\u201d Lee said.", "talked", "\u201cWe talked. We agreed,\u201d Lee said."),
    ("Kim came. \u201cWe talked. We met. We agreed,\u201d Lee said.", "talked", "\u201cWe talked. We met. We agreed,\u201d Lee said."),
])
def test_a_quotation_is_quoted_whole(text, word, quote):
    i = text.index(word)
    assert text[slice(*sentence_around(text, i, i + len(word)))] == quote


@pytest.mark.parametrize("text, word, sentence", [
    ("It was done.\nthen more came.", "more", "then more came."),  # a line ending in "." ends it
    ("I\nthink so.", "think", "I\nthink so."),  # a wrapped line, after a one-letter line
    ("one\ntwo\nthree\nfour.", "four", "one\ntwo\nthree\nfour."),  # wrapped lines back to the first
    ("Kim came.\nwe went\non\nand on.", "we", "we went\non\nand on."),  # and on to the last
])
def test_a_line_break_ends_a_sentence_unless_the_line_was_wrapped(text, word, sentence):
    i = text.index(word)
    assert text[slice(*sentence_around(text, i, i + len(word)))] == sentence


def test_reflow_makes_runs_of_spaces_one():
    assert reflow("a   b\t\tc") == "a b c"


WORDS = " ".join(f"w{i}" for i in range(400))


@pytest.mark.parametrize("word, window", [
    ("w200", (845, 939)),  # in the middle: about as much on each side, cut at spaces
    ("w2", (0, 53)),  # near the start: from the start, no first word cut
    ("w398", (1835, 1889)),  # near the end: to the end, no last word cut
])
def test_a_long_quote_is_cut_to_a_window_centred_on_its_answer(word, window):
    start = WORDS.index(word + " ")
    assert cap_quote(WORDS, 0, len(WORDS), start, start + len(word), limit=100) == window


def test_a_quote_within_the_limit_is_kept_wherever_it_lies():
    assert cap_quote(WORDS, 100, 150, 120, 124, limit=100) == (100, 150)
    assert cap_quote(WORDS, 100, 200, 120, 124, limit=100) == (100, 200)  # exactly the limit


def test_a_window_without_white_space_beside_the_answer_is_cut_mid_word_not_shrunk_to_the_answer():
    left = "x" * 300 + "ANSWER" + " y" * 200
    assert cap_quote(left, 0, len(left), 300, 306, limit=100) == (253, 352)
    right = "y " * 200 + "ANSWER" + "x" * 300
    assert cap_quote(right, 0, len(right), 400, 406, limit=100) == (354, 453)


def test_a_heading_is_quoted_with_the_sentence_after_it_unless_that_is_a_heading_too():
    text = "# Launch\n## Flight\nIt flew 600 km."
    assert quote_bounds(text, 2, 8) == (0, 8)
    text = "# Launch\nThe rocket flew 600 km."
    assert text[slice(*quote_bounds(text, 2, 8))] == text


def test_a_leaning_sentence_does_not_lean_on_a_heading():
    text = "## Launch\nIt flew 600 km."
    i = text.index("600")
    assert text[slice(*quote_bounds(text, i, i + 6))] == "It flew 600 km."


def test_a_leaning_sentence_far_into_a_text_takes_the_sentence_before_it():
    text = "Filler words here.\n\n" * 40 + "North Korea tested a missile. It flew 600 km."
    i = text.index("600")
    assert text[slice(*quote_bounds(text, i, i + 6))] == "North Korea tested a missile. It flew 600 km."


def test_quote_bounds_keeps_to_the_limit_given():
    text = "The launch " + " ".join(f"w{i}" for i in range(200)) + " flew 600 km far away."
    i = text.index("600")
    lo, hi = quote_bounds(text, i, i + 6, limit=100)
    assert lo <= i and hi >= i + 6 and hi - lo <= 100


def test_a_title_is_the_first_line_of_four_words_or_more_without_its_heading_marks():
    from qa.text import first_line_title

    assert first_line_title("# Otters hold hands daily\nmore") == "Otters hold hands daily"
    assert first_line_title("Share\nOtters hold hands daily\nMore text here and there.") == "Otters hold hands daily"


@pytest.mark.parametrize("line, title", [
    ("Alpha beta gamma " + "d" * 63, "Alpha beta gamma " + "d" * 63),  # exactly 80 characters: whole
    ("## Xylophones hold hands daily", "Xylophones hold hands daily"),  # only the heading marks go
    ("#Xylophones hold hands daily", "Xylophones hold hands daily"),
    ("w " * 36 + "BOX, " + "m" * 20 + " a b", "w " * 36 + "BOX\u2026"),  # cut at the last space, its comma dropped
    ("x" * 90 + " a b c", "x" * 80 + "\u2026"),  # no space to cut at: cut at 80
    ("I " + "x" * 100 + " b c", "I\u2026"),  # the only space is early: cut there
])
def test_a_long_title_line_is_cut_at_a_word_under_80_characters(line, title):
    from qa.text import first_line_title

    assert first_line_title(line) == title


def test_an_exclamation_after_an_abbreviation_still_ends_the_sentence():
    text = "See Dr. Kim! Then go."
    assert [text[a:b] for a, b in sentence_spans(text)] == ["See Dr. Kim!", "Then go."]


def test_a_table_gets_no_title_from_its_first_row_whatever_the_case_of_its_name():
    from qa.text import title_of
    from qa.types import Document

    rows = "name, city, year, role\nLee, Seoul, 2025, president"
    assert title_of(Document(id="x", source="T.CSV", title="", text=rows)) == ""
    assert title_of(Document(id="x", source="t.txt", title="", text=rows)) == "name, city, year, role"


@pytest.mark.parametrize("text, expected", [
    ("Is it the U.S.? Yes.", ["Is it the U.S.?", "Yes."]),  # a question mark after an abbreviation ends it
    ("Line one\nMr. Kim came.", ["Line one", "Mr. Kim came."]),  # an abbreviation first on its line
    ("Mr. Kim came.\nNext line.", ["Mr. Kim came.", "Next line."]),  # a line break later does not matter
    ("Hi\nA\nMr. Kim came.", ["Hi", "A", "Mr. Kim came."]),  # the nearest line break before it counts
    ("Dr. X. Lee spoke. Then left.", ["Dr. X. Lee spoke.", "Then left."]),  # an initial, even an X
])
def test_abbreviations_at_line_starts_and_before_other_sentence_ends(text, expected):
    assert [text[a:b] for a, b in sentence_spans(text)] == expected


def test_leading_white_space_is_left_out_of_the_first_sentence():
    assert sentence_spans(" Hello. World.") == [(1, 7), (8, 14)]


def test_a_line_break_after_an_abbreviation_ends_the_sentence_and_trailing_space_is_left_out():
    text = "I saw the Dr.\nThen I left."
    assert [text[a:b] for a, b in sentence_spans(text)] == ["I saw the Dr.", "Then I left."]
    assert sentence_spans("Hello. World. ") == [(0, 6), (7, 13)]
