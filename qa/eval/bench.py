"""What the benchmarks and the offline scripts share: the seed questions, percentiles, where the
training data is, a `qa serve` started on a free port, and a reader measured on SQuAD questions.

Offline only (the runtime never imports qa.eval); the scripts in benchmarks/ and scripts/
import it instead of each other.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
# The training data beside the checkout (../shared/...), or beside its parent (a worktree).
DATA = next((p / "shared" / "data" / "qa-train" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()),
            REPO.parent / "shared" / "data" / "qa-train")
DEFAULT_EMB_CACHE = Path.home() / ".cache" / "qa" / "emb-cache"

# Questions about the seed article, the same in every benchmark.
SEED_QUESTIONS = [
    "What did Xi say?",
    "Who did Lee meet on Tuesday?",
    "What has North Korea refused?",
    "Who is China's Premier?",
    "Where did Lee meet Xi?",
    "When did Lee meet Xi in Beijing?",
    "Where was Lee visiting when he spoke to journalists?",
    "What did Lee ask Xi to do?",
    "Who is North Korea's biggest trading partner?",
    "When did Kim Jong Un's diplomacy with Trump collapse?",
    "Who is Kim Yo Jong?",
    "What did Kim Yo Jong criticise?",
    "When did Lee take office?",
    "What did Lee say about communication channels with North Korea?",
    "What did Li Qiang tell Lee?",
    "What does Lee want North Korea to freeze first?",
    "What did Lee tell Chinese officials?",
    "What has China urged all parties to do?",
    "What did China block?",
    "What did China say it would do?",
    "What will North Korea not put on the negotiating table?",
    "What is being produced continuously?",
    "Who shared Lee's view?",
    "What kind of denuclearization steps does Lee seek?",
    "What would be a loss for Northeast Asia?",
    "Who ignored Lee's overture?",
    "What did South Korea and the U.S. ask China to do?",
    "What is Lee's government pushing for?",
    "Who is the South Korean President?",
    "What did Xi recognize?",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def folder_mb(folder: Path) -> float:
    """Size of the files directly in `folder`, in MB."""
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def evaluate_reader_folder(model_dir: Path | str | None, examples: list[Any]) -> dict[str, Any]:
    """EM/F1 of a reader folder (or the shipped reader) on SQuAD examples, always answering, and
    the CPU seconds it took."""
    from qa.calibration import Calibration
    from qa.eval.evaluate import run_reader
    from qa.eval.squad import squad_metrics
    from qa.readers import reader_for

    reader = reader_for(model_dir or "fast")
    t0 = time.process_time()
    run = run_reader(examples, reader, Calibration())
    cpu = time.process_time() - t0
    m = squad_metrics(examples, {r.qid: r.text for r in run.results})
    return {"em": m["exact"], "f1": m["f1"], "eval_cpu_s": round(cpu, 1), "dtype": getattr(reader, "dtype", "")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(index_dir: Path, seeds: Path, timeout: float, log: Path) -> tuple[subprocess.Popen, str, float]:
    """`qa serve` on a free 127.0.0.1 port over `index_dir` (built from `seeds` if empty), its
    output in `log`. Returns the process, its URL and the seconds until the page answered HTTP 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(index_dir), QA_SEED_DIR=str(seeds), QA_HOST="127.0.0.1", QA_PORT=str(port),
               QA_SHARE="false", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "qa", "serve"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"qa serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return proc, url, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"qa serve was not ready after {timeout:.0f} s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


