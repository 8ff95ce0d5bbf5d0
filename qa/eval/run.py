"""The work behind `qa eval`: run a mode, print metrics, write predictions, report and calibration."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import click

from qa.eval.evaluate import KEEP_SPANS, EvalRun, QuestionResult, fit_calibration, run_reader, summarize, _result
from qa.eval.squad import SquadExample, load_squad, normalize_answer


def select_part(examples: list[SquadExample], part: str | None) -> list[SquadExample]:
    """Examples of the first or second half of the file's articles (by title order), or all."""
    if not part:
        return examples
    if part not in ("first", "second"):
        raise ValueError(f"part must be first or second, not {part!r}")
    titles = list(dict.fromkeys(ex.title for ex in examples))
    half = set(titles[: len(titles) // 2]) if part == "first" else set(titles[len(titles) // 2 :])
    return [ex for ex in examples if ex.title in half]


def run_e2e(examples: Sequence[SquadExample], bot: Any, progress: Any = None) -> EvalRun:
    """Index every paragraph as a document, then ask each question of the whole index."""
    import time

    from qa.answer import merge_candidates
    from qa.retrieve import Retriever

    s = bot.settings
    retriever = Retriever(bot.store, bot.embedder, s.candidates, s.rrf_k)
    results: list[QuestionResult] = []
    for ex in examples:
        t0 = time.perf_counter()
        hits = retriever.retrieve(ex.question, s.top_k)
        spans = bot.reader.read(ex.question, [h.chunk.text for h in hits]) if hits else []
        cands = merge_candidates(hits, spans, bot.calibration)
        seconds = time.perf_counter() - t0
        golds = [normalize_answer(t) for t, _ in ex.answers if normalize_answer(t)]
        found = any(g in normalize_answer(h.chunk.text) for h in hits for g in golds) if golds else None
        best = cands[0] if cands else None
        top = [[c.chunk.doc_id, c.start, c.end, c.span.text, c.span.score] for c in cands[:KEEP_SPANS]]
        results.append(_result(ex, best.span.text if best else "", best.span.score if best else float("-inf"), seconds, found, top))
        if progress:
            progress(1)
    return EvalRun(results, bot.calibration, {"top_k": s.top_k})


def documents_of(examples: Sequence[SquadExample]) -> list:
    """One document per distinct paragraph of the file."""
    from qa.types import Document, content_id

    docs: dict[str, Document] = {}
    for ex in examples:
        did = content_id(ex.context)
        if did not in docs:
            docs[did] = Document(did, f"{ex.title or 'paragraph'} #{ex.paragraph}", ex.context, ex.title)
    return list(docs.values())


def run_eval(
    options: dict[str, Any], file: Path, mode: str, predictions: Path | None, as_json: bool,
    report: Path | None, limit: int | None, calibrate_out: Path | None, part: str | None = None,
    na_probs: Path | None = None,
) -> dict[str, Any]:
    """Run `qa eval` and print its metrics. Returns the summary."""
    from qa.chatbot import Chatbot
    from qa.config import load_settings

    examples = select_part(load_squad(file), part)[:limit]
    if not examples:
        raise ValueError(f"{file}: no questions to evaluate")
    opts = dict(options)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp, click.progressbar(
        length=len(examples), label=f"{mode} on {file.name}", file=click.get_text_stream("stderr")
    ) as bar:
        if mode == "e2e":
            # A fresh index of the file's paragraphs, in a temporary folder unless a store is given.
            opts["index_dir"] = str(Path(tmp) / "index")
            opts["seed_dir"] = str(Path(tmp) / "no-seeds")
            bot = Chatbot(load_settings(**opts))
            bot.open()
            bot.add_documents(documents_of(examples))
            run = run_e2e(examples, bot, bar.update)
        else:
            opts.pop("index_dir", None)
            bot = Chatbot(load_settings(**opts))
            run = run_reader(examples, bot.reader, bot.calibration, progress=bar.update)
        if options.get("threshold") is not None:
            from dataclasses import replace

            run.calibration = replace(run.calibration, threshold=float(options["threshold"]))
        if calibrate_out:
            run.calibration = fit_calibration(run.results, f"{file.name}{f' ({part} half)' if part else ''}")
            run.calibration.save(calibrate_out)
        summary = summarize(run, examples)
        summary["metrics"].update({"file": file.name, "mode": mode, "questions": len(examples), "calibration": run.calibration.fitted_on})
        if part:
            summary["metrics"]["part"] = part
    if predictions:
        predictions.write_text(json.dumps(run.predictions(), ensure_ascii=False, indent=1))
    if na_probs:
        na_probs.write_text(json.dumps(no_answer_probabilities(run), indent=1))
    if report:
        from qa.eval.report import write_report

        write_report(report, summary, run.calibration)
    _print(summary, as_json)
    return summary


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


def _print(summary: dict[str, Any], as_json: bool) -> None:
    m = summary["metrics"]
    if as_json:
        click.echo(json.dumps(m, indent=2))
        return
    rows = [("questions", f"{m['questions']}"), ("EM", f"{m['exact']:.2f}"), ("F1", f"{m['f1']:.2f}")]
    if "HasAns_f1" in m:
        rows += [("HasAns EM", f"{m['HasAns_exact']:.2f}"), ("HasAns F1", f"{m['HasAns_f1']:.2f}")]
    if "NoAns_exact" in m:
        rows.append(("NoAns accuracy", f"{m['NoAns_exact']:.2f}"))
    if "retrieval_recall" in m:
        rows.append((f"retrieval recall@{m.get('top_k')}", f"{m['retrieval_recall']:.2f}"))
    rows += [
        ("latency p50 ms", f"{m.get('latency_p50_ms', 0):.1f}"),
        ("latency p95 ms", f"{m.get('latency_p95_ms', 0):.1f}"),
        ("threshold", f"{m['threshold']:.3f}"),
        ("confidence AUROC", f"{m['auroc']:.3f}"),
        ("confidence ECE", f"{m['ece']:.3f}"),
    ]
    best = summary.get("best_threshold") or {}
    if best:
        rows.append(("best threshold here", f"{best['threshold']:.3f} (F1 {best['f1']:.2f})"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        click.echo(f"{k:<{width}}  {v}")
