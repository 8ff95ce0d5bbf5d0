"""How the passage stores scale: build time, memory, dense query latency, recall@10; and Ray
ingest throughput. Prints one table.

    python benchmarks/scale.py                                   # 1k, 10k, 100k passages
    python benchmarks/scale.py --sizes 1000,10000 --ray-passages 500
    python benchmarks/scale.py --sizes 1000000 --stores faiss-ivf,milvus-lite

Passages are synthetic: random unit vectors (dimension 384, like all-MiniLM-L6-v2) and random
words for BM25. Queries are stored vectors plus noise, so each has true near neighbours.
Each (store, size) runs in its own process, so memory is the growth of that process' resident
set (VmRSS in /proc/self/status) while the store is built, its libraries already imported
(for Milvus Lite this includes its embedded server). FAISS runs on `--threads` threads (1 by
default: steadier latencies on a shared machine). Recall@10 is against exact search
(IndexFlatIP) on the same vectors. Latency is `store.dense_search(vector, 10)`, as the
chatbot calls it.

Stores: faiss-flat (FaissStore, exact), faiss-ivf (FaissStore above `approximate_above`: the
IVF index of qa.store.faiss_store.build_faiss), milvus-lite (MilvusStore on a Milvus Lite file, FLAT index),
milvus-lite-hnsw (the same with an HNSW index).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORES = ("faiss-flat", "faiss-ivf", "milvus-lite", "milvus-lite-hnsw")
DIM = 384
INFO = {"embedder": "synthetic", "dimension": DIM, "chunk_tokens": 200, "chunk_overlap": 40}


def rss_mb() -> float:
    """Resident set size of this process, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthetic(n: int, queries: int, seed: int = 0):
    """n unit vectors with random-word passages, and noisy copies of some of them as queries."""
    import numpy as np

    from qa.types import Chunk, Document

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    picks = rng.choice(n, size=queries, replace=n < queries)
    q = vectors[picks] + 0.08 * rng.standard_normal((queries, DIM), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    vocab = np.array([f"w{j}" for j in range(5000)])
    words = rng.integers(0, len(vocab), size=(n, 30))
    docs_every = 100  # passages per synthetic document
    docs, chunks = [], []
    for lo in range(0, n, docs_every):
        texts = [" ".join(vocab[row]) for row in words[lo : lo + docs_every]]
        doc_text = "\n".join(texts)
        did = f"d{lo // docs_every:07d}"
        docs.append(Document(did, f"{did}.txt", doc_text))
        pos = 0
        for i, t in enumerate(texts, start=lo):
            chunks.append(Chunk(f"c{i:08d}", did, f"{did}.txt", t, pos, pos + len(t)))
            pos += len(t) + 1
    return docs, chunks, vectors, q


def open_store(kind: str, folder: Path):
    if kind.startswith("faiss"):
        from qa.store.faiss_store import FaissStore

        return FaissStore(folder / "index", INFO, approximate_above=0 if kind == "faiss-ivf" else 10**12)
    from qa.store.milvus_store import MilvusStore

    return MilvusStore(str(folder / "qa.db"), INFO, index_type="HNSW" if kind.endswith("hnsw") else "FLAT")


def run_one(kind: str, n: int, queries: int, threads: int) -> dict:
    """Build one store of n passages, query it; runs in a child process."""
    import bm25s  # noqa: F401 - libraries are loaded before memory is measured
    import faiss
    import numpy as np

    if kind.startswith("milvus"):
        import milvus_lite.adapter.grpc.server  # noqa: F401
        import pymilvus  # noqa: F401
    if threads:
        faiss.omp_set_num_threads(threads)
    docs, chunks, vectors, q = synthetic(n, queries)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    _, truth = exact.search(q, 10)
    del exact
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        before = rss_mb()
        t0 = time.perf_counter()
        store = open_store(kind, Path(tmp))
        store.upsert(docs, chunks, vectors)
        if kind.startswith("faiss"):
            store._index()  # FAISS builds lazily on the first search: count it in the build
        store.save()
        build = time.perf_counter() - t0
        memory = rss_mb() - before
        store.dense_search(q[0], 10)  # warm up
        times, hits = [], []
        for vector in q:
            t = time.perf_counter()
            found = store.dense_search(vector, 10)
            times.append(time.perf_counter() - t)
            hits.append([int(c.id[1:]) for c, _ in found])
        store.close()
    recall = np.mean([len(set(h) & set(t)) / 10 for h, t in zip(hits, truth)])
    ms = np.array(times) * 1000
    return {"build_s": build, "rss_mb": memory, "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "recall": float(recall)}


def ray_throughput(passages: int, workers_list: list[int], embedder: str) -> list[tuple[str, int, float]]:
    """Passages per second of `index_with_ray` (and the plain path) on a synthetic corpus."""
    import numpy as np

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from qa.chatbot import Chatbot
    from qa.config import Settings
    from qa.ray_ingest import connect_ray, index_with_ray

    rng = np.random.default_rng(1)
    vocab = "river harbour engine violin crane tide bridge rocket mountain city market garden".split()
    results = []
    with tempfile.TemporaryDirectory(prefix="qa-ray-") as tmp:
        corpus = Path(tmp) / "docs"
        corpus.mkdir()
        per_file = 10  # about one passage per 8 sentences of 12 words at 200 word pieces
        for f in range(max(1, passages // per_file)):
            sentences = [" ".join(rng.choice(vocab, 12)).capitalize() + f" {f}." for _ in range(per_file * 8)]
            (corpus / f"f{f:05d}.txt").write_text(" ".join(sentences))
        factory = _factory(embedder)
        connect_ray(None, max(workers_list))  # started once, so only the ingest is timed
        runs = [("plain (no Ray)", 0)] + [(f"ray, {w} worker(s)", w) for w in workers_list]
        for label, workers in runs:
            bot = Chatbot(Settings(index_dir=f"{tmp}/index-{workers}", seed_dir=f"{tmp}/none"), embedder=factory())
            bot.store  # noqa: B018 - opened before timing
            t0 = time.perf_counter()
            if workers:
                report = index_with_ray(bot, [corpus], workers=workers, embedder_factory=factory)
            else:
                report = bot.add_paths([corpus])
            seconds = time.perf_counter() - t0
            results.append((label, report.passages, seconds))
        import ray

        ray.shutdown()
    return results


def _factory(name: str):
    if name == "hash":
        from tests.conftest import HashEmbedder

        return HashEmbedder
    from qa.embed import Embedder

    return Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="passage counts, comma-separated (e.g. add 1000000)")
    parser.add_argument("--stores", default="faiss-flat,faiss-ivf,milvus-lite", help=f"comma-separated, of {', '.join(STORES)}")
    parser.add_argument("--queries", type=int, default=200, help="queries per store and size")
    parser.add_argument("--ray-passages", type=int, default=2000, help="passages of the Ray ingest corpus (0: skip)")
    parser.add_argument("--ray-workers", default="1,2", help="worker counts to try, comma-separated")
    parser.add_argument("--ray-embedder", choices=["real", "hash"], default="real", help="real: all-MiniLM-L6-v2; hash: a model-free stand-in")
    parser.add_argument("--threads", type=int, default=1, help="FAISS/OpenMP threads (0: the library default)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: STORE:SIZE in a child process
    args = parser.parse_args()
    if args.one:
        kind, n = args.one.split(":")
        print(json.dumps(run_one(kind, int(n), args.queries, args.threads)))
        return
    stores = [s for s in args.stores.split(",") if s]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s) {', '.join(unknown)}; known: {', '.join(STORES)}")
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for kind in stores:
            cmd = [sys.executable, __file__, "--one", f"{kind}:{n}", "--queries", str(args.queries), "--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                rows.append((kind, n, "failed: " + proc.stderr.strip().splitlines()[-1][:60], "", "", "", "", ""))
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append((kind, n, f"{r['build_s']:.2f}", f"{r['rss_mb']:.0f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['recall']:.3f}", "-"))
            print(f"  done {kind} {n}", file=sys.stderr)
    if args.ray_passages:
        workers = [int(w) for w in args.ray_workers.split(",") if w]
        for label, passages, seconds in ray_throughput(args.ray_passages, workers, args.ray_embedder):
            rows.append((f"ingest {label} [{args.ray_embedder}]", passages, f"{seconds:.1f}", "-", "-", "-", "-", f"{passages / seconds:.0f}"))
    print_table(rows)


def print_table(rows: list[tuple]) -> None:
    head = ("benchmark", "passages", "build/ingest s", "memory MB", "query p50 ms", "query p95 ms", "recall@10", "passages/s")
    table = [head, *[tuple(str(c) for c in r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table[1:]:
        print(line(r))


if __name__ == "__main__":
    main()
