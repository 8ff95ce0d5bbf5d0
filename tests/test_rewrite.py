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


@pytest.mark.parametrize("previous, answer, follow_up, expected", [
    # The question word's slot, whatever kind: a determiner, a possessive, a modal, a passive subject.
    ("Which team won the cup?", "Leeds", "When?", "When did Leeds win the cup?"),
    ("Whose team won the cup?", "Leeds", "When?", "When did Leeds win the cup?"),
    ("Who will win the cup?", "Leeds", "When?", "When will Leeds win the cup?"),
    ("Who was elected president?", "Lee", "When?", "When was Lee elected president?"),
    # Objects of several kinds: a predicate, a naming, a preposition's at the end or at the start.
    ("What did he become?", "president", "When?", "When did he become president?"),
    ("What did they name the bridge?", "Tower Bridge", "When?", "When did they name the bridge Tower Bridge?"),
    ("Who did Lee talk to?", "Li Qiang", "When?", "When did Lee talk to Li Qiang?"),
    ("To whom did Lee talk?", "Li Qiang", "When?", "When did Lee talk to Li Qiang?"),
    ("Who did Lee give the book to?", "Xi", "When?", "When did Lee give the book to Xi?"),  # "Who" not labelled its object
    # "be": the answer after it when it asked who was somewhere; nothing to put it in when it asked for a name.
    ("Who was in Beijing?", "Xi", "When?", "When was Xi in Beijing?"),
    ("Who is China's Premier?", "Li Qiang", "When?", "When is China's Premier?"),
    # The answer goes after the verb's own object, not after a preposition that follows the verb.
    ("What did Lee give to Xi?", "a book", "When?", "When did Lee give a book to Xi?"),
    ("What did they give the winners?", "gold medals", "When?", "When did they give the winners gold medals?"),
    ("Who did she become?", "the first woman mayor", "When?", "When did she become the first woman mayor?"),
    # A title-case question's verb is not a name: lower case after the new question word.
    ("Who Will Win The Cup?", "Leeds", "When?", "When will Leeds Win The Cup?"),
    # Words before the question word are not the question.
    ("Remind me, what did Xi say?", "that talks must go on", "When?", "When did Xi say it?"),
    # A year or a clock time answered goes in with its own preposition, even a time parsed as a clause.
    ("In what year did Lee take office?", "2025", "Where?", "Where did Lee take office in 2025?"),
    ("What time did the talks start?", "9 am", "Where?", "Where did the talks start at 9 am?"),
    ("At what time did the talks start?", "noon", "Where?", "Where did the talks start at noon?"),
    # A place named in the question goes when the new question asks where, and stays otherwise.
    ("Who did Lee meet in Beijing?", "Xi", "Where?", "Where did Lee meet Xi?"),
    ("Who did Lee meet in Beijing?", "Xi", "Why?", "Why did Lee meet Xi in Beijing?"),
    # An answer of up to eight words goes in; a longer one is "it".
    ("What did they build?", "the old stone bridge over the River Thames", "When?",
     "When did they build the old stone bridge over the River Thames?"),
    ("What did they build?", "the old stone bridge over the wide River Thames", "When?", "When did they build it?"),
    # The question's last word is kept whole, whatever letter it ends in.
    ("Who met Malcolm X?", "Lee", "When?", "When did Lee meet Malcolm X?"),
    # An action in place of "do" leaves nothing for "it" to stand for.
    ("What did the talks do?", "collapsed", "When?", "When did the talks collapse?"),
    ("What did the talks do?", "broke down", "When?", "When did the talks break down?"),
    # An action of up to eight words takes the place of "do"; a longer one is "it".
    ("What did the talks do?", "broke down over a quarrel about the fence", "When?",
     "When did the talks break down over a quarrel about the fence?"),
    ("What did the talks do?", "broke down over a quarrel about the border fence", "When?", "When did the talks do it?"),
    # An answer of punctuation alone is no answer to put in.
    ("Who did Lee meet?", "\u2014", "When?", "When did Lee meet?"),
    # A yes/no question is asked again with the question word in front.
    ("Did Lee meet Xi?", "yes", "Where?", "Where did Lee meet Xi?"),
])
def test_a_bare_question_word_reuses_the_previous_question(previous, answer, follow_up, expected):
    a = Answer(text=answer, score=0.8, abstained=False, question=previous)
    assert loaded_conversation().rewrite(follow_up, [(previous, a)]) == expected


@pytest.mark.parametrize("previous", [
    "In the end, who won the vote?",  # the question word comes too late to be the question's
    "Why the delay?",  # no verb
    "Lee met Xi?",  # no question word, and the verb is not first
])
def test_a_bare_question_word_after_a_question_of_no_usable_shape_is_left_as_it_is(previous):
    assert loaded_conversation().rewrite("When?", [(previous, Answer(text="Leeds", score=0.8, abstained=False))]) == "When?"


def test_plain_text_turns_count_as_answers_unless_empty_or_an_abstention():
    conv = loaded_conversation()
    assert conv.rewrite("When?", [("Who did Lee meet on Tuesday?", "Li Qiang")]) == "When did Lee meet Li Qiang?"
    for nothing in ("", "   ", "The documents don't say. Try another question."):
        assert conv.rewrite("What did he say?", [("Who is Li Qiang?", nothing)]) == "What did he say?", nothing


def test_a_thing_said_twice_in_different_case_is_one_mention():
    # "The talks" (the answer) and "the talks" (the question) are one thing: the second "it" has nothing left.
    conv = loaded_conversation()
    history = [("Why did the talks fail?", Answer(text="The talks", score=0.8, abstained=False, quote="The talks"))]
    assert conv.rewrite("Did it start before it ended?", history) == "Did the talks start before it ended?"


@pytest.mark.parametrize("previous, expected", [
    ("Which bridge did they build?", "How long is the bridge?"),  # not "the which bridge"
    ("What was his bridge made of?", "How long is the bridge?"),  # not "the his bridge"
])
def test_a_thing_is_named_without_the_question_word_or_possessive_it_was_asked_with(previous, expected):
    history = [(previous, Answer(text="in 1931", score=0.8, abstained=False, quote="in 1931"))]
    assert loaded_conversation().rewrite("How long is it?", history) == expected
