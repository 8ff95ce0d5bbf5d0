"""Files and folders -> `Document`s: .txt, .md, .html/.htm, .pdf, and through `qa.formats`
.docx, .pptx, .xlsx, .odt, .epub, .csv/.tsv.

Headings are kept as Markdown-style "#" lines and a PDF's pages are separated by a form feed,
so that an answer can name its page and section (`qa.layout`).

Every refusal is an `IngestError` whose message says what is wrong with which file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from qa.errors import IngestError
from qa.formats import (
    TABLES,
    CONVERTERS,
    NEAR_MISSES,
    decode_text,
    html_to_text,
    markdown_title,
    pdf_text,
)
from qa.text import first_line_title
from qa.types import Document, content_id

log = logging.getLogger("qa")

TEXT_TYPES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
SUPPORTED = TEXT_TYPES + tuple(CONVERTERS)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def load_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None,
              progress: Callable[[str], None] | None = None) -> Document:
    """Read one file into a `Document`.

    Args:
        path: The file.
        max_bytes: Larger files are refused.
        name: The name shown as the document's source (default: the file name). Only its
            last component is used, so an uploaded "../../x.txt" is shown as "x.txt".
        progress: Told what is being done during a long read (OCR of a scan, page by page).

    Raises:
        IngestError: Unsupported type, too large, empty, binary, or a PDF without text.
    """
    path = Path(path)
    source = safe_name(name or path.name)
    suffix = Path(source).suffix.lower() or path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(unsupported(source, suffix))
    try:
        size = path.stat().st_size
    except OSError as err:
        raise IngestError(f"{source}: cannot read the file ({err.strerror})") from None
    if size > max_bytes:
        raise IngestError(f"{source}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    if size == 0:
        raise IngestError(f"{source}: the file is empty")
    data = path.read_bytes()
    if suffix == ".pdf":
        text, title = pdf_text(data, source, progress)
    elif suffix in CONVERTERS:
        text, title = CONVERTERS[suffix](data, source)
        title = title or markdown_title(text)
    else:
        raw = decode_text(data, source)
        if suffix in (".html", ".htm"):
            text, title = html_to_text(raw)
        else:
            text, title = raw, markdown_title(raw) if suffix in (".md", ".markdown") else ""
    text = _normalise(text)
    if not text.strip():
        raise IngestError(f"{source}: no text found in the file")
    if not title and suffix not in TABLES:
        title = first_line_title(text)
    return Document(id=content_id(text), source=source, text=text, title=title)


def unsupported(source: str, suffix: str) -> str:
    """Why a file of this type is not read, and what to do instead."""
    hint = NEAR_MISSES.get(suffix, f"qa reads {', '.join(SUPPORTED)}")
    return f"{source}: {suffix or 'a file without an extension'} files are not read; {hint}"


def iter_files(paths: Iterable[str | Path], skipped: list[str] | None = None,
               other_types: dict[str, int] | None = None) -> Iterator[Path]:
    """The supported files named, or found inside the folders named, in sorted order.

    Files of other types inside a folder are counted by extension in `other_types`.

    A file named is read even when it is a link (the user named it). Inside a folder, a link
    that leads out of the folder is never followed (a `docs/x.txt -> /etc/passwd` would put that
    file's text in front of everyone using the page): it is left out and named in `skipped`.
    """
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            yield p
            continue
        root = p.resolve()
        for folder, dirs, files in os.walk(p):  # links to folders are not walked into
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                dirs.remove(d)
                if skipped is not None:
                    skipped.append(f"{Path(folder) / d}: a link to a folder, not followed")
            for name in sorted(files):
                f = Path(folder) / name
                if f.suffix.lower() not in SUPPORTED:
                    if other_types is not None and not name.startswith("."):
                        key = f.suffix.lower() or "(no extension)"
                        other_types[key] = other_types.get(key, 0) + 1
                    continue
                if f.is_symlink() and not f.resolve().is_relative_to(root):
                    if skipped is not None:
                        skipped.append(f"{f}: a link to a file outside {p}, not followed")
                    continue
                if f.is_file():
                    yield f


def load_paths(
    paths: Iterable[str | Path], max_bytes: int = DEFAULT_MAX_BYTES, progress: Callable[[str, float], None] | None = None
) -> tuple[list[Document], list[str]]:
    """Documents from files and folders, and a message for each file that was refused.

    A file that fails in an unexpected way is refused too, so the others are still indexed.
    `progress` is called with ("reading NAME", share of files done) before each file.
    """
    docs: list[Document] = []
    problems: list[str] = []
    others: dict[str, int] = {}
    files = list(iter_files(paths, problems, others))
    if others:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(others.items(), key=lambda kv: (-kv[1], kv[0])))
        problems.append(f"{sum(others.values())} file(s) in the folder(s) not read, of types qa does not read: {kinds}")
    for i, f in enumerate(files):
        if progress:
            progress(f"reading {f.name}", i / len(files))
        if not f.exists():
            problems.append(f"{f}: no such file or folder")
            continue
        try:
            docs.append(load_file(f, max_bytes, progress=_told_at(progress, i / len(files))))
        except IngestError as err:
            problems.append(str(err))
        except Exception:  # a damaged file (a PDF that crashes its parser) must not stop the rest
            log.exception("reading %s failed", f)
            problems.append(f"{f.name}: could not be read")
    return docs, problems


def _told_at(progress: Callable[[str, float], None] | None, share: float) -> Callable[[str], None] | None:
    """`progress` for the stages of one file, at that file's share of the whole."""
    return None if progress is None else lambda stage: progress(stage, share)


def safe_name(name: str) -> str:
    """The last component of a user-given file name, without path tricks or control characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base or "document"


def _normalise(text: str) -> str:
    """Unix line ends, no NULs or other control characters except tab, newline and form feed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # all but tab, newline and form feed (a PDF's page break); a per-character loop was a sixth of `qa index` in a profile
