"""Approximate search at a million passages on real sentence embeddings, on one core.

    .venv/bin/python benchmarks/scale_real.py                     # 1,000,000 vectors
    .venv/bin/python benchmarks/scale_real.py --size 200000 --hnsw

The vectors are the cache of benchmarks/embed_cache.py (real all-MiniLM-L6-v2 embeddings of
training sentences and paragraphs), topped up to --size with vectors drawn around them: a real
vector plus Gaussian noise (cosine about 0.8-0.9 to its origin), renormalised, so the collection
keeps the clusters of real text. Queries are real training questions. The truth is exact search
(the floor, also timed); each approximate index is timed one query at a time on one thread
(faiss.omp_set_num_threads(1)) and scored by recall@10 against the truth.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from qa.eval.bench import DEFAULT_EMB_CACHE as DEFAULT_CACHE


def load_cache(cache: Path):
    import numpy as np

    def kind(name: str):
        parts = sorted(cache.glob(f"{name}-*.npy"))
        return np.vstack([np.load(p) for p in parts]) if parts else np.zeros((0, 384), np.float32)

    return kind("questions"), np.vstack([kind("sentences"), kind("paragraphs")])


def top_up(real, size: int, seed: int = 0):
    """`real` plus drawn vectors up to `size` rows: a random real row + noise, renormalised."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    n = min(len(real), size)
    out[:n] = real[:n]
    for lo in range(n, size, 100_000):
        hi = min(size, lo + 100_000)
        origin = real[rng.integers(0, len(real), hi - lo)]
        noise_norm = rng.uniform(0.45, 0.75, (hi - lo, 1)).astype(np.float32)
        noise = rng.standard_normal((hi - lo, real.shape[1])).astype(np.float32)
        noise *= noise_norm / np.linalg.norm(noise, axis=1, keepdims=True)
        rows = origin + noise
        out[lo:hi] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def timed_search(index, queries, k: int):
    """Results and per-query milliseconds, one query per call."""
    import numpy as np

    found, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    return np.array(found), ms


def recall_at(found, truth, k: int) -> float:
    return sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth)) / (k * len(truth))


def row(name: str, ms: list[float], recall: float | None, build_s: float | None) -> str:
    p50 = statistics.median(ms)
    p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
    rec = f"{recall:.3f}" if recall is not None else "1 (truth)"
    build = f"{build_s:.0f} s" if build_s is not None else "-"
    return f"| {name:<34} | {p50:7.2f} ms | {p95:7.2f} ms | {rec:>9} | {build:>7} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--nlist", type=int, default=4096)
    parser.add_argument("--nprobe", default="8,16,32,64", help="IVF cells searched, comma-separated.")
    parser.add_argument("--hnsw", action="store_true", help="Also build HNSW (M=32, efConstruction=80: slow to build).")
    parser.add_argument("--ef", default="32,64,128", help="HNSW efSearch values, comma-separated.")
    parser.add_argument("--build-threads", type=int, default=2)
    args = parser.parse_args()

    import faiss
    import numpy as np

    questions, real = load_cache(args.cache)
    if not len(real) or not len(questions):
        sys.exit(f"no cached vectors in {args.cache}: run benchmarks/embed_cache.py first")
    queries = questions[: args.queries]
    vectors = top_up(real, args.size)
    k = 10
    lines = [f"\n{args.size:,} vectors: {len(real):,} real (sentences and paragraphs), {args.size - min(len(real), args.size):,} drawn "
             f"around them; {len(queries)} real questions; search on 1 thread",
             "| index                              |     p50     |     p95     | recall@10 |  build  |",
             "|------------------------------------|-------------|-------------|-----------|---------|"]

    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    truth, ms = timed_search(flat, queries, k)
    lines.append(row("exact (IndexFlatIP): the floor", ms, None, None))
    print(lines[-1], flush=True)
    del flat

    faiss.omp_set_num_threads(args.build_threads)
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, vectors.shape[1], args.nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(1).choice(len(vectors), min(len(vectors), 40 * args.nlist), replace=False)]
    ivf.train(sample)
    ivf.add(vectors)
    build = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    for nprobe in [int(x) for x in args.nprobe.split(",")]:
        ivf.nprobe = nprobe
        found, ms = timed_search(ivf, queries, k)
        lines.append(row(f"IVF{args.nlist},Flat nprobe={nprobe}", ms, recall_at(found, truth, k), build))
        print(lines[-1], flush=True)
    del ivf

    # What `qa` itself builds above its exact-search limit (qa.store.faiss_store.build_faiss).
    from qa.store.faiss_store import build_faiss

    faiss.omp_set_num_threads(args.build_threads)
    t0 = time.perf_counter()
    ours = build_faiss(vectors, approximate_above=0)
    build = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    found, ms = timed_search(ours, queries, k)
    lines.append(row(f"qa: IVF{ours.nlist},Flat nprobe={ours.nprobe}", ms, recall_at(found, truth, k), build))
    print(lines[-1], flush=True)
    del ours

    if args.hnsw:
        faiss.omp_set_num_threads(args.build_threads)
        t0 = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(vectors)
        build = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        for ef in [int(x) for x in args.ef.split(",")]:
            hnsw.hnsw.efSearch = ef
            found, ms = timed_search(hnsw, queries, k)
            lines.append(row(f"HNSW32 efSearch={ef}", ms, recall_at(found, truth, k), build))
            print(lines[-1], flush=True)
    print("\n".join(lines))
    print(json.dumps({"size": args.size, "real": int(len(real)), "queries": int(len(queries))}))


if __name__ == "__main__":
    main()
