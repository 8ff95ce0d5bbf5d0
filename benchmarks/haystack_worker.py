"""Haystack's half of benchmarks/haystack_side_by_side.py; runs in runs/haystack-venv (Haystack 3.4).

    runs/haystack-venv/bin/python benchmarks/haystack_worker.py JOB.json

Builds an in-memory store of the job's passages embedded with the job's sentence-transformers
folder, and a pipeline embedder -> retriever -> extractive reader (fp32); prints one JSON line when
warm, then on each "round" line from its input answers every question and prints their times
(ms) and answers as one JSON line; "stop" ends it. It imports nothing of qa.
"""

import json
import sys
import time
from importlib import metadata


def main() -> None:
    job = json.loads(open(sys.argv[1]).read())
    import torch

    torch.set_num_threads(job["threads"])
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    doc_embedder = SentenceTransformersDocumentEmbedder(model=job["embedder"], local_files_only=True, progress_bar=False)
    doc_embedder.warm_up()
    docs = doc_embedder.run([Document(content=p) for p in job["passages"]])["documents"]
    store.write_documents(docs)
    pipe = Pipeline()
    pipe.add_component("embedder", SentenceTransformersTextEmbedder(model=job["embedder"], local_files_only=True, progress_bar=False))
    pipe.add_component("retriever", InMemoryEmbeddingRetriever(store, top_k=job["top_k"]))
    pipe.add_component("reader", TransformersExtractiveReader(
        model=job["reader"], top_k=1, max_seq_length=job["max_seq_length"], stride=job["stride"],
        model_kwargs={"dtype": torch.float32}))
    pipe.connect("embedder.embedding", "retriever.query_embedding")
    pipe.connect("retriever.documents", "reader.documents")
    pipe.warm_up()

    def ask(q: str) -> str:
        out = pipe.run({"embedder": {"text": q}, "reader": {"query": q}})
        answers = out["reader"]["answers"]
        return (answers[0].data or "") if answers else ""

    for q in job["questions"]:  # warm
        ask(q)
    print(json.dumps({"haystack": metadata.version("haystack-ai"), "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        times, texts = [], []
        for q in job["questions"]:
            t0 = time.perf_counter()
            texts.append(ask(q))
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"ms": times, "answers": texts}), flush=True)


if __name__ == "__main__":
    main()
