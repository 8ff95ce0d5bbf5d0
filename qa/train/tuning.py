"""Which weights a reader training run changes: all of them, LoRA adapters, or the top layers.

- ``full``: every weight (the fast reader's recipe). The result is a whole model folder.
- ``lora``: the encoder stays frozen; low-rank adapters on every linear layer of the encoder and
  a new span head are trained (peft). The result is an adapter folder of a few MB that the
  reader merges into the base when it loads (see qa/accurate.py), so the 438 MB base never has
  to be shipped.
- ``top``: only the top `top_layers` encoder layers and the span head are trained; the lower
  layers run forward only, which makes steps cheaper. The result is a whole model folder.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

from qa.errors import SettingsError

class TuneMethod(str, Enum):
    """Which weights training changes: all of them, LoRA adapters, or the top layers."""

    FULL = "full"
    LORA = "lora"
    TOP = "top"


TUNE_METHODS = tuple(m.value for m in TuneMethod)
HEAD = "qa_outputs"  # the span head of every *ForQuestionAnswering model in transformers


def resolve_base(base_model: str | None) -> str | None:
    """The folder of the encoder to start from; "accurate" = the assembled all-mpnet-base-v2."""
    if base_model == "accurate":
        from qa.accurate import base_model_dir

        return str(base_model_dir())
    return base_model


def recipe_defaults(options: dict[str, Any]) -> dict[str, Any]:
    """`qa train-reader` options with the defaults of the chosen base and method filled in.

    ``base``: "fast" (the packaged MiniLM), "accurate" or a folder. The accurate base trains
    LoRA adapters unless told otherwise; adapters want a larger learning rate than full tuning.
    """
    given = dict(options)
    base = given.pop("base", "fast")
    if base != "fast":
        given["base_model"] = base
    if base == "accurate":
        given.setdefault("tune", "lora")
    given.setdefault("learning_rate", {"lora": 5e-4, "top": 2e-4}.get(given.get("tune", "full"), 1e-4))
    return given


def lora_targets(model: Any) -> list[str]:
    """Full names of the encoder's linear layers (everything but the span head)."""
    import torch

    return [name for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and not name.startswith(HEAD) and "pooler" not in name]


def prepare_for_tuning(model: Any, method: str, lora_rank: int = 16, top_layers: int = 4) -> Any:
    """`model` set up so that only what `method` trains has gradients.

    Args:
        model: A transformers question-answering model.
        method: One of TUNE_METHODS.
        lora_rank: Rank of the LoRA adapters (``lora``).
        top_layers: Encoder layers trained (``top``).

    Returns:
        The model to train (a peft model for ``lora``).
    """
    if method not in TUNE_METHODS:
        raise SettingsError(f"tune must be one of {', '.join(TUNE_METHODS)}, not {method!r}")
    if method == "full":
        return model
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.05,
                            target_modules=lora_targets(model), modules_to_save=[HEAD])
        return get_peft_model(model, config)
    layers = _encoder_layers(model)
    if not 0 < top_layers <= len(layers):
        raise SettingsError(f"top_layers must be between 1 and {len(layers)}, not {top_layers}")
    model.requires_grad_(False)
    for layer in layers[-top_layers:]:
        layer.requires_grad_(True)
    getattr(model, HEAD).requires_grad_(True)
    return model


def _encoder_layers(model: Any) -> Any:
    base = getattr(model, model.base_model_prefix)
    return base.encoder.layer


def trainable_share(model: Any) -> tuple[int, int]:
    """(trainable parameters, all parameters)."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def save_adapters(model: Any, tokenizer: Any, out: Path, info: dict[str, Any]) -> None:
    """Write the LoRA adapters and span head, the tokenizer and `training.json` to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    card = out / "README.md"
    kept = card.read_text() if card.exists() else None
    model.to("cpu").save_pretrained(out, safe_serialization=True)
    # peft writes (or edits) a stub model card: keep the folder's own card, or none.
    if kept is None:
        card.unlink(missing_ok=True)
    else:
        card.write_text(kept)
    tokenizer.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")


def adapters_from_change(base: Any, tuned: Any, rank: int) -> Any:
    """LoRA adapters that turn `base` into (nearly) `tuned`: a peft model built on `base`.

    For every linear layer of the encoder, the change ``tuned - base`` of its weight is cut to
    its `rank` largest singular directions (a truncated SVD), split evenly between LoRA's A and B
    matrices (scaling 1). Biases, LayerNorms, MPNet's relative attention bias and the span head
    are carried over exactly. What else changed (the embeddings) is not: the recipes that use
    this keep them frozen.

    Args:
        base: The model training started from (changed in place: it becomes the peft model's base).
        tuned: The trained model, same architecture.
        rank: Adapter rank; at least the smaller side of a weight reproduces it exactly.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    targets = lora_targets(base)
    weights = {f"{name}.weight" for name in targets}
    tuned_params = dict(tuned.named_parameters())
    with torch.no_grad():
        for name, param in base.named_parameters():
            if name not in weights:
                param.copy_(tuned_params[name])
    kept = [HEAD, "LayerNorm"] + [n for n in ("relative_attention_bias",) if any(m.endswith(n) for m, _ in base.named_modules())]
    config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.0, target_modules=targets, modules_to_save=kept, bias="all")
    model = get_peft_model(base, config)
    inner = model.base_model.model
    with torch.no_grad():
        for name in targets:
            layer = inner.get_submodule(name)
            delta = tuned.get_submodule(name).weight.float() - layer.base_layer.weight.float()
            u, s, vh = torch.linalg.svd(delta, full_matrices=False)
            r = min(rank, s.numel())
            root = s[:r].sqrt()
            a, b = layer.lora_A["default"].weight, layer.lora_B["default"].weight
            a.zero_()
            b.zero_()
            a[:r] = root[:, None] * vh[:r]
            b[:, :r] = u[:, :r] * root
    return model.eval()


def extract_adapters(tuned_dir: Path, out: Path, rank: int, base_dir: Path | None = None, log: Any = print) -> Path:
    """Write the change of a fully trained reader folder as an accurate-reader adapter folder.

    The adapter matrices are stored in fp16 (half the bytes; they are merged in fp32).

    Args:
        tuned_dir: A reader folder trained from the accurate base (e.g. `--recipe cpu`'s output).
        out: The adapter folder to write.
        rank: Adapter rank (see `adapters_from_change`).
        base_dir: The base it was trained from; default the assembled all-mpnet-base-v2.
    """
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    if base_dir is None:
        from qa.accurate import base_model_dir

        base_dir = base_model_dir()
    base = AutoModelForQuestionAnswering.from_pretrained(base_dir, local_files_only=True, dtype=torch.float32)
    tuned = AutoModelForQuestionAnswering.from_pretrained(tuned_dir, local_files_only=True, dtype=torch.float32)
    model = adapters_from_change(base, tuned, rank)
    model.peft_config["default"].base_model_name_or_path = Path(base_dir).name  # not this machine's cache path
    for name, param in model.named_parameters():
        if "lora_" in name:
            param.data = param.data.half()
    info = json.loads((Path(tuned_dir) / "training.json").read_text()) if (Path(tuned_dir) / "training.json").exists() else {}
    info["adapters"] = {"from": "truncated SVD of each linear layer's change (qa.train.tuning.extract_adapters)", "rank": rank}
    save_adapters(model, AutoTokenizer.from_pretrained(tuned_dir), Path(out), info)
    size = (Path(out) / "adapter_model.safetensors").stat().st_size
    log(f"rank-{rank} adapters written to {out} ({size / 1e6:.1f} MB)")
    return Path(out)
