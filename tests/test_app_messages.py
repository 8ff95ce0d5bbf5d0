"""The page's start-up speaks qa's language: its own URL line, no Gradio share hint, and a busy
port named with qa's --port / QA_PORT."""

import socket

import pytest

from qa.chatbot import Chatbot
from qa.config import Settings
from qa.read import Reader, ReaderSettings
from tests.conftest import ROOT, HashEmbedder


def _bot(tmp_path, tiny_bert, port):
    settings = Settings(index_dir=str(tmp_path / "index"), seed_dir=str(ROOT / "seeds"), port=port)
    bot = Chatbot(settings, embedder=HashEmbedder(), reader=Reader(tiny_bert, ReaderSettings(max_length=128, stride=32)))
    bot.open()
    return bot


def test_start_prints_qa_url_and_no_gradio_share_hint(tmp_path, tiny_bert, capfd):
    from qa.app import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = serve(_bot(tmp_path, tiny_bert, port), block=False)
    try:
        out, err = capfd.readouterr()
        assert f"http://127.0.0.1:{port}" in out
        assert "share=True" not in out + err and "launch()" not in out + err
    finally:
        demo.close()


def test_busy_port_names_qa_options(tmp_path, tiny_bert):
    from qa.app import serve

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError) as caught:
            serve(_bot(tmp_path, tiny_bert, port), block=False)
    message = str(caught.value)
    assert f"port {port}" in message and "--port" in message and "QA_PORT" in message
    assert "GRADIO_SERVER_PORT" not in message
