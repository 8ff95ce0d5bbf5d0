"""The reader in ONNX Runtime: two more number formats for `qa.runtime` to measure.

- "onnx": fp32 in ONNX Runtime. The model is exported with eager attention, so that ONNX
  Runtime's transformer optimizer recognises BERT's attention, layer norms and GELU and fuses
  them (an export of torch's fused SDPA attention is left unfused and runs up to 2x slower).
  Architectures the optimizer does not know run the plain export.
- "onnx-int8": the same graph with per-channel dynamic int8 quantisation of its matrix
  products (int8 weights; activations quantised per batch).

The ONNX files are built here, from the weights already loaded, never downloaded: once per
weights, into the folder `qa.runtime.onnx_dir` names (`~/.cache/qa/onnx/<weights>/`), and reused
after. A model runs in them through `OnnxSpanModel`, which answers like a torch span
model (`start_logits`, `end_logits`), so the reader's decoding is the same in every format.

Needs the `onnxruntime` and `onnx` packages; without them these formats are not candidates.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger("qa")

ONNX_FORMATS = ("onnx", "onnx-int8")
OPSET = 17
# ONNX Runtime's optimizer knows these encoders' attention (its "bert" fusions cover them).
FUSABLE = {"bert", "roberta", "distilbert", "xlm-roberta", "electra"}
OUTPUTS = ("start_logits", "end_logits")  # a span model's (the reader's)
ENCODER_OUTPUTS = ("last_hidden_state",)  # a bare encoder's (the embedder's transformer)


def model_outputs(model: Any) -> tuple[str, ...]:
    """What `model` answers: a span model its logits, a bare encoder its token vectors."""
    return OUTPUTS if hasattr(model, "qa_outputs") else ENCODER_OUTPUTS


def onnx_file(model: Any, folder: Path, fmt: str) -> Path:
    """The ONNX file of `model` (fp32) in `fmt`, kept in `folder` (one per weights), built on first use."""
    if fmt not in ONNX_FORMATS:
        raise ValueError(f"not an ONNX Runtime format: {fmt!r}")
    target = folder / f"{fmt}.onnx"
    if target.exists():
        return target
    import onnxruntime  # noqa: F401  (missing: this format is not a candidate; say so before exporting)

    what = "reader" if model_outputs(model) == OUTPUTS else "embedder"
    log.info("Preparing the %s for ONNX Runtime (%s; once for these weights)…", what, fmt)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        work = Path(tmp)
        fused = _export(model, work)
        if fmt == "onnx-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with _quiet_root_logger():  # the quantiser logs a line per tensor on the root logger
                quantize_dynamic(str(fused), str(work / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                                 extra_options={"DefaultTensorType": 1})  # 1 = float: types the optimizer's fused nodes leave open
            fused = work / "int8.onnx"
        # os.replace is atomic: a process reading the folder meanwhile sees the whole file or none.
        os.replace(fused, target)
    return target


def _export(model: Any, work: Path) -> Path:
    """`model` exported to ONNX (eager attention), with the optimizer's fusions where it knows the model."""
    import torch

    eager = copy.deepcopy(model).float().eval()
    model_type = getattr(eager.config, "model_type", "")
    if model_type in FUSABLE:
        eager.set_attn_implementation("eager")
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if _uses_token_types(eager) else [])
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    example = {name: (ids if name == "input_ids" else torch.ones_like(ids) if name == "attention_mask" else torch.zeros_like(ids))
               for name in names}
    plain = work / "plain.onnx"
    outputs = list(model_outputs(eager))
    axes = {k: {0: "batch", 1: "tokens"} for k in names + outputs}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(_named_outputs(eager, outputs), (), str(plain), kwargs=example, input_names=names,
                          output_names=outputs, dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    if model_type not in FUSABLE:
        return plain
    from onnxruntime.transformers import optimizer

    cfg = eager.config
    optimized = optimizer.optimize_model(str(plain), model_type="bert", num_heads=cfg.num_attention_heads,
                                         hidden_size=cfg.hidden_size)
    fused = work / "fused.onnx"
    optimized.save_model_to_file(str(fused))
    return fused


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(level)


def _uses_token_types(model: Any) -> bool:
    import inspect

    return "token_type_ids" in inspect.signature(model.forward).parameters and getattr(model.config, "type_vocab_size", 0) > 0


def _named_outputs(model: Any, outputs: list[str]) -> Any:
    """`model` answering a tuple of `outputs` (what the export traces), not a model-output object."""
    import torch

    class Named(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        # Named arguments, not **kwargs: the exporter's tracer passes only those it can name.
        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> tuple[Any, ...]:
            batch = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                batch["token_type_ids"] = token_type_ids
            out = self.model(**batch)
            return tuple(getattr(out, name) for name in outputs)

    return Named()


class OnnxOutput:
    """A forward pass's outputs by name, as attributes (`out.start_logits`), like a torch model's."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


class OnnxModel:
    """A transformer run by ONNX Runtime that is called like the torch one: `model(**batch)`, its
    outputs torch tensors by name (a span model's logits, an encoder's token vectors)."""

    def __init__(self, path: Path, config: Any, threads: int | None = None, outputs: tuple[str, ...] = OUTPUTS) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's own default
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # Its threads sleep between runs instead of spinning: the embedder and the other reader run
        # in torch in the same process, and spinning threads would take their cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.config = config
        self.path = Path(path)
        self.outputs = outputs

    def __call__(self, **batch: Any) -> OnnxOutput:
        import numpy as np
        import torch

        first = batch["input_ids"]
        feed = {}
        for name in self.inputs:  # a model without token types takes none
            value = batch.get(name)
            feed[name] = (value.cpu().numpy() if value is not None else np.zeros(tuple(first.shape), dtype=np.int64)).astype(np.int64)
        values = self.session.run(list(self.outputs), feed)
        return OnnxOutput({name: torch.from_numpy(v) for name, v in zip(self.outputs, values)})

    def to(self, *args: Any, **kwargs: Any) -> "OnnxModel":
        return self

    def eval(self) -> "OnnxModel":
        return self


class OnnxSpanModel(OnnxModel):
    """The reader's span model in ONNX Runtime (`start_logits`, `end_logits`)."""


class OnnxEncoder(OnnxModel):
    """The embedder's transformer in ONNX Runtime (`last_hidden_state`)."""


def in_onnx(model: Any, folder: Path, fmt: str, threads: int | None = None) -> OnnxModel:
    """`model` (fp32 torch: a span model or a bare encoder) running in ONNX Runtime in `fmt` ("onnx"
    or "onnx-int8"), its file kept in `folder`.

    A kept file that ONNX Runtime cannot open (cut short, damaged) is built again, once.
    """
    outputs = model_outputs(model)
    kind = OnnxSpanModel if outputs == OUTPUTS else OnnxEncoder
    path = onnx_file(model, folder, fmt)
    try:
        return kind(path, model.config, threads, outputs)
    except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf types
        log.warning("the kept ONNX file %s could not be opened (%s); building it again", path, str(err)[:200])
        path.unlink(missing_ok=True)
        return kind(onnx_file(model, folder, fmt), model.config, threads, outputs)
