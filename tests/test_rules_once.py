"""Rules that live in one place: reader windows and precision (reading, training, Settings),
and reading files (the CLI and the page's uploads both go through Chatbot.add_paths)."""

import pytest

import qa.ingest
from qa.config import Settings, SettingsError
from qa.read import ReaderSettings, bf16_is_fast, use_bf16


def test_reader_windows_reach_the_reader_from_settings(tmp_path, hash_embedder):
    from qa.chatbot import Chatbot

    bot = Chatbot(Settings(index_dir=str(tmp_path), reader_max_length=128, reader_stride=32, reader_precision="fp32"),
                  embedder=hash_embedder)
    stages = [bot.reader.first.reader, bot.reader.second.reader]  # the default reader: the cascade of two
    for reader in stages:
        assert (reader.settings.max_length, reader.settings.stride, reader.settings.precision) == (128, 32, "fp32")
    fast = Chatbot(Settings(index_dir=str(tmp_path), reader="fast", reader_max_length=128, reader_stride=32), embedder=hash_embedder)
    assert (fast.reader.settings.max_length, fast.reader.settings.stride) == (128, 32)
    with pytest.raises(SettingsError, match="reader_stride must be at least 0"):
        Settings(reader_max_length=128, reader_stride=100)
    with pytest.raises(SettingsError, match="reader_precision must be auto, bf16, fp32, int8, onnx or onnx-int8, not 'fp8'"):
        Settings(reader_precision="fp8")


def test_one_bf16_decision():
    assert use_bf16("bf16") is True and use_bf16("fp32") is False
    assert use_bf16("auto") is bf16_is_fast("cpu")
    with pytest.raises(ValueError, match="precision must be"):
        use_bf16("half")
    with pytest.raises(ValueError, match="precision must be"):
        ReaderSettings(precision="half")


def test_training_windows_are_the_readers(tiny_bert):
    from transformers import AutoTokenizer

    from qa.eval.squad import SquadExample
    from qa.read import encode_windows
    from qa.train.data import tokenize_examples

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    context = " ".join(f"Sentence {i} says the river is wide." for i in range(40)) + " The bridge opened in 1931."
    ex = SquadExample(qid="1", title="t", paragraph=0, context=context, question="When did the bridge open?",
                      answers=[("1931", context.index("1931"))])
    features = tokenize_examples([ex], tok, 64, 16, 16, seed=0, miss_keep=1.0)
    reading = encode_windows(tok, [ex.question], [context], ReaderSettings(max_length=64, stride=16, max_question_tokens=16))
    windows = [list(ids) for ids in reading["input_ids"]]
    assert features and all(f.input_ids in windows for f in features)
    hit = next(f for f in features if f.start)
    assert tok.decode(hit.input_ids[hit.start : hit.end + 1]) == "1931"


def test_a_file_that_breaks_its_reader_is_refused_and_the_rest_indexed(tmp_path, monkeypatch):
    real = qa.ingest.load_file

    def fragile(path, max_bytes=0, name=None, progress=None):
        if path.name == "broken.txt":
            raise RecursionError("parser blew up")
        return real(path, max_bytes, name, progress)

    monkeypatch.setattr(qa.ingest, "load_file", fragile)
    (tmp_path / "good.txt").write_text("The bridge opened in 1931.")
    (tmp_path / "broken.txt").write_text("Anything.")
    seen = []
    docs, problems = qa.ingest.load_paths([tmp_path], progress=lambda stage, frac: seen.append((stage, frac)))
    assert [d.source for d in docs] == ["good.txt"] and problems == ["broken.txt: could not be read"]
    assert seen == [("reading broken.txt", 0.0), ("reading good.txt", 0.5)]
