"""The doors the fault battery found open (each test failed before its fix): files through any
upload route with uploads off, uploads never claimed, links out of an indexed folder, uncapped
quotes, and legacy encodings read as the wrong code page."""

import asyncio
import os
import time

import pytest

from qa.answer import place_in_documents
from qa.app import UploadGate, sweep_uploads
from qa.ingest import decode_text, load_paths
from qa.text import MAX_QUOTE_CHARS
from qa.types import Answer, Document, content_id


def call(gate, method="POST", path="/gradio_api/upload", content_type=b"multipart/form-data; boundary=x"):
    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    async def send(message):
        sent.append(message)

    gate.app = app
    scope = {"type": "http", "method": method, "path": path, "headers": [(b"content-type", content_type)]}
    asyncio.run(gate(scope, None, send))
    return reached, sent[0]["status"] if sent else None


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/gradio_api/process_recording", "/gradio_api/anything"])
def test_with_uploads_off_no_route_accepts_a_file(path):
    reached, status = call(UploadGate(None, uploads=False), path=path)
    assert reached == [] and status == 403


def test_with_uploads_off_other_requests_pass_and_with_them_on_files_pass():
    assert call(UploadGate(None, uploads=False), path="/gradio_api/queue/join", content_type=b"application/json") == (["/gradio_api/queue/join"], None)
    assert call(UploadGate(None, uploads=False), method="GET", path="/", content_type=b"") == (["/"], None)
    assert call(UploadGate(None, uploads=True, cap_bytes=10**9)) == (["/gradio_api/upload"], None)


def test_uploads_are_refused_while_unclaimed_ones_fill_the_cap(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    (tmp_path / "abc").mkdir()
    (tmp_path / "abc" / "big.txt").write_bytes(b"x" * 2000)
    assert call(UploadGate(None, uploads=True, cap_bytes=1000)) == ([], 507)
    assert call(UploadGate(None, uploads=True, cap_bytes=5000)) == (["/gradio_api/upload"], None)


def test_unclaimed_uploads_and_empty_leftovers_are_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    old, new = tmp_path / "a" / "old.txt", tmp_path / "b" / "new.txt"
    for f in (old, new):
        f.parent.mkdir()
        f.write_text("upload")
    (tmp_path / "a" / "empty").write_bytes(b"")
    past = time.time() - 3600
    for f in (old, tmp_path / "a" / "empty"):
        os.utime(f, (past, past))
    gone = sweep_uploads(older_than=600)
    assert sorted(p.name for p in gone) == ["empty", "old.txt"]
    assert not (tmp_path / "a").exists() and new.exists()


def test_a_link_out_of_an_indexed_folder_is_not_followed_and_is_named(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("A note about lighthouses.")
    (docs / "x.txt").symlink_to(secret)
    (docs / "inside.txt").symlink_to(docs / "note.txt")  # a link within the folder is fine
    (docs / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    found, problems = load_paths([docs])
    assert sorted(d.source for d in found) == ["inside.txt", "note.txt"]
    assert any("x.txt" in p and "not followed" in p for p in problems)
    assert any("elsewhere" in p and "not followed" in p for p in problems)
    named, _ = load_paths([docs / "x.txt"])  # a link the user names is read
    assert [d.text for d in named] == [secret.read_text()]


def test_a_quote_in_text_without_sentence_ends_is_capped_around_its_answer():
    text = " ".join(f"word{i}" for i in range(3000)) + " the answer is here " + " ".join(f"tail{i}" for i in range(3000))
    doc = Document(content_id(text), "long.txt", text)
    start = text.index("the answer")
    answer = Answer(text="the answer", score=0.9, abstained=False, source="long.txt", doc_id=doc.id,
                    start=start, end=start + len("the answer"))
    placed = place_in_documents(answer, {doc.id: doc})
    assert "the answer is here" in placed.quote and len(placed.quote) <= MAX_QUOTE_CHARS + 20
    assert text[placed.quote_start : placed.quote_start + len(placed.quote)] == placed.quote
    assert placed.quote.split()[0] in text.split() and placed.quote.split()[-1] in text.split()  # no word cut


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_legacy_western_text_keeps_its_accents(encoding):
    for text in ("crème", "Une crème brûlée, s'il vous plaît.", "Ärger über die Größe"):
        assert decode_text(text.encode(encoding), "x.txt") == text


def test_other_code_pages_are_still_read_as_detected():
    polish = "Zażółć gęślą jaźń, powiedział, że było łatwo."
    assert decode_text(polish.encode("cp1250"), "p.txt") == polish
    russian = "Привет, как дела? Это простой текст для проверки кодировки."
    assert decode_text(russian.encode("cp1251"), "r.txt") == russian
