"""Who said what: "What did <Name> say?" is not answered with another person's quotation."""

from __future__ import annotations

import math

import pytest

from qa.attribution import asked_speaker, quote_speaker, said_by_someone_else
from qa.chatbot import Chatbot
from qa.config import Settings
from tests.conftest import SEED, HashEmbedder

ARTICLE = SEED.read_text(encoding="utf-8")


def _at(text: str, words: str) -> tuple[int, int]:
    i = text.index(words)
    return i, i + len(words)


@pytest.mark.parametrize("question, who", [
    ("What did Xi say?", "Xi"),
    ("what did President Xi Jinping tell Lee?", "President Xi Jinping"),
    ("What did Kim Yo Jong say about the alliance?", "Kim Yo Jong"),
    ("What has Lee stressed?", "Lee"),
    ("What did he say?", None),  # a pronoun: nobody to compare with
    ("What did the president say?", None),  # a title alone names nobody
    ("Who is Lee?", None),
    ("What did Lee do in Shanghai?", None),  # not about words
])
def test_the_person_a_question_asks_about(question, who):
    assert asked_speaker(question) == who


@pytest.mark.parametrize("words, speaker", [
    ("all communication channels", "Lee"),  # `,” Lee explained` after it
    ("it would be beneficial for China", "Lee"),  # a second quotation: the sentence before names Lee
    ("“I expressed to President Xi", "Lee"),  # a span that starts with the opening mark
    ("Roles of neighbors", "Lee"),  # `,” Lee said.`
    ("blind trust", "Kim Yo Jong"),  # `Kim Yo Jong, said the Lee government’s “blind trust”`
    ("recognized South Korea’s efforts", None),  # reported speech, not quoted
    ("Lee Jae Myung revealed", None),
])
def test_the_speaker_of_a_quotation_in_the_seed_article(words, speaker):
    assert quote_speaker(ARTICLE, *_at(ARTICLE, words)) == speaker


def test_speakers_written_before_or_after_with_straight_quotes_and_no_speaker():
    text = ('Mayor Ada Quill said: "The bridge opens in May." Then "We are proud," said Bo Brandt.\n'
            '"Nobody knows who wrote this."\n'
            'The so-called "green bridge" is old.')
    assert quote_speaker(text, *_at(text, "The bridge opens")) == "Mayor Ada Quill"
    assert quote_speaker(text, *_at(text, "We are proud")) == "Bo Brandt"
    assert quote_speaker(text, *_at(text, "Nobody knows")) is None  # own paragraph, nobody named
    assert quote_speaker(text, *_at(text, "green bridge")) is None
    assert quote_speaker(text, *_at(text, "is old")) is None  # not inside quotation marks


@pytest.mark.parametrize("question, words, elsewhere", [
    ("What did Xi say?", "it would be beneficial for China", True),
    ("What did President Xi say?", "Roles of neighbors", True),
    ("What did Lee say?", "it would be beneficial for China", False),
    ("What did Lee Jae Myung say?", "Roles of neighbors", False),  # one shared name word is the same person
    ("What did Xi say?", "recognized South Korea’s efforts", False),  # not a quotation: left to the reader
    ("What happened to the channels?", "all communication channels", False),  # not a who-said-what question
    ("What did Kim Yo Jong say?", "blind trust", False),
    ("What did Xi say?", "blind trust", True),
])
def test_a_quotation_is_someone_elses_only_when_its_speaker_is_named_and_differs(question, words, elsewhere):
    assert said_by_someone_else(question, ARTICLE, *_at(ARTICLE, words)) is elsewhere


def test_the_chatbot_does_not_answer_with_another_persons_quote(tmp_path, scripted_reader):
    """The reader likes Lee's words best; asked about Xi, the chatbot answers with Xi's (reported) words."""
    reader = scripted_reader({"it would be beneficial for China": 3.0, "the importance of maintaining patience": 1.0})
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(SEED.parent)), embedder=HashEmbedder(),
                  reader=reader)
    bot.open()
    xi = bot.ask("What did Xi say?")
    assert not xi.abstained and xi.text == "the importance of maintaining patience"
    lee = bot.ask("What did Lee say?")
    assert lee.text == "it would be beneficial for China"  # Lee's own words stay his answer
    other = bot.ask("What would be beneficial?")
    assert other.text == "it would be beneficial for China"  # other questions are not checked


def test_another_persons_quote_left_out_is_no_rival_to_the_answers_confidence(tmp_path, scripted_reader):
    """Confidence judged among the candidates (its lead over the best other answer, `gap`): Lee's
    quotation, left out when asked what Xi said, no longer counts against Xi's words."""
    from qa.calibration import Calibration

    reader = scripted_reader({"it would be beneficial for China": 3.0, "the importance of maintaining patience": 1.0,
                              "South Korea": -1.0})
    Calibration(0.0, 0.0, 0.0, "test", ("gap",), (1.0,)).save(reader.model_path / "calibration.json")
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(SEED.parent)), embedder=HashEmbedder(),
                  reader=reader)
    bot.open()
    xi = bot.ask("What did Xi say?")
    assert xi.text == "the importance of maintaining patience"
    assert xi.score == pytest.approx(1 / (1 + math.exp(-2.0)))  # ahead of "South Korea" by 2, not behind Lee by 2
    other = bot.ask("What would be beneficial?")  # nothing left out: judged among all, as before
    assert other.text == "it would be beneficial for China" and other.score == pytest.approx(1 / (1 + math.exp(-2.0)))


def test_only_other_peoples_quotes_left_means_the_documents_dont_say(tmp_path, scripted_reader):
    reader = scripted_reader({"Roles of neighbors are necessary": 3.0})
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(SEED.parent)), embedder=HashEmbedder(),
                  reader=reader)
    bot.open()
    a = bot.ask("What did Kim Yo Jong say?")
    assert a.abstained and a.message == "The documents don't say."


PRESS = ("“We will wait,” said Ada Quill at the opening of the new bridge on Monday morning. Later, in "
         "the afternoon, with the press, the questions turned to other things. “The river is calm today.” "
         "“We are proud,” said Bo Brandt. “So are we,” Cy Dunmore added. Then, long after that and well "
         "away from the microphones, the talk went on. “Nobody will forget it.”\n"
         "“The second paragraph has its own words.”")


@pytest.mark.parametrize("words, speaker", [
    ("The river is calm", "Ada Quill"),  # no speaker beside it: the paragraph's quotation before it
    ("Nobody will forget", "Cy Dunmore"),  # the nearest quotation before it, not the first
    ("“We are proud,”", "Bo Brandt"),  # a span that holds both marks: the speaker after its own closing mark
    ("“So are we,”", "Cy Dunmore"),
    ("The second paragraph", None),  # a new paragraph starts with nobody's words
])
def test_a_quotation_without_its_own_speaker_continues_the_one_before_it_in_its_paragraph(words, speaker):
    assert quote_speaker(PRESS, *_at(PRESS, words)) == speaker


def test_in_passages_without_their_documents_the_passage_is_judged():
    """The evaluation assembles answers from passages alone (no documents at hand)."""
    from qa.answer import assemble_answer
    from qa.calibration import Calibration
    from qa.types import Chunk, Hit, Span

    passage = ARTICLE[ARTICLE.index("“Despite"):ARTICLE.index("Lee noted")]
    chunk = Chunk("c0", "d0", "article.txt", passage, 0, len(passage))
    words = "it would be beneficial for China"
    s, e = _at(passage, words)
    calibration = Calibration(1.0, 0.0, 0.0, "test")
    spans = [Span(0, s, e, words, 3.0)]
    assert assemble_answer("What did Xi say?", [Hit(chunk, 1.0)], spans, calibration).abstained
    assert assemble_answer("What did Lee say?", [Hit(chunk, 1.0)], spans, calibration).text == words


# What the mutation run of qa/attribution.py showed untested (python scripts/mutation_report.py --run attribution).

@pytest.mark.parametrize("text, speaker", [
    ("\u201cWe want peace,\u201d Lee said.", "Lee"),  # the quotation opens the text
    ("\u201cWe want peace,\u201d said Malcolm X.", "Malcolm X"),
    ("He said: \u201cWe want peace.\u201d", None),  # a pronoun names nobody
    ("Kim said: \u201cWe want peace\u201d. Lee said no.", "Kim"),  # the next sentence's speaker is not this one's
    # a quotation left open in the paragraph before does not reach into this one
    ("Kim said: \u201cWe will talk.\nLee wants peace\u201d and more.", None),
    # straight quotes are counted from this paragraph's start, not from the text's or an earlier paragraph's
    ('Kim said "yes"\nLee wants "peace now," Lee said.', "Lee"),
    ('Intro.\nKim said "yes\nLee wants "peace now," Lee said.', "Lee"),
    # a quotation that does not close in its paragraph is not closed by the next one
    ("Kim said: \u201cWe want peace\nAnd more,\u201d Lee said.\nEnd.", None),
    # an earlier paragraph's quotation does not lend its speaker
    ("Intro line.\n\u201cWe will talk,\u201d Kim said.\nThen \u201cwe want peace.\u201d", None),
    # the nearest earlier quotation of the paragraph lends its speaker, written before or after it
    ("Kim said: \u201cA.\u201d and Lee said: \u201cB.\u201d And \u201cC peace.\u201d", "Lee"),
    ("Lee said: \u201cWe talked.\u201d \u201cWe want peace.\u201d", "Lee"),
    # marks further than 400 characters away are not looked for
    ("Kim said: \u201c" + "word " * 90 + "peace now,\u201d Lee said.", None),
    ("Kim said: \u201cWe want peace " + "word " * 90 + "now,\u201d Lee said.", None),
])
def test_the_speaker_of_a_quotation_is_found_within_its_paragraph(text, speaker):
    assert quote_speaker(text, *_at(text, "peace")) == speaker


def test_a_pronoun_leading_the_asked_names_is_nobody():
    assert asked_speaker("What did they all say?") is None


@pytest.mark.parametrize("question, text, elsewhere", [
    ("What did Mr. Lee say?", "\u201cWe want peace,\u201d Mr. Kim said.", True),  # the shared title is not a shared name
    ("What did Xi say?", "\u201cWe want peace,\u201d said Xi\u2019s spokesman.", False),  # Xi's own side
    ("What did Xi say?", "\u201cWe want peace,\u201d said Xi's spokesman.", False),
    ("What did Lee say?", "\u201cWe want peace,\u201d said Xi's spokesman.", True),
    ("What did Xi say?", "He said: \u201cWe want peace.\u201d", False),  # a pronoun: left to the reader
])
def test_possessives_titles_and_pronouns_when_comparing_speakers(question, text, elsewhere):
    assert said_by_someone_else(question, text, *_at(text, "peace")) is elsewhere
