"""Files and folders -> `Document`s: .txt, .md, .html/.htm and .pdf.

Every refusal is an `IngestError` whose message says what is wrong with which file.
"""

from __future__ import annotations

import html
import html.parser
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from qa.errors import IngestError
from qa.text import first_line_title
from qa.types import Document, content_id

log = logging.getLogger("qa")

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def load_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None) -> Document:
    """Read one file into a `Document`.

    Args:
        path: The file.
        max_bytes: Larger files are refused.
        name: The name shown as the document's source (default: the file name). Only its
            last component is used, so an uploaded "../../x.txt" is shown as "x.txt".

    Raises:
        IngestError: Unsupported type, too large, empty, binary, or a PDF without text.
    """
    path = Path(path)
    source = safe_name(name or path.name)
    suffix = Path(source).suffix.lower() or path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(f"{source}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED)}")
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
        text, title = _pdf_text(data, source)
    else:
        raw = decode_text(data, source)
        if suffix in (".html", ".htm"):
            text, title = html_to_text(raw)
        else:
            text, title = raw, _markdown_title(raw) if suffix in (".md", ".markdown") else ""
    text = _normalise(text)
    if not text.strip():
        raise IngestError(f"{source}: no text found in the file")
    return Document(id=content_id(text), source=source, text=text, title=title or first_line_title(text))


def iter_files(paths: Iterable[str | Path], skipped: list[str] | None = None) -> Iterator[Path]:
    """The supported files named, or found inside the folders named, in sorted order.

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
    files = list(iter_files(paths, problems))
    for i, f in enumerate(files):
        if progress:
            progress(f"reading {f.name}", i / len(files))
        if not f.exists():
            problems.append(f"{f}: no such file or folder")
            continue
        try:
            docs.append(load_file(f, max_bytes))
        except IngestError as err:
            problems.append(str(err))
        except Exception:  # a damaged file (a PDF that crashes its parser) must not stop the rest
            log.exception("reading %s failed", f)
            problems.append(f"{f.name}: could not be read")
    return docs, problems


def safe_name(name: str) -> str:
    """The last component of a user-given file name, without path tricks or control characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base or "document"


def decode_text(data: bytes, source: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else the detected encoding; binary is refused."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{source}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError(f"{source}: looks like a binary file, not text (no text encoding fits)")
    text = _western_if_as_good(data, best.encoding, str(best))
    controls = sum(1 for ch in text[:10000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 10000):
        raise IngestError(f"{source}: looks like a binary file, not text")
    return text


class _HTMLText(html.parser.HTMLParser):
    """Visible text of an HTML page; script, style and similar are dropped."""

    SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
             "section", "article", "header", "footer", "blockquote", "pre", "hr", "dd", "dt"}

    HEADINGS = {"h1", "h2", "h3"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.heading = ""  # the first heading, the title of a page without <title>
        self._skip = 0
        self._in_title = False
        self._in_heading = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self.HEADINGS and not self.heading:
            self._in_heading = True
        if tag == "pre":
            self._pre += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag in self.HEADINGS:
            self._in_heading = False
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            # Line breaks in the page's source are spaces, as a browser shows them; only block
            # elements (and <pre>) break lines, so a wrapped paragraph stays one sentence.
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))
            if self._in_heading:
                self.heading += data


def html_to_text(raw: str) -> tuple[str, str]:
    """Visible text and title of an HTML page."""
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    title = " ".join(html.unescape(parser.title).split()) or " ".join(parser.heading.split())
    return "\n".join(line for line in lines if line), title


def _pdf_text(data: bytes, source: str) -> tuple[str, str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title", "") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise IngestError(f"{source}: not a readable PDF ({err})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise IngestError(f"{source}: the PDF has no text layer (a scan?); run it through OCR first")
    return text, title


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            return title if len(title) <= 120 else ""
    return ""


# Single-byte Latin code pages a detector confuses on short texts ("crème" read as Central
# European "crčme"); among them Windows-1252, the commonest legacy encoding, wins unless
# another one gives more letters.
_LATIN_CODE_PAGES = {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_1", "iso8859_2", "iso8859_4", "iso8859_9",
                     "iso8859_10", "iso8859_13", "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2", "cp850", "cp437"}


def _western_if_as_good(data: bytes, encoding: str, detected: str) -> str:
    """`detected`, or `data` read as Windows-1252 when that reads as many accented Latin letters
    and the detector chose another Latin code page, or the text is mostly plain Latin letters
    anyway (a short "crème" is otherwise read as Arabic or Central European)."""
    latin_page = encoding.lower().replace("-", "_") in _LATIN_CODE_PAGES
    ascii_letters = sum(1 for ch in detected if ch.isascii() and ch.isalpha())
    if not latin_page and ascii_letters < 0.8 * sum(1 for ch in detected if ch.isalpha()):
        return detected
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return detected
    return western if _accented_latin(western) >= _accented_latin(detected) else detected


def _accented_latin(text: str) -> int:
    import unicodedata

    return sum(1 for ch in text if ord(ch) > 127 and ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"))


def _normalise(text: str) -> str:
    """Unix line ends, no NULs or other control characters except tab and newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline; a per-character loop was a sixth of `qa index` in a profile
