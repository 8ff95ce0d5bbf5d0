"""Scanned PDFs are read with Tesseract OCR (`make test` installs it); without it, the refusal says how."""

from __future__ import annotations

import pytest
from tests.office_files import SCANNED, write_scan

from qa import formats
from qa.errors import IngestError
from qa.ingest import load_file, load_paths


def test_tesseract_is_installed_for_the_tests():
    assert formats.ocr_available(), "the tests need Tesseract: run `make ocr` (Debian: apt-get install tesseract-ocr)"


def test_a_scanned_page_is_read_with_ocr_and_progress_is_told(tmp_path):
    scan = write_scan(tmp_path / "pier.pdf")
    stages: list[tuple[str, float]] = []
    docs, problems = load_paths([scan], progress=lambda stage, share: stages.append((stage, share)))
    assert not problems
    assert "rebuilt in 1962" in " ".join(docs[0].text.split())
    assert ("reading pier.pdf with OCR, page 1 of 1", 0.0) in stages


def test_a_scan_without_ocr_installed_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "ocr_available", lambda: False)
    with pytest.raises(IngestError, match=r"pier\.pdf: the PDF has no text layer \(a scan\?\); to read scans, install Tesseract"):
        load_file(write_scan(tmp_path / "pier.pdf"))


def test_a_question_about_a_scanned_page_is_answered_from_it(tmp_path, shipped_reader, real_embedder):
    from qa.chatbot import Chatbot
    from qa.config import Settings

    scan = write_scan(tmp_path / "harbour-history.pdf", (SCANNED[0], "The east pier is older and dates from 1871."))
    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none")), embedder=real_embedder, reader=shipped_reader)
    bot.open()
    assert bot.add_paths([scan]).added == ["harbour-history.pdf"]
    a = bot.ask(SCANNED[1])
    assert not a.abstained and a.source == "harbour-history.pdf" and SCANNED[2] in a.text and a.page == 1
