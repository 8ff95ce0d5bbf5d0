"""The reader: finds answer spans to a question in passages with an extractive QA model.

Any Hugging Face question-answering checkpoint in a local folder works (BERT, RoBERTa,
MiniLM, ...); the shipped one is the default.

Scores that compare across windows. A span-extraction model gives each token of a window a
start and an end logit, and its first token ([CLS]) stands for "no answer". A softmax over one
window's tokens makes probabilities that sum to one *per window*, so a span in a window full of
weak candidates can look as sure as the best span of the right passage. Instead every span is
scored as its logit sum minus the no-answer logit sum of its own window:

    score(span) = start_logit[s] + end_logit[e] - (start_logit[0] + end_logit[0])

This is the log-odds the model gives the span against "no answer in this window" (the quantity
SQuAD 2.0 systems threshold). It has the same meaning in every window, so spans from any
window of any passage are ranked together. Answer assembly turns it into a calibrated
probability and decides whether to abstain. In an int8 format the reader also takes off the
shift its accuracy check measured against fp32 (`qa.runtime.score_offset`), so the one threshold
and confidence fitted in fp32 hold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from qa.errors import ReaderLoadError, SettingsError
from qa.runtime import bf16_is_fast
from qa.types import Span

SHIPPED_READER = Path(__file__).parent / "models" / "reader"


class SpanReader(Protocol):
    """What the chatbot and the evaluation use of a reader (`Reader`, or a test's own)."""

    model_path: Path  # the model folder; its calibration.json is the reader's calibration

    def warm_up(self) -> None:
        """Load the model now (it loads on first use otherwise)."""

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """Candidate spans in `passages`, best score first."""

    def read_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[Span]]:
        """`read` for several questions at once."""


@dataclass(frozen=True)
class ReaderSettings:
    """Decoding settings of the reader. Training makes its windows with the same settings
    (`qa.train.loop.TrainConfig.windows`), so both validate and tokenise alike.

    Attributes:
        max_length: Tokens per window (question + passage + special tokens).
        stride: Tokens shared by consecutive windows of a long passage.
        max_answer_tokens: Longest answer, in word pieces.
        max_question_tokens: Longer questions are cut to this many word pieces.
        n_best: Candidate spans kept per window.
        batch_size: Windows per forward pass.
        precision: "auto" (the fastest format this model may use, measured here once: `qa.runtime`),
            "fp32", "bf16", "int8", "onnx" or "onnx-int8".
    """

    max_length: int = 384
    stride: int = 128
    max_answer_tokens: int = 30
    max_question_tokens: int = 64
    n_best: int = 10
    batch_size: int = 16
    precision: str = "auto"

    def __post_init__(self) -> None:
        check_precision(self.precision)
        for name in ("max_length", "max_answer_tokens", "max_question_tokens", "n_best", "batch_size"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be greater than 0, not {getattr(self, name)}")
        if not 0 <= self.stride < self.max_length - self.max_question_tokens - 3:
            raise SettingsError(
                f"stride must be at least 0 and leave room for new passage tokens in each window, "
                f"not {self.stride} (max_length {self.max_length})"
            )


class Precision(str, Enum):
    """The number formats a model can run in; for the reader AUTO is measured (`qa.runtime`)."""

    AUTO = "auto"
    BF16 = "bf16"
    FP32 = "fp32"
    INT8 = "int8"  # the reader only: torch's dynamic quantisation of the linear layers
    ONNX = "onnx"  # the reader only: ONNX Runtime, fp32 (`qa.onnx_runtime`)
    ONNX_INT8 = "onnx-int8"  # the reader only: ONNX Runtime, per-channel dynamic int8


PRECISIONS = tuple(p.value for p in Precision)


def check_precision(precision: str, name: str = "precision") -> str:
    """`precision` when it is one of `Precision`; a ValueError naming it and the allowed values otherwise."""
    try:
        return Precision(precision).value
    except ValueError:
        raise SettingsError(f"{name} must be {', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]}, not {precision!r}") from None


def use_bf16(precision: str, device: str = "cpu") -> bool:
    """Whether to run in bf16: asked for, or "auto" where bf16 is fast (`bf16_is_fast`).

    bf16 halves the reader's time on CPUs with bf16 units, with the same answers in our
    measurements (benchmarks/reader_latency.py), and speeds training up likewise; elsewhere
    fp32 is the fast choice.
    """
    return check_precision(precision) == "bf16" or (precision == "auto" and bf16_is_fast(device))


def encode_windows(tokenizer: Any, questions: list[str], contexts: list[str], settings: ReaderSettings) -> Any:
    """Question + passage pairs tokenised into overlapping windows, with character offsets.

    The one place windows are made, for reading and for training alike. Questions should be
    cut first (`clip_question`); only passages are truncated.
    """
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=settings.max_length,
        stride=settings.stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


class Reader:
    """Extractive QA reader. Cheap to build; the model loads on first use (or `warm_up`).

    Args:
        model_path: Folder of a Hugging Face QA checkpoint; None = the shipped reader.
        settings: Decoding settings.
        device: "cpu", "cuda", or "auto" (CUDA when torch sees a GPU, decided when the model loads,
            so that building a reader imports no torch).
        threads: Torch threads to use (None = leave torch's default).
        loader: Loads (model, tokenizer) in a torch dtype, for a model that is not a plain
            checkpoint folder (`qa.readers.model_loader`: adapters merged into a base); None =
            load `model_path` as a Hugging Face checkpoint.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        settings: ReaderSettings | None = None,
        device: str = "cpu",
        threads: int | None = None,
        loader: Callable[[Any], tuple[Any, Any]] | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else SHIPPED_READER
        self.loader = loader
        self.settings = settings or ReaderSettings()
        self.device = device
        self.threads = threads
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self.dtype = ""  # the format (`qa.runtime.FORMATS`) once loaded
        # Taken off every span score: the format's shift against fp32 (`qa.runtime.score_offset`);
        # None reads it from the model folder when the format is known.
        self.score_offset: float | None = None

    def warm_up(self) -> None:
        """Load the tokenizer and the model (once)."""
        with self._lock:
            if self._model is not None:
                return
            if self.loader is None and not (self.model_path / "config.json").exists():
                raise ReaderLoadError(
                    f"no reader model in {self.model_path}: expected a Hugging Face question-answering "
                    "checkpoint folder (config.json, weights, tokenizer files)"
                )
            import torch
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            if self.threads:
                torch.set_num_threads(self.threads)
            if self.device == "auto":
                self.device = "cuda" if torch.cuda.is_available() else "cpu"
            from qa.runtime import choose_format, in_format, score_offset

            precision = check_precision(self.settings.precision)
            # Loaded in fp32 unless bf16 is asked for, then put in the format chosen (int8 from fp32).
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            try:
                if self.loader is not None:
                    model, tokenizer = self.loader(dtype)
                else:
                    tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
                    model = AutoModelForQuestionAnswering.from_pretrained(
                        self.model_path, local_files_only=True, dtype=dtype
                    )
            except (OSError, ValueError, KeyError) as err:
                raise ReaderLoadError(f"cannot load the reader from {self.model_path}: {err}") from err
            if not getattr(tokenizer, "is_fast", False):
                raise ReaderLoadError(f"the reader in {self.model_path} needs a fast tokenizer (tokenizer.json)")
            self._tokenizer = tokenizer
            model = model.to(self.device).eval()
            if precision == "auto":
                self.dtype, model = choose_format(model, self.model_path, self.device, torch.get_num_threads())
            else:
                threads = torch.get_num_threads()
                self.dtype, model = precision, in_format(model, precision, self.model_path, threads) if precision != "bf16" else model
            if self.score_offset is None:
                self.score_offset = score_offset(self.model_path, self.dtype)
            self._model = model

    @property
    def tokenizer(self) -> Any:
        self.warm_up()
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The span model (loaded on first use)."""
        self.warm_up()
        return self._model

    @property
    def loaded(self) -> bool:
        """Whether the model is loaded yet."""
        return self._model is not None

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """Find answer candidates to `question` in `passages`.

        All windows of all passages are batched together.

        Args:
            question: The question.
            passages: The texts to read.

        Returns:
            Distinct candidate spans from every passage, best score first; empty when there is
            no question or no passage text.
        """
        return self.read_many([(question, passages)])[0]

    def read_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[Span]]:
        """`read` for several questions at once: their windows share forward passes."""
        import torch

        self.warm_up()
        windows = self._windows(items)
        results: list[list[Span]] = [[] for _ in items]
        if not windows:
            return results
        bs = self.settings.batch_size
        # Forward passes over windows of similar length (less padding when many questions are read
        # together); the spans are then gathered in window order, so the result is the same.
        by_length = sorted(range(len(windows)), key=lambda i: len(windows[i].fields["input_ids"]))
        decoded: list[list[Span]] = [[] for _ in windows]
        with torch.inference_mode():
            for lo in range(0, len(windows), bs):
                group = by_length[lo : lo + bs]
                start_logits, end_logits = self._forward([windows[i] for i in group])
                for i, s_log, e_log in zip(group, start_logits, end_logits):
                    decoded[i] = self._decode_window(windows[i], s_log, e_log)
        for w, spans in zip(windows, decoded):
            results[w.item].extend(spans)
        return [_best_distinct(spans) for spans in results]

    # --- internals -------------------------------------------------------

    def _windows(self, items: Sequence[tuple[str, Sequence[str]]]) -> list["_Window"]:
        s = self.settings
        tok = self._tokenizer
        questions, contexts, owners = [], [], []
        for item, (question, passages) in enumerate(items):
            q = clip_question(question.strip(), tok, s.max_question_tokens)
            if not q:
                continue
            for p, passage in enumerate(passages):
                if passage.strip():
                    questions.append(q)
                    contexts.append(passage)
                    owners.append((item, p))
        if not questions:
            return []
        enc = encode_windows(tok, questions, contexts, s)
        windows = []
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            seq = enc.sequence_ids(i)
            offsets = enc["offset_mapping"][i]
            context_tokens = [t for t, sid in enumerate(seq) if sid == 1]
            if not context_tokens:
                continue
            item, passage = owners[sample]
            fields = {k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc}
            windows.append(_Window(item, passage, contexts[sample], fields, offsets, context_tokens))
        return windows

    def _forward(self, group: list["_Window"]) -> tuple[Any, Any]:
        import torch

        width = max(len(w.fields["input_ids"]) for w in group)
        pad = self._tokenizer.pad_token_id or 0
        batch = {}
        for key in group[0].fields:
            fill = pad if key == "input_ids" else 0
            rows = [w.fields[key] + [fill] * (width - len(w.fields[key])) for w in group]
            batch[key] = torch.tensor(rows, dtype=torch.long, device=self.device)
        out = self._model(**batch)
        return out.start_logits.float().cpu(), out.end_logits.float().cpu()

    def _decode_window(self, w: "_Window", start_logits: Any, end_logits: Any) -> list[Span]:
        """n-best spans of one window, scored against the window's no-answer logit (see module doc)."""
        import torch

        s = self.settings
        ctx = torch.tensor(w.context_tokens)
        start = start_logits[ctx]
        end = end_logits[ctx]
        # [CLS]: position 0 in BERT and RoBERTa inputs; with the format's shift against fp32
        null = float(start_logits[0] + end_logits[0]) + (self.score_offset or 0.0)
        n = len(ctx)
        scores = start[:, None] + end[None, :]
        # Valid spans: end >= start and at most max_answer_tokens long.
        i = torch.arange(n)
        valid = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < s.max_answer_tokens)
        scores = scores.masked_fill(~valid, float("-inf"))
        k = min(s.n_best, int(valid.sum()))
        top = torch.topk(scores.flatten(), k)
        spans = []
        for value, flat in zip(top.values.tolist(), top.indices.tolist()):
            a, b = divmod(flat, n)
            char_start = w.offsets[w.context_tokens[a]][0]
            char_end = w.offsets[w.context_tokens[b]][1]
            text = w.context[char_start:char_end]
            if text.strip():
                spans.append(Span(w.passage, char_start, char_end, text, value - null))
        return spans


@dataclass
class _Window:
    item: int
    passage: int
    context: str
    fields: dict[str, list[int]]
    offsets: list[tuple[int, int]]
    context_tokens: list[int]


def clip_question(question: str, tokenizer: Any, max_tokens: int) -> str:
    """The question cut to at most `max_tokens` word pieces (a 50,000-character question is fine)."""
    question = question[: max_tokens * 20]
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= max_tokens:
        return question
    return question[: enc["offset_mapping"][max_tokens - 1][1]]


def _best_distinct(spans: list[Span]) -> list[Span]:
    """Best score first; a span seen again (overlapping windows) keeps its best score."""
    best: dict[tuple[int, int, int], Span] = {}
    for span in spans:
        key = (span.passage, span.start, span.end)
        if key not in best or span.score > best[key].score:
            best[key] = span
    return sorted(best.values(), key=lambda sp: -sp.score)
