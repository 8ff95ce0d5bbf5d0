"""Mutation testing of the modules that decide what a user sees, and its score per module.

    python scripts/mutation_report.py            print the score of the last run (mutants/)
    python scripts/mutation_report.py --run      run mutmut module by module, then print it
    python scripts/mutation_report.py --run render answer    only those modules

mutmut (configured in pyproject.toml, [tool.mutmut]) changes one thing at a time in the code
(an operator, a constant, a condition) and runs the fast tests that reach the changed function:
a mutant is killed when a test fails. Each module is run on its own with one test process at
a time. Survivors that cannot change what the product does are listed, with the reason, in
tests/mutants_equivalent.md; the score counts them neither killed nor missed. Any other
survivor is printed and needs a test.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
EQUIVALENTS = ROOT / "tests" / "mutants_equivalent.md"
TARGET = 90.0

# Module -> the mutant names (mutmut's, globs) of its functions that decide what a user sees.
MODULES: dict[str, list[str]] = {
    "answer": ["qa.answer.*"],
    "attribution": ["qa.attribution.*"],
    "calibration": ["qa.calibration.*"],
    "render": ["qa.render.*"],
    "retrieve": ["qa.retrieve.*"],
    "conversation": ["qa.conversation.*"],
    "read": ["qa.read.*"],
    "faiss_store": ["qa.store.faiss_store.*"],
    "faiss_files": ["qa.store.faiss_files.*"],
    "store_base": ["qa.store.base.*"],
    "ingest": ["qa.ingest.*"],
    "formats": ["qa.formats.*"],
    "text": ["qa.text.*"],
    "chunk": ["qa.chunk.*"],
    "spelling": ["qa.spelling.*"],
    "batching": ["qa.batching.*"],
    "config": ["qa.config.*"],
    "layout": ["qa.layout.*"],
    # The page: its upload gate, login check, limits and upload sweeping (not the widgets' layout).
    "app": [
        f"qa.app.{name}__mutmut_*"
        for name in ("x__carries_a_file", "x__refuse", "xǁUploadGateǁ__call__", "x__folder_bytes", "x_sweep_uploads",
                     "x_forget_uploads", "x__is_loopback", "x__signed_in", "x__int", "x__upload_cap", "x_examples_for",
                     "x_seed_names")
    ],
}
CAUGHT = {1, 3, 36, -24, 24, 152, 255, -11}  # a test failed, pytest broke, the mutant hung (timeout) or crashed


def results() -> dict[str, int | None]:
    """Mutant name -> mutmut's exit code, for every mutant of the last run."""
    out: dict[str, int | None] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def equivalents() -> set[str]:
    """Mutant names listed in the equivalents file (each line: `- name: reason`)."""
    if not EQUIVALENTS.exists():
        return set()
    return set(re.findall(r"^- `?([\w.ǁ]+__mutmut_\d+)`?:", EQUIVALENTS.read_text(), re.MULTILINE))


def module_of(name: str) -> str | None:
    return next((m for m, globs in MODULES.items() if any(fnmatch.fnmatchcase(name, g) for g in globs)), None)


def report() -> bool:
    """Print killed/total per module and the survivors to look at; True when every module meets the target."""
    codes, equal = results(), equivalents()
    ok = True
    print(f"{'module':<14}{'killed':>8}{'total':>7}{'score':>8}{'equivalent':>12}{'score w/o equiv.':>18}")
    survivors: list[str] = []
    for module in MODULES:
        names = [n for n in codes if module_of(n) == module]
        tested = [n for n in names if codes[n] is not None]
        killed = [n for n in tested if codes[n] in CAUGHT]
        eq = [n for n in tested if n in equal and n not in killed]
        if not names:
            print(f"{module:<14}{'-':>8}{0:>7}   (no mutants generated yet: is it in [tool.mutmut] only_mutate?)")
            ok = False
            continue
        if len(tested) < len(names):
            print(f"{module:<14}{'-':>8}{len(names):>7}   ({len(names) - len(tested)} not run yet)")
            ok = False
            continue
        score = 100.0 * len(killed) / len(tested)
        adjusted = 100.0 * len(killed) / max(1, len(tested) - len(eq))
        ok &= adjusted >= TARGET
        print(f"{module:<14}{len(killed):>8}{len(tested):>7}{score:>7.1f}%{len(eq):>12}{adjusted:>17.1f}%")
        survivors += [n for n in tested if n not in killed and n not in equal]
    if survivors:
        print(f"\n{len(survivors)} survivor(s) neither killed nor listed in {EQUIVALENTS.relative_to(ROOT)}:")
        for n in survivors:
            print(f"  {n}  ({codes[n]})   see: mutmut show '{n}'")
    print(f"\ntarget: {TARGET:.0f}% killed per module (equivalent mutants left out): {'met' if ok else 'NOT met'}")
    return ok


def run(modules: list[str], only: str = "", children: int = 1) -> None:
    """Run mutmut for each module in turn, `children` test processes at a time.

    Args:
        modules: The modules to run.
        only: "missing": only mutants without a result yet (to finish an interrupted run);
            "survivors": only those that survived (after adding tests); "": all.
    """
    codes = results() if only else {}
    wanted = {"missing": {None}, "survivors": {0, 33}}.get(only, set())
    for module in modules:
        names = [n for n, c in codes.items() if c in wanted and module_of(n) == module] if only else MODULES[module]
        if not names:
            continue
        t0 = time.monotonic()
        print(f"== {module}", flush=True)
        proc = subprocess.run([str(MUTMUT), "run", "--max-children", str(children), *names], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail = proc.stdout.strip().splitlines()[-3:]
        print("\n".join(tail))
        print(f"== {module}: {time.monotonic() - t0:.0f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="store_true", help="run mutmut first")
    parser.add_argument("--only", choices=["missing", "survivors"], default="",
                        help="with --run: only the mutants not run yet, or only the survivors of the last run")
    parser.add_argument("--children", type=int, default=1, help="with --run: test processes at a time (default 1)")
    parser.add_argument("modules", nargs="*", help=f"modules to run (default: all): {', '.join(MODULES)}")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    if args.run:
        run(args.modules or list(MODULES), args.only, args.children)
    return 0 if report() else 1


if __name__ == "__main__":
    sys.exit(main())
