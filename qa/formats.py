"""Office files, e-books and tables -> plain text with Markdown-style headings.

Each format is read by its own well-kept package (python-docx, python-pptx, openpyxl, odfpy,
ebooklib; csv by the standard library). They were chosen over one converter for everything
(markitdown): together they install 72 MB against markitdown's 322 MB with its Office extras
(it brings onnxruntime and a file-type model with it), they read .odt, which markitdown does not,
and they give the document's structure (heading levels, slides, sheets) directly.

What every converter returns: the text, with each heading on its own line led by "#" marks
(its level), so that answers can say which section they come from (`qa.layout`), and a title.
Table rows become one line each, "Header: value; Header: value.", so that a row reads as a
sentence and is quoted whole.
"""

from __future__ import annotations

import csv
import html
import html.parser
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from qa.errors import IngestError

# What every converter is: (file bytes, name for messages) -> (text, title).
Converter = Callable[[bytes, str], "tuple[str, str]"]


def heading(level: int, text: str) -> str:
    """A heading line: "## Text" for level 2 (levels 1 to 6)."""
    text = " ".join(text.split())
    return f"{'#' * min(6, max(1, level))} {text}" if text else ""


def table_lines(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Rows of a table as lines "Header: value; Header: value." (the first non-empty row is the
    header; a table without one, or a one-row table, is written cell after cell)."""
    cleaned = [[_cell(v) for v in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    header, body = cleaned[0], cleaned[1:]
    if not body or not all(header):
        return [_sentence("; ".join(c for c in row if c)) for row in cleaned]
    lines = []
    for row in body:
        pairs = [f"{h}: {v}" for h, v in zip(header, row) if v]
        pairs += [v for v in row[len(header):] if v]
        if pairs:
            lines.append(_sentence("; ".join(pairs)))
    return [_sentence("; ".join(header))] + lines if lines else []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _sentence(line: str) -> str:
    return line if not line or line[-1] in ".!?:" else line + "."


def _join(lines: Iterable[str]) -> str:
    return "\n".join(line for line in lines if line and line.strip())


def _refuse(source: str, kind: str, err: Exception) -> IngestError:
    reason = str(err).strip() or type(err).__name__
    return IngestError(f"{source}: not a readable {kind} file ({reason[:160]})")


def docx_text(data: bytes, source: str) -> tuple[str, str]:
    """A Word document: paragraphs and tables in their order; "Heading N" and "Title" styles are headings."""
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines += table_lines([cell.text for cell in row.cells] for row in block.rows)
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = _heading_level(style)
            lines.append(heading(level, block.text) if level else block.text.strip())
        title = document.core_properties.title or ""
    except IngestError:
        raise
    except Exception as err:  # python-docx raises many kinds on a damaged or foreign file
        raise _refuse(source, "Word (.docx)", err) from None
    return _join(lines), title


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    m = re.fullmatch(r"Heading (\d)", style)
    return int(m.group(1)) if m else 0


def pptx_text(data: bytes, source: str) -> tuple[str, str]:
    """A PowerPoint deck: each slide a section named by its title, then its text, tables and notes."""
    try:
        from pptx import Presentation

        deck = Presentation(io.BytesIO(data))
        lines: list[str] = []
        for number, slide in enumerate(deck.slides, 1):
            title_shape = slide.shapes.title
            title = title_shape.text_frame.text if title_shape is not None and title_shape.has_text_frame else ""
            lines.append(heading(1, f"Slide {number}: {title}" if title.strip() else f"Slide {number}"))
            for shape in _shapes(slide.shapes):
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                if getattr(shape, "has_table", False) and shape.has_table:
                    lines += table_lines([cell.text for cell in row.cells] for row in shape.table.rows)
                elif shape.has_text_frame:
                    lines += [p.text if hasattr(p, "text") else "" for p in shape.text_frame.paragraphs]
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = slide.notes_slide.notes_text_frame.text.strip()
                if notes:
                    lines.append(f"Notes: {notes}")
        deck_title = deck.core_properties.title or ""
    except Exception as err:
        raise _refuse(source, "PowerPoint (.pptx)", err) from None
    return _join(lines), deck_title


def _shapes(shapes: Any) -> Iterable[Any]:
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape


def xlsx_text(data: bytes, source: str) -> tuple[str, str]:
    """An Excel workbook: each sheet a section, each row a line "Header: value; ...".

    Formulas give their last computed value (the one Excel saved), not the formula."""
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        lines: list[str] = []
        for sheet in book.worksheets:
            rows = table_lines(sheet.iter_rows(values_only=True))
            if rows:
                lines += [heading(1, f"Sheet {sheet.title}"), *rows]
        title = book.properties.title or ""
        book.close()
    except Exception as err:
        raise _refuse(source, "Excel (.xlsx)", err) from None
    return _join(lines), title


def odt_text(data: bytes, source: str) -> tuple[str, str]:
    """An OpenDocument text: headings (with their outline level), paragraphs, lists and tables."""
    try:
        from odf import opendocument, teletype

        document = opendocument.load(io.BytesIO(data))
        lines: list[str] = []
        _odt_walk(document.text, lines, teletype)
        meta_title = ""
        for el in document.meta.childNodes:
            if el.qname[1] == "title":
                meta_title = teletype.extractText(el)
    except Exception as err:
        raise _refuse(source, "OpenDocument (.odt)", err) from None
    return _join(lines), meta_title


def _odt_walk(node: Any, lines: list[str], teletype: Any) -> None:
    for el in node.childNodes:
        if not hasattr(el, "qname"):
            continue
        name = el.qname[1]
        if name == "h":
            level = int(el.getAttribute("outlinelevel") or 1)
            lines.append(heading(level, teletype.extractText(el)))
        elif name == "p":
            lines.append(teletype.extractText(el).strip())
        elif name == "table":
            rows = []
            for row in _odt_rows(el):
                rows.append([" ".join(teletype.extractText(p) for p in _odt_find(cell, "p")) for cell in _odt_find(row, "table-cell")])
            lines += table_lines(rows)
        else:
            _odt_walk(el, lines, teletype)


def _odt_rows(table: Any) -> Iterable[Any]:
    for el in table.childNodes:
        if hasattr(el, "qname"):
            if el.qname[1] == "table-row":
                yield el
            elif el.qname[1] in ("table-rows", "table-header-rows", "table-row-group"):
                yield from _odt_rows(el)


def _odt_find(node: Any, name: str) -> list[Any]:
    return [el for el in node.childNodes if hasattr(el, "qname") and el.qname[1] == name]


def epub_text(data: bytes, source: str) -> tuple[str, str]:
    """An EPUB e-book: its chapters in reading order, read as HTML (headings kept)."""
    try:
        import warnings

        import ebooklib
        from ebooklib import epub

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
            except (AttributeError, IndexError):
                # ebooklib fails on a spine naming a table of contents the book lacks (books written
                # by ebooklib itself without one) and on a navigation page without a "toc" list:
                # the chapters are then read from the package file.
                return _epub_by_package(data)
        parts = []
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            is_nav = isinstance(item, epub.EpubNav) or "nav" in (getattr(item, "properties", None) or [])
            if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT and not is_nav:
                parts.append(html_to_text(item.get_content().decode("utf-8", errors="replace"))[0])
        titles = book.get_metadata("DC", "title")
        title = titles[0][0] if titles else ""
    except (zipfile.BadZipFile, KeyError, ValueError, AttributeError, TypeError, OSError, SyntaxError, StopIteration,
            epub.EpubException) as err:  # SyntaxError: a package file that is not XML
        raise _refuse(source, "EPUB (.epub)", err) from None
    return _join(parts), title


def _epub_by_package(data: bytes) -> tuple[str, str]:
    """An EPUB's chapters in spine order and its title, from container.xml and the package file."""
    import posixpath
    import urllib.parse
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        container = ET.fromstring(z.read("META-INF/container.xml"))
        rootfile = next(el.get("full-path") or "" for el in container.iter() if el.tag.endswith("rootfile"))
        if not rootfile:
            raise KeyError("no package file named in META-INF/container.xml")
        package = ET.fromstring(z.read(rootfile))
        base = posixpath.dirname(rootfile)
        manifest = {el.get("id"): el for el in package.iter() if el.tag.endswith("}item")}
        parts = []
        for ref in (el for el in package.iter() if el.tag.endswith("}itemref")):
            item = manifest.get(ref.get("idref"))
            if item is None or "nav" in (item.get("properties") or "").split():
                continue
            if item.get("media-type") in ("application/xhtml+xml", "text/html"):
                href = urllib.parse.unquote(item.get("href") or "")
                raw = z.read(posixpath.normpath(posixpath.join(base, href)))
                parts.append(html_to_text(raw.decode("utf-8", errors="replace"))[0])
        title = next((el.text or "" for el in package.iter() if el.tag.endswith("}title")), "")
    return _join(parts), title.strip()


def csv_text(data: bytes, source: str) -> tuple[str, str]:
    """A CSV (or tab-separated) table: each row a line "Header: value; ...". The delimiter is guessed."""
    raw = decode_text(data, source)
    sample = raw[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if source.lower().endswith(".tsv") else csv.excel
    try:
        rows = list(csv.reader(io.StringIO(raw), dialect))
    except csv.Error as err:
        raise _refuse(source, "CSV", err) from None
    return _join(table_lines(rows)), ""


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
    LEVELS = {f"h{n}": n for n in range(1, 7)}

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
        if tag in self.LEVELS and not self._skip:  # a heading line, "## Title" (see qa.layout)
            self.parts.append("#" * self.LEVELS[tag] + " ")

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
    return "\n".join(line for line in lines if line.strip("#")), title


OCR_HINT = ("to read scans, install Tesseract OCR (Debian/Ubuntu: sudo apt-get install tesseract-ocr; "
            "macOS: brew install tesseract) and add the file again")
OCR_MIN_PIXELS = 120  # images smaller than this on both sides (logos, rules) are not read


def pdf_text(data: bytes, source: str, progress: Callable[[str], None] | None = None) -> tuple[str, str]:
    """A PDF's text, page by page; a scan (no text layer) is read with Tesseract OCR when it is installed."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title", "") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise IngestError(f"{source}: not a readable PDF ({err})") from None
    if not any(p.strip() for p in pages):
        pages = ocr_pages(reader, source, progress)
    # A form feed starts each page after the first (qa.layout counts them to cite a page).
    return "\n\f\n".join(p.strip() for p in pages), title


def ocr_available() -> bool:
    """Whether scans can be read: the tesseract program and its Python binding are installed."""
    import importlib.util
    import shutil

    return shutil.which("tesseract") is not None and importlib.util.find_spec("pytesseract") is not None


def ocr_pages(reader: Any, source: str, progress: Callable[[str], None] | None = None) -> list[str]:
    """The text of each page of a scanned PDF: its images read by Tesseract (English)."""
    if not ocr_available():
        raise IngestError(f"{source}: the PDF has no text layer (a scan?); {OCR_HINT}")
    import pytesseract

    pages = []
    for number, page in enumerate(reader.pages, 1):
        if progress:
            progress(f"reading {source} with OCR, page {number} of {len(reader.pages)}")
        texts = []
        try:
            images = list(page.images)
        except Exception:  # an image pypdf cannot decode: that page stays empty
            images = []
        for found in images:
            image = found.image
            if image is None or max(image.size) < OCR_MIN_PIXELS:
                continue
            try:
                texts.append(pytesseract.image_to_string(image, lang="eng", timeout=120))
            except RuntimeError as err:  # pytesseract's timeout
                raise IngestError(f"{source}: OCR of page {number} took too long ({err})") from None
        pages.append("\n".join(t.strip() for t in texts))
    if not any(p.strip() for p in pages):
        raise IngestError(f"{source}: no text found in the PDF, even with OCR (blank pages, or not a scan of text?)")
    return pages


def markdown_title(text: str) -> str:
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
    name = encoding.lower().replace("-", "_")
    if name.startswith("utf"):  # a Unicode encoding (UTF-16 with its byte order mark): never a code page
        return detected
    latin_page = name in _LATIN_CODE_PAGES
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


CONVERTERS: dict[str, Converter] = {
    ".docx": docx_text,
    ".pptx": pptx_text,
    ".xlsx": xlsx_text,
    ".odt": odt_text,
    ".epub": epub_text,
    ".csv": csv_text,
    ".tsv": csv_text,
}

# Tables have no first line that could stand for a title.
TABLES = {".csv", ".tsv", ".xlsx"}

# Formats that look close to a supported one, with what to do instead.
NEAR_MISSES = {
    ".doc": "save it as .docx (Word: File > Save As) and add that",
    ".ppt": "save it as .pptx and add that",
    ".xls": "save it as .xlsx and add that",
    ".rtf": "save it as .docx or .txt and add that",
    ".odp": "save it as .pptx and add that",
    ".ods": "save it as .xlsx or .csv and add that",
}
