"""Passages keep exact offsets, respect their size, overlap, and lose nothing."""

import pytest
from hypothesis import given, settings, strategies as st

from qa.chunk import chunk_document, whitespace_counter
from qa.text import sentence_around, sentence_spans
from qa.types import Document, content_id
from tests.conftest import SEED


def doc(text: str) -> Document:
    return Document(content_id(text), "d.txt", text)


def covered(chunks, text):
    """Characters of non-space text that some passage covers."""
    seen = set()
    for c in chunks:
        seen.update(range(c.start, c.end))
    return all(i in seen for i, ch in enumerate(text) if not ch.isspace())


def test_seed_article_chunks_are_exact_slices_and_overlap():
    text = SEED.read_text()
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=60, overlap=15)
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert len(c.text.split()) <= 60
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))  # overlap exists
    assert covered(chunks, text)
    # Cuts fall on sentence boundaries.
    starts = {s for s, _ in sentence_spans(text)}
    assert all(c.start in starts for c in chunks)


def test_long_sentence_is_cut_by_tokens():
    text = " ".join(f"w{i}" for i in range(500)) + "."
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=100, overlap=0)
    assert len(chunks) == 5
    assert all(len(c.text.split()) <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_empty_document_gives_no_chunks():
    assert chunk_document(doc(""), whitespace_counter) == []
    assert chunk_document(doc("   \n\n "), whitespace_counter) == []


def test_chunk_ids_are_stable():
    text = SEED.read_text()
    a = chunk_document(doc(text), whitespace_counter, 50, 10)
    b = chunk_document(doc(text), whitespace_counter, 50, 10)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)


words = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=12)
sentences = st.builds(lambda ws, end: " ".join(ws) + end, st.lists(words, min_size=1, max_size=30), st.sampled_from([".", "!", "?", "", ".\n", "\n\n"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(sentences, max_size=25), st.integers(5, 80), st.integers(0, 30))
def test_property_offsets_inside_no_text_lost_no_duplicates(parts, max_tokens, overlap):
    overlap = min(overlap, max_tokens - 1)
    text = " ".join(parts)
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=max_tokens, overlap=overlap)
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.text
        assert len(whitespace_counter([c.text])[0]) <= max_tokens
    assert covered(chunks, text)
    assert len({(c.start, c.end) for c in chunks}) == len(chunks)  # no passage twice
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:]))  # always moves forward


def test_sentence_around_keeps_a_multi_sentence_quote_whole():
    text = 'Intro here. \u201cRoles of neighbors are necessary. We requested China to act,\u201d Lee said. Next one.'
    i = text.find("requested")
    s, e = sentence_around(text, i, i + 9)
    assert text[s:e] == '\u201cRoles of neighbors are necessary. We requested China to act,\u201d Lee said.'


def test_the_prefetched_counter_counts_a_new_text_once_and_a_known_one_never_again():
    from qa.chunk import prefetched_counter

    calls = []

    def count(texts):
        calls.append(list(texts))
        return whitespace_counter(texts)

    counter = prefetched_counter(count, [doc("One two. Three four five.")])
    assert calls == [["One two.", "Three four five."]]  # every sentence up front, in one call
    assert counter(["One two.", "six seven"]) == [[(0, 3), (4, 8)], [(0, 3), (4, 9)]]
    assert calls[1:] == [["six seven"]]  # only what was not known
    assert counter(["six seven", "Three four five."]) == [[(0, 3), (4, 9)], [(0, 5), (6, 10), (11, 16)]]
    assert len(calls) == 2


def _pieces(text, max_chars=20):
    return [c.text for c in chunk_document(doc(text), whitespace_counter, max_tokens=1000, overlap=0, max_chars=max_chars)]


def test_a_sentence_over_the_limit_is_cut_after_the_last_space_in_the_second_half_of_the_limit():
    # Spaces at 12 and 19: the cut is at the later one (a space right at the limit counts).
    assert _pieces("c" * 12 + " " + "c" * 6 + " " + "d" * 10) == ["c" * 12 + " " + "c" * 6, "d" * 10]
    assert _pieces("c" * 20 + " " + "d" * 5) == ["c" * 20, "d" * 5]


@pytest.mark.parametrize("text", [
    "ab " + "c" * 30,  # a space only in the first tenth
    "c" * 8 + " " + "c" * 20,  # a space before the second half
    "c" * 25 + " " + "d" * 5,  # a space only after the limit
])
def test_without_a_space_in_the_second_half_the_cut_is_hard_at_the_limit(text):
    pieces = _pieces(text)
    assert pieces[0] == text[:20] and all(len(p) <= 20 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")  # nothing lost


def test_a_sentence_of_exactly_the_limit_stays_whole_and_is_never_repeated_in_part():
    text = "Lee met Xi in Seoul. They spoke."  # the first sentence is exactly 20 characters
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=1000, overlap=2, max_chars=20)
    assert [c.text for c in chunks] == ["Lee met Xi in Seoul.", "They spoke."]


def _texts(text, **kw):
    return [c.text for c in chunk_document(doc(text), whitespace_counter, **kw)]


WEATHER = "Rain fell. Wind rose high. Boats left. Gulls cried loudly."  # 2, 3, 2 and 3 words


@pytest.mark.parametrize("overlap,second", [
    (5, "Boats left. Gulls cried loudly."),  # 5 words would fit the overlap, but then the next sentence would not fit
    (4, "Boats left. Gulls cried loudly."),
    (2, "Boats left. Gulls cried loudly."),  # exactly the overlap
    (1, "Gulls cried loudly."),  # no sentence is that short
    (0, "Gulls cried loudly."),
])
def test_the_overlap_repeats_the_trailing_sentences_that_fit_and_every_passage_moves_on(overlap, second):
    assert _texts(WEATHER, max_tokens=7, overlap=overlap) == ["Rain fell. Wind rose high. Boats left.", second]


def test_no_passage_only_repeats_part_of_the_one_before():
    chunks = chunk_document(doc(WEATHER + " Night came. Stars shone over the quiet harbour."), whitespace_counter, max_tokens=7, overlap=6)
    assert all(b.end > a.end for a, b in zip(chunks, chunks[1:]))
    assert covered(chunks, WEATHER)


def test_sentences_exactly_filling_the_character_limit_share_a_passage():
    assert _texts("Aa bb. Cc dd.", max_tokens=100, overlap=0, max_chars=13) == ["Aa bb. Cc dd."]
    assert _texts("Aa bb. Cc dd.", max_tokens=100, overlap=0, max_chars=12) == ["Aa bb.", "Cc dd."]


@pytest.mark.parametrize("kw,name", [({"max_tokens": 0}, "max_tokens"), ({"max_tokens": 5, "overlap": 5}, "overlap"),
                                     ({"max_chars": 0}, "max_chars")])
def test_impossible_passage_sizes_are_refused_by_name(kw, name):
    from qa.errors import SettingsError

    with pytest.raises(SettingsError, match=f"^{name} must be"):
        chunk_document(doc(WEATHER), whitespace_counter, **kw)


@settings(max_examples=150, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=12), st.integers(0, 40), st.integers(0, 30), st.integers(0, 40))
def test_property_passages_start_and_end_on_sentences_when_every_sentence_fits(parts, more_tokens, overlap, more_chars):
    # Only a sentence longer than a passage may be cut: with room for each sentence, every passage
    # (the overlap's step back included) begins where a sentence begins and ends where one ends.
    text = " ".join(parts)
    spans = sentence_spans(text)
    if not spans:
        return
    longest_tokens = max(len(whitespace_counter([text[s:e]])[0]) for s, e in spans)
    max_tokens = max(1, longest_tokens) + more_tokens
    max_chars = max(e - s for s, e in spans) + more_chars
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=max_tokens,
                            overlap=min(overlap, max_tokens - 1), max_chars=max_chars)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    for c in chunks:
        assert c.start in starts and c.end in ends, (c.text, spans)
        assert len(c.text) <= max_chars
    assert covered(chunks, text)


long_words = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=15), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(long_words, st.integers(4, 40))
def test_property_a_long_sentence_is_cut_at_the_last_space_in_the_second_half_of_the_limit(words, max_chars):
    text = " ".join(words)  # one sentence (no full stop), words one space apart
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=10_000, overlap=0, max_chars=max_chars)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")  # nothing lost
    for c, after in zip(chunks, chunks[1:]):
        assert len(c.text) <= max_chars and not c.text.endswith(" ")
        assert text[c.end : after.start].strip() == ""  # the next piece starts right after the cut
        limit = c.start + max_chars
        half = c.start + max_chars // 2
        if text[c.end : c.end + 1] == " ":
            # A cut at a space: the last one at or before the limit, in the limit's second half.
            assert half <= c.end <= limit and " " not in text[c.end + 1 : limit + 1]
        else:
            # A hard cut, only where the second half of the limit has no space.
            assert len(c.text) == max_chars and " " not in text[half : limit + 1]
    assert len(chunks[-1].text) <= max_chars


@pytest.mark.parametrize("gap", [1, 2, 3])
def test_the_spaces_before_a_cut_are_left_out_of_both_pieces(gap):
    # The cut is at the last space at or before the 20-character limit; the whole run of spaces
    # before it belongs to neither piece, whatever its length.
    text = "aaaa bbbbbbb" + " " * gap + "ccccccccc dd"
    assert _pieces(text) == ["aaaa bbbbbbb", "ccccccccc dd"]


@pytest.mark.parametrize("text", [
    "Abc de fg hi jk lmno.\nOk.",  # 21 characters, then a line break
    "Abc de fg hi jk lmnopqrstu vwx.\nOk then.\nFine.",  # line breaks well after the limit
])
def test_a_line_break_after_a_long_sentence_is_not_a_cut_point_inside_it(text):
    chunks = chunk_document(doc(text), whitespace_counter, max_tokens=1000, overlap=0, max_chars=20)
    assert all(len(c.text) <= 20 for c in chunks), [c.text for c in chunks]
    assert covered(chunks, text)


def test_sentences_of_one_word_count_one_word_piece_each():
    assert _texts("Yes. Sure. Maybe.", max_tokens=3, overlap=0) == ["Yes. Sure. Maybe."]
    assert _texts("Yes. Sure. Maybe.", max_tokens=2, overlap=0) == ["Yes. Sure.", "Maybe."]


def test_the_overlap_may_fill_the_next_passage_to_exactly_the_word_piece_limit():
    # 2 + 3 words, then 3 + 2, then 2 + 3: each step back fills the next passage exactly.
    assert _texts(WEATHER, max_tokens=5, overlap=3) == [
        "Rain fell. Wind rose high.", "Wind rose high. Boats left.", "Boats left. Gulls cried loudly."]


def test_the_default_passage_size_and_overlap_are_the_settings_defaults():
    from qa.config import Settings

    text = " ".join(f"Word{i}." for i in range(260))  # 260 one-word sentences
    chunks = chunk_document(doc(text), whitespace_counter)
    assert len(chunks[0].text.split()) == Settings().chunk_tokens
    assert chunks[1].text.split()[0] == f"Word{Settings().chunk_tokens - Settings().chunk_overlap}."


def test_a_one_character_limit_cuts_every_character():
    assert _texts("ab cd", max_tokens=10, overlap=0, max_chars=1) == ["a", "b", "c", "d"]


def test_word_pieces_are_counted_without_the_models_special_tokens(tiny_bert):
    from transformers import AutoTokenizer

    from qa.chunk import wordpiece_counter

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    count = wordpiece_counter(tok)
    texts = ["Lee met Xi in Beijing.", "Denuclearization"]
    offsets = count(texts)
    assert [len(o) for o in offsets] == [len(tok.tokenize(t)) for t in texts]
    assert all(e > s for o in offsets for s, e in o)  # no (0, 0) of a special token
    assert texts[0][slice(*offsets[0][0])] == "Lee"
    assert count([]) == []


def test_a_step_back_never_starts_a_passage_inside_a_sentence_of_exactly_the_limit():
    # The first sentence is exactly 20 characters and a tab (not a cut point) follows it: it must
    # stay one piece, so the overlap cannot repeat only its end before "Ok."
    text = "Abc de fg hi jk lmn.\tOk."
    assert sentence_spans(text) == [(0, 20), (21, 24)]
    assert _texts(text, max_tokens=1000, overlap=1, max_chars=20) == ["Abc de fg hi jk lmn.", "Ok."]


def test_the_overlap_may_fill_the_next_passage_to_exactly_the_character_limit():
    # "Dd ee. Ff gg hh iii." is exactly 20 characters: the repeated sentence still fits.
    text = "Aa bb cc. Dd ee. Ff gg hh iii."
    assert _texts(text, max_tokens=1000, overlap=5, max_chars=20) == ["Aa bb cc. Dd ee.", "Dd ee. Ff gg hh iii."]
    assert _texts(text, max_tokens=1000, overlap=5, max_chars=19) == ["Aa bb cc. Dd ee.", "Ff gg hh iii."]
