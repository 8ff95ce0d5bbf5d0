"""Measure a trained reader on the validation files, fit its confidence, choose its threshold.

    python scripts/evaluate_reader.py [READER_DIR] [--data ../shared/data/qa-train] [--threshold RULE]

Validation files (never trained on): SQuAD v1.1 DEV, and the second half (by article) of SQuAD
v2.0 DEV (the first half may be trained on). Each question is read once against its own paragraph
and the reader's candidates are cached (--cache, keyed by the weights' hash), so refitting costs
no reading. Then, in READER_DIR (default: the shipped reader, qa/models/reader):

  calibration.json  the confidence, P(right) (`qa.calibration`), fitted on the *fit* half of the
                    articles of each validation file, and the abstention threshold (--threshold:
                    "model" is 0, the reader's own choice between its best span and "no answer";
                    "best-f1" is the best-F1 point of the fit halves of both files together; or a
                    number);
  metrics.json      official SQuAD metrics of each file at that threshold, with the AUROC and ECE
                    of the confidence on the whole file and on its *report* half (not fitted on).

It prints the same as Markdown tables for the model card.

    python scripts/evaluate_reader.py cascade [--sure P]

measures the cascade (`qa.cascade`: the fast reader, then the accurate reader when the fast one's
confidence is below P) from the two readers' cached candidates, exactly as the cascade decides at
run time: it prints F1 against the mean reading time for a range of P, and writes the cascade's
calibration.json, metrics.json and cascade.json (P) into qa/models/cascade. Measure both readers
first (their caches are what it composes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from qa.calibration import FEATURES, Calibration
from qa.cascade import CASCADE_READER
from qa.eval.calibrate import auroc, expected_calibration_error
from qa.eval.evaluate import EvalRun, QuestionResult, confidences, fit_calibration, is_right, run_reader, summarize
from qa.eval.run import select_part
from qa.eval.squad import load_squad
from qa.read import SHIPPED_READER
from qa.readers import reader_for

# name: (file, part of its articles that is validation)
FILES = {
    "squad_v1.1_DEV": ("squad_v1.1_DEV_minus_heldout.json", None),
    "squad_v2.0_DEV second half": ("squad_v2.0_DEV_minus_heldout.json", "second"),
}
TYDI = {"tydiqa_en_dev": ("tydiqa_goldp_en_dev.json", None)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reader", nargs="?", type=Path, default=SHIPPED_READER)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "qa-train")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "eval-cache",
                    help="keeps each file's reader outputs, so a stopped run resumes (keyed by the weights' hash)")
    ap.add_argument("--threshold", default="best-f1",
                    help='abstention threshold to ship: "model" (0), "best-f1" (fit halves), "plateau" (the lowest '
                         'within 0.25 mean F1 of best-f1 on the fit halves), "cautious" (the highest within it) or a number')
    ap.add_argument("--tydi", action="store_true", help="also measure TyDi QA English dev (not fitted on)")
    ap.add_argument("--features", default=",".join(FEATURES),
                    help="comma-separated confidence features (of qa.calibration.FEATURES); 'score' = score only")
    ap.add_argument("--sure", type=float, default=None,
                    help="cascade only: keep the fast reader's answer at this confidence or above (default: the "
                         "highest level whose mean reading time is at most half the accurate reader's)")
    ap.add_argument("--only", choices=list(FILES) + list(TYDI), default=None,
                    help="only read this file into the cache, and stop (to read files in parallel)")
    args = ap.parse_args()

    files = {**FILES, **(TYDI if args.tydi else {})}
    cascade = str(args.reader) == "cascade"
    if cascade:
        args.reader = CASCADE_READER
    if args.only:
        read_file(args.reader, args.data / {**FILES, **TYDI}[args.only][0], {**FILES, **TYDI}[args.only][1], args.cache)
        return
    if cascade:
        runs = cascade_runs(files, args.data, args.cache, args.sure)
    else:
        runs = {name: read_file(args.reader, args.data / f, part, args.cache) for name, (f, part) in files.items()}
    fit_ids = {ex.qid for name in FILES for ex in select_part(runs[name][0], "first")}
    fit_on = [r for name in FILES for r in runs[name][1] if r.qid in fit_ids]
    features = tuple(f for f in args.features.split(",") if f)
    fitted = fit_calibration(fit_on, "the first half (by article) of SQuAD v1.1 DEV and of the second half of SQuAD v2.0 DEV", features)
    fit_by_file = [[r for r in runs[name][1] if r.qid in fit_ids] for name in FILES]
    shipped = {"best-f1": fitted.threshold, "model": 0.0,
               "plateau": plateau_threshold(fit_by_file, fitted.threshold, direction=-1),
               "cautious": plateau_threshold(fit_by_file, fitted.threshold, direction=+1)}.get(args.threshold)
    calibration = replace(fitted, threshold=float(args.threshold) if shipped is None else shipped)
    calibration.save(args.reader / "calibration.json")

    metrics = {"calibration": {**calibration.__dict__}, "threshold_rule": args.threshold, "files": {}}
    for name, (exs, results) in runs.items():
        held = [ex for ex in exs if ex.qid not in fit_ids]
        metrics["files"][name] = measure(exs, results, calibration, held)
    held = [r for name in FILES for r in runs[name][1] if r.qid not in fit_ids]
    metrics["report_halves_together"] = confidence_quality(held, calibration)
    metrics["at_threshold_0"] = {name: measure(exs, res, replace(calibration, threshold=0.0))
                                 for name, (exs, res) in runs.items()}
    (args.reader / "metrics.json").write_text(json.dumps(metrics, indent=2, default=list) + "\n")
    print(markdown(metrics))


def cascade_runs(files: dict, data: Path, cache: Path, sure: float | None) -> dict:
    """Each file's questions and the cascade's results, composed from the fast and the accurate
    readers' cached candidates as `qa.cascade.CascadeReader` decides; writes cascade.json."""
    from qa.accurate import ACCURATE_READER

    stages = [(SHIPPED_READER, Calibration.load(SHIPPED_READER / "calibration.json")),
              (ACCURATE_READER, Calibration.load(ACCURATE_READER / "calibration.json"))]
    read = {name: [read_file(folder, data / f, part, cache) for folder, _ in stages] for name, (f, part) in files.items()}
    levels = [0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.01]
    print("| keep the fast answer at confidence | " + " | ".join(f"{n} F1" for n in files) + " | read by both | mean reading time |",
          "|---|" + "---|" * (len(files) + 2), sep="\n")
    table = {}
    for level in levels:
        composed = {name: compose(fast, accurate, stages, level) for name, ((exs, fast), (_, accurate)) in read.items()}
        results = [r for rs, _ in composed.values() for r in rs]
        both = sum(n for _, n in composed.values()) / max(1, len(results))
        seconds = sum(r.seconds for r in results) / max(1, len(results))
        f1s = {name: mean_f1_at([rs], 0.0) for name, (rs, _) in composed.items()}
        table[level] = (seconds, f1s)
        print(f"| {level:.2f} | " + " | ".join(f"{f:.2f}" for f in f1s.values()) + f" | {100 * both:.1f}% | {1000 * seconds:.0f} ms |")
    given = sure is not None
    if sure is None:  # the highest level within half the accurate reader's time
        budget = table[levels[-1]][0] / 2
        sure = max((lv for lv in levels[:-1] if table[lv][0] <= budget), default=levels[0])
    (CASCADE_READER / "cascade.json").write_text(json.dumps(
        {"first": "fast", "second": "accurate", "sure": sure,
         "chosen_by": "scripts/evaluate_reader.py cascade: the highest confidence level whose mean reading time on the "
                      "validation files is at most half the accurate reader's" if not given else "given (--sure)"}, indent=2) + "\n")
    print(f"\ncascade: keep the fast answer at confidence {sure}")
    return {name: (exs, compose(fast, accurate, stages, sure)[0]) for name, ((exs, fast), (_, accurate)) in read.items()}


def compose(fast: list[QuestionResult], accurate: list[QuestionResult], stages: list, sure: float) -> tuple[list[QuestionResult], int]:
    """The cascade's result per question (scores relative to the deciding reader's threshold), and
    how many questions the accurate reader read."""
    from qa.cascade import is_sure, relative
    from qa.types import Span

    by_id = {r.qid: r for r in accurate}
    out, both = [], 0
    for r in fast:
        spans = [Span(*c) for c in r.spans]
        chosen, calibration, seconds = r, stages[0][1], r.seconds
        if not is_sure(spans, calibration, sure):
            other = by_id[r.qid]
            chosen, calibration, seconds, both = other, stages[1][1], r.seconds + other.seconds, both + 1
            spans = [Span(*c) for c in other.spans]
        shifted = [[s.passage, s.start, s.end, s.text, s.score] for s in relative(spans, calibration)]
        out.append(replace(chosen, score=chosen.score - calibration.threshold, seconds=seconds, spans=shifted))
    return out, both


PLATEAU = 0.25  # F1 points (mean over the validation files' fit halves) a lower threshold may cost


def mean_f1_at(results_by_file: list[list[QuestionResult]], threshold: float) -> float:
    """Official-style F1 at `threshold`, averaged over files: an answerable question scores the
    best span's F1 when answered, an unanswerable one 1 when abstained on."""
    per_file = []
    for results in results_by_file:
        got = [(r.f1 if r.answerable else 0.0) if r.score >= threshold else (0.0 if r.answerable else 1.0) for r in results]
        per_file.append(100.0 * sum(got) / max(1, len(got)))
    return sum(per_file) / len(per_file)


def plateau_threshold(results_by_file: list[list[QuestionResult]], best: float, step: float = 0.05,
                      direction: int = -1) -> float:
    """The threshold furthest from the best-F1 one, in `direction`, whose mean F1 over the files is
    within PLATEAU points of the best's: where the F1 curve is flat, moving costs nothing measurable.

    direction -1 ("plateau"): the lowest such threshold, most questions answered;
    direction +1 ("cautious"): the highest, most questions the text cannot answer abstained on, the
    behaviour a user of a chat over documents is failed by most when it is missing (a guess shown
    as a fact)."""
    top = mean_f1_at(results_by_file, best)
    chosen, t = best, best
    while abs(t - best) < 10:  # along the curve until it clearly leaves the plateau (small wiggles pass)
        t += direction * step
        f1 = mean_f1_at(results_by_file, t)
        if f1 < top - 2 * PLATEAU:
            break
        if f1 >= top - PLATEAU:
            chosen = t
    return round(chosen, 3)


def read_file(reader_dir: Path, path: Path, part: str | None, cache: Path, reader: Any = None,
              limit: int | None = None) -> tuple[list, list[QuestionResult]]:
    """The file's validation questions and the reader's results on them (cached): read with
    `reader` when given (e.g. on a GPU), else with `reader_for(reader_dir)`; `limit`: the first
    questions only (a trial)."""
    exs = select_part(load_squad(path), part)[:limit]
    cached = cache / _weights_hash(reader_dir) / f"{path.stem}{f'-{part}' if part else ''}-{len(exs)}.json"
    if cached.exists():
        return exs, [QuestionResult(**r) for r in json.loads(cached.read_text())]
    t0 = time.time()
    run = run_reader(exs, reader or reader_for(reader_dir), Calibration())
    print(f"{path.name} ({part or 'all'}): {len(exs)} questions read in {time.time() - t0:.0f} s", file=sys.stderr)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps([r.__dict__ for r in run.results]))
    return exs, run.results


def measure(exs: list, results: list[QuestionResult], calibration: Calibration, held: list | None = None) -> dict:
    """Official metrics at the calibration's threshold, and the confidence's AUROC and ECE."""
    s = summarize(EvalRun(results, calibration), exs)
    keep = ("exact", "f1", "total", "HasAns_f1", "NoAns_abstained", "ece", "auroc")
    m = {k: round(v, 3) if isinstance(v, float) else v for k, v in s["metrics"].items() if k in keep}
    m["best_threshold_here"] = round(s["best_threshold"].get("threshold", 0.0), 3)
    m["best_f1_here"] = round(s["best_threshold"].get("f1", 0.0), 2)
    if held is not None and held:
        ids = {ex.qid for ex in held}
        part = confidence_quality([r for r in results if r.qid in ids], calibration)
        m.update({f"report_half_{k}": v for k, v in part.items()})
    return m


def confidence_quality(results: list[QuestionResult], calibration: Calibration) -> dict:
    """AUROC and ECE of the confidence (P(right)) on these results."""
    pairs = [(p, is_right(r)) for r, p in zip(results, confidences(results, calibration)) if p is not None]
    probs, right = [p for p, _ in pairs], [c for _, c in pairs]
    return {"questions": len(results), "auroc": round(auroc(probs, right), 3),
            "ece": round(expected_calibration_error(probs, right)[0], 3)}


def markdown(metrics: dict) -> str:
    """The metrics as the model card's tables."""
    cal = metrics["calibration"]
    lines = [
        f"Threshold {cal['threshold']:.3f} ({metrics['threshold_rule']}); confidence fitted on {cal['fitted_on']}.",
        "",
        "| file | questions | EM | F1 | HasAns F1 | unanswerable abstained % | AUROC | ECE | AUROC / ECE on the half not fitted on |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics["files"].items():
        noans = f"{m['NoAns_abstained']:.1f}" if "NoAns_abstained" in m else "n/a"
        held = f"{m['report_half_auroc']:.3f} / {m['report_half_ece']:.3f}" if "report_half_auroc" in m else "n/a"
        lines.append(f"| {name} | {m['total']:.0f} | {m['exact']:.2f} | {m['f1']:.2f} | {m.get('HasAns_f1', m['f1']):.2f} | "
                     f"{noans} | {m['auroc']:.3f} | {m['ece']:.3f} | {held} |")
    both = metrics["report_halves_together"]
    lines += ["", f"Both files' halves not fitted on, together ({both['questions']} questions): AUROC {both['auroc']:.3f}, ECE {both['ece']:.3f}.",
              "", "At threshold 0:", ""]
    for name, m in metrics["at_threshold_0"].items():
        lines.append(f"- {name}: F1 {m['f1']:.2f}, EM {m['exact']:.2f}, best F1 here {m['best_f1_here']:.2f} at {m['best_threshold_here']}")
    return "\n".join(lines)


def _weights_hash(folder: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    weights = folder / "model.safetensors"
    if not weights.exists():  # an accurate reader's adapters
        weights = folder / "adapter_model.safetensors"
    with open(weights, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    main()
