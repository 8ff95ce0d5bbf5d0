"""Span decoding of the reader, on tiny models whose outputs the tests control."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require

torch = require("torch")

from qa.read import Reader, ReaderLoadError, ReaderSettings  # noqa: E402


class ScriptedReader(Reader):
    """A reader whose logits are set by word: `start_words` / `end_words` get high logits.

    The real tokenizer and the real decoding run; only the network is replaced, so that the
    expected answer is known exactly.
    """

    def __init__(self, path: Path, settings: ReaderSettings, start: dict[str, float], end: dict[str, float], null: float = 0.0):
        super().__init__(path, settings)
        self.start, self.end, self.null = start, end, null
        self.windows_seen: list[list[int]] = []  # every window, in passage order

    def _windows(self, items):  # type: ignore[override]
        windows = super()._windows(items)
        self.windows_seen.extend(w.fields["input_ids"] for w in windows)
        return windows

    def _forward(self, group):  # type: ignore[override]
        ids_of = self._tokenizer.convert_tokens_to_ids
        width = max(len(w.fields["input_ids"]) for w in group)
        s = torch.full((len(group), width), -5.0)
        e = torch.full((len(group), width), -5.0)
        for row, w in enumerate(group):
            ids = torch.tensor(w.fields["input_ids"])
            for word, value in self.start.items():
                s[row, : len(ids)][ids == ids_of(word)] = value
            for word, value in self.end.items():
                e[row, : len(ids)][ids == ids_of(word)] = value
            s[row, 0] = e[row, 0] = self.null / 2
        return s, e


def scripted(tiny_bert: Path, start: dict, end: dict, null: float = 0.0, **settings) -> ScriptedReader:
    return ScriptedReader(tiny_bert, ReaderSettings(**settings), start, end, null)


def test_offsets_point_at_the_answer_in_the_original_text(tiny_bert):
    passage = "The  capital of France is PARIS, a city on the Seine.  Lyon is second."
    reader = scripted(tiny_bert, {"paris": 5.0}, {"paris": 5.0})
    best = reader.read("What is the capital?", [passage])[0]
    assert passage[best.start : best.end] == best.text == "PARIS"
    assert best.passage == 0


def test_multi_word_span_and_score_against_no_answer(tiny_bert):
    passage = "He moved to New York City in 1990 and stayed."
    reader = scripted(tiny_bert, {"new": 4.0}, {"city": 3.0}, null=2.0)
    best = reader.read("Where did he move?", [passage])[0]
    assert best.text == "New York City"
    assert best.score == pytest.approx(4.0 + 3.0 - 2.0)


def test_long_passage_is_read_in_overlapping_windows(tiny_bert):
    filler = " ".join(f"word{i}" for i in range(300))
    passage = f"{filler} the treasure is buried under the old oak tree. {filler}"
    reader = scripted(tiny_bert, {"oak": 6.0}, {"tree": 6.0}, max_length=64, stride=16, max_question_tokens=8)
    best = reader.read("Where is the treasure?", [passage])[0]
    assert best.text == "oak tree"
    assert passage[best.start : best.end] == "oak tree"
    windows = reader.windows_seen
    assert len(windows) > 10
    # Consecutive windows of one passage share `stride` passage tokens.
    question_len = windows[0].index(102) + 1  # [CLS] question [SEP]
    first, second = windows[0][question_len:-1], windows[1][question_len:-1]
    assert first[-16:] == second[:16]


def test_answer_across_a_window_boundary_is_found_whole(tiny_bert):
    tok = Reader(tiny_bert).tokenizer
    question = "Who?"
    q_tokens = len(tok(question, add_special_tokens=False)["input_ids"])
    max_length, stride = 40, 10
    room = max_length - q_tokens - 3  # passage tokens per window
    # Put "alpha beta" so that "alpha" is the last passage token of the first window and
    # "beta" the first token after it: no single token-aligned cut holds both but the overlap.
    words = ["cat"] * (room - 1) + ["alpha", "beta"] + ["dog"] * 40  # one word piece each
    passage = " ".join(words)
    reader = scripted(tiny_bert, {"alpha": 5.0}, {"beta": 5.0}, max_length=max_length, stride=stride, max_question_tokens=8)
    best = reader.read(question, [passage])[0]
    first_window = reader.windows_seen[0]
    alpha, beta = tok.convert_tokens_to_ids(["alpha", "beta"])
    assert first_window[-2] == alpha and beta not in first_window  # the span is cut by window 1
    assert best.text == "alpha beta"
    assert passage[best.start : best.end] == "alpha beta"


def test_spans_longer_than_the_limit_are_not_proposed(tiny_bert):
    passage = "start " + " ".join(["x"] * 40) + " finish and then start here finish"
    reader = scripted(tiny_bert, {"start": 5.0}, {"finish": 5.0}, max_answer_tokens=10)
    spans = reader.read("q?", [passage])
    assert spans and all(len(reader.tokenizer(s.text, add_special_tokens=False)["input_ids"]) <= 10 for s in spans)
    assert spans[0].text == "start here finish"


def test_no_answer_wins_when_the_null_logit_is_highest(tiny_bert):
    reader = scripted(tiny_bert, {"paris": 1.0}, {"paris": 1.0}, null=8.0)
    best = reader.read("What is the capital?", ["Paris is large."])[0]
    assert best.score == pytest.approx(2.0 - 8.0)
    assert best.score < 0


def test_spans_compare_across_passages(tiny_bert):
    reader = scripted(tiny_bert, {"paris": 5.0, "lyon": 2.0}, {"paris": 5.0, "lyon": 2.0})
    spans = reader.read("q?", ["Lyon is a city.", "Paris is the capital."])
    assert (spans[0].passage, spans[0].text) == (1, "Paris")
    assert any(s.passage == 0 and s.text == "Lyon" for s in spans)


def test_empty_passage_or_question_gives_no_spans(tiny_bert):
    reader = scripted(tiny_bert, {"paris": 5.0}, {"paris": 5.0})
    assert reader.read("What is the capital?", ["", "   "]) == []
    assert reader.read("What is the capital?", []) == []
    assert reader.read("   ", ["Paris is the capital."]) == []


def test_a_huge_question_is_cut_not_refused(tiny_bert):
    reader = scripted(tiny_bert, {"paris": 5.0}, {"paris": 5.0})
    spans = reader.read("capital " * 25_000, ["Paris is the capital."])
    assert spans[0].text == "Paris"


def test_read_many_batches_questions_like_single_reads(tiny_bert):
    reader = scripted(tiny_bert, {"paris": 5.0, "rome": 4.0}, {"paris": 5.0, "rome": 4.0}, batch_size=3)
    items = [("a?", ["Paris here.", "Rome there."]), ("b?", ["Only Rome."]), ("c?", [""])]
    together = reader.read_many(items)
    alone = [reader.read(q, p) for q, p in items]
    assert together == alone
    assert together[2] == []


def test_random_tiny_bert_gives_spans_inside_the_passage(tiny_bert):
    reader = Reader(tiny_bert, ReaderSettings(max_length=48, stride=12, n_best=5, max_question_tokens=16))
    passage = "Marie Curie was born in Warsaw in 1867. She won two Nobel Prizes. " * 6
    spans = reader.read("Where was Marie Curie born?", [passage])
    assert spans
    for span in spans:
        assert 0 <= span.start < span.end <= len(passage)
        assert passage[span.start : span.end] == span.text
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ReaderLoadError, match="no reader model"):
        Reader(tmp_path / "nowhere").warm_up()


@pytest.mark.parametrize("bad", [{"max_length": 0}, {"stride": 500}, {"n_best": 0}])
def test_bad_settings_name_the_value(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        ReaderSettings(**bad)


class RandomLogitsReader(Reader):
    """Real tokenisation and decoding over random logits: any span may come out."""

    seed = 0

    def _forward(self, group):  # type: ignore[override]
        width = max(len(w.fields["input_ids"]) for w in group)
        gen = torch.Generator().manual_seed(self.seed)
        return torch.randn(len(group), width, generator=gen), torch.randn(len(group), width, generator=gen)


from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=400)


@hsettings(max_examples=60, deadline=None)
@given(passages=st.lists(_text, min_size=1, max_size=3), seed=st.integers(0, 10_000), max_length=st.integers(24, 80))
def test_property_spans_are_exact_slices_of_their_passage(tiny_bert, passages, seed, max_length):
    reader = RandomLogitsReader(tiny_bert, ReaderSettings(max_length=max_length, stride=4, max_question_tokens=8, n_best=5, max_answer_tokens=6))
    reader.seed = seed
    spans = reader.read("what is it?", passages)
    for span in spans:
        text = passages[span.passage]
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
        assert span.text.strip()
    keys = [(s.passage, s.start, s.end) for s in spans]
    assert len(keys) == len(set(keys))
    if not any(p.strip() for p in passages):
        assert spans == []


def test_an_answer_of_exactly_the_longest_length_is_proposed_and_one_more_is_not(tiny_bert):
    passage = "alpha start one two finish beta start one two three finish gamma"
    reader = scripted(tiny_bert, {"start": 5.0}, {"finish": 5.0}, max_answer_tokens=4)
    texts = [s.text for s in reader.read("q?", [passage])]
    assert "start one two finish" in texts  # 4 word pieces
    assert "start one two three finish" not in texts  # 5


def test_a_long_question_is_cut_to_the_token_limit(tiny_bert):
    from qa.read import clip_question as _clip_question

    tok = scripted(tiny_bert, {}, {}).tokenizer
    words = "one two three four five six seven eight nine ten"
    assert _clip_question(words, tok, 5) == "one two three four five"
    assert _clip_question(words, tok, 10) == words
    assert _clip_question(words, tok, 9) == "one two three four five six seven eight nine"


def test_reading_many_questions_together_gives_each_its_own_reading(tiny_bert):
    # Windows of all questions are sorted by length for the forward passes; the spans must still
    # go to their own question and passage, as when each question is read alone.
    reader = Reader(tiny_bert, ReaderSettings(max_length=64, stride=8, max_question_tokens=8, batch_size=3))
    long = " ".join(f"word{i}" for i in range(120))
    items = [("Who came?", ["Ann came at noon.", long]), ("Where?", [long + " in Oslo"]), ("When?", ["At dawn."])]
    together = reader.read_many(items)
    for (question, passages), spans in zip(items, together):
        alone = reader.read(question, passages)
        assert [(s.passage, s.start, s.end, s.text) for s in spans] == [(s.passage, s.start, s.end, s.text) for s in alone]
        assert [s.score for s in spans] == pytest.approx([s.score for s in alone], abs=1e-3)


def test_a_reader_on_the_auto_device_chooses_it_when_it_loads(tiny_bert):
    import torch

    reader = Reader(tiny_bert, device="auto")
    assert reader.device == "auto" and not reader.loaded
    reader.warm_up()
    assert reader.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert reader.read("Where is it?", ["It is in Paris."]) is not None
