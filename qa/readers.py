"""Choosing a reader: the one place where "fast", "accurate", "auto", "cascade" or a folder becomes a model.

    resolve_reader(settings) -> ReaderChoice(folder, device, adapters)
    build_reader(settings)   -> Reader, with its loader (plain checkpoint, or LoRA adapters merged
                                into the accurate base), precision, device and threads
    load_calibration(reader) -> the reader folder's calibration.json (or the default)

`qa.read.Reader` decodes spans and knows nothing of where its model comes from; `qa.accurate`
knows how the accurate base is assembled. Only this module knows both.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.accurate import ACCURATE_READER, base_installed, is_adapter_folder
from qa.errors import ReaderLoadError
from qa.read import SHIPPED_READER, Reader, ReaderSettings, SpanReader
from qa.types import ReaderKind

log = logging.getLogger("qa")

if TYPE_CHECKING:
    from qa.calibration import Calibration
    from qa.config import Settings


@dataclass(frozen=True)
class ReaderChoice:
    """Where a reader's model is and where it runs.

    Attributes:
        folder: The model folder (a Hugging Face QA checkpoint, or LoRA adapters for the accurate base).
        device: "cpu", "cuda" or "auto" (CUDA when torch sees a GPU, decided when the model loads).
        adapters: Whether `folder` holds adapters to merge into the accurate base.
    """

    folder: Path
    device: str
    adapters: bool


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_reader(reader: str = "fast", reader_path: str = "") -> ReaderChoice:
    """The reader folder and device that the `reader` setting names.

    Args:
        reader: "fast", "accurate", "auto" (the accurate reader where it is installed, else the
            fast one), "cascade" or a model folder (see qa.config.Settings); "cascade" names its first reader here, the fast one (`build_reader` makes the cascade).
        reader_path: A model folder (the older setting); wins over the default "fast".
    """
    kind = ReaderKind.parse(reader) if not reader_path else ReaderKind.FAST
    if kind is None or reader_path:
        path = Path(reader_path or reader).expanduser()
        adapters = is_adapter_folder(path)
        return ReaderChoice(path, "cuda" if adapters and _cuda() else "cpu", adapters)
    if kind is ReaderKind.ACCURATE:
        return ReaderChoice(ACCURATE_READER, "cuda" if _cuda() else "cpu", is_adapter_folder(ACCURATE_READER))
    if kind is ReaderKind.AUTO and is_adapter_folder(ACCURATE_READER) and base_installed():
        return ReaderChoice(ACCURATE_READER, "auto", True)  # the GPU when there is one, decided when it loads
    if kind is ReaderKind.AUTO:
        log.info("the accurate reader is not installed (pip install 'qa[accurate]'); reading with the fast reader")
    return ReaderChoice(SHIPPED_READER, "cpu", False)


def build_reader(settings: Settings) -> SpanReader:
    """The reader `settings` names, not loaded yet (it loads on first use)."""
    if ReaderKind.parse(settings.reader) is ReaderKind.CASCADE and not settings.reader_path:
        return cascade_reader(settings.reader_settings(), settings.threads or None)
    choice = resolve_reader(settings.reader, settings.reader_path)
    return Reader(choice.folder, settings.reader_settings(), device=choice.device,
                  threads=settings.threads or None, loader=model_loader(choice))


def reader_for(name: str | Path, settings: ReaderSettings | None = None, threads: int | None = None) -> SpanReader:
    """The reader a name gives ("fast", "accurate", "auto", "cascade" or a model folder, adapters
    or a whole checkpoint), not loaded yet: what the offline tools use to read with any reader."""
    if ReaderKind.parse(str(name)) is ReaderKind.CASCADE:
        return cascade_reader(settings, threads)
    choice = resolve_reader(str(name))
    return Reader(choice.folder, settings, device=choice.device, threads=threads, loader=model_loader(choice))


def cascade_reader(settings: ReaderSettings | None = None, threads: int | None = None) -> SpanReader:
    """The fast reader first and the accurate reader when it is unsure (`qa.cascade`), each with
    its own calibration."""
    from qa.cascade import CASCADE_READER, CascadeReader, Stage, sure_level

    fast = reader_for("fast", settings, threads)
    # Its device is decided when it loads: building the cascade imports no torch (`qa documents`).
    choice = ReaderChoice(ACCURATE_READER, "auto", is_adapter_folder(ACCURATE_READER))
    accurate = Reader(choice.folder, settings, device="auto", threads=threads, loader=model_loader(choice))
    return CascadeReader(Stage(fast, load_calibration(fast)), Stage(accurate, load_calibration(accurate)),
                         sure_level(CASCADE_READER), CASCADE_READER)


def model_loader(choice: ReaderChoice) -> Any:
    """What loads the model of `choice`: None (a plain checkpoint, `Reader`'s own loading), or
    a function of the dtype merging the folder's adapters into the accurate base."""
    if choice.folder.resolve() == ACCURATE_READER.resolve() and not choice.adapters:
        return functools.partial(_refuse, no_trained_reader_message(choice.folder))
    if not choice.adapters:
        return None
    from qa.accurate import load_adapted_model

    return functools.partial(load_adapted_model, choice.folder)


def _refuse(message: str, dtype: Any) -> Any:
    raise ReaderLoadError(message)


def no_trained_reader_message(folder: Path) -> str:
    return (
        f"no trained accurate reader is installed (no adapters in {folder}); use the fast reader "
        "(--reader fast) or train one: qa train-reader --base accurate --out DIR, then --reader DIR "
        "(see qa/models/accurate/README.md)"
    )


def load_calibration(reader: SpanReader) -> Calibration:
    """The confidence and threshold shipped with the reader (its folder's calibration.json)."""
    from qa.calibration import Calibration

    return Calibration.load(reader.model_path / "calibration.json")
