"""Summaries ("Summarize X", "What is X about?") and questions limited to chosen documents."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qa.layout import shown_words
from qa.summary import document_named, summary_request
from qa.types import Document

PUMPS = ("# Pump care\nThe harbour pumps were installed in 1998 by the port authority. Each pump must be oiled every forty hours of running. "
         "A pump that runs dry for more than ten minutes is damaged beyond repair. Spare seals are kept in the store room beside the crane.\n")
BIRDS = ("Curlews nest on the salt marsh every spring from April onwards. The marsh wardens count the nests in the first week of May. "
         "Last year they counted fifty-seven curlew nests on the marsh. Redshanks nest on the same marsh in smaller numbers.\n")


@pytest.mark.parametrize("question,subject", [
    ("Summarize pumps.md", "pumps.md"), ("summarise the pump notes.", "the pump notes"),
    ("What is birds.txt about?", "birds.txt"), ("Give me a summary of the marsh", "the marsh"),
    ("What is this about?", None), ("What did the warden count?", None), ("Summarize it", None),
])
def test_summary_questions_are_recognised(question, subject):
    request = summary_request(question)
    assert (request.subject if request else None) == subject


def test_a_document_is_named_by_file_name_stem_or_title():
    docs = [Document("1", "pumps.md", PUMPS, "Pump care"), Document("2", "birds.txt", BIRDS, "")]
    assert document_named(docs, "pumps").id == "1" and document_named(docs, "Pump care").id == "1"
    assert document_named(docs, "the birds.txt").id == "2" and document_named(docs, "tides") is None


@pytest.fixture
def two_docs(tmp_path, make_bot):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pumps.md").write_text(PUMPS)
    (folder / "birds.txt").write_text(BIRDS)
    bot = make_bot()
    bot.add_paths([folder])
    return bot


def test_a_document_summary_is_its_own_sentences_in_order_each_cited(two_docs):
    a = two_docs.ask("Summarize pumps.md")
    assert a.kind == "summary" and not a.abstained and 1 <= len(a.alternatives) <= 3
    doc = next(d for d in two_docs.documents() if d.source == "pumps.md")
    starts = [s.start for s in a.alternatives]
    assert starts == sorted(starts)  # in the document's order
    for s in a.alternatives:
        assert s.source == "pumps.md" and s.section == "Pump care" and s.line == 2
        assert shown_words(doc.text[s.start : s.end]) == s.text and not s.text.startswith("#")


def test_a_topic_summary_stays_in_the_chosen_documents(two_docs):
    a = two_docs.ask("Summarize the nests", scope=["birds.txt"])
    assert a.kind == "summary" and {s.source for s in a.alternatives} == {"birds.txt"}


def test_scope_limits_where_answers_come_from(two_docs):
    ids = {d.source: d.id for d in two_docs.documents()}
    for name in ("birds.txt", "pumps.md"):
        reading = two_docs.candidates("When were the pumps installed?", only={ids[name]})
        assert reading.hits and {h.chunk.source for h in reading.hits} == {name}  # passages of that document only
        a = two_docs.ask("When were the pumps installed?", scope=[name])
        assert a.abstained or a.source == name
    wrong = two_docs.ask("When were the pumps installed?", scope=["tides.pdf"])
    assert wrong.kind == "problem" and "No document named tides.pdf" in wrong.message and "birds.txt" in wrong.message


def test_the_command_line_scope_and_summary(tmp_path):
    from tests.conftest import HashEmbedder

    from qa.cli import cli

    (tmp_path / "pumps.md").write_text(PUMPS)
    (tmp_path / "birds.txt").write_text(BIRDS)
    runner, index = CliRunner(), str(tmp_path / "index")
    parts = {"embedder": HashEmbedder()}
    assert runner.invoke(cli, ["--index", index, "index", str(tmp_path / "pumps.md"), str(tmp_path / "birds.txt")], obj={"parts": parts}).exit_code == 0
    bad = runner.invoke(cli, ["--index", index, "ask", "--doc", "nope.txt", "Who counts nests?"], obj={"parts": parts})
    assert bad.exit_code == 1 and "no document named nope.txt" in bad.output
    summary = runner.invoke(cli, ["--index", index, "ask", "--doc", "birds.txt", "Summarize the marsh"], obj={"parts": parts})
    assert summary.exit_code == 0 and "the most central sentences" in summary.output
    assert "source: birds.txt, line 1" in summary.output and "pumps.md" not in summary.output
