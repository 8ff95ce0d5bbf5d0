"""Which number formats a reader may run in: F1 in each, against fp32, on validation questions.

    python scripts/check_runtimes.py qa/models/reader --limit 1000      # writes qa/models/reader/runtimes.json
    python scripts/check_runtimes.py qa/models/accurate --limit 500

Each format (fp32, bf16, int8) reads the first LIMIT questions of SQuAD v1.1 DEV and of the second
half of SQuAD v2.0 DEV, each against its own paragraph, at the reader's shipped threshold (official
scoring). A format is allowed when its F1 is within 0.5 of fp32's on both files; the reader then
picks among the allowed ones by speed on the machine at hand (`qa.runtime`, `qa info`). The
per-question CPU time of each format is printed too, as a ratio to fp32 measured in the same run.

Int8 rounding can shift a reader's scores against its no-answer logit, so that the fp32
threshold abstains less (or more) in that format. Before its check, each format reads the next
FIT questions of both files (not those checked), and the shift that makes it abstain on as many
of them as fp32 does is fitted (`qa.eval.calibrate.fit_score_offset`) and written as
`score_offset`; the reader takes it off its scores in that format. F1 without it is recorded too,
and a format whose fitted shift puts it out of tolerance while it is within unshifted runs unshifted
(its F1 with the shift kept as `f1_with_shift`): a shift fitted on a few hundred questions can be noise.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "qa-train"
FILES = (("v1.1 DEV", "squad_v1.1_DEV_minus_heldout.json", None), ("v2.0 DEV second half", "squad_v2.0_DEV_minus_heldout.json", "second"))
TOLERANCE = 0.5


def within(result: dict, base: dict, files: Any, key: str = "f1") -> bool:
    """Whether a format's F1 (`key`) is within the tolerance of fp32's on every file."""
    return all(key in result[n] and abs(result[n][key] - base[n]["f1"]) <= TOLERANCE for n in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="fast, accurate, or a reader folder")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=1000, help="questions per file")
    ap.add_argument("--fit", type=int, default=200, help="questions per file (after the checked ones) to fit each format's score shift on; 0: no shift")
    ap.add_argument("--formats", default="fp32,bf16,int8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the results of formats checked before (same questions, same fp32 F1) and not named now")
    ap.add_argument("--write", action=argparse.BooleanOptionalAction, default=True, help="write MODEL/runtimes.json")
    args = ap.parse_args()

    from qa.calibration import Calibration
    from qa.eval.calibrate import fit_score_offset
    from qa.eval.evaluate import run_reader
    from qa.eval.run import select_part
    from qa.eval.squad import load_squad, squad_metrics
    from qa.read import ReaderSettings
    from qa.readers import reader_for
    from qa.runtime import processor_name

    parts = {name: select_part(load_squad(args.data / file), part) for name, file, part in FILES}
    files = {name: examples[: args.limit] for name, examples in parts.items()}
    fit_files = {name: examples[args.limit : args.limit + args.fit] for name, examples in parts.items()}
    formats = args.formats.split(",")
    if "fp32" not in formats:
        sys.exit("fp32 must be among the formats: the others are compared with it")
    formats.sort(key=lambda f: f != "fp32")  # fp32 first: the others' shifts are fitted against it
    results: dict[str, dict] = {}
    offsets: dict[str, float] = {}
    reference: list[float] = []
    folder = None
    for fmt in formats:
        reader = reader_for(args.model, ReaderSettings(precision=fmt), threads=args.threads)
        reader.score_offset = 0.0
        folder = reader.model_path
        reader.warm_up()
        calibration = Calibration.load(Path(folder) / "calibration.json")
        if args.fit:
            fit_scores = [r.score for examples in fit_files.values() for r in run_reader(examples, reader, calibration).results]
            if fmt == "fp32":
                reference = fit_scores
            else:
                offsets[fmt] = round(fit_score_offset(reference, fit_scores, calibration.threshold), 4)
                reader.score_offset = offsets[fmt]
                print(f"{fmt}: scores shifted by {offsets[fmt]:+.3f} against fp32's (fitted on {len(fit_scores)} other questions)", flush=True)
        results[fmt] = {}
        for name, examples in files.items():
            started = time.process_time()
            run = run_reader(examples, reader, calibration)
            cpu = time.process_time() - started
            metrics = squad_metrics(examples, run.predictions())
            results[fmt][name] = {"f1": round(metrics["f1"], 2), "cpu_ms_per_question": round(1000 * cpu / len(examples), 1)}
            if offsets.get(fmt):
                unshifted = squad_metrics(examples, run.predictions(calibration.threshold - offsets[fmt]))
                results[fmt][name]["f1_without_shift"] = round(unshifted["f1"], 2)
            print(fmt, name, results[fmt][name], flush=True)
    base = results["fp32"]
    if args.keep and folder is not None:
        # Formats checked before on the same questions and not named now keep their results.
        try:
            before = json.loads((Path(folder) / "runtimes.json").read_text())
        except (OSError, ValueError):
            before = {}
        f1s = {n: r["f1"] for n, r in base.items()}
        if before.get("questions_per_file") == args.limit and {n: r.get("f1") for n, r in before.get("results", {}).get("fp32", {}).items()} == f1s:
            for fmt, r in before.get("results", {}).items():
                if fmt not in results:
                    results[fmt] = r
                    if fmt in before.get("score_offset", {}):
                        offsets[fmt] = before["score_offset"][fmt]
    for fmt, r in results.items():  # a shift fitted on few questions can do worse than none: then none
        if offsets.get(fmt) and not within(r, base, files) and within(r, base, files, "f1_without_shift"):
            for n in files:
                r[n]["f1_with_shift"] = r[n]["f1"]
                r[n]["f1"] = r[n].pop("f1_without_shift")
            offsets[fmt] = 0.0
            print(f"{fmt}: its fitted shift put it out of tolerance, unshifted it is within: used unshifted")
    allowed = [f for f, r in results.items() if within(r, base, files)]
    for fmt, r in results.items():
        ratio = sum(r[n]["cpu_ms_per_question"] for n in files) / sum(base[n]["cpu_ms_per_question"] for n in files)
        when = " (timed in an earlier run: not comparable)" if fmt not in formats else ""
        print(f"{fmt}: CPU time {ratio:.2f}x fp32's{when}; {'allowed' if fmt in allowed else 'not allowed'}")
    record = {
        "allowed": allowed,
        "tolerance_f1": TOLERANCE,
        "score_offset": {f: o for f, o in offsets.items() if f in allowed and o},
        "results": results,
        "questions_per_file": args.limit,
        "fit_questions_per_file": args.fit,
        "processor": processor_name(),
        "machine": platform.machine(),
        "command": "python scripts/check_runtimes.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps({"allowed": allowed}))
    if args.write and folder is not None:
        (Path(folder) / "runtimes.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"written to {Path(folder) / 'runtimes.json'}")


if __name__ == "__main__":
    main()
