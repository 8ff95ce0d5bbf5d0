"""Follow-up questions, small talk and question checks, on conversations written for these tests."""

import pytest

from qa.conversation import HISTORY_TURNS, answers_to_skip, check_question, clean_question, lead_of, remember
from qa.types import Answer, Document
from tests.conftest import loaded_conversation


@pytest.fixture(scope="module")
def conv():
    return loaded_conversation()


def said(text, question="", quote=""):
    return Answer(text=text, score=0.9, abstained=False, question=question, quote=quote or text)


DOCS = [
    Document("1", "summit.txt", "Share and Follow\n\nLee met Chinese Premier Li Qiang in Beijing on Tuesday to discuss North Korea. More text.", ""),
    Document("2", "space.md", "The Hubble telescope was launched in 1990 by NASA. It orbits Earth.", "Hubble"),
]


@pytest.mark.parametrize("history, question, expected", [
    # he -> the person in the last answer, not the one already named in the question
    ([("Who did Lee meet on Tuesday?", said("Chinese Premier Li Qiang", "Who did Lee meet on Tuesday?"))],
     "What did he tell Lee?", "What did Li Qiang tell Lee?"),
    # there -> a place
    ([("Where did the summit happen?", said("Beijing"))], "What happened there?", "What happened in Beijing?"),
    # it -> a thing
    ([("Who launched the Hubble telescope?", said("NASA"))], "When was it launched?", "When was Hubble launched?"),
    # his -> possessive
    ([("Who is the premier of China?", said("Li Qiang"))], "What was his message?", "What was Li Qiang's message?"),
    # they -> an organisation or country
    ([("Who launched Hubble?", said("NASA"))], "What else did they build?", "What else did NASA build?"),
    # what else did he say
    ([("What did Xi say?", said("the need for patience", "What did Xi say?"))], "What else did he say?", "What else did Xi say?"),
    # ... even when the answer's sentence names someone else first
    ([("What did Xi say?", said("reiterated the importance of patience", "What did Xi say?",
                                "Lee noted that President Xi recognized the efforts and reiterated the importance of patience."))],
     "What else did he say?", "What else did Xi say?"),
])
def test_follow_ups_are_rewritten(conv, history, question, expected):
    assert conv.rewrite(question, history) == expected


def test_she_takes_the_most_recent_person(conv):
    history = [("Who founded the lab?", said("Marie Curie")), ("Who was her partner?", said("Pierre Curie"))]
    assert conv.rewrite("When was she born?", history) == "When was Pierre Curie born?"


def test_then_becomes_a_time(conv):
    history = [("When did Lee meet Li Qiang?", said("Tuesday"))]
    assert conv.rewrite("What did Lee discuss then?", history) == "What did Lee discuss on Tuesday?"


def test_ellipsis_swaps_the_entity(conv):
    history = [("What did Xi Jinping say?", said("patience", "What did Xi Jinping say?"))]
    assert conv.rewrite("What about Li Qiang?", history) == "What did Li Qiang say?"


@pytest.mark.parametrize("question", [
    "What did Xi say?",
    "Who is the president of South Korea?",
    "Is it true that China blocked sanctions?",
    "Why is it important to freeze the programs?",
    "Where is the Colosseum?",
])
def test_self_contained_questions_are_left_alone(conv, question):
    history = [("Who did Lee meet on Tuesday?", said("Li Qiang"))]
    assert conv.rewrite(question, history) == question


def test_no_history_no_rewrite(conv):
    assert conv.rewrite("What did he say?", []) == "What did he say?"


ABSTAINED = Answer(text="", score=0.1, abstained=True, question="Who met Kim?", message="The documents don't say.")
SMALL_TALK = Answer(text="", score=0.0, abstained=True, question="thanks", message="You're welcome! Ask me anything else.", kind="small_talk")


def test_pronouns_skip_abstained_turns(conv):
    history = [("Who did Lee meet on Tuesday?", said("Li Qiang")), ("Who met Kim?", ABSTAINED)]
    assert conv.rewrite("What did he say?", history) == "What did Li Qiang say?"
    assert conv.rewrite("What did he say?", history[1:]) == "What did he say?"  # nobody to point to


def test_follow_ups_skip_small_talk(conv):
    history = [("Who did Lee meet on Tuesday?", said("Li Qiang")), ("thanks", SMALL_TALK)]
    assert conv.rewrite("What did he say?", history) == "What did Li Qiang say?"
    assert conv.rewrite("When?", history) == "When did Lee meet Li Qiang?"


@pytest.mark.parametrize("previous, answer, question, expected", [
    # the answer takes the question word's place; the phrase the new question asks about goes
    ("Who did Lee meet on Tuesday?", "Chinese Premier Li Qiang", "When?", "When did Lee meet Chinese Premier Li Qiang?"),
    ("Who did Lee meet on Tuesday?", "Li Qiang", "Where?", "Where did Lee meet Li Qiang on Tuesday?"),
    ("Where did Lee meet Xi?", "Beijing", "When?", "When did Lee meet Xi in Beijing?"),
    ("When did Lee meet Xi?", "Monday", "Where?", "Where did Lee meet Xi on Monday?"),
    ("When did Lee meet Xi?", "Monday", "Why?", "Why did Lee meet Xi on Monday?"),
    ("When did the nuclear diplomacy collapse?", "2019", "Why?", "Why did the nuclear diplomacy collapse in 2019?"),
    # a subject question becomes "did <answer> <verb>"
    ("Who opened the Larkspur Bridge?", "Ada Quill", "In what year?", "In what year did Ada Quill open the Larkspur Bridge?"),
    ("Who has refused to talk?", "North Korea", "Why?", "Why has North Korea refused to talk?"),
    ("Who did Lee meet on Tuesday?", "Li Qiang", "Who?", "Who did Lee meet on Tuesday?"),
    ("How many steps does the lighthouse have?", "212", "When?", "When does the lighthouse have 212 steps?"),
    ("Did Lee meet Xi?", "yes", "where?", "Where did Lee meet Xi?"),
    ("Who is the president of South Korea?", "Lee Jae Myung", "And where?", "Where is the president of South Korea?"),
])
def test_bare_question_words_ask_about_the_previous_event(conv, previous, answer, question, expected):
    assert conv.rewrite(question, [(previous, said(answer, previous))]) == expected


def test_bare_question_word_after_an_abstention_keeps_the_event(conv):
    history = [("When did Lee meet Xi?", Answer(text="", score=0.1, abstained=True, question="When did Lee meet Xi?",
                                                  message="The documents don't say."))]
    assert conv.rewrite("Where?", history) == "Where did Lee meet Xi?"


@pytest.mark.parametrize("text", ["hi", "Hello!", "hey there", "good morning", "help", "what can you do?"])
def test_greetings_and_help_say_what_the_bot_does(conv, text):
    reply = conv.reply_to_non_question(text, DOCS)
    assert reply and "exact words" in reply and "summit.txt" in reply and "Hubble" in reply


def test_thanks(conv):
    assert conv.reply_to_non_question("thanks!", DOCS).startswith("You're welcome")
    assert conv.reply_to_non_question("thank you so much", []).startswith("You're welcome")


def test_what_is_this_about_gives_the_lead(conv):
    reply = conv.reply_to_non_question("What is this about?", DOCS)
    assert "Lee met Chinese Premier Li Qiang" in reply and "Share and Follow" not in reply
    assert "Hubble telescope was launched" in reply


@pytest.mark.parametrize("q", ["What did Xi say?", "Hi, what did Xi say?", "Thanks, but who met Lee?", "ok so who met Lee?"])
def test_real_questions_are_not_small_talk(conv, q):
    assert conv.reply_to_non_question(q, DOCS) is None


@pytest.mark.parametrize("q, message", [
    ("", "Please type a question"),
    ("   \n\t ", "Please type a question"),
    ("?!?...", "couldn't find any words"),
    ("\U0001f600\U0001f600", "couldn't find any words"),
    ("x" * 50_000, "50,000 characters"),
])
def test_bad_questions_get_a_message(q, message):
    assert message in check_question(clean_question(q), 2000)


@pytest.mark.parametrize("q", ["What did Xi say?", "Qu'a dit Xi ?", "习近平说了什么？", "Was sagte Xi? \U0001f914"])
def test_ordinary_and_foreign_questions_pass(q):
    assert check_question(clean_question(q), 2000) is None


def test_control_characters_are_removed():
    assert clean_question("What\x00 did\x1b Xi\u200b say?\r\n") == "What did Xi say?"


def test_lead_skips_short_lines():
    assert lead_of(DOCS[:1]).splitlines()[1].startswith("summit.txt: Lee met")


def test_a_bare_question_word_without_an_earlier_question_asks_for_the_whole_question(conv):
    assert "Ask the whole question" in conv.needs_context("Where?")
    assert conv.needs_context("Where did Lee meet Xi?") is None
    assert conv.rewrite("When?", [("hi", SMALL_TALK)]) == "When?"  # nothing to ask it of


# --- what the conversation remembers, and small talk at its edges -----------------------------

def test_answers_and_abstentions_are_remembered_and_only_the_last_turns():
    answer = said("Li Qiang")
    abstained = Answer(text="", score=0.1, abstained=True, kind="abstain")
    chatter = Answer(text="", score=0.0, abstained=True, kind="small_talk")
    problem = Answer(text="", score=0.0, abstained=True, kind="problem")
    history = remember([], "Who met Lee?", answer)
    history = remember(history, "hi", chatter)
    history = remember(history, "", problem)
    history = remember(history, "When?", abstained)
    assert [q for q, _ in history] == ["Who met Lee?", "When?"]
    for i in range(HISTORY_TURNS + 2):
        history = remember(history, f"q{i}", answer)
    assert [q for q, _ in history] == [f"q{i}" for i in range(2, HISTORY_TURNS + 2)]
    assert len(history) == HISTORY_TURNS == 3


def test_what_else_skips_the_last_answer_and_its_alternatives():
    alt = Answer(text="Beijing", score=0.5, abstained=False, doc_id="d", start=40, end=47)
    empty = Answer(text="", score=0.2, abstained=True, doc_id="d", start=0, end=0)
    last = Answer(text="Seoul", score=0.9, abstained=False, doc_id="d", start=10, end=15, alternatives=(alt, empty))
    history = [("Where did Lee go?", last)]
    for question in ("Where else did Lee go?", "Any other place?", "Another one?", "What besides Seoul?"):
        assert answers_to_skip(question, history) == [("d", 10, 15), ("d", 40, 47)], question
    assert answers_to_skip("Where did Xi go?", history) == []  # not a "what else"
    assert answers_to_skip("Where else?", []) == []
    assert answers_to_skip("Where else?", [("Where did Lee go?", "Seoul")]) == []  # a plain-text turn


def test_a_question_of_exactly_the_limit_passes_and_one_more_character_does_not():
    assert check_question("x" * 2000, 2000) is None
    assert check_question("x" * 2001, 2000) == "That question is 2,001 characters long; please ask in under 2,000 characters."
    assert check_question(None, 2000).startswith("Please type a question")  # type: ignore[arg-type]
    assert check_question("42", 2000) is None  # digits are words enough


def test_more_than_five_documents_are_summed_up(conv):
    docs = [Document(str(i), f"n{i}.txt", f"Note {i} says the harbour opened in spring.", "") for i in range(7)]
    reply = conv.reply_to_non_question("hello", docs)
    assert "I know 7 document(s): n0.txt (Note 0 says" in reply and reply.endswith("spring.) and 2 more.")
    assert "n4.txt" in reply and "n5.txt" not in reply
    lead = conv.reply_to_non_question("What is this about?", docs)
    assert lead.endswith("(and 2 more documents)") and lead.count("harbour") == 5


def test_with_no_documents_small_talk_says_to_add_some(conv):
    assert conv.reply_to_non_question("What is this about?", []) == "No documents are indexed yet: add some first."
    assert conv.reply_to_non_question("hi", []).endswith("No documents are indexed yet: add some first.")


def test_thanks_ending_in_a_question_mark_is_a_question(conv):
    assert conv.reply_to_non_question("ok, and who met Lee?", DOCS) is None
    assert conv.reply_to_non_question("great?", DOCS) is None


def test_the_lead_names_a_document_by_a_title_of_three_words_or_more():
    titled = Document("3", "hubble.md", "The Hubble telescope was launched in 1990 by NASA from Florida.", "Hubble Space Telescope")
    short = Document("4", "hubble2.md", "The Hubble telescope was launched in 1990 by NASA from Florida.", "Hubble")
    assert lead_of([titled]).splitlines()[1].startswith("Hubble Space Telescope: The Hubble")
    assert lead_of([short]).splitlines()[1].startswith("hubble2.md: The Hubble")
    assert lead_of([titled], sentences=1) == lead_of([titled])  # one long sentence either way


# --- small talk and the documents' lead, word for word ----------------------------------------

def test_a_greeting_names_each_document_and_its_title_only_when_it_says_more(conv):
    docs = [Document("1", "summit.txt", "Lee met Li Qiang in Beijing on Tuesday to talk.", "Summit in Beijing"),
            Document("2", "notes.md", "Lee met Li Qiang in Beijing on Tuesday to talk.", "notes.md"),  # title = name
            Document("3", "rows.csv", "a,b\n1,2", "")]  # a table: no title
    assert conv.reply_to_non_question("hello", docs) == (
        "Hello! Ask me a question about the documents and I'll answer with their exact words, show the passage "
        "and say where it comes from, or tell you when they don't say. "
        "I know 3 document(s): summit.txt (Summit in Beijing), notes.md, rows.csv.")


@pytest.mark.parametrize("count, more", [(5, ""), (6, " and 1 more"), (7, " and 2 more")])
def test_a_greeting_names_five_documents_and_counts_the_rest(conv, count, more):
    docs = [Document(str(i), f"n{i}.csv", "a,b", "") for i in range(count)]
    reply = conv.reply_to_non_question("thanks", docs)
    assert reply == f"You're welcome! Ask me anything else about the documents. I know {count} document(s): n0.csv, n1.csv, n2.csv, n3.csv, n4.csv{more}."


def test_text_without_letters_or_digits_gets_its_message():
    message = "I couldn't find any words in that. Ask a question about the documents, for example: What did Xi say?"
    assert check_question("?!? ... \U0001f914", 2000) == message


LEAD_TEXT = ("By Staff\n\nThe harbour opened in the spring of 1931. It has six short words here. "
             "Too short to count. The third long sentence is not in the lead.")


def test_the_lead_is_the_first_two_sentences_of_six_words_or_more_joined_by_one_space():
    doc = Document("1", "harbour.txt", LEAD_TEXT, "")
    assert lead_of([doc]) == ("The documents are about:\n"
                              "harbour.txt: The harbour opened in the spring of 1931. It has six short words here.")
    assert lead_of([doc], sentences=3).endswith("words here. The third long sentence is not in the lead.")


@pytest.mark.parametrize("count, last_line", [(5, "n4.txt: The harbour opened in the spring of 1931. It has six short words here."),
                                              (6, "(and 1 more documents)"), (7, "(and 2 more documents)")])
def test_the_lead_shows_five_documents_one_a_line_and_counts_the_rest(count, last_line):
    docs = [Document(str(i), f"n{i}.txt", LEAD_TEXT, "") for i in range(count)]
    lines = lead_of(docs).split("\n")
    assert lines[0] == "The documents are about:" and lines[-1] == last_line
    assert len(lines) == 1 + 5 + (count > 5)


def test_a_title_cut_short_with_an_ellipsis_is_not_repeated_before_the_text_it_begins():
    doc = Document("1", "harbour.txt", "The harbour opened in the spring of 1931 after years of work.", "The harbour opened in\u2026")
    assert lead_of([doc]).splitlines()[1] == "harbour.txt: The harbour opened in the spring of 1931 after years of work."
    other = Document("2", "h.txt", "The harbour opened in the spring of 1931 after years of work.", "\u2026A history of the harbour")
    assert lead_of([other]).splitlines()[1].startswith("\u2026A history of the harbour: The harbour")
    malcolm = Document("3", "m.txt", "Letters from Malcolm and his friends were read aloud at the meeting.", "Letters from Malcolm X")
    assert lead_of([malcolm]).splitlines()[1].startswith("Letters from Malcolm X: Letters from Malcolm and")
