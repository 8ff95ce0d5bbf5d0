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
