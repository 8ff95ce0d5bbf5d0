"""Citations a user can check: the page of a PDF, the section and line of other files, and
quotes that are whole sentences without markup."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from tests.office_files import write_pdf

from qa.answer import place_in_documents
from qa.ingest import load_file
from qa.layout import Place, is_heading_line, place_of, plain, section_at, shown_words
from qa.render import render_answer
from qa.text import quote_bounds
from qa.types import Answer, Document


def _answer_at(doc: Document, words: str) -> Answer:
    start = doc.text.index(words)
    return Answer(text=shown_words(words), score=0.9, abstained=False, source=doc.source, doc_id=doc.id,
                  start=start, end=start + len(words), passage=doc.text, passage_start=0, quote=words, quote_start=start)


def test_a_pdf_answer_names_its_page(tmp_path):
    doc = load_file(write_pdf(tmp_path / "manual.pdf", ["Chapter one is short.", None, "The pump needs oil every 40 hours."]))
    assert doc.text.count("\f") == 2  # page breaks kept, an empty page counted
    a = place_in_documents(_answer_at(doc, "every 40 hours"), {doc.id: doc})
    assert (a.page, a.line) == (3, 0)
    assert ", page 3 &#183; confidence" in render_answer(a)


def test_markdown_answers_name_their_section_and_line():
    text = "# Guide\nIntro text here.\n\n## Setup\nInstall the pump first.\n\n## Care\nOil it every week.\n"
    doc = Document("d", "guide.md", text, "Guide")
    assert place_of(doc, text.index("Oil")) == Place(page=0, section="Care", line=8)
    assert place_of(doc, text.index("Install")).describe() == "line 5, under \u2018Setup\u2019"
    assert place_of(Document("t", "notes.txt", text), text.index("Oil")).section == ""  # "#" in a .txt is not a heading


def test_a_quote_is_never_a_bare_heading():
    text = "Intro.\n\nGREP_COLORS\nThis variable sets the colours of matches.\n"
    start = text.index("GREP_COLORS")
    lo, hi = quote_bounds(text, start, start + len("GREP_COLORS"))
    assert text[lo:hi] == "GREP_COLORS\nThis variable sets the colours of matches."
    md = "## Rehearsals\nThe choir meets on Thursdays.\n"
    lo, hi = quote_bounds(md, 3, 13)
    assert md[lo:hi].endswith("Thursdays.")


def test_a_sentence_that_leans_on_the_one_before_is_quoted_with_it():
    text = "A user named daemon was created by the installer. It had uid 37. Later it was removed."
    start = text.index("37")
    lo, hi = quote_bounds(text, start, start + 2)
    assert text[lo:hi] == "A user named daemon was created by the installer. It had uid 37."
    plain_sentence = "The mill opened in 1820. Water from the river drove its wheel."
    s = plain_sentence.index("Water")
    assert plain_sentence[slice(*quote_bounds(plain_sentence, s, s + 5))] == "Water from the river drove its wheel."


def test_markup_and_layout_whitespace_are_not_shown():
    assert plain("## Setup\nUse **bold** and `code`.") == "Setup\nUse bold and code."
    assert shown_words("line one\nwrapped  here") == "line one wrapped here"
    text = "# Notes\nThe **pump** needs oil\nevery week."
    doc = Document("m", "n.md", text, "Notes")
    a = place_in_documents(_answer_at(doc, "**pump** needs oil\nevery week"), {doc.id: doc})
    html = render_answer(a)
    assert "&#42;&#42;" not in html and "&#35;" not in html  # no ** or # shown
    assert "<strong>pump needs oil every week</strong>" in html


@pytest.mark.slow  # reads with the shipped fast reader
def test_json_answers_have_the_documents_words_without_line_wraps(tmp_path):
    from tests.conftest import HashEmbedder

    from qa.cli import cli

    note = tmp_path / "pump.md"
    note.write_text("# Care\nThe pump must be oiled every forty\nhours of running.\n")
    runner = CliRunner()
    index = str(tmp_path / "index")
    parts = {"embedder": HashEmbedder()}
    assert runner.invoke(cli, ["--index", index, "index", str(note)], obj={"parts": parts}).exit_code == 0
    result = runner.invoke(cli, ["--index", index, "ask", "--json", "How often must the pump be oiled?"], obj={"parts": parts})
    assert result.exit_code == 0, result.output
    a = json.loads(result.output[result.output.index("{"):])
    assert not a["abstained"] and "forty hours" in a["text"]  # the line wrap inside the answer is a space
    assert "\n" not in a["text"] and a["section"] == "Care" and a["line"] == 2


# --- the places themselves, offset by offset --------------------------------------------------


def test_places_are_described_as_a_reader_checks_them():
    assert Place(page=7, section="Options", line=0).describe() == "page 7, under \u2018Options\u2019"
    assert Place(line=12, section="Setup").describe() == "line 12, under \u2018Setup\u2019"
    assert Place(line=3).describe() == "line 3"
    assert Place(page=2, line=9).describe() == "page 2"  # a page wins over a line
    assert Place().describe() == ""


def test_pages_count_form_feeds_and_clamp_offsets():
    doc = Document("d", "manual.PDF", "one\n\f\ntwo\n\f\nthree")
    assert [place_of(doc, doc.text.index(w)).page for w in ("one", "two", "three")] == [1, 2, 3]
    assert place_of(doc, -5) == Place(page=1, section="", line=0)
    assert place_of(doc, 10**6).page == 3
    assert place_of(doc, doc.text.index("two")).line == 0  # a paged document is cited by page


def test_lines_count_from_one_and_sections_only_for_headed_kinds():
    text = "# Intro\nfirst\n## Setup ##\nsecond\n"
    md = Document("m", "notes.md", text)
    at = text.index("second")
    assert place_of(md, at) == Place(page=0, section="Setup", line=4)
    assert place_of(md, 0) == Place(page=0, section="", line=1)
    txt = Document("t", "notes.txt", text)  # in plain text a "#" line may be anything
    assert place_of(txt, at) == Place(page=0, section="", line=4)


@pytest.mark.parametrize("text, section", [
    ("# A\nx\n### B\ny", "B"),
    ("####### Seven\ny", ""),  # not a heading: at most six marks
    ("#NoSpace\ny", ""),
    ("text # not at the start\ny", ""),
    ("###### Six\t\ny", "Six"),
    ("# A\n\n#  \ny", "A"),  # a bare mark line names nothing
])
def test_which_lines_are_headings(text, section):
    assert section_at(text, text.index("y")) == section


def test_a_heading_after_the_offset_does_not_count():
    text = "# First\nbody\n# Second\n"
    assert section_at(text, text.index("body")) == "First"
    assert section_at(text, 0) == ""


@pytest.mark.parametrize("text, target, heading", [
    ("Intro\nLee met Xi.", "Intro", True),  # short, alone on its line, no end punctuation
    ("# Talks in Beijing\nbody", "# Talks in Beijing", True),
    ("Lee met Xi.\nnext", "Lee met Xi.", False),  # a sentence
    ("one two three four five six seven eight\nx", "one two three four five six seven eight", True),
    ("one two three four five six seven eight nine\nx", "one two three four five six seven eight nine", False),
    ("Intro and more on the same line", "Intro", False),  # not alone on its line
    ("Before Intro\nx", "Intro", False),
    ("Questions:\nx", "Questions:", False),
    ("“Quoted”\nx", "“Quoted”", False),
    ("Two\nlines\nx", "Two\nlines", False),
    ("a b.\nc d.\nIntro\nx", "Intro", True),  # on a later line
    ("Before\nA Intro\nx", "Intro", False),  # one letter before it on its line
    ("Top\nIntro and more\nx", "Intro", False),  # words after it on a later line
    ("Top\nIntro:", "Intro", False),  # one character after it on the last line
    ("Top\nAppendix X", "Appendix X", True),  # ends with a capital X
    ("# What happened in Beijing on Monday and after the talks?\nx",
     "# What happened in Beijing on Monday and after the talks?", True),  # "#" led: a heading, however long
])
def test_what_reads_as_a_heading_line(text, target, heading):
    start = text.index(target)
    assert is_heading_line(text, start, start + len(target)) is heading


def test_a_blank_line_is_no_heading_and_lines_count_a_leading_line_break():
    assert is_heading_line("a\n  \nb", 2, 4) is False
    doc = Document("n", "notes.md", "\nFirst line\nSecond")
    assert place_of(doc, 0).line == 1 and place_of(doc, doc.text.index("Second")).line == 3


def test_markup_is_left_out_of_what_is_shown():
    assert plain("## Setup\nUse **bold** and `code` and __this__.") == "Setup\nUse bold and code and this."
    assert plain("a # not a heading") == "a # not a heading"
    assert shown_words("  Lee\n met \t**Xi**  ") == "Lee met Xi"
