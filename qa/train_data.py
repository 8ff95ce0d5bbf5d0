"""Training data for the reader: SQuAD examples, synthetic unanswerables, tokenised windows.

The training files hold no unanswerable questions, so some are made here, so that the
reader learns to say "not in this passage":

- *removed sentence*: the paragraph with the sentence holding the answer cut out, so the
  topic and the question's words remain but the answer is gone (close to how SQuAD 2.0's
  adversarial questions look);
- *other paragraph*: the question paired with another paragraph of the same article,
  which shares the topic but not the answer.

Either is kept only when no gold answer text is left in the new context.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from qa.squad import SquadExample, load_squad, normalize_answer

# Rough sentence ends: ., ! or ? (maybe closing a quote or bracket) then white space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, found with a light rule (no model)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _answer_left(example: SquadExample, context: str) -> bool:
    ctx = normalize_answer(context)
    return any(normalize_answer(t) and normalize_answer(t) in ctx for t, _ in example.answers)


def remove_answer_sentence(example: SquadExample) -> str | None:
    """The example's context without the sentence(s) holding its first answer, or None."""
    text, start = example.answers[0]
    end = start + len(text)
    spans = sentence_spans(example.context)
    kept = [(s, e) for s, e in spans if e <= start or s >= end]
    if len(kept) < 2 or len(kept) == len(spans):
        return None
    context = " ".join(example.context[s:e] for s, e in kept)
    return None if _answer_left(example, context) else context


def make_unanswerable(
    examples: Sequence[SquadExample], ratio: float, seed: int, removed_share: float = 0.67
) -> list[SquadExample]:
    """Synthetic unanswerable questions, about `ratio` of them per answerable example.

    Args:
        examples: Answerable training examples.
        ratio: Unanswerable examples to make per answerable one (0 makes none).
        seed: Seed of the random choices, so that the same call gives the same data.
        removed_share: Share of the *removed sentence* kind; the rest are *other paragraph*.

    Returns:
        New examples with no answers; their ids end in ``-noans``.
    """
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        if not by_title[ex.title] or by_title[ex.title][-1] != ex.context:
            by_title[ex.title].append(ex.context)
    made: list[SquadExample] = []
    for ex in examples:
        if not ex.answers or rng.random() >= ratio:
            continue
        context = None
        if rng.random() < removed_share:
            context = remove_answer_sentence(ex)
        if context is None:
            others = [c for c in by_title[ex.title] if c != ex.context]
            if others:
                candidate = rng.choice(others)
                if len(candidate) < 4000 and not _answer_left(ex, candidate):
                    context = candidate
        if context is not None:
            made.append(SquadExample(f"{ex.qid}-noans", ex.question, context, (), ex.title, ex.paragraph))
    return made


def load_training_examples(
    files: Sequence[str | Path], limits: dict[str, int] | None, seed: int
) -> list[SquadExample]:
    """Answerable examples from the training files, each file cut to its limit if one is given."""
    rng = random.Random(seed)
    out: list[SquadExample] = []
    for path in files:
        examples = [ex for ex in load_squad(path) if ex.answers]
        limit = (limits or {}).get(Path(path).stem)
        if limit is not None and limit < len(examples):
            examples = rng.sample(examples, limit)
        out.extend(crop_context(ex) for ex in examples)
    return out


@dataclass
class Feature:
    """One tokenised window of question + passage with its target span (0, 0 = no answer)."""

    input_ids: list[int]
    token_type_ids: list[int]
    start: int
    end: int


def tokenize_examples(
    examples: Sequence[SquadExample],
    tokenizer: Any,
    max_length: int,
    stride: int,
    max_question_tokens: int,
    seed: int,
    miss_keep: float = 0.25,
    batch: int = 512,
) -> list[Feature]:
    """Tokenise examples into training windows.

    An unanswerable question keeps all its windows (target: no answer). An answerable one
    keeps one window holding the whole answer (chosen at random where overlapping windows
    both do), and, with probability `miss_keep`, one window that misses the answer, as a
    no-answer example: enough to teach windows without the answer, without flooding the
    data with them.
    """
    rng = random.Random(seed)
    features: list[Feature] = []
    for lo in range(0, len(examples), batch):
        chunk = examples[lo : lo + batch]
        questions = [_clip_question(ex.question, tokenizer, max_question_tokens) for ex in chunk]
        enc = tokenizer(
            questions,
            [ex.context for ex in chunk],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        hits: dict[int, list[Feature]] = defaultdict(list)
        misses: dict[int, list[Feature]] = defaultdict(list)
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = chunk[sample]
            start, end = _token_span(enc, i, ex.answers[0]) if ex.answers else (0, 0)
            feat = Feature(enc["input_ids"][i], enc["token_type_ids"][i], start, end)
            (hits if start else misses)[sample].append(feat)
        for sample, ex in enumerate(chunk):
            if not ex.answers:
                features.extend(misses[sample])
                continue
            if hits[sample]:
                features.append(rng.choice(hits[sample]))
            if misses[sample] and rng.random() < miss_keep:
                features.append(rng.choice(misses[sample]))
    return features


def crop_context(example: SquadExample, max_chars: int = 4000) -> SquadExample:
    """A long context cut to about `max_chars` around the first answer, offsets shifted.

    Whole scientific papers (COVID-QA) would otherwise give dozens of windows per question,
    of which training keeps one or two.
    """
    if len(example.context) <= max_chars or not example.answers:
        return example
    text, start = example.answers[0]
    lo = max(0, start - max_chars // 2)
    lo = example.context.rfind(" ", 0, lo) + 1 if lo else 0
    hi = min(len(example.context), lo + max_chars)
    hi = max(hi, start + len(text))
    answers = tuple((t, s - lo) for t, s in example.answers if lo <= s and s + len(t) <= hi)
    return replace(example, context=example.context[lo:hi], answers=answers)


def _clip_question(question: str, tokenizer: Any, max_tokens: int) -> str:
    ids = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(ids["input_ids"]) <= max_tokens:
        return question
    return question[: ids["offset_mapping"][max_tokens - 1][1]]


def _token_span(enc: Any, i: int, answer: tuple[str, int]) -> tuple[int, int]:
    """Token start and end of the answer in window i, or (0, 0) when it is not wholly inside."""
    text, char_start = answer
    char_end = char_start + len(text)
    seq = enc.sequence_ids(i)
    offsets = enc["offset_mapping"][i]
    ctx = [t for t, s in enumerate(seq) if s == 1]
    if not ctx or offsets[ctx[0]][0] > char_start or offsets[ctx[-1]][1] < char_end:
        return 0, 0
    start = next(t for t in ctx if offsets[t][1] > char_start)
    end = next((t for t in reversed(ctx) if offsets[t][0] < char_end), start)
    return start, max(start, end)


def length_bucketed_batches(
    lengths: Sequence[int], batch_size: int, seed: int, pool: int = 50
) -> list[list[int]]:
    """Shuffled batches of indices in which examples have similar lengths.

    Indices are shuffled, cut into pools of `pool` batches, sorted by length inside each pool,
    cut into batches, and the batches shuffled again: little padding, still random order.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    size = batch_size * pool
    for lo in range(0, len(order), size):
        block = sorted(order[lo : lo + size], key=lambda i: lengths[i])
        batches.extend(block[j : j + batch_size] for j in range(0, len(block), batch_size))
    rng.shuffle(batches)
    return batches
