"""A warm command line: `qa ask` and `qa chat` ask a running `qa serve` of the same index."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from qa.cli import cli
from qa.remote import SERVER_FILE, find_server
from tests.conftest import free_port

QUESTION = "What did Xi say?"


def _serve(make_bot):
    from qa.app import serve

    bot = make_bot(seeds=True, port=free_port())
    return bot, serve(bot, block=False)


def test_qa_ask_answers_through_a_running_page_with_its_answer(make_bot):
    bot, demo = _serve(make_bot)
    try:
        record_path = Path(bot.settings.index_dir) / SERVER_FILE
        assert stat.S_IMODE(record_path.stat().st_mode) == 0o600  # its token is the owner's only
        # No parts given: without the page, the command line would load the shipped models and
        # answer differently from the page's tiny test reader.
        result = CliRunner().invoke(cli, ["--index", bot.settings.index_dir, "ask", "--json", QUESTION])
        assert result.exit_code == 0, result.output
        assert "Loading the models" not in result.output
        served = json.loads(result.output[result.output.index("{"):])
        from dataclasses import asdict

        assert served == json.loads(json.dumps(asdict(bot.ask(QUESTION))))  # the same answer as the page gives
        other = CliRunner().invoke(cli, ["--index", bot.settings.index_dir, "ask", "--doc", "nope.txt", QUESTION])
        assert other.exit_code == 1 and "No document named nope.txt" in other.output
    finally:
        demo.close()


def test_the_page_is_not_asked_with_other_settings_or_a_wrong_token(make_bot):
    import urllib.request

    from qa.config import load_settings
    from qa.remote import ASK_PATH, ask_server

    bot, demo = _serve(make_bot)
    try:
        here = load_settings(index_dir=bot.settings.index_dir)
        record = find_server(here)
        assert record is not None
        assert find_server(load_settings(index_dir=bot.settings.index_dir, top_k=2)) is None  # other answers
        assert ask_server({**record, "token": "guess"}, QUESTION) is None
        request = urllib.request.Request(record["url"] + ASK_PATH, data=b'{"question": "x"}', method="POST")
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("the door opened without the token")
        except urllib.error.HTTPError as err:
            assert err.code == 403
        first = ask_server(record, QUESTION)
        follow = ask_server(record, "When?", history=[(QUESTION, first)])
        assert first is not None and follow is not None and follow.question != "When?"  # the history travelled
    finally:
        demo.close()


def test_a_dead_server_record_is_ignored(tmp_path):
    from qa.config import load_settings
    from qa.remote import answer_settings

    index = tmp_path / "index"
    index.mkdir()
    settings = load_settings(index_dir=str(index))
    record = {"url": "http://127.0.0.1:9", "pid": 2**22 + 12345, "token": "t", "settings": answer_settings(settings)}
    (index / SERVER_FILE).write_text(json.dumps(record))
    assert find_server(settings) is None
