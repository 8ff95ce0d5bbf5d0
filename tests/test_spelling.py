"""Typo-tolerant questions: misspelt words are corrected to words of the documents, nothing else is."""

import pytest

from qa.spelling import Speller
from tests.conftest import SEED


@pytest.fixture(scope="module")
def speller():
    return Speller([SEED.read_text(encoding="utf-8")])


@pytest.mark.parametrize("question, expected", [
    ("Who did Lee meet on Tusday?", "Who did Lee meet on Tuesday?"),
    ("What did Li Qaing say?", "What did Li Qiang say?"),  # a swap of two letters is one edit
    ("What has North Korae refused?", "What has North Korea refused?"),
    ("Where is Pyongyong?", "Where is Pyongyang?"),
    ("WHO MET ON TUSDAY?", "WHO MET ON TUESDAY?"),
    ("What was Pyongyong's reply?", "What was Pyongyang's reply?"),  # the word before the apostrophe
])
def test_misspelt_words_are_corrected_to_document_words(speller, question, expected):
    assert speller.correct(question) == expected


@pytest.mark.parametrize("question", [
    "Who did Lee meet on Tuesday?",   # all words known
    "What did Xi Jinping say?",        # names that occur are never changed
    "What did he tell Lee?",           # English words not in the document stay
    "Who met Kim Jong Un in 2019?",    # numbers are never looked at
    "What happened in 2091?",
    "Who is Zelensky?",                # a name far from every word stays
    "What was Kim\u2019s sister's name?",  # possessives of known words
    "Why couldn't Lee talk? What wasn't said?",
])
def test_known_words_names_and_numbers_are_left_alone(speller, question):
    assert speller.correct(question) == question


def test_vocabulary_is_the_documents_keyword_tokens():
    s = Speller(["The Larkspur Bridge opened in 1931."])
    assert {"larkspur", "bridge", "opened", "1931"} <= set(s.counts) and "the" not in s.counts
    assert s.correct("Who opened the Larkspor Bridge?") == "Who opened the Larkspur Bridge?"
    assert Speller([]).correct("Who opened the Larkspor Bridge?") == "Who opened the Larkspor Bridge?"


def test_chatbot_builds_one_speller_per_index_version(tmp_path, hash_embedder):
    from qa.chatbot import Chatbot
    from qa.config import Settings
    from qa.types import Document

    bot = Chatbot(Settings(index_dir=str(tmp_path / "i"), seed_dir=str(tmp_path / "none")), embedder=hash_embedder, reader=object())
    bot.open()
    first = bot.speller(bot.store)
    assert bot.speller(bot.store) is first and first.correct("Larkspor?") == "Larkspor?"
    bot.add_documents([Document("d1", "b.txt", "The Larkspur Bridge opened in 1931.")])
    assert bot.speller(bot.store).correct("Larkspor?") == "Larkspur?"


# --- how far a correction may go, and which word wins (each case a rule a user relies on) ---

@pytest.mark.parametrize("typed, expected", [
    ("Pyngyamg", "Pyongyang"),  # 8 letters: two edits allowed
    ("Pyngyng", None),  # 7 letters, two edits away: too far (one edit allowed)
    ("Pjngyamg", None),  # 8 letters, three edits away: too far
    ("Kimm", "Kim"),  # 4 letters is long enough, and a 3-letter document word can be meant
    ("Xii", None),  # shorter than 4 letters: never corrected
    ("Beijing", None),  # a document word is left as it is
    ("Quillbury", None),  # ... also one that is no English word
    ("Tusday\u2019s", "Tuesday\u2019s"),  # a typographic apostrophe, like a straight one
])
def test_how_far_a_correction_may_go(typed, expected):
    assert Speller(["Kim and Xi left Pyongyang for Beijing and Quillbury on Tuesday."]).correction(typed) == expected


def test_an_english_contraction_with_a_typographic_apostrophe_is_left_alone():
    speller = Speller(["Lee could not meet Kim."])
    assert speller.correct("Why couldn\u2019t Lee meet Kim?") == "Why couldn\u2019t Lee meet Kim?"


def test_fewer_edits_win_over_a_more_frequent_word():
    # "abcdefaa" (two edits) is more frequent, comes first and sorts first; "abcdefgx" is one edit away.
    speller = Speller(["abcdefaa " * 5 + "abcdefgx"])
    assert speller.correction("abcdefgh") == "abcdefgx"


def test_among_equally_close_words_the_most_frequent_wins_then_the_first_alphabetically():
    assert Speller(["bazq " + "bazr " * 3]).correction("bazt") == "bazr"
    assert Speller(["bazq bazd"]).correction("bazt") == "bazd"


@pytest.mark.parametrize("before, frequent_found", [(5, True), (10, False)])
def test_the_ten_closest_words_are_weighed(before, frequent_found):
    # Twelve words one edit from "bazt"; the frequent one counts only if it is among the ten first.
    others = ["bast", "bart", "bait", "batt", "baza", "bazo", "bazu", "bazi", "bazy", "bazq"][:before]
    speller = Speller([" ".join(others) + " " + "bazd " * 5])
    assert (speller.correction("bazt") == "bazd") is frequent_found
