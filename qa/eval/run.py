"""The work behind `qa eval`: run a mode, measure, write predictions, report and calibration.

It returns what it measured and prints nothing; `qa.cli` shows it.
"""

from __future__ import annotations

import json
from enum import Enum
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from qa.errors import SettingsError
from qa.eval.evaluate import KEEP_SPANS, EvalRun, QuestionResult, fit_calibration, run_reader, summarize, _result
from qa.eval.squad import SquadExample, load_squad, normalize_answer

if TYPE_CHECKING:
    from qa.chatbot import Chatbot


def select_part(examples: list[SquadExample], part: str | None) -> list[SquadExample]:
    """Examples of the first or second half of the file's articles (by title order), or all."""
    if not part:
        return examples
    if part not in ("first", "second"):
        raise SettingsError(f"part must be first or second, not {part!r}")
    titles = list(dict.fromkeys(ex.title for ex in examples))
    half = set(titles[: len(titles) // 2]) if part == "first" else set(titles[len(titles) // 2 :])
    return [ex for ex in examples if ex.title in half]


def run_e2e(examples: Sequence[SquadExample], bot: Chatbot, progress: Callable[[int], None] | None = None) -> EvalRun:
    """Ask each question of the whole index through `Chatbot.candidates`, the step every chat
    answer is decided from, and keep its best candidate before the abstention decision."""
    import time

    results: list[QuestionResult] = []
    for ex in examples:
        t0 = time.perf_counter()
        reading = bot.candidates(ex.question)
        seconds = time.perf_counter() - t0
        golds = [normalize_answer(t) for t, _ in ex.answers if normalize_answer(t)]
        found = any(g in normalize_answer(h.chunk.text) for h in reading.hits for g in golds) if golds else None
        best = reading.candidates[0] if reading.candidates else None
        top = [[c.chunk.doc_id, c.start, c.end, c.span.text, c.span.score] for c in reading.candidates[:KEEP_SPANS]]
        results.append(_result(ex, best.span.text if best else "", best.span.score if best else float("-inf"), seconds, found, top))
        if progress:
            progress(1)
    return EvalRun(results, bot.calibration, {"top_k": bot.settings.top_k})


def documents_of(examples: Sequence[SquadExample]) -> list:
    """One document per distinct paragraph of the file."""
    from qa.types import Document, content_id

    docs: dict[str, Document] = {}
    for ex in examples:
        did = content_id(ex.context)
        if did not in docs:
            docs[did] = Document(did, f"{ex.title or 'paragraph'} #{ex.paragraph}", ex.context, ex.title)
    return list(docs.values())


class EvalMode(str, Enum):
    """How `qa eval` asks: READER, each question against its own paragraph; E2E, every paragraph
    indexed and each question asked of the whole index (retrieval included)."""

    READER = "reader"
    E2E = "e2e"

    @classmethod
    def parse(cls, value: str) -> "EvalMode":
        try:
            return cls(value)
        except ValueError:
            raise SettingsError(f"mode must be {' or '.join(m.value for m in cls)}, not {value!r}") from None


def run_eval(
    options: dict[str, Any], file: Path, mode: str = "reader", predictions: Path | None = None,
    report: Path | None = None, limit: int | None = None, calibrate_out: Path | None = None,
    part: str | None = None, progress: Callable[[int, int], None] | None = None, na_probs: Path | None = None,
    parts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `qa eval`: measure, and write the predictions, report and calibration asked for.

    Args:
        options: Settings overrides (as `qa.config.load_settings` takes them).
        file: A SQuAD v1.1 or v2.0 file.
        mode: "reader" (each question against its own paragraph) or "e2e" (every paragraph
            indexed, each question asked of the whole index).
        predictions: Write {question id: answer, "" when abstaining} here.
        report: Write metrics.json and plots into this folder.
        limit: Only the first N questions.
        calibrate_out: Fit the calibration on this file and write it here.
        part: "first" or "second" half of the file's articles.
        progress: Called with (questions done, questions in all).
        parts: Parts to build the chatbot with instead of the defaults (`Chatbot`'s keyword
            arguments: embedder, reader, calibration, ...).

    Returns:
        The summary: "metrics", "best_threshold", "curve", "reliability".
    """
    how = EvalMode.parse(mode)
    examples = select_part(load_squad(file), part)[:limit]
    if not examples:
        raise SettingsError(f"{file}: no questions to evaluate")
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(examples))

    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        run = _run_mode(options, examples, how, Path(tmp), step, parts or {})
        if options.get("threshold") is not None:
            from dataclasses import replace

            run.calibration = replace(run.calibration, threshold=float(options["threshold"]))
        if calibrate_out:
            run.calibration = fit_calibration(run.results, f"{file.name}{f' ({part} half)' if part else ''}")
            run.calibration.save(calibrate_out)
        summary = summarize(run, examples)
    summary["metrics"].update({"file": file.name, "mode": how.value, "questions": len(examples), "calibration": run.calibration.fitted_on})
    if part:
        summary["metrics"]["part"] = part
    if predictions:
        predictions.write_text(json.dumps(run.predictions(), ensure_ascii=False, indent=1))
    if na_probs:
        na_probs.write_text(json.dumps(no_answer_probabilities(run), indent=1))
    if report:
        from qa.eval.report import write_report

        write_report(report, summary, run.calibration)
    return summary


def _run_mode(options: dict[str, Any], examples: list[SquadExample], mode: EvalMode, tmp: Path,
              step: Callable[[int], None], parts: dict[str, Any]) -> EvalRun:
    from qa.chatbot import Chatbot
    from qa.config import load_settings

    opts = dict(options)
    if mode is EvalMode.E2E:
        # A fresh index of the file's paragraphs, in a temporary folder unless a store is given.
        opts["index_dir"] = str(tmp / "index")
        opts["seed_dir"] = str(tmp / "no-seeds")
        bot = Chatbot(load_settings(**opts), **parts)
        bot.open()
        bot.add_documents(documents_of(examples))
        return run_e2e(examples, bot, step)
    opts.pop("index_dir", None)
    bot = Chatbot(load_settings(**opts), **parts)
    return run_reader(examples, bot.reader, bot.calibration, progress=step)


def no_answer_probabilities(run: EvalRun) -> dict[str, float]:
    """The official SQuAD 2.0 na_prob file: question id -> probability of no answer.

    It is 1 - the confidence (P(right)) of the question's best answer, whether that answer is
    shown or the reader abstained (then it is the guess it held back), and 1.0 for a question
    where the reader found no candidate at all.
    """
    from qa.eval.evaluate import confidences

    return {
        r.qid: 1.0 if p is None else round(1.0 - p, 6)
        for r, p in zip(run.results, confidences(run.results, run.calibration))
    }

