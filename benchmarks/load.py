"""Many chat users at once: errors, throughput, latency and the server's memory over time.

    .venv/bin/python benchmarks/load.py                          # 1, 8, 16 and 32 clients
    .venv/bin/python benchmarks/load.py --clients 1,16 --questions 100 --time-limit 30
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860/   # a page already running here

Each client is a `gradio_client.Client` that asks the page's "ask" endpoint (the Ask button)
questions about the seed article, one after another, until the level's number of questions or
its time limit is reached; the levels (1, 8, 16, 32 clients) run one after the other against the
same server, and the first is the floor the others' throughput is compared with. The server's
resident memory is read from /proc at each level's start and end: it must stay flat. Exits with
status 1 on any error.

Only this machine is ever contacted: a --url that is not a loopback address is refused, and
this process cannot open a connection to any other address.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.eval import bench
from qa.eval.bench import SEED_QUESTIONS as QUESTIONS, percentile

ROOT = Path(__file__).resolve().parent.parent

_real_connect = socket.socket.connect
BLOCKED: list[str] = []  # non-loopback addresses something in this process tried to reach


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and not _is_loopback(str(host)):
        BLOCKED.append(str(host))
        raise OSError(f"load.py only talks to this machine: connection to {host} refused")
    return _real_connect(self, address)


def forbid_network() -> None:
    """Every connection from this process to anything but a loopback address fails."""
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(key, None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process and its children, in MB (None when unknown)."""
    if pid is None:
        return None
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found + [g for c in found for g in _children(c)]


def pid_listening_on(port: int) -> int | None:
    """The process (of this user) listening on a local TCP port, from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(parts[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def start_server(index_dir: Path, timeout: float) -> tuple[subprocess.Popen, str]:
    """`qa serve` on a free 127.0.0.1 port over `index_dir` (built from seeds/ if empty)."""
    try:
        proc, url, seconds = bench.start_server(index_dir, ROOT / "seeds", timeout, index_dir.parent / "server.log")
    except RuntimeError as err:
        raise SystemExit(str(err)) from None
    print(f"server ready at {url} in {seconds:.1f} s (pid {proc.pid})", flush=True)
    return proc, url


class Level:
    """One load level: `clients` clients asking until `questions` are asked or time is up."""

    def __init__(self, url: str, pid: int | None, clients: int, questions: int, time_limit: float, rss_at: list[int]) -> None:
        self.url, self.pid, self.clients, self.questions = url, pid, clients, questions
        self.deadline = time.monotonic() + time_limit
        self.marks = list(rss_at)
        self.lock = threading.Lock()
        self.issued = self.done = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.memory: list[tuple[str, float | None]] = [("start", rss_mb(pid))]
        self.elapsed = 0.0

    def take(self) -> int | None:
        with self.lock:
            if self.issued >= self.questions or time.monotonic() > self.deadline:
                return None
            self.issued += 1
            return self.issued - 1

    def finished(self, latency: float | None, error: str | None) -> None:
        with self.lock:
            self.done += 1
            if error:
                self.errors.append(error)
            else:
                self.latencies.append(latency)
            if self.marks and self.done == self.marks[0]:
                self.marks.pop(0)
                self.memory.append((f"after {self.done}", rss_mb(self.pid)))

    def client_loop(self, n: int) -> None:
        from gradio_client import Client

        try:
            client = Client(self.url, verbose=False, download_files=False, analytics_enabled=False,
                            httpx_kwargs={"trust_env": False, "timeout": 600})
        except Exception as err:  # counted, not raised: the run goes on with the other clients
            while self.take() is not None:
                self.finished(None, f"client {n} could not connect: {err}")
            return
        while (i := self.take()) is not None:
            question = QUESTIONS[(i + 7 * n) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                ask_once(client, question)
                self.finished(time.perf_counter() - t0, None)
            except Exception as err:
                self.finished(None, f"{question!r}: {type(err).__name__}: {err}")
        client.close() if hasattr(client, "close") else None

    def run(self) -> "Level":
        started = time.perf_counter()
        threads = [threading.Thread(target=self.client_loop, args=(n,), daemon=True) for n in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.perf_counter() - started
        self.memory.append((f"end ({self.done})", rss_mb(self.pid)))
        return self

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def ask_once(client: Any, question: str) -> str:
    box, chat = client.predict(question, [], api_name="/ask")
    reply = chat[-1]["content"] if chat else ""
    reply = reply if isinstance(reply, str) else str(reply)
    if box != "" or not reply or "something went wrong" in reply or "Loading the models" in reply:
        raise RuntimeError(f"unexpected reply {reply[:200]!r}")
    return reply


def print_levels(levels: list[Level]) -> None:
    base = levels[0].throughput or float("nan")
    print()
    print("| clients | answered / asked | errors | throughput | vs first row | p50 | p95 | server RSS start -> end |")
    print("|---|---|---|---|---|---|---|---|")
    for lv in levels:
        p50 = f"{percentile(lv.latencies, 50) * 1000:.0f} ms" if lv.latencies else "-"
        p95 = f"{percentile(lv.latencies, 95) * 1000:.0f} ms" if lv.latencies else "-"
        rss = " -> ".join("?" if mb is None else f"{mb:.0f}" for _, mb in (lv.memory[0], lv.memory[-1]))
        print(f"| {lv.clients} | {len(lv.latencies)} / {lv.done} | {len(lv.errors)} | {lv.throughput:.2f} q/s | "
              f"{lv.throughput / base:.2f}x | {p50} | {p95} | {rss} MB |")
    known = [mb for lv in levels for _, mb in lv.memory if mb is not None]
    if len(known) >= 2:
        growth = known[-1] - known[0]
        print(f"| RSS growth over the run | {growth:+.0f} MB ({'flat' if abs(growth) < 0.05 * known[0] + 20 else 'GROWING'}) |")
    print(f"| connections refused (not loopback) | {', '.join(sorted(set(BLOCKED))) or 'none attempted'} |")
    for lv in levels:
        for e in lv.errors[:5]:
            print(f"error ({lv.clients} clients): {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="A chat page already running on this machine (loopback only).")
    parser.add_argument("--pid", type=int, help="The server's process id for --url (default: found from its port).")
    parser.add_argument("--clients", default="1,8,16,32", help="Client counts, one level each, comma-separated; the first is the floor.")
    parser.add_argument("--questions", type=int, default=200, help="Questions per level, all clients together.")
    parser.add_argument("--time-limit", type=float, default=60, help="Seconds per level; clients stop asking after this.")
    parser.add_argument("--rss-at", default="100", help="Also read the server's memory after these many questions of a level.")
    parser.add_argument("--start-timeout", type=float, default=600)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    if not counts or min(counts) < 1 or args.questions < 1:
        parser.error("--clients and --questions must be at least 1")

    forbid_network()
    from gradio_client import Client

    tmp = Path(tempfile.mkdtemp(prefix="qa-load-"))
    proc = None
    try:
        if args.url:
            host = urlparse(args.url).hostname or ""
            if not _is_loopback(host):
                raise SystemExit(f"--url must be on this machine (127.0.0.1, ::1 or localhost), not {host!r}")
            url, pid = args.url, args.pid or pid_listening_on(urlparse(args.url).port or 80)
        else:
            proc, url = start_server(tmp / "index", args.start_timeout)
            pid = proc.pid
        warm = Client(url, verbose=False, download_files=False, analytics_enabled=False, httpx_kwargs={"trust_env": False, "timeout": 600})
        for q in QUESTIONS[:3]:  # the models are loaded and warm before anything is timed
            warm.predict(q, [], api_name="/ask")
        marks = sorted({int(m) for m in args.rss_at.split(",") if m.strip()})
        levels = []
        for clients in counts:
            print(f"{clients} clients, up to {args.questions} questions or {args.time_limit:.0f} s, against {url}", flush=True)
            levels.append(Level(url, pid, clients, args.questions, args.time_limit, marks).run())
        print_levels(levels)
        if any(lv.errors for lv in levels):
            sys.exit(1)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
