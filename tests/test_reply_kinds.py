"""Typed replies: what a reply is comes from `Answer.kind`, never from its wording, and the page,
the terminal and the follow-up resolver keep the same history."""

import pytest
from click.testing import CliRunner

import qa.cli
from qa.config import Settings
from qa.conversation import HISTORY_TURNS, remember
from qa.render import render_answer
from qa.types import Answer


def reply(kind, message="", text=""):
    return Answer(text=text, score=0.5, abstained=kind != "answer", message=message, kind=kind)


def test_kind_defaults_from_abstained_and_rejects_nonsense():
    assert Answer(text="x", score=0.9, abstained=False).kind == "answer"
    assert Answer(text="", score=0.1, abstained=True).kind == "abstain"
    with pytest.raises(ValueError, match="kind must be one of"):
        Answer(text="", score=0.0, abstained=True, kind="greeting")
    with pytest.raises(ValueError, match="cannot have abstained"):
        Answer(text="x", score=0.9, abstained=True, kind="answer")


def test_history_keeps_answers_and_abstentions_only_and_at_most_the_shared_length():
    turns = remember([], "hello", reply("small_talk", "Hello!"))
    turns = remember(turns, "", reply("problem", "Please type a question"))
    assert turns == []
    turns = remember(turns, "Who?", reply("abstain", "Something else entirely"))
    assert [q for q, _ in turns] == ["Who?"]
    for i in range(HISTORY_TURNS + 2):
        turns = remember(turns, f"q{i}", reply("answer", text=f"a{i}"))
    assert len(turns) == HISTORY_TURNS and turns[-1][0] == f"q{HISTORY_TURNS + 1}"


def test_page_styles_a_reply_by_its_kind_not_its_wording():
    # Small talk that happens to start like an abstention is still a note, and an abstention
    # worded otherwise is still an abstention.
    assert 'class="qa-note"' in render_answer(reply("small_talk", "The documents don't say hello, but I do."))
    assert 'class="qa-abstain"' in render_answer(reply("abstain", "Nothing about that here."))
    assert 'class="qa-note"' in render_answer(reply("problem", "That question is too long."))


def test_chatbot_types_its_replies(make_bot):
    bot = make_bot()
    assert bot.ask("").kind == "problem"
    assert bot.ask("!!!").kind == "problem"
    assert bot.ask("hello").kind == "small_talk"
    assert bot.ask("thanks").kind == "small_talk"
    assert bot.ask("Who opened the bridge?").kind == "abstain"  # nothing indexed


class RecordingBot:
    """Answers by a fixed rule and records the history each question was asked with."""

    def __init__(self):
        self.histories = []
        self.settings = Settings(uploads=False)

    def documents(self):
        return []

    def warm_up(self):
        pass

    def ask(self, question, history=(), scope=()):
        self.histories.append([q for q, _ in history])
        if question == "hello":
            return reply("small_talk", "Please ask me something")  # worded like a problem message
        return Answer(text=f"answer to {question}", score=0.9, abstained=False, question=question, quote="q")


def test_terminal_chat_keeps_the_same_history_as_the_page(monkeypatch):
    bot = RecordingBot()
    monkeypatch.setattr(qa.cli, "_bot", lambda ctx: bot)
    questions = ["Who?", "hello", "Where?", "When?", "Why?", "How?"]
    result = CliRunner().invoke(qa.cli.cli, ["chat"], input="\n".join(questions) + "\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert bot.histories[1] == ["Who?"] and bot.histories[2] == ["Who?"]  # the greeting is not a turn
    assert bot.histories[-1] == ["Where?", "When?", "Why?"][-HISTORY_TURNS:]


def test_the_page_keeps_the_same_history_as_the_terminal():
    from qa.app import build_app

    bot = RecordingBot()
    demo = build_app(bot)
    ask = next(f.fn for f in demo.fns.values() if f.name == "ask")
    chat, turns = [], []
    for question in ["Who?", "hello", "Where?", "When?", "Why?", "How?"]:
        *_, (_, chat, turns) = ask(question, chat, turns)  # a generator: a loading note may come first
    assert bot.histories[1] == ["Who?"] and bot.histories[2] == ["Who?"]
    assert bot.histories[-1] == ["Where?", "When?", "Why?"][-HISTORY_TURNS:]
    assert len(chat) == 12 and "Please ask me something" in chat[3]["content"]
