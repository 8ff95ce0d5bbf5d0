"""The cascade reader: the fast reader first; the accurate one reads the same passages only when
the fast reader is unsure.

"Sure" means the fast reader's best span clears its own threshold and its calibrated confidence
(P(right), its calibration.json) is at least `sure` (qa/models/cascade/cascade.json, chosen by
measurement: scripts/evaluate_reader.py cascade). Whatever reader decides, its span scores are
given relative to that reader's own threshold, so the cascade abstains below 0 as each reader
would on its own; the cascade's calibration.json maps those scores to P(right) like any reader's
(fitted on the validation files' cascade outputs).

The cascade is a `SpanReader` like the others: the chatbot, batching and evaluation use it
unchanged. Where the accurate reader cannot be loaded (qa[accurate] not installed), the cascade
says so once in the log and is the fast reader, with the fast reader's own calibration.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qa.types import Span

if TYPE_CHECKING:
    from qa.calibration import Calibration
    from qa.read import SpanReader

log = logging.getLogger("qa")
CASCADE_READER = Path(__file__).parent / "models" / "cascade"
DEFAULT_SURE = 0.7


@dataclass(frozen=True)
class Stage:
    """One reader of the cascade with its own calibration (its confidence and threshold)."""

    reader: SpanReader
    calibration: Calibration


def sure_level(folder: Path = CASCADE_READER) -> float:
    """The confidence at which the fast reader's answer is kept (cascade.json), DEFAULT_SURE without one."""
    try:
        return float(json.loads((folder / "cascade.json").read_text())["sure"])
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        return DEFAULT_SURE


def is_sure(spans: Sequence[Span], calibration: Calibration, sure: float) -> bool:
    """Whether the best of `spans` clears the reader's threshold with confidence at least `sure`."""
    if not spans or spans[0].score < calibration.threshold:
        return False
    probability = calibration.probabilities([(s.passage, s.start, s.end, s.text, s.score) for s in spans])[0]
    return probability >= sure


def relative(spans: Sequence[Span], calibration: Calibration) -> list[Span]:
    """The spans with scores relative to the threshold of the reader that read them."""
    return [replace(s, score=s.score - calibration.threshold) for s in spans]


class CascadeReader:
    """`first` reads every question; `second` reads those `first` is not sure of.

    Args:
        first: The fast stage.
        second: The accurate stage.
        sure: Keep the first stage's answer at this confidence or above.
        model_path: The cascade's folder (its calibration.json and cascade.json).
    """

    def __init__(self, first: Stage, second: Stage, sure: float = DEFAULT_SURE, model_path: Path = CASCADE_READER) -> None:
        self.first, self.second, self.sure = first, second, sure
        self.model_path = Path(model_path)
        self.alone = False  # the accurate reader could not be loaded: the fast reader reads alone

    def warm_up(self) -> None:
        """Load both readers; without the accurate one, go on as the fast reader (said once in the log)."""
        from qa.errors import ReaderLoadError

        self.first.reader.warm_up()
        if self.alone:
            return
        try:
            self.second.reader.warm_up()
        except ReaderLoadError as err:
            log.warning("the cascade reader answers with the fast reader alone: %s", err)
            self.alone, self.model_path = True, self.first.reader.model_path

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        return self.read_many([(question, passages)])[0]

    def read_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[Span]]:
        firsts = self.first.reader.read_many(items)
        if self.alone:
            return firsts  # as the fast reader reads, for its own calibration
        unsure = [i for i, spans in enumerate(firsts) if not is_sure(spans, self.first.calibration, self.sure)]
        out = [relative(spans, self.first.calibration) for spans in firsts]
        if unsure:
            seconds = self.second.reader.read_many([items[i] for i in unsure])
            for i, spans in zip(unsure, seconds):
                out[i] = relative(spans, self.second.calibration)
        return out
