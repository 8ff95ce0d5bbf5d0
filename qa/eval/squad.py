"""SQuAD v1.1 / v2.0 files: loading and the official scoring.

The scoring functions follow the official SQuAD v2.0 evaluation script
(normalisation: lower case, strip punctuation and the articles a/an/the,
collapse white space; a question's score is its best over the gold answers;
an unanswerable question scores 1 only for an empty prediction).
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from qa.errors import DataFormatError
from qa.text import normalize_answer


SquadFormatError = DataFormatError  # the name this module has always raised


@dataclass(frozen=True)
class SquadExample:
    """One question about one paragraph.

    Attributes:
        qid: The question id, unique in its file.
        question: The question text.
        context: The paragraph the question is about.
        answers: Gold answers as (text, character start) pairs; empty when unanswerable.
        title: The article the paragraph belongs to.
        paragraph: Index of the paragraph within its article.
    """

    qid: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]
    title: str = ""
    paragraph: int = 0

    @property
    def is_impossible(self) -> bool:
        return not self.answers


def load_squad(path: str | Path) -> list[SquadExample]:
    """Read a SQuAD v1.1 or v2.0 JSON file.

    Args:
        path: The file to read.

    Returns:
        Its questions in file order.

    Raises:
        SquadFormatError: When the file is not valid SQuAD JSON; the message names what is wrong.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SquadFormatError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SquadFormatError(f"{path}: not a JSON file ({err})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise SquadFormatError(f'{path}: expected an object with a "data" list (SQuAD format)')
    examples: list[SquadExample] = []
    for a, article in enumerate(raw["data"]):
        where = f"{path}: data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SquadFormatError(f'{where}: expected an object with a "paragraphs" list')
        title = str(article.get("title", ""))
        for p, para in enumerate(article["paragraphs"]):
            context = para.get("context") if isinstance(para, dict) else None
            if not isinstance(context, str) or not isinstance(para.get("qas"), list):
                raise SquadFormatError(f'{where}.paragraphs[{p}]: expected "context" text and a "qas" list')
            for q, qa in enumerate(para["qas"]):
                examples.append(_parse_question(qa, context, title, p, f"{where}.paragraphs[{p}].qas[{q}]"))
    return examples


def _parse_question(qa: object, context: str, title: str, paragraph: int, where: str) -> SquadExample:
    if not isinstance(qa, dict) or "id" not in qa or not isinstance(qa.get("question"), str):
        raise SquadFormatError(f'{where}: expected "id" and "question"')
    answers = []
    if not qa.get("is_impossible", False):
        for ans in qa.get("answers", []):
            try:
                answers.append((str(ans["text"]), int(ans["answer_start"])))
            except (KeyError, TypeError, ValueError):
                raise SquadFormatError(f'{where}: each answer needs "text" and "answer_start"') from None
    return SquadExample(str(qa["id"]), qa["question"], context, tuple(answers), title, paragraph)


# --- official scoring -------------------------------------------------------

def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        # The official script: 1 when both are empty, else 0.
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_texts(example: SquadExample) -> list[str]:
    """The gold answers to score against; `[""]` for an unanswerable question (official rule)."""
    texts = [t for t, _ in example.answers if normalize_answer(t)]
    return texts or [""]


def score_prediction(example: SquadExample, prediction: str) -> tuple[float, float]:
    """Exact match and F1 of one prediction, as the best over the gold answers."""
    golds = gold_texts(example)
    return (max(exact_match(prediction, g) for g in golds), max(f1_score(prediction, g) for g in golds))


def squad_metrics(examples: Iterable[SquadExample], predictions: Mapping[str, str]) -> dict[str, float]:
    """Official SQuAD v2.0 metrics, in percent.

    Args:
        examples: The questions with their gold answers.
        predictions: Question id to predicted text, "" for an abstention. A missing id counts as "".

    Returns:
        exact, f1, total; HasAns_exact, HasAns_f1, HasAns_total and NoAns_exact, NoAns_f1,
        NoAns_total where the file has such questions.
    """
    em: dict[str, float] = {}
    f1: dict[str, float] = {}
    has_ans: list[str] = []
    no_ans: list[str] = []
    for ex in examples:
        em[ex.qid], f1[ex.qid] = score_prediction(ex, predictions.get(ex.qid, ""))
        (has_ans if ex.answers else no_ans).append(ex.qid)

    def block(ids: list[str], prefix: str = "") -> dict[str, float]:
        n = len(ids)
        return {
            f"{prefix}exact": 100.0 * sum(em[i] for i in ids) / n if n else 0.0,
            f"{prefix}f1": 100.0 * sum(f1[i] for i in ids) / n if n else 0.0,
            f"{prefix}total": float(n),
        }

    metrics = block(list(em))
    if has_ans:
        metrics.update(block(has_ans, "HasAns_"))
    if no_ans:
        metrics.update(block(no_ans, "NoAns_"))
    return metrics
