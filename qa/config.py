"""Settings: one frozen dataclass, overridable by keyword, by environment (QA_*) and by CLI flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

from qa.embed import check_embedder_precision
from qa.errors import SettingsError
from qa.read import ReaderSettings
from qa.store.base import APPROXIMATE_ABOVE
from qa.types import ReaderKind

DEFAULT_READER = ReaderKind.CASCADE.value  # chosen by measurement (docs/readers.md, benchmarks/readers.py)


@dataclass(frozen=True)
class Settings:
    """Everything a user can tune. Each field can also be set as QA_<NAME> in the environment.

    Attributes:
        index_dir: Folder of the index (FAISS vectors, chunks, BM25, manifest).
        store: Where passages are stored: a folder (same as index_dir), faiss://FOLDER,
            milvus://FILE.db (Milvus Lite) or http://HOST:19530 (a Milvus server). Empty = index_dir.
        seed_dir: Documents indexed when there is no index yet.
        reader: Which reader: "cascade" (the default: the fast reader, and the accurate one when
            the fast reader is unsure; without qa[accurate] installed, the fast reader alone),
            "fast" (the shipped MiniLM reader), "accurate" (the 12-layer reader; needs
            qa[accurate]), "auto" (the accurate reader where qa[accurate] is installed, else the
            fast one) or the folder of a question-answering model.
        reader_path: Folder of a Hugging Face question-answering model (older name for a
            folder given as `reader`); empty = the one `reader` names.
        reader_precision: "auto" (the fastest format the reader may use, measured on this processor once; `qa info` shows it), "fp32", "bf16", "int8", "onnx" or "onnx-int8".
        reader_max_length: Tokens per reader window (question + passage + special tokens).
        reader_stride: Tokens shared by consecutive reader windows of a long passage.
        embedder_path: Folder of a sentence-transformers model; empty = the packaged all-MiniLM-L6-v2.
        embedder_precision: "auto" (the fastest format the embedder may use, measured on this processor once; `qa info` shows it), "fp32", "bf16", "onnx" or "onnx-int8".
        chunk_tokens: Largest passage, in embedder word pieces (the embedder reads at most 256).
        chunk_overlap: Word pieces of the previous passage repeated at the start of the next.
        top_k: Passages given to the reader per question.
        candidates: Passages each retriever (dense, BM25) proposes before fusion.
        rrf_k: The k constant of reciprocal rank fusion.
        threshold: Abstain below this reader score; empty = the calibrated value shipped with the reader.
        alternatives_within: Other answers are listed when their probability is at least this
            share of the best answer's.
        max_alternatives: Most other answers listed.
        approximate_above: Above this many passages, FAISS uses an approximate (IVF) index.
        max_question_chars: Longer questions are refused with a message.
        max_upload_mb: Largest file accepted, in megabytes.
        uploads: Whether the chat page accepts uploads.
        host: Address the chat page binds to.
        port: Port of the chat page.
        share: Ask Gradio for a public share link (off unless asked for).
        auth: "user:password" required to use the chat page; empty = no login.
        threads: Torch threads (0 = torch's default).
    """

    index_dir: str = "index"
    store: str = ""
    seed_dir: str = "seeds"
    reader: str = DEFAULT_READER
    reader_path: str = ""
    reader_precision: str = "auto"
    reader_max_length: int = ReaderSettings.max_length
    reader_stride: int = ReaderSettings.stride
    embedder_path: str = ""
    embedder_precision: str = "auto"
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    top_k: int = 5
    candidates: int = 20
    rrf_k: int = 60
    threshold: float | None = None
    alternatives_within: float = 0.6
    max_alternatives: int = 3
    approximate_above: int = APPROXIMATE_ABOVE
    max_question_chars: int = 2000
    max_upload_mb: int = 20
    uploads: bool = True
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: str = ""
    threads: int = 0

    def __post_init__(self) -> None:
        positive = ("chunk_tokens", "top_k", "candidates", "rrf_k", "max_question_chars", "max_upload_mb", "port")
        for name in positive:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be greater than 0, not {getattr(self, name)}")
        if self.chunk_tokens > 256:
            raise SettingsError(f"chunk_tokens must be at most 256 (the embedder's limit), not {self.chunk_tokens}")
        if not (0 <= self.chunk_overlap and 2 * self.chunk_overlap < self.chunk_tokens):
            raise SettingsError(
                f"chunk_overlap must be at least 0 and under half of chunk_tokens, not {self.chunk_overlap}"
            )
        if not 0 < self.alternatives_within <= 1:
            raise SettingsError(f"alternatives_within must be in (0, 1], not {self.alternatives_within}")
        try:
            self.reader_settings()  # the reader's own checks, named by their setting
        except ValueError as err:
            raise SettingsError(f"reader_{err}") from None
        _check_reader(self.reader, self.reader_path)
        check_embedder_precision(self.embedder_precision, "embedder_precision")
        if self.auth and ":" not in self.auth:
            raise SettingsError('auth must look like "user:password"')

    def reader_settings(self) -> ReaderSettings:
        """The reader's settings (windows, precision) as set here."""
        return ReaderSettings(max_length=self.reader_max_length, stride=self.reader_stride, precision=self.reader_precision)

    @property
    def store_uri(self) -> str:
        return self.store or self.index_dir

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some settings changed; unknown names are refused."""
        _check_names(changes)
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})




def _check_reader(reader: str, reader_path: str) -> None:
    """Refuse a `reader` that is neither a kind nor a folder, or both settings at once."""
    if ReaderKind.parse(reader) is None and not os.path.isdir(os.path.expanduser(reader)):
        kinds = ", ".join(k.value for k in ReaderKind)
        raise SettingsError(f"reader: no reader model in {reader!r}; use {kinds} or the folder of a question-answering model")
    if reader_path and reader not in (ReaderKind.FAST.value, DEFAULT_READER):
        raise SettingsError(f"set reader ({reader!r}) or reader_path ({reader_path!r}), not both")


def _field_types() -> dict[str, Any]:
    return {f.name: f.type for f in fields(Settings)}


def _check_names(names: Mapping[str, Any]) -> None:
    known = _field_types()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(known)}")


def _coerce(name: str, value: Any) -> Any:
    """Convert a text value (from the environment or a flag) to the setting's type."""
    if not isinstance(value, str):
        return value
    kind = _field_types()[name]
    text = value.strip()
    try:
        if kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "float | None":
            return None if text == "" else float(text)
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not a valid {kind}") from None
    return value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, then QA_* environment variables, then keyword overrides.

    Raises:
        SettingsError: For an unknown QA_* variable or keyword, or a bad value.
    """
    env = os.environ if environ is None else environ
    from_env = {}
    known = _field_types()
    for key, value in env.items():
        if key.startswith("QA_"):
            name = key[3:].lower()
            if name not in known:
                raise SettingsError(f"unknown environment setting {key}; known: QA_{', QA_'.join(n.upper() for n in known)}")
            from_env[name] = value
    settings = Settings().replace(**from_env)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return settings.replace(**overrides) if overrides else settings
