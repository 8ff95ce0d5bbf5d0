"""Bounded work: passages and answers have a size limit whatever the text looks like."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer import MAX_ANSWER_CHARS, shorten_answer
from qa.chunk import MAX_PASSAGE_CHARS, chunk_document, whitespace_counter
from qa.layout import shown_words
from qa.text import sentence_spans
from qa.types import Document, content_id


def chunks_of(text, max_chars=MAX_PASSAGE_CHARS):
    doc = Document(content_id(text), "x.txt", text)
    return doc, chunk_document(doc, whitespace_counter, 200, 40, max_chars)


def test_a_run_of_letters_without_spaces_is_cut_into_bounded_passages():
    doc, chunks = chunks_of("a" * 50_000)
    assert len(chunks) == 25 and max(len(c.text) for c in chunks) == MAX_PASSAGE_CHARS
    assert "".join(c.text for c in chunks) == doc.text  # nothing lost, nothing repeated


def test_a_long_sentence_with_spaces_is_cut_at_a_space():
    words = " ".join(f"word{i}" for i in range(3000))
    doc, chunks = chunks_of(words)
    assert all(len(c.text) <= MAX_PASSAGE_CHARS for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text and not c.text.startswith(" ") for c in chunks)
    ends = {c.text.split()[-1] for c in chunks}
    assert ends <= set(words.split())  # every cut is between words


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .\n"), min_size=1, max_size=400), st.integers(5, 60))
def test_passages_respect_the_character_bound_and_offsets(text, max_chars):
    doc, chunks = chunks_of(text, max_chars)
    for c in chunks:
        assert len(c.text) <= max_chars and doc.text[c.start : c.end] == c.text


def test_a_one_line_text_splits_like_the_same_text_with_line_breaks():
    one = " ".join(f"Sentence {i} is here." for i in range(2000))
    assert len(sentence_spans(one)) == len(sentence_spans(one.replace(". ", ".\n"))) == 2000


def test_a_long_answer_is_cut_at_a_word_boundary_with_an_ellipsis():
    long = " ".join(["harbour"] * 200)
    short = shorten_answer(long)
    assert len(short) <= MAX_ANSWER_CHARS and short.endswith("\u2026") and short[:-1].split() == ["harbour"] * len(short[:-1].split())
    assert shorten_answer("x" * 5000).endswith("\u2026") and len(shorten_answer("x" * 5000)) == MAX_ANSWER_CHARS
    assert shorten_answer("Paris") == "Paris"


def test_an_answer_read_from_a_huge_span_is_bounded_and_points_at_its_start():
    from qa.answer import assemble_answer
    from qa.calibration import Calibration
    from qa.types import Hit, Span

    doc, chunks = chunks_of("b" * 10_000)
    chunk = chunks[0]
    answer = assemble_answer("What?", [Hit(chunk, 1.0)], [Span(0, 0, len(chunk.text), chunk.text, 5.0)], Calibration())
    assert len(answer.text) <= MAX_ANSWER_CHARS and answer.text.endswith("\u2026")
    assert shown_words(doc.text[answer.start : answer.end]) == answer.text[:-1]
