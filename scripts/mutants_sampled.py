"""A mutation score estimated from a random sample of a module's mutants, against any tests.

    python scripts/mutants_sampled.py qa/store/milvus_store.py \\
        tests/test_store_contract.py,tests/test_milvus_errors.py -m "milvus and not milvus_server" --sample 40

For a module whose tests are too slow to run once per mutant (the Milvus store: its contract
tests start Milvus Lite, about a minute a run), this makes mutmut's mutants of the module (the
same operators: `mutmut.mutation.file_mutation.create_mutations`), draws SAMPLE of them at random
(`--seed`), writes each one over the source in turn, runs the given tests (stopped after
`--timeout` seconds: counted as caught, as mutmut counts a hang), and puts the source back, also
when stopped. It prints each survivor's changed line and the share caught, with its 95% interval
(Wilson): an estimate of the module's score, not a full run.
"""

from __future__ import annotations

import argparse
import math
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wilson(caught: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% interval of a share of `caught` in `n` (Wilson score interval)."""
    if n == 0:
        return 0.0, 1.0
    p = caught / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def changed_line(original: str, mutated: str) -> str:
    """The first line that differs, before -> after."""
    for a, b in zip(original.splitlines(), mutated.splitlines()):
        if a != b:
            return f"{a.strip()[:90]}  ->  {b.strip()[:90]}"
    return "(a line added or removed)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", type=Path, help="the module, e.g. qa/store/milvus_store.py")
    ap.add_argument("tests", help="comma-separated test files to run against each mutant")
    ap.add_argument("-m", dest="marks", default="", help="pytest marker expression for those tests")
    ap.add_argument("--sample", type=int, default=40, help="mutants to draw")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600, help="seconds a test run may take")
    args = ap.parse_args()

    from mutmut.mutation.file_mutation import create_mutations

    path = args.source if args.source.is_absolute() else ROOT / args.source
    original = path.read_text()
    module, mutations, _, _ = create_mutations(str(path), original)
    drawn = sorted(random.Random(args.seed).sample(range(len(mutations)), min(args.sample, len(mutations))))
    print(f"{path.relative_to(ROOT)}: {len(mutations)} mutants; {len(drawn)} drawn (seed {args.seed})", flush=True)

    def restore(*_: object) -> None:
        path.write_text(original)
        sys.exit("stopped; source restored")

    signal.signal(signal.SIGTERM, restore)
    signal.signal(signal.SIGINT, restore)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args.tests.split(",")]
    if args.marks:
        command += ["-m", args.marks]
    caught, survivors = 0, []
    try:
        for k, i in enumerate(drawn, start=1):
            m = mutations[i]
            mutated = module.deep_replace(m.original_node, m.mutated_node).code
            line = changed_line(original, mutated)
            path.write_text(mutated)
            started = time.monotonic()
            try:
                rc = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=args.timeout).returncode
                verdict = "caught" if rc != 0 else "SURVIVED"
            except subprocess.TimeoutExpired:
                rc, verdict = -1, "caught (timeout)"
            finally:
                path.write_text(original)
            caught += verdict.startswith("caught")
            if not verdict.startswith("caught"):
                survivors.append((i, line))
            print(f"[{k}/{len(drawn)}] mutant {i}: {verdict} ({time.monotonic() - started:.0f} s)  {line}", flush=True)
    finally:
        path.write_text(original)
    low, high = wilson(caught, len(drawn))
    print(f"\ncaught {caught} / {len(drawn)} = {100 * caught / max(1, len(drawn)):.1f}% "
          f"(95% interval {100 * low:.1f}-{100 * high:.1f}%) of {len(mutations)} mutants")
    for i, line in survivors:
        print(f"  survived: mutant {i}: {line}")


if __name__ == "__main__":
    main()
