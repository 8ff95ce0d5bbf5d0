"""Training data for the reader: SQuAD examples, synthetic unanswerables, tokenised windows.

The training files hold no unanswerable questions, so some are made here, so that the
reader learns to say "not in this passage":

- *removed sentence*: the paragraph with the sentence holding the answer cut out, so the
  topic and the question's words remain but the answer is gone;
- *other paragraph*: the question paired with another paragraph of the same article,
  which shares the topic but not the answer;
- *edited question*, as the crowd workers of SQuAD 2.0 wrote theirs: the paragraph is
  kept, with its plausible answer, but the question is changed so that the paragraph no
  longer answers it: a name, year or number swapped for one the paragraph never mentions
  (*entity swap*), a word swapped for its antonym the paragraph never uses (*antonym*), or
  a "not" added after the auxiliary verb (*negation*).

The first two are kept only when no gold answer text is left in the new context.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from qa.eval.squad import SquadExample, load_squad, normalize_answer
from qa.read import ReaderSettings, clip_question, encode_windows
from qa.text import sentence_spans


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
    examples: Sequence[SquadExample], ratio: float, seed: int, removed_share: float = 0.67, edit_share: float = 0.0
) -> list[SquadExample]:
    """Synthetic unanswerable questions, about `ratio` of them per answerable example.

    Args:
        examples: Answerable training examples.
        ratio: Unanswerable examples to make per answerable one (0 makes none).
        seed: Seed of the random choices, so that the same call gives the same data.
        removed_share: Of the paragraph-changing kinds, the share of *removed sentence*; the
            rest are *other paragraph*.
        edit_share: Share made by editing the question instead (0 draws no extra random
            numbers, so older recipes give the same data).

    Returns:
        New examples with no answers; their ids end in ``-noans``.
    """
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        if not by_title[ex.title] or by_title[ex.title][-1] != ex.context:
            by_title[ex.title].append(ex.context)
    pools = _entity_pools(examples) if edit_share else {}
    made: list[SquadExample] = []
    for ex in examples:
        if not ex.answers or rng.random() >= ratio:
            continue
        if edit_share and rng.random() < edit_share:
            question = edit_question(ex.question, ex.context, rng, pools)
            if question is not None:
                made.append(SquadExample(f"{ex.qid}-noans", question, ex.context, (), ex.title, ex.paragraph))
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


# Named things and numbers, found with light rules (no model): capitalised runs of 1-3 words,
# years, other numbers.
_KINDS = {
    "year": re.compile(r"\b(?:1[5-9]\d\d|20[0-4]\d)\b"),
    "number": re.compile(r"\b\d+(?:[.,]\d+)?\b"),
    "name": re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+){0,2}\b"),
}
# In running text, a capitalised word after a lower-case word or a comma is a name, not a
# sentence opening.
_NAME_IN_TEXT = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+){0,2}\b")
_QUESTION_WORDS = {"what", "who", "whom", "whose", "when", "where", "why", "which", "how", "in", "on", "at", "the", "a", "an",
                   "during", "after", "before", "is", "was", "are", "were", "did", "does", "do", "for", "from", "to", "by", "of"}
# Auxiliaries after which "not" reads naturally ("How many were not flown"); with do-support
# ("did the quake occur") the "not" would need the main verb, so those are left alone.
_AUX = re.compile(r"\b(is|was|are|were|has|have|had)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(not|never|no)\b|n't", re.IGNORECASE)
_ANTONYM_PAIRS = (
    "first last", "largest smallest", "biggest smallest", "highest lowest", "most least", "more less",
    "increase decrease", "increased decreased", "before after", "earliest latest", "early late", "earlier later",
    "north south", "east west", "northern southern", "eastern western", "win lose", "won lost", "rise fall",
    "start end", "began ended", "open close", "opened closed", "major minor", "maximum minimum", "strong weak",
    "long short", "longest shortest", "young old", "youngest oldest", "high low", "top bottom", "inside outside",
    "import export", "imported exported", "positive negative", "private public", "upper lower", "best worst",
    "better worse", "above below", "allowed banned", "accepted rejected", "supported opposed", "heavy light",
    "rich poor", "large small", "fast slow", "same different", "internal external", "ancient modern",
    "male female", "men women", "left right", "buy sell", "bought sold", "common rare", "successful unsuccessful",
)
ANTONYMS: dict[str, str] = {}
for _pair in _ANTONYM_PAIRS:
    _a, _b = _pair.split()
    ANTONYMS[_a], ANTONYMS[_b] = _b, _a


def _entity_pools(examples: Sequence[SquadExample]) -> dict[str, list[str]]:
    """Names, years and numbers found in the contexts, by kind, to swap into questions."""
    pools: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for ex in examples:
        if ex.context in seen:
            continue
        seen.add(ex.context)
        for kind, pattern in {**_KINDS, "name": _NAME_IN_TEXT}.items():
            for m in pattern.finditer(ex.context[:2000]):
                pools[kind].add(m.group(0))
    return {k: sorted(v) for k, v in pools.items()}


def edit_question(question: str, context: str, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    """The question changed so that `context` no longer answers it, or None if no edit fits.

    Tries an entity swap, an antonym or a negation (in a random order weighted 5:3:2).
    """
    lowered = context.lower()
    edits = [_swap_entity, _swap_antonym, _negate]
    order = sorted(edits, key=lambda f: -rng.random() ** (1 / {_swap_entity: 5, _swap_antonym: 3, _negate: 2}[f]))
    for edit in order:
        edited = edit(question, lowered, rng, pools)
        if edited and edited != question:
            return edited
    return None


def _swap_entity(question: str, context: str, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    spans = []
    for kind in ("year", "number", "name"):
        for m in _KINDS[kind].finditer(question):
            if m.group(0).lower() in context and m.group(0).split()[0].lower() not in _QUESTION_WORDS:
                spans.append((kind, m))
    if not spans:
        return None
    kind, m = rng.choice(spans)
    pool = pools.get(kind, [])
    words = len(m.group(0).split())
    for _ in range(8):
        new = rng.choice(pool) if pool else ""
        if new and new.lower() not in context and (kind != "name" or len(new.split()) == words):
            return question[: m.start()] + new + question[m.end() :]
    return None


def _swap_antonym(question: str, context: str, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    words = [m for m in re.finditer(r"[A-Za-z]+", question) if m.group(0).lower() in ANTONYMS]
    rng.shuffle(words)
    for m in words:
        new = ANTONYMS[m.group(0).lower()]
        if not re.search(rf"\b{new}\b", context):
            new = new.capitalize() if m.group(0)[0].isupper() else new
            return question[: m.start()] + new + question[m.end() :]
    return None


def _negate(question: str, context: str, rng: random.Random, pools: dict[str, list[str]]) -> str | None:
    if _NEGATED.search(question):
        return None
    m = _AUX.search(question)
    if not m:
        return None
    return question[: m.end()] + " not" + question[m.end() :]


def first_half_articles(examples: list[SquadExample]) -> list[SquadExample]:
    """Examples of the first half of the articles, by title in file order (the trainable half)."""
    titles = list(dict.fromkeys(ex.title for ex in examples))
    keep = set(titles[: len(titles) // 2])
    return [ex for ex in examples if ex.title in keep]


def _load_allowed(path: str | Path, first_half: Sequence[str]) -> list[SquadExample]:
    examples = load_squad(path)
    return first_half_articles(examples) if Path(path).stem in first_half else examples


def load_training_examples(
    files: Sequence[str | Path], limits: dict[str, int] | None, seed: int,
    avoid: set[str] | None = None, first_half: Sequence[str] = (),
) -> list[SquadExample]:
    """Answerable examples from the training files, each file cut to its limit if one is given.

    Args:
        files: SQuAD-format files.
        limits: File stem to the number of answerable questions to take (sampled).
        seed: Seed of the sampling.
        avoid: Question ids to take only when a file has too few others (None: plain sampling,
            the same draw as before this option existed).
        first_half: Stems of which only the first half of the articles is used.
    """
    rng = random.Random(seed)
    out: list[SquadExample] = []
    for path in files:
        examples = [ex for ex in _load_allowed(path, first_half) if ex.answers]
        limit = (limits or {}).get(Path(path).stem)
        if limit is not None and limit < len(examples):
            if avoid is None:
                examples = rng.sample(examples, limit)
            else:
                fresh = [ex for ex in examples if ex.qid not in avoid]
                seen = [ex for ex in examples if ex.qid in avoid]
                examples = rng.sample(fresh, min(limit, len(fresh)))
                examples += rng.sample(seen, limit - len(examples))
        out.extend(crop_context(ex) for ex in examples)
    return out


def first_run_ids_file(work: Path, data_dir: Path, shipped: Path) -> Path:
    """`work`/first_run_ids.txt: the question ids the shipped reader's first run drew (its
    training-stage1.json, else its training.json: same files, limits and seed), written once, so
    that a continued run prefers questions the reader has not seen."""
    import json

    out = Path(work) / "first_run_ids.txt"
    if not out.exists():
        first = Path(shipped) / "training-stage1.json"
        recipe = json.loads((first if first.exists() else Path(shipped) / "training.json").read_text())["recipe"]
        files = [Path(data_dir) / f"{stem}.json" for stem in recipe["files"]]
        limits = {k: v for k, v in recipe["files"].items() if v is not None}
        ids = {ex.qid for ex in load_training_examples(files, limits, recipe["seed"])}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(sorted(ids)) + "\n")
    return out


def load_unanswerable_examples(files: Sequence[str | Path], first_half: Sequence[str] = ()) -> list[SquadExample]:
    """The real unanswerable questions of the files (their whole paragraphs, no target span)."""
    return [ex for path in files for ex in _load_allowed(path, first_half) if not ex.answers]


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
    sources: list | None = None,
) -> list[Feature]:
    """Tokenise examples into training windows, made as the reader makes its windows
    (`qa.read.encode_windows`) with these lengths.

    An unanswerable question keeps all its windows (target: no answer). An answerable one
    keeps one window holding the whole answer (chosen at random where overlapping windows
    both do), and, with probability `miss_keep`, one window that misses the answer, as a
    no-answer example: enough to teach windows without the answer, without flooding the
    data with them.

    With a list as `sources`, each kept window's (index in `examples`, character span in the
    passage of each token, None outside the passage) is appended to it, in the windows' order.
    """
    windows = ReaderSettings(max_length=max_length, stride=stride, max_question_tokens=max_question_tokens)
    rng = random.Random(seed)
    features: list[Feature] = []
    for lo in range(0, len(examples), batch):
        chunk = examples[lo : lo + batch]
        questions = [clip_question(ex.question, tokenizer, windows.max_question_tokens) for ex in chunk]
        enc = encode_windows(tokenizer, questions, [ex.context for ex in chunk], windows)
        hits: dict[int, list[tuple[Feature, int]]] = defaultdict(list)
        misses: dict[int, list[tuple[Feature, int]]] = defaultdict(list)
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = chunk[sample]
            start, end = _token_span(enc, i, ex.answers[0]) if ex.answers else (0, 0)
            types = enc["token_type_ids"][i] if "token_type_ids" in enc else []  # none for MPNet
            feat = Feature(enc["input_ids"][i], types, start, end)
            (hits if start else misses)[sample].append((feat, i))
        kept: list[tuple[Feature, int]] = []
        for sample, ex in enumerate(chunk):
            if not ex.answers:
                kept.extend(misses[sample])
                continue
            if hits[sample]:
                kept.append(rng.choice(hits[sample]))
            if misses[sample] and rng.random() < miss_keep:
                kept.append(rng.choice(misses[sample]))
        features.extend(feat for feat, _ in kept)
        if sources is not None:
            for _, i in kept:
                seq = enc.sequence_ids(i)
                sources.append((lo + enc["overflow_to_sample_mapping"][i],
                                [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq)]))
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
