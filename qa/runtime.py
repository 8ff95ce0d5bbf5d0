"""Which number format a model runs in, chosen by measurement on the processor at hand.

A processor flag says an instruction exists, not that a library's kernel for it is fast: bf16 on
an AVX-512 BF16 Xeon without AMX was measured 1.75x slower than fp32. So with precision "auto":

1. Accuracy decides offline which formats a model may use: its folder's `runtimes.json`
   (written by `scripts/check_runtimes.py`: validation F1 within 0.5 of fp32) lists them; a folder
   without one may use fp32 and bf16. A reader's int8 scores can sit shifted against fp32's (the
   no-answer logit moves with the rounding): the check fits that shift on other validation
   questions (`score_offset`), and the reader takes it off, so one threshold and one confidence
   serve every format.
2. Speed decides here: the first time a model is loaded on a processor, each allowed format
   runs the same windows a few times and the fastest is kept. The choice is cached in
   `~/.cache/qa/runtimes.json` under the processor's name, the library versions and the model,
   so another processor or library version measures again. `qa info` shows it.

Formats: fp32; bf16 (torch autocast-free, the weights cast); int8 (torch's dynamic quantisation
of every linear layer: int8 weights, activations quantised per batch); onnx and onnx-int8 (ONNX
Runtime, fp32 with fused attention and its per-channel int8: `qa.onnx_runtime`, built from the
loaded weights on first use).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

log = logging.getLogger("qa")

FORMATS = ("fp32", "bf16", "int8", "onnx", "onnx-int8")
DEFAULT_ALLOWED = ("fp32", "bf16")  # a model folder that was not checked
RUNTIMES_FILE = "runtimes.json"
TIMING_WINDOWS = (5, 256)  # windows x tokens timed per format: five passages, as a question reads
TIMING_REPEATS = 3


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa" / "runtimes.json"


def processor_name() -> str:
    """The processor's model name (/proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_is_fast(device: str = "cpu") -> bool:
    """Whether bf16 matrix products are fast here: a CUDA GPU with bf16, or a CPU with AMX tiles.

    AVX-512 BF16 alone is not enough: on a Xeon with it but without AMX, the seed questions took
    1.12x (fast reader) and 1.75x (accurate reader) the time of fp32, and indexing 1.6x a bare
    fp32 encode; elsewhere bf16 on the CPU is emulated and slower still.
    """
    import torch

    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return "amx_bf16" in cpu_flags()


def library_versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in ("torch", "transformers", "onnxruntime"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "none"
    return found


def accuracy_check(model_path: Path) -> dict[str, Any]:
    """A model folder's runtimes.json (its accuracy check), or {} when it has none or it is unreadable."""
    try:
        record = json.loads((Path(model_path) / RUNTIMES_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def allowed_formats(model_path: Path) -> tuple[str, ...]:
    """The formats a model may run in: those its runtimes.json allows (accuracy checked), else fp32 and bf16."""
    allowed = accuracy_check(model_path).get("allowed")
    if not isinstance(allowed, list):
        return DEFAULT_ALLOWED
    return tuple(f for f in FORMATS if f in allowed) or ("fp32",)


def score_offset(model_path: Path, fmt: str) -> float:
    """What a reader's span scores in `fmt` are shifted by against fp32's (its runtimes.json
    "score_offset", fitted by its accuracy check); subtracted from them, the fp32 threshold and
    confidence apply unchanged. 0 for fp32 and for a format without one."""
    offsets = accuracy_check(model_path).get("score_offset")
    offset = offsets.get(fmt) if isinstance(offsets, dict) else None
    return float(offset) if isinstance(offset, (int, float)) and math.isfinite(offset) else 0.0


def model_key(model_path: Path) -> str:
    """Names a model's weights: its folder and the sizes and times of its files."""
    folder = Path(model_path)
    parts = [str(folder.resolve())]
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def onnx_dir(model_path: Path) -> Path:
    """Where the ONNX files built from a model's weights are kept (`qa.onnx_runtime`)."""
    return cache_file().parent / "onnx" / model_key(model_path)


def here_key() -> str:
    """The part of a cache key that names this processor and these library versions."""
    versions = ",".join(f"{k}={v}" for k, v in library_versions().items())
    return f"{processor_name()}|{versions}|"


def cache_key(model_path: Path, device: str, threads: int) -> str:
    return f"{here_key()}{device}|threads={threads}|{model_key(model_path)}"


def in_format(model: Any, fmt: str, model_path: Path | None = None, threads: int | None = None) -> Any:
    """`model` (fp32) in `fmt`; int8 makes a quantised copy, bf16 casts in place, the ONNX formats
    run the weights of `model_path` in ONNX Runtime with `threads` threads."""
    import torch

    if fmt.startswith("onnx"):
        if model_path is None:
            raise ValueError(f"the {fmt} format needs the model's folder (its ONNX file is kept per weights)")
        from qa.onnx_runtime import in_onnx

        return in_onnx(model, onnx_dir(model_path), fmt, threads)

    if fmt == "bf16":
        return model.to(torch.bfloat16)
    if fmt == "int8":
        with warnings.catch_warnings():  # torch points users of this API to torchao; it is still the CPU's int8 path
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def time_forward(model: Any, vocab_size: int, windows: tuple[int, int] = TIMING_WINDOWS, repeats: int = TIMING_REPEATS) -> float:
    """Median seconds of a forward pass over `windows` of random tokens (after one untimed pass)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, max(1001, vocab_size - 1), windows, generator=generator)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    times = []
    with torch.inference_mode():
        model(**batch)
        for _ in range(repeats):
            start = time.perf_counter()
            model(**batch)
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def choose_format(model: Any, model_path: Path, device: str, threads: int, allowed: Sequence[str] | None = None,
                  timer: Callable[[Any, int], float] | None = None) -> tuple[str, Any]:
    """The fastest allowed format for `model` (loaded in fp32) here, and the model in it.

    The choice is read from the cache when this processor, these libraries and this model were
    measured before; otherwise every allowed format is timed (one that fails is skipped) and
    the result is written to the cache. On a GPU, bf16 where it is supported, without timing.
    """
    import copy

    allowed = tuple(allowed if allowed is not None else allowed_formats(model_path))
    if device != "cpu":
        fmt = "bf16" if "bf16" in allowed and bf16_is_fast(device) else "fp32"
        return fmt, in_format(model, fmt)
    key = cache_key(model_path, device, threads)
    cached = read_cache().get(key)
    # Reused only for the same candidates: a format allowed since (a new accuracy check) is timed too.
    if cached and cached.get("chosen") in allowed and cached.get("candidates") == list(allowed):
        fmt = cached["chosen"]
        return fmt, in_format(model, fmt, model_path, threads)
    timer = timer or (lambda m, vocab: time_forward(m, vocab))
    vocab = int(getattr(model.config, "vocab_size", 30000))
    timings: dict[str, float] = {}
    failed: dict[str, str] = {}
    for fmt in allowed:
        try:
            candidate = in_format(copy.deepcopy(model), fmt, model_path, threads) if fmt != "fp32" else model
            timings[fmt] = timer(candidate, vocab)
        except Exception as err:  # a format this build cannot run: not a candidate
            failed[fmt] = f"{type(err).__name__}: {err}"[:200]
            # A runtime that is not installed is a plain fact; a runtime that fails is worth a warning.
            level = logging.INFO if isinstance(err, ImportError) else logging.WARNING
            log.log(level, "the %s format could not run here (%s); it is not used", fmt, failed[fmt])
    fmt = min(timings, key=lambda f: timings[f]) if timings else "fp32"
    write_cache(key, {"chosen": fmt, "candidates": list(allowed), "seconds": {f: round(s, 4) for f, s in timings.items()}, "failed": failed,
                      "model": str(model_path), "processor": processor_name(), "measured": time.strftime("%Y-%m-%d %H:%M")})
    return fmt, in_format(model, fmt, model_path, threads)


def read_cache() -> dict[str, Any]:
    try:
        data = json.loads(cache_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_cache(key: str, entry: dict[str, Any]) -> None:
    """Add one measured choice to the cache (best effort: a read-only home only costs a re-measure)."""
    data = read_cache()
    data[key] = entry
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError as err:
        log.warning("could not keep the measured format choice in %s (%s)", path, err)
