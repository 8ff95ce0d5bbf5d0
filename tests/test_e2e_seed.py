"""End to end on the seed article with the real embedder and the shipped reader (slow)."""

import pytest

from qa.chatbot import Chatbot
from qa.config import Settings
from qa.layout import shown_words
from qa.types import Document, content_id
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_what_did_xi_say_answers_with_the_patience_passage(seed_bot):
    a = seed_bot.ask("What did Xi say?")
    assert not a.abstained and a.source == "000_1d6ad4e23a77a5e2.txt"
    said = [x for x in (a, *a.alternatives)]
    assert any("patience" in x.quote for x in said)
    text = seed_bot.documents()[0].text
    assert shown_words(text[a.start : a.end]) == a.text
    assert 0.0 < a.score <= 1.0


@pytest.mark.parametrize("question", ["What is the capital of France?", "How many goals did Messi score in 2012?", "What is the recipe for banana bread?"])
def test_off_topic_questions_abstain(seed_bot, question):
    a = seed_bot.ask(question)
    assert a.abstained and a.text == "" and a.message == "The documents don't say."


def test_two_turn_follow_up(seed_bot):
    first = seed_bot.ask("Who did Lee meet on Tuesday?")
    assert "Li Qiang" in first.text
    second = seed_bot.ask("What did he tell Lee?", history=[("Who did Lee meet on Tuesday?", first)])
    assert second.question == "What did Li Qiang tell Lee?"
    assert not second.abstained and "patience" in second.quote


def test_self_contained_question_is_not_rewritten(seed_bot):
    first = seed_bot.ask("Who did Lee meet on Tuesday?")
    a = seed_bot.ask("What has North Korea refused to do?", history=[("Who did Lee meet on Tuesday?", first)])
    assert a.question == "What has North Korea refused to do?"


def test_what_is_this_about_gives_the_lead(seed_bot):
    a = seed_bot.ask("What is this about?")
    assert "Lee Jae Myung" in a.message and a.source == ""


def test_load_builds_from_seeds_when_the_index_is_missing(tmp_path, shipped_reader, real_embedder):
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(ROOT / "seeds")), embedder=real_embedder, reader=shipped_reader)
    bot.open()
    assert (tmp_path / "index" / "CURRENT").exists()
    assert [d.source for d in bot.documents()] == ["000_1d6ad4e23a77a5e2.txt"]


def test_several_answers_from_several_documents(tmp_path, real_embedder):
    from qa.readers import reader_for

    docs = {
        # (The fast reader since v3 ranks "the new bridge would open in May" well below the Friday
        # statement, so it is not listed beside it; fast reader v6 ranks the Friday statement 3.1
        # below the Monday one, so it is not listed either. The accurate reader ranks the two alike:
        # the listing of answers from several documents is what is tested here.)
        "monday.txt": "On Monday the mayor Ada Quill said the harbour would be dredged in May. Reporters asked about costs.",
        "friday.txt": "On Friday the mayor Ada Quill said the city budget was too small for new parks. Council members disagreed.",
        "cats.txt": "Cats sleep most of the day and hunt at night.",
    }
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none")), embedder=real_embedder,
                  reader=reader_for("accurate"))
    bot.open()
    bot.add_documents([Document(content_id(t), n, t) for n, t in docs.items()])
    a = bot.ask("What did Ada Quill say?")
    sources = [x.source for x in (a, *a.alternatives)]
    assert {"monday.txt", "friday.txt"} <= set(sources)
    assert [x.score for x in (a, *a.alternatives)] == sorted((x.score for x in (a, *a.alternatives)), reverse=True)
    # Follow-up with "she" across documents.
    b = bot.ask("When will her harbour be dredged?", history=[("What did Ada Quill say?", a)])
    assert b.question == "When will Ada Quill's harbour be dredged?" and "May" in b.text


def test_what_else_skips_the_answers_already_given(seed_bot):
    first = seed_bot.ask("What did Xi say?")
    more = seed_bot.ask("What else did he say?", history=[("What did Xi say?", first)])
    assert more.question == "What else did Xi say?"
    given = [(a.start, a.end) for a in (first, *first.alternatives)]
    for a in (more, *more.alternatives):
        assert all(a.end <= s or a.start >= e for s, e in given)


def test_a_typo_is_corrected_and_answered(seed_bot):
    a = seed_bot.ask("Who did Lee meet on Tusday?")
    assert a.question == "Who did Lee meet on Tuesday?"
    assert not a.abstained and "Li Qiang" in a.text


@pytest.mark.parametrize("first, expected_first, bare, expected", [
    ("Who did Lee meet on Tuesday?", "Li Qiang", "When?", "Tuesday"),
    ("Where did Lee meet Xi?", "Beijing", "When?", "Monday"),
    ("When did Lee meet Xi?", "Monday", "Where?", "Beijing"),
])
def test_a_bare_when_or_where_gets_the_time_or_place(seed_bot, first, expected_first, bare, expected):
    a = seed_bot.ask(first)
    assert expected_first in a.text
    b = seed_bot.ask(bare, history=[(first, a)])
    assert b.question != bare and expected in b.text, (b.question, b.text)
    text = seed_bot.documents()[0].text
    assert shown_words(text[b.start : b.end]) == b.text


def test_seed_answers_cite_the_documents_title(seed_bot):
    a = seed_bot.ask("What has North Korea refused?")
    assert a.title.startswith("On Wednesday, South Korean President")
