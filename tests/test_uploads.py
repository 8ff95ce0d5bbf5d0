"""Uploads: Gradio's temporary copy goes once a file is indexed or refused; with uploads off,
no route of the page accepts a file (checked with raw HTTP against a running page)."""

import http.client
import os
import socket
import tempfile
from pathlib import Path

import pytest

from qa.chatbot import Chatbot
from qa.config import Settings
from tests.conftest import HashEmbedder


class NoReader:
    def warm_up(self):
        pass


def hash_bot(tmp_path, **overrides):
    settings = Settings(index_dir=str(tmp_path / "index"), seed_dir=str(tmp_path / "none"), chunk_tokens=40, chunk_overlap=5, **overrides)
    bot = Chatbot(settings, embedder=HashEmbedder(), reader=NoReader())
    bot.open()
    return bot


def upload_fn(demo):
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "upload")


def gradio_copy(name, data):
    root = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    folder = Path(tempfile.mkdtemp(dir=root.mkdir(parents=True, exist_ok=True) or root))
    (folder / name).write_bytes(data)
    return str(folder / name)


def test_the_temporary_copy_is_deleted_once_indexed_or_refused(tmp_path):
    from qa.app import build_app

    bot = hash_bot(tmp_path)
    good, bad = gradio_copy("notes.txt", b"The meeting moved to Friday."), gradio_copy("blob.txt", b"\x00\x01\x02" * 50)
    status, *_ = upload_fn(build_app(bot))([good, bad], progress=lambda *a, **k: None)
    assert "notes&#46;txt" in status and "binary" in status  # one indexed, one refused (escaped HTML)
    assert not Path(good).exists() and not Path(bad).exists()
    assert not Path(good).parent.exists()
    assert [d.source for d in bot.documents()] == ["notes.txt"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_file(port, path):
    body = b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="evil.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n'
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("uploads", [False, True])
def test_with_uploads_off_no_route_accepts_a_file(tmp_path, monkeypatch, uploads):
    from qa import app

    port = free_port()
    bot = hash_bot(tmp_path, port=port, uploads=uploads)
    monkeypatch.setattr(bot, "warm_up", lambda: None)
    demo = app.serve(bot, block=False)
    try:
        for path in ("/gradio_api/upload", "/gradio_api/upload/", "/upload"):
            status, body = post_file(port, path)
            if not uploads:
                assert status == 403 and b"switched off" in body, (path, status, body)
        if uploads:  # the same request is accepted when uploads are on: the check above can fail
            assert post_file(port, "/gradio_api/upload")[0] == 200
    finally:
        demo.close()
