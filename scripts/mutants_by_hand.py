"""Check survivors of a mutation run against tests written after it, without running mutmut again.

    python scripts/mutants_by_hand.py qa/store/faiss_store.py tests/test_salvage.py,tests/test_faiss_index.py NAME...
    python scripts/mutants_by_hand.py qa/store/faiss_store.py tests/test_salvage.py --survivors salvage

mutmut's map of tests to functions is made at its run, so tests added later are not run against
the survivors by `mutation_report.py --only survivors`. This applies each named mutant's changed
line (`mutmut show NAME`) to the source in place, runs the given tests, prints KILLED or survived,
and puts the source back (also when stopped). `--survivors TEXT` takes the survivors of the last
run whose names hold TEXT (a function's name) instead of names.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"


def changed_line(name: str) -> tuple[str, str] | None:
    """The mutant's (original line, mutated line), or None when it changes more than one line."""
    shown = subprocess.run([str(MUTMUT), "show", name], capture_output=True, text=True, cwd=ROOT).stdout.splitlines()
    minus = [line[1:] for line in shown if line.startswith("-") and not line.startswith("---")]
    plus = [line[1:] for line in shown if line.startswith("+") and not line.startswith("+++")]
    return (minus[0], plus[0]) if len(minus) == len(plus) == 1 else None


def survivors(containing: str) -> list[str]:
    report = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutation_report.py")], capture_output=True, text=True, cwd=ROOT).stdout
    return sorted({m for m in re.findall(r"(qa\.\S+__mutmut_\d+)", report) if containing in m})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", type=Path, help="the mutated module, e.g. qa/store/faiss_store.py")
    ap.add_argument("tests", help="comma-separated test files to run")
    ap.add_argument("names", nargs="*", help="mutant names (mutmut's)")
    ap.add_argument("--survivors", metavar="TEXT", help="the last run's survivors whose names hold TEXT")
    args = ap.parse_args()
    names = args.names + (survivors(args.survivors) if args.survivors else [])
    original = args.source.read_text()
    for name in names:
        change = changed_line(name)
        if change is None or change[0] not in original:
            print(f"{name}: not a one-line change found in {args.source}; apply it by hand")
            continue
        try:
            args.source.write_text(original.replace(change[0], change[1], 1))
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *args.tests.split(",")],
                                 capture_output=True, text=True, cwd=ROOT)
        finally:
            args.source.write_text(original)
        print(f"{name}: {'KILLED' if run.returncode else 'survived'}  ({change[0].strip()[:60]} -> {change[1].strip()[:60]})", flush=True)


if __name__ == "__main__":
    main()
