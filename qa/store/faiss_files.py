"""The files of a FAISS index folder: generations, the CURRENT pointer, checksums, JSON lines."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from qa.types import Document


def _generations(path: Path) -> list[Path]:
    """The saved generation folders, newest first."""
    return sorted((p for p in path.glob("gen-*") if p.is_dir()), reverse=True)




def _current(path: Path) -> str | None:
    """The generation CURRENT names, or None when CURRENT is missing, unreadable or names nothing."""
    try:
        name = json.loads((path / "CURRENT").read_text())["generation"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) and name.startswith("gen-") and (path / name).is_dir() else None




ACKNOWLEDGED = "ACKNOWLEDGED"  # the journal of the last acknowledged save


def _acknowledged(path: Path) -> tuple[str, dict[str, str]] | None:
    """(generation, {document id: source}) of the last save that was acknowledged, or None when
    the journal is missing or unreadable (then only the generations themselves can tell)."""
    try:
        row = json.loads((path / ACKNOWLEDGED).read_text())
        generation, documents = row["generation"], row["documents"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(generation, str) or not isinstance(documents, dict):
        return None
    return generation, {str(k): str(v) for k, v in documents.items()}


def _write_acknowledged(path: Path, generation: str, documents: dict[str, str]) -> None:
    tmp = path / f"{ACKNOWLEDGED}.tmp"
    tmp.write_text(json.dumps({"generation": generation, "documents": documents}))
    _fsync(tmp)
    os.replace(tmp, path / ACKNOWLEDGED)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()




def _damaged_files(gen: Path, files: Any) -> set[str]:
    """Files whose checksum no longer matches the manifest's, by name ("bm25" for its folder)."""
    if not isinstance(files, dict):
        return set()  # written before checksums were kept
    bad = set()
    for name, digest in files.items():
        f = gen / name
        if not f.is_file() or _sha256(f) != digest:
            bad.add(name.split("/")[0])
    return bad




def _readable_rows(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The JSON lines of a file that still parse, and whether all of them did."""
    rows, ok = [], True
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    row = json.loads(line) if line.strip() else None
                except ValueError:
                    ok = False
                    continue
                if isinstance(row, dict):
                    rows.append(row)
    except OSError:
        return [], False
    return rows, ok




def _manifest_documents(path: Path) -> tuple[list[dict[str, Any]], bool]:
    try:
        docs = json.loads(path.read_text())["documents"]
        return [{"id": k, **v} for k, v in docs.items()], True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [], False




def _from_older(gens: Sequence[Path], doc_id: str) -> Document | None:
    for gen in gens:
        for row in _readable_rows(gen / "documents.jsonl")[0]:
            if row.get("id") == doc_id:
                with contextlib.suppress(TypeError):
                    return Document(**row)
    return None




def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]




def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")




def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
