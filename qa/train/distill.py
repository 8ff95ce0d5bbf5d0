"""Distillation: a teacher reader's answer distribution as soft targets on the student's windows.

The two readers cut text into different word pieces (MiniLM's BERT vocabulary, MPNet's), so the
teacher reads exactly the passage text of each student window (the same question, the same
characters) and its probabilities are carried over by character position: the chance that the
answer starts at a teacher token goes to the student token in which that character lies, the
chance that it ends there likewise, and the no-answer chance stays on the first token. The
student then learns from `(1 - weight) x` its usual loss `+ weight x T^2 x` the cross-entropy
against these targets at temperature T (`soft_loss`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

Offsets = Sequence[tuple[int, int] | None]


def carry_over(student: Offsets, window_start: int, teacher: Offsets, start_p: np.ndarray,
               end_p: np.ndarray) -> np.ndarray:
    """The teacher's start and end probabilities on the student's tokens: shape (2, len(student)).

    Args:
        student: Character span of each student token in the passage (None outside the passage).
        window_start: Where in the passage the text the teacher read begins.
        teacher: Character span of each teacher token in that text (None outside it).
        start_p, end_p: The teacher's probabilities per token, its first token being no answer.
    """
    read = np.array([t for t, span in enumerate(teacher) if span is not None], dtype=np.int64)
    spans = np.array([teacher[t] for t in read], dtype=np.int64).reshape(-1, 2)
    return _carry(student, window_start, read, spans, np.asarray(start_p), np.asarray(end_p))


def _carry(student: Offsets, window_start: int, read: np.ndarray, spans: np.ndarray, start_p: np.ndarray,
           end_p: np.ndarray) -> np.ndarray:
    """`carry_over` with the teacher's passage tokens as arrays: their indices and (start, end) spans."""
    out = np.zeros((2, len(student)), dtype=np.float32)
    where = np.array([t for t, o in enumerate(student) if o is not None], dtype=np.int64)
    if not len(where):  # no passage in the window: nothing but no answer
        out[:, 0] = 1.0
        return out
    out[0, 0], out[1, 0] = start_p[0], end_p[0]
    if not len(read):
        return out
    starts = np.array([student[t][0] for t in where])
    ends = np.array([student[t][1] for t in where])
    first, last = spans[:, 0] + window_start, spans[:, 1] + window_start
    inside = np.maximum(np.searchsorted(starts, first, side="right") - 1, 0)  # the student token the character lies in
    ending = np.minimum(np.searchsorted(ends, last, side="left"), len(ends) - 1)  # the first one ending at or after it
    np.add.at(out[0], where[inside], start_p[read])
    np.add.at(out[1], where[ending], end_p[read])
    return out


def teacher_targets(sources: Sequence[tuple[Any, Offsets]], model: Any, tokenizer: Any, device: str,
                    temperature: float = 2.0, batch_size: int = 256, max_length: int = 384,
                    log: Any = print) -> list[np.ndarray]:
    """The teacher's soft targets for each student window (`sources`: (example, the student
    token offsets) in the windows' order, from `qa.train.data.tokenize_examples`)."""
    import torch

    order = sorted(range(len(sources)), key=lambda k: _window_text(sources[k])[1] - _window_text(sources[k])[0])
    targets: list[np.ndarray] = [np.zeros(0)] * len(sources)
    model.eval()
    for lo in range(0, len(order), batch_size):
        chunk = order[lo : lo + batch_size]
        spans = [_window_text(sources[k]) for k in chunk]
        enc = tokenizer([sources[k][0].question for k in chunk],
                        [sources[k][0].context[a:b] for k, (a, b) in zip(chunk, spans)],
                        truncation="only_second", max_length=max_length, padding=True,
                        return_offsets_mapping=True, return_tensors="np")
        offsets = enc.pop("offset_mapping")
        inputs = {k: torch.from_numpy(v).to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        seqs = [enc.sequence_ids(row) for row in range(len(chunk))]
        passage = np.array([[s == 1 for s in seq] for seq in seqs])
        allowed = torch.from_numpy(passage.copy()).to(device)
        allowed[:, 0] = True  # the first token: no answer
        with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            out = model(**inputs)
        start, end = (_softmax(logits, allowed, temperature) for logits in (out.start_logits, out.end_logits))
        for row, k in enumerate(chunk):
            read = np.flatnonzero(passage[row])
            targets[k] = _carry(sources[k][1], spans[row][0], read, offsets[row, read], start[row], end[row]).astype(np.float16)
        if lo // batch_size % 100 == 0:
            log(f"teacher: {min(lo + batch_size, len(order)):,} of {len(order):,} windows")
    return targets


def _window_text(source: tuple[Any, Offsets]) -> tuple[int, int]:
    """The passage characters a student window covers."""
    spans = [o for o in source[1] if o is not None]
    return (spans[0][0], spans[-1][1]) if spans else (0, 0)


def _softmax(logits: Any, allowed: Any, temperature: float) -> np.ndarray:
    import torch

    return torch.softmax(logits.float().masked_fill(~allowed, float("-inf")) / temperature, dim=-1).cpu().numpy()


def save_targets(path: Path, targets: list[np.ndarray], temperature: float, info: dict[str, Any]) -> None:
    """The soft targets as one numpy file (flat, with window bounds): nothing is unpickled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.stem + ".tmp.npz")
    np.savez(temp, soft=np.concatenate([t for t in targets], axis=1) if targets else np.zeros((2, 0), np.float16),
             bounds=np.cumsum([0] + [t.shape[1] for t in targets]),
             meta=json.dumps({"temperature": temperature, **info}))
    os.replace(temp, path)


def load_targets(path: str | Path, lengths: Sequence[int]) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The soft targets of `save_targets`, checked against the training windows' lengths."""
    with np.load(path, allow_pickle=False) as saved:
        soft, bounds, meta = saved["soft"], saved["bounds"], json.loads(str(saved["meta"]))
    sizes = np.diff(bounds).tolist()
    if sizes != list(lengths):
        raise ValueError(f"the soft targets in {path} were made for other training windows "
                         f"({len(sizes)} windows, here {len(lengths)})")
    return [soft[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])], meta


def soft_batch(targets: Sequence[np.ndarray], width: int) -> Any:
    """The targets of a batch as a tensor (batch, 2, width), zero on padding."""
    import torch

    out = torch.zeros((len(targets), 2, width))
    for row, t in enumerate(targets):
        out[row, :, : t.shape[1]] = torch.from_numpy(t.astype(np.float32))
    return out


def soft_loss(start_logits: Any, end_logits: Any, soft: Any, temperature: float) -> Any:
    """Cross-entropy of the student's start and end distributions at `temperature` against the
    teacher's, scaled by T^2 (so that its gradients keep their size as T changes)."""
    import torch

    def ce(logits: Any, target: Any) -> Any:
        return -(target * torch.log_softmax(logits.float() / temperature, dim=-1)).sum(-1).mean()

    return (ce(start_logits, soft[:, 0]) + ce(end_logits, soft[:, 1])) / 2 * temperature**2
