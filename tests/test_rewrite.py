"""Follow-up rewriting, exactly: the word put in for a pronoun, and "What about X?"."""

from __future__ import annotations

import pytest

from qa.types import Answer
from tests.conftest import loaded_conversation


def said(text: str) -> Answer:
    return Answer(text=text, score=0.9, abstained=False, quote=text)


@pytest.mark.parametrize("day", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
def test_then_is_on_a_weekday(day):
    conv = loaded_conversation()
    assert conv.rewrite("Who spoke then?", [("When did the summit start?", said(day))]) == f"Who spoke on {day}?"


@pytest.mark.parametrize("when, expected", [
    ("Tuesday, March 3", "Who spoke on Tuesday, March 3?"),  # a weekday, even with a date after its comma
    ("March 1931", "Who spoke in March 1931?"),
])
def test_then_is_in_other_times(when, expected):
    conv = loaded_conversation()
    assert conv.rewrite("Who spoke then?", [("When did the summit start?", said(when))]) == expected


@pytest.mark.parametrize("thing, expected", [
    ("wooden bridges", "How long is the wooden bridges?"),  # a bare noun gets "the"
    ("a wooden bridge", "How long is a wooden bridge?"),  # one with an article keeps it
])
def test_it_is_a_thing_with_an_article(thing, expected):
    conv = loaded_conversation()
    assert conv.rewrite("How long is it?", [("What did they build?", said(thing))]) == expected


def test_her_as_possessive():
    conv = loaded_conversation()
    assert conv.rewrite("What was her plan?", [("Who led the talks?", said("Prime Minister Enda O\u2019Kelly"))]) == "What was Enda's plan?"


@pytest.mark.parametrize("previous, follow_up, expected", [
    ("What did Xi Jinping say?", "What about Joe Biden?", "What did Joe Biden say?"),  # person for person
    ("What did China say?", "What about Japan?", "What did Japan say?"),  # country for country
    ("What did Xi Jinping say?", "What about NASA?", "What did NASA say?"),  # an organisation speaks too
    ("What did Xi say in 2019?", "What about 2021?", "What did Xi say in 2021?"),  # a date for a date
    ("Who visited Beijing?", "And Tokyo?", "Who visited Tokyo?"),
    ("What did Xi say?", "What about Tuesday?", "What about Tuesday?"),  # nothing of that kind to swap
])
def test_what_about_swaps_the_entity_of_the_same_kind(previous, follow_up, expected):
    conv = loaded_conversation()
    assert conv.rewrite(follow_up, [(previous, said("patience"))]) == expected


ENDA = "Prime Minister Enda O\u2019Kelly"


@pytest.mark.parametrize("history, question, expected", [
    ([("Who led the talks?", said(ENDA))], "What did they tell her?", "What did they tell Enda?"),  # her as object
    # the first "her" is an object, the second possessive; a target is used once
    ([("Who led the talks?", said(ENDA))], "What did the press ask her about her plan?", "What did the press ask Enda about her plan?"),
    # a person already named in the question is not put in again
    ([("Who did Lee meet?", said("Li Qiang"))], "What did Li Qiang tell him?", "What did Li Qiang tell Lee?"),
    ([("Who did Lee meet?", said("Li Qiang"))], "What did he tell him?", "What did Li Qiang tell Lee?"),
    # "it" in "is it true that" is no pronoun to resolve; "they" still is
    ([("Who launched Hubble?", said("NASA"))], "Is it true that they built it?", "Is it true that NASA built it?"),
    # a pronoun with nothing to stand for is left, and the next one still resolved
    ([("Who did Lee meet?", said("Li Qiang"))], "What did it tell him?", "What did it tell Li Qiang?"),
    ([("Who is the premier?", said("Li Qiang"))], "WHAT DID HE SAY?", "WHAT DID Li Qiang SAY?"),
])
def test_pronouns_by_kind_each_target_once(history, question, expected):
    assert loaded_conversation().rewrite(question, history) == expected


@pytest.mark.parametrize("history, question, expected", [
    # the answer's own words, even when its quote does not name anyone
    ([("Who is the premier?", Answer(text="Li Qiang", score=0.9, abstained=False, quote="He spoke."))],
     "What did he say?", "What did Li Qiang say?"),
    # the quote's words, when the answer is not a name
    ([("What did he urge?", Answer(text="patience", score=0.9, abstained=False, quote="Li Qiang urged patience."))],
     "Why did he say so?", "Why did Li Qiang say so?"),
    # a plain-text answer (from the command line's history)
    ([("Who is the premier?", "Li Qiang")], "What did he say?", "What did Li Qiang say?"),
    # only the last three turns count
    ([("Who is the premier?", said("Li Qiang"))] + [("What is the weather?", said("rain"))] * 3,
     "What did he say?", "What did he say?"),
    ([("Who is the premier?", said("Li Qiang"))] + [("What is the weather?", said("rain"))] * 2,
     "What did he say?", "What did Li Qiang say?"),
    # "What about" something that is no named entity stands for a person
    ([("What did Xi Jinping say?", said("patience"))], "And the bank?", "What did the bank say?"),
])
def test_where_mentions_come_from(history, question, expected):
    assert loaded_conversation().rewrite(question, history) == expected


@pytest.mark.parametrize("thing, expected", [
    ("the old bridge", "How long is the old bridge?"),
    ("an old bridge", "How long is an old bridge?"),
])
def test_a_thing_with_its_own_article_gets_no_other(thing, expected):
    assert loaded_conversation().rewrite("How long is it?", [("What did they build?", said(thing))]) == expected


def abstained(question: str) -> Answer:
    return Answer(text="", score=0.1, abstained=True, question=question)


@pytest.mark.parametrize("history, question, expected", [
    # pronouns and question words are no things to stand for
    ([("Who won?", said("We did"))], "How long did it take?", "How long did it take?"),
    ([("Who won?", abstained("Who won?"))], "What did they say?", "What did they say?"),
    # a thing named in an earlier question, without its question word or possessive
    ([("Which bridge was painted green?", abstained("Which bridge was painted green?"))], "When was it built?", "When was it built?"),  # abstentions are skipped
    ([("Who painted his car?", abstained("Who painted his car?"))], "When was it sold?", "When was it sold?"),
    # the earlier question as it was understood, not as it was typed
    ([("What did he say?", Answer(text="patience", score=0.9, abstained=False, question="What did Li Qiang say?", quote="patience"))],
     "Why did he say that?", "Why did Li Qiang say that?"),
])
def test_what_can_be_a_mention(history, question, expected):
    assert loaded_conversation().rewrite(question, history) == expected


def test_possessive_of_a_name_with_a_typographic_apostrophe_keeps_it():
    from qa.conversation import Mention, _substitute

    assert _substitute("his", Mention("Ng\u2019ang\u2019a", "PERSON"), True) == "Ng\u2019ang\u2019a\u2019s"
    assert _substitute("his", Mention("Li Qiang", "PERSON"), True) == "Li Qiang's"


def test_a_bare_when_after_an_answer_that_is_a_clause_reads_as_a_question():
    from qa.types import Answer

    conv = loaded_conversation()
    said = Answer(text="need to have patience", score=0.8, abstained=False, question="What did Li Qiang tell Lee?")
    asked = conv.rewrite("When?", [("What did Li Qiang tell Lee?", said)])
    assert asked == "When did Li Qiang tell Lee?"


@pytest.mark.parametrize("previous, answer, follow_up, expected", [
    # The answer goes after the verb's own object, not between the verb and it.
    ("What did Li Qiang tell Lee?", "the need to have patience", "When?", "When did Li Qiang tell Lee the need to have patience?"),
    # An action answers "What did X do?": it takes the place of "do".
    ("What did the talks with Trump do?", "collapsed", "In what year?", "In what year did the talks with Trump collapse?"),
    # A clause cannot stand for "What": "it" does.
    ("What did Xi say?", "President Xi recognized South Korea's efforts", "Where?", "Where did Xi say it?"),
    ("What did China block?", "communication channels with North Korea", "Why?", "Why did China block communication channels with North Korea?"),
])
def test_a_bare_question_word_is_asked_as_a_well_formed_question(previous, answer, follow_up, expected):
    a = Answer(text=answer, score=0.8, abstained=False, question=previous)
    assert loaded_conversation().rewrite(follow_up, [(previous, a)]) == expected
