"""What the chat page shows: escaping, the highlight, and the answer's HTML, exactly."""

from __future__ import annotations

import pytest

from qa.render import escape, highlight, render_answer, render_documents
from qa.types import Answer, Document

# Characters HTML or Markdown (or the page's LaTeX) would act on, each with its entity.
SPECIAL = "&<>\"'\\`*_{}[]()#+-.!|~$:=@"


@pytest.mark.parametrize("char", list(SPECIAL))
def test_every_markup_character_becomes_its_numeric_entity(char):
    assert escape(char) == f"&#{ord(char)};"
    assert escape(f"a{char}b") == f"a&#{ord(char)};b"


@pytest.mark.parametrize("payload, shown", [
    ("<script>alert('x')</script>", "&#60;script&#62;alert&#40;&#39;x&#39;&#41;&#60;/script&#62;"),
    ('<img src=x onerror="steal()">', "&#60;img src&#61;x onerror&#61;&#34;steal&#40;&#41;&#34;&#62;"),
    ("[click](javascript:alert(1))", "&#91;click&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;"),
    ("**bold** and _em_", "&#42;&#42;bold&#42;&#42; and &#95;em&#95;"),
    ("# Heading", "&#35; Heading"),
    ("`code` | table |", "&#96;code&#96; &#124; table &#124;"),
    ("$x^2$ ~~gone~~", "&#36;x^2&#36; &#126;&#126;gone&#126;&#126;"),
    ("![img](http://x/y.png)", "&#33;&#91;img&#93;&#40;http&#58;//x/y&#46;png&#41;"),
    ("a &amp; b", "a &#38;amp; b"),
    ("Plain words, digits 123 and caf\u00e9 \u4e2d\u6587", "Plain words, digits 123 and caf\u00e9 \u4e2d\u6587"),
])
def test_html_and_markdown_payloads_are_shown_as_text(payload, shown):
    assert escape(payload) == shown


def test_line_breaks_are_kept_and_carriage_returns_dropped():
    assert escape("one\ntwo\r\nthree") == "one<br>two<br>three"


def test_highlight_marks_exactly_the_given_characters():
    assert highlight("Paris is <big>.", 9, 14) == "Paris is <mark>&#60;big&#62;</mark>&#46;"
    assert highlight("abc", 0, 1) == "<mark>a</mark>bc"
    assert highlight("abc", 2, 3) == "ab<mark>c</mark>"
    assert highlight("abc", 1, 1) == "a<mark></mark>bc"


def test_highlight_clamps_offsets_outside_the_text():
    assert highlight("abc", -2, 10) == "<mark>abc</mark>"
    assert highlight("abc", -1, 2) == "<mark>ab</mark>c"


DOC = "Intro line. The <b>key</b> is *gold* [x](javascript:y). End."
QUOTE_START = DOC.index("The")
GOLD = DOC.index("*gold*")


def answer(**changes) -> Answer:
    fields = dict(
        text="*gold*", score=0.571, abstained=False, source="notes_<1>.md", doc_id="d", start=GOLD, end=GOLD + 6,
        passage=DOC[6:], passage_start=6, quote=DOC[QUOTE_START : DOC.index(" End")], quote_start=QUOTE_START,
        question="What is the key?",
    )
    return Answer(**{**fields, **changes})


ONE = (
    '<div class="qa-answer"><p><strong>&#42;gold&#42;</strong></p>'
    "<blockquote>The &#60;b&#62;key&#60;/b&#62; is <mark>&#42;gold&#42;</mark> &#91;x&#93;&#40;javascript&#58;y&#41;&#46;</blockquote>"
    '<p class="qa-source"><small>Source: <code>notes&#95;&#60;1&#62;&#46;md</code> &#183; confidence 57%</small></p>'
    "<details><summary>Passage</summary><p>line&#46; The &#60;b&#62;key&#60;/b&#62; is <mark>&#42;gold&#42;</mark> "
    "&#91;x&#93;&#40;javascript&#58;y&#41;&#46; End&#46;</p></details>"
    '<p class="qa-open"><small><a href="/document/d?start=30&end=36#answer" target="_blank">Open the document at this answer</a></small></p></div>'
)


def test_one_answer_exactly():
    assert render_answer(answer(), "What is the  key?") == ONE
    assert render_answer(answer()) == ONE


def test_a_rewritten_question_is_shown_escaped():
    shown = render_answer(answer(question="What is <the> key?"), "what is it")
    assert shown == '<p class="qa-understood"><em>Understood as: What is &#60;the&#62; key?</em></p>\n' + ONE


def test_alternatives_are_numbered_best_first():
    other = answer(text="key", start=DOC.index("key"), end=DOC.index("key") + 3, score=0.4, source="b.md")
    shown = render_answer(answer(alternatives=(other,)))
    lines = shown.split("\n")
    assert lines[0] == "<p>I found 2 answers, best first:</p>"
    assert lines[1] == ONE.replace("<p><strong>", "<p>1. <strong>")
    assert lines[2].startswith('<div class="qa-answer"><p>2. <em class="qa-unsure">Not sure&#58; </em><strong>key</strong></p><blockquote>The &#60;b&#62;<mark>key</mark>&#60;/b&#62;')
    assert "Source: <code>b&#46;md</code> &#183; confidence 40%" in lines[2]
    assert len(lines) == 3


def test_abstention_and_notes_show_only_the_message():
    no = render_answer(Answer(text="", score=0.2, abstained=True, question="Who?", message="The documents don't say."), "Who?")
    assert no == '<p class="qa-abstain">The documents don&#39;t say&#46;</p>'
    note = render_answer(Answer(text="", score=0.0, abstained=True, question="hi", message="Hello <you>!\nAsk away.", kind="small_talk"), "hi")
    assert note == '<p class="qa-note">Hello &#60;you&#62;&#33;<br>Ask away&#46;</p>'
    rewritten = render_answer(Answer(text="", score=0.0, abstained=True, question="Who is X?", message="The documents don't say."), "who is he")
    assert rewritten == (
        '<p class="qa-understood"><em>Understood as: Who is X?</em></p>\n<p class="qa-abstain">The documents don&#39;t say&#46;</p>'
    )


def test_document_list_is_escaped():
    docs = [Document("1", "a_<b>.txt", "text", "A *title*"), Document("2", "plain.txt", "text", "plain.txt"), Document("3", "c.md", "t")]
    assert render_documents(docs) == (
        "<p>3 document(s):</p><ul><li><code>a&#95;&#60;b&#62;&#46;txt</code> &#8212; A &#42;title&#42;</li>"
        "<li><code>c&#46;md</code></li><li><code>plain&#46;txt</code></li></ul>"  # sorted by file name
    )
    assert render_documents([]) == "<p>No documents yet. Upload some below.</p>"


def test_a_message_never_hides_an_answer():
    assert render_answer(answer(message="A note.")) == ONE
