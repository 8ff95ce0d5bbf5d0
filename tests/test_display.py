"""Readable answers: quotes end at sentence ends, wrapped lines are joined for display, and the
highlight stays on the answer's exact words (offsets into the stored text never change)."""

from qa.answer import place_in_documents
from qa.layout import shown_words
from qa.render import highlight, render_answer, render_documents
from qa.text import one_line, reflow, sentence_around
from qa.types import Answer, Document

# A PDF-like text: lines wrapped mid-sentence, paragraphs apart.
WRAPPED = (
    "Annual report\n\n"
    "The Larkspur Bridge was opened\nin 1931 by mayor Ada Quill, who\ncalled it a gift to the town. It has\n"
    "three arches.\n\nHistory\nThe first bridge was wooden."
)


def test_a_quote_runs_over_wrapped_lines_to_the_sentence_end():
    start = WRAPPED.index("1931")
    s, e = sentence_around(WRAPPED, start, start + 4)
    assert WRAPPED[s:e] == "The Larkspur Bridge was opened\nin 1931 by mayor Ada Quill, who\ncalled it a gift to the town."


def test_a_heading_line_is_not_joined_to_the_next_sentence():
    start = WRAPPED.index("wooden")
    s, e = sentence_around(WRAPPED, start, start + 6)
    assert WRAPPED[s:e] == "The first bridge was wooden."


def test_reflow_joins_wrapped_lines_and_keeps_paragraphs():
    assert reflow(WRAPPED).split("\n") == [
        "Annual report",
        "The Larkspur Bridge was opened in 1931 by mayor Ada Quill, who called it a gift to the town. It has three arches.",
        "History",
        "The first bridge was wooden.",
    ]
    assert one_line("a\n  b\tc ") == "a b c "


def test_highlight_marks_the_exact_words_after_reflowing():
    text = "opened\nin 1931 by\n   mayor Ada\nQuill, who"
    start = text.index("Ada")
    html = highlight(text, start, start + len("Ada\nQuill"), one_line)
    assert html.startswith("opened in 1931 by mayor <mark>Ada Quill</mark>")
    assert "<br>" not in html and "\n" not in html


def _answer(doc: Document, words: str, passage_end: int) -> Answer:
    start = doc.text.index(words)
    passage = doc.text[:passage_end]
    # The quote as assembled from a passage that ends mid-sentence.
    return Answer(text=words, score=0.9, abstained=False, source=doc.source, doc_id=doc.id, start=start,
                  end=start + len(words), passage=passage, passage_start=0, quote=passage[start - 4 :], quote_start=start - 4)


def test_quotes_come_from_the_document_so_they_end_at_the_sentence_end():
    doc = Document("d1", "bridge.pdf", WRAPPED, "Annual report")
    cut = WRAPPED.index("gift")  # the passage stops mid-sentence
    a = place_in_documents(_answer(doc, "Ada Quill", cut), {doc.id: doc})
    assert a.quote.endswith("gift to the town.") and a.quote.startswith("The Larkspur Bridge")
    assert doc.text[a.quote_start : a.quote_start + len(a.quote)] == a.quote
    assert shown_words(doc.text[a.start : a.end]) == a.text  # offsets unchanged
    assert a.title == "Annual report"


def test_rendered_answer_is_on_one_line_with_title_and_exact_offsets():
    doc = Document("d1", "bridge.pdf", WRAPPED, "Annual report")
    words = "Ada Quill, who\ncalled"
    a = place_in_documents(_answer(doc, words, len(WRAPPED)), {doc.id: doc})
    html = render_answer(a, "Who opened it?")
    assert "<strong>Ada Quill, who called</strong>" in html.replace("&#44;", ",")
    assert "opened in 1931" in html and "opened<br>" not in html
    assert "<code>bridge&#46;pdf</code> &#8212; Annual report" in html
    assert "Annual report, page 1 &#183;" in html  # a PDF answer names its page


def test_documents_panel_shows_titles_next_to_file_names_and_escapes_them():
    docs = [Document("1", "b.html", "x", "<b>Bridges</b>"), Document("2", "a.txt", "y", "")]
    html = render_documents(docs)
    assert html.index("a&#46;txt") < html.index("b&#46;html")  # sorted by name
    assert "&#60;b&#62;Bridges&#60;/b&#62;" in html and "<b>" not in html


def test_documents_indexed_before_titles_were_kept_show_their_first_line():
    old = Document("1", "000_1d6ad.txt", "Share and Follow\n\nThe summit in Beijing ended on Monday.", "")
    assert "&#8212; The summit in Beijing ended on Monday&#46;" in render_documents([old])
    a = Answer(text="Monday", score=0.9, abstained=False, source=old.source, doc_id="1",
               start=old.text.index("Monday"), end=old.text.index("Monday") + 6)
    assert place_in_documents(a, {"1": old}).title == "The summit in Beijing ended on Monday."
