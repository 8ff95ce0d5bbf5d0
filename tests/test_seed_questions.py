"""The seed article answered as a user expects, with the default reader (slow): who said what,
and questions that sound answerable but that the article does not answer."""

import pytest

pytestmark = pytest.mark.slow

WHO_SAID = [
    ("Who told Lee about the need to have patience?", "Li Qiang"),
    ("Who said the Lee government's blind trust made it no different from its conservative predecessor?", "Kim Yo Jong"),
    ("Who is Kim Jong Un's sister?", "Kim Yo Jong"),
    ("Who recognized South Korea's efforts?", "Xi"),
]

NOT_IN_THE_ARTICLE = [
    "How many nuclear weapons does North Korea have?",
    "What is the population of Shanghai?",
    "What did Donald Trump say about Lee?",  # abstained on since accurate reader v3
    # A known miss of the default reader (the readers' model cards list it): it answers "Monday".
    # Strict: the day the readers get it right, this fails as unexpectedly
    # passing, and moves up.
    pytest.param("When will Lee and Xi meet again?", marks=pytest.mark.xfail(strict=True, reason="the readers answer 'Monday'")),
]


# Plain questions a reader of the article asks first, where one reader alone goes wrong: the
# accurate reader answers the first with Shanghai (where Lee spoke to journalists afterwards).
FIRST_QUESTIONS = [
    ("Where did Lee meet Xi?", "Beijing"),
    ("Where was Lee visiting when he spoke to journalists?", "Shanghai"),
    ("Who did Lee meet on Tuesday?", "Li Qiang"),
]


@pytest.mark.parametrize("question,expected", FIRST_QUESTIONS)
def test_first_questions(default_seed_bot, question, expected):
    a = default_seed_bot.ask(question)
    assert not a.abstained and expected in a.text, (question, a.text, a.score)


@pytest.mark.parametrize("question,who", WHO_SAID)
def test_who_said_what(default_seed_bot, question, who):
    a = default_seed_bot.ask(question)
    assert not a.abstained and who in a.text, (question, a.text, a.score)


# Xi's reported words, not Lee's quotation to Xi (qa.attribution keeps quotations with their speaker).
def test_what_did_xi_say_is_answered_from_xi(default_seed_bot):
    a = default_seed_bot.ask("What did Xi say?")
    assert not a.abstained and "patience" in a.quote
    assert "Xi" in a.quote


@pytest.mark.parametrize("question", ["What did Xi say?", "What did President Xi Jinping say?"])
def test_xi_is_never_answered_with_lees_quotation(default_seed_bot, question):
    a = default_seed_bot.ask(question)
    assert "beneficial for China" not in a.text and "Roles of neighbors" not in a.text, a.text


def test_what_did_kim_yo_jong_say(default_seed_bot):
    a = default_seed_bot.ask("What did Kim Yo Jong say?")
    assert not a.abstained and "blind trust" in a.quote


@pytest.mark.parametrize("question", NOT_IN_THE_ARTICLE)
def test_questions_the_article_does_not_answer_are_abstained_on(default_seed_bot, question):
    a = default_seed_bot.ask(question)
    assert a.abstained and a.message == "The documents don't say.", (question, a.text, a.score)
