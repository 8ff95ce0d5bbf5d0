"""How a reader loads (`qa.read.Reader.warm_up`): the refusals a user sees, the number format and
its score shift, the threads, and a model loaded once. Written from the whole-module mutation run
of qa/read.py; a tiny random model stands in for the shipped one."""

import json
import shutil

import pytest
import torch

from qa.errors import ReaderLoadError
from qa.read import Reader, ReaderSettings


@pytest.fixture
def folder(tmp_path, tiny_bert):
    """A copy of the tiny model that a test may give its own runtimes.json."""
    return shutil.copytree(tiny_bert, tmp_path / "reader")


def test_a_folder_without_a_model_is_refused_with_what_a_reader_folder_holds(tmp_path):
    with pytest.raises(ReaderLoadError) as err:
        Reader(tmp_path).warm_up()
    assert str(err.value) == (f"no reader model in {tmp_path}: expected a Hugging Face question-answering "
                              "checkpoint folder (config.json, weights, tokenizer files)")


def test_a_model_that_cannot_be_read_is_refused_with_the_cause(folder):
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ReaderLoadError) as err:
        Reader(folder).warm_up()
    assert str(err.value).startswith(f"cannot load the reader from {folder}: ")


def test_a_tokenizer_that_is_not_a_fast_one_is_refused(tiny_bert):
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(tiny_bert, local_files_only=True)
    for tokenizer in (object(), type("Slow", (), {"is_fast": False})()):
        with pytest.raises(ReaderLoadError) as err:
            Reader(tiny_bert, loader=lambda dtype, t=tokenizer: (model, t)).warm_up()
        assert str(err.value) == f"the reader in {tiny_bert} needs a fast tokenizer (tokenizer.json)"


def test_the_loader_gets_the_dtype_asked_for_and_runs_once(tiny_bert):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    asked = []

    def loader(dtype):
        asked.append(dtype)
        model = AutoModelForQuestionAnswering.from_pretrained(tiny_bert, local_files_only=True, dtype=dtype)
        return model, AutoTokenizer.from_pretrained(tiny_bert, local_files_only=True)

    for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        reader = Reader(tiny_bert, ReaderSettings(precision=precision), loader=loader)
        reader.warm_up()
        reader.read("Who?", ["Ada Quill opened the bridge."])
        assert asked[-1] == dtype and reader.loaded
    assert len(asked) == 2  # once per reader, not again for reading


def test_bf16_loads_the_model_in_bf16_and_takes_the_folders_shift_for_it(folder):
    (folder / "runtimes.json").write_text(json.dumps({"allowed": ["fp32", "bf16"], "score_offset": {"bf16": -0.25}}))
    reader = Reader(folder, ReaderSettings(precision="bf16"))
    reader.warm_up()
    assert reader.dtype == "bf16" and next(reader.model.parameters()).dtype == torch.bfloat16
    assert reader.score_offset == -0.25
    fp32 = Reader(folder, ReaderSettings(precision="fp32"))
    fp32.warm_up()
    assert next(fp32.model.parameters()).dtype == torch.float32 and fp32.score_offset == 0.0


def test_auto_precision_times_the_allowed_formats_here_and_keeps_the_choice(folder):
    from qa.runtime import cache_key, read_cache

    (folder / "runtimes.json").write_text(json.dumps({"allowed": ["fp32", "bf16"]}))
    reader = Reader(folder, ReaderSettings(precision="auto"))
    reader.warm_up()
    entry = read_cache()[cache_key(folder, "cpu", torch.get_num_threads())]
    assert reader.dtype == entry["chosen"] and reader.dtype in ("fp32", "bf16")


def test_the_threads_setting_reaches_torch(tiny_bert):
    before = torch.get_num_threads()
    try:
        Reader(tiny_bert, threads=1).warm_up()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_reader_settings_take_the_smallest_and_largest_values_they_allow():
    from qa.errors import SettingsError

    assert ReaderSettings(n_best=1, batch_size=1, max_answer_tokens=1).n_best == 1
    assert ReaderSettings(max_length=128, max_question_tokens=32, stride=0).stride == 0  # no overlap
    assert ReaderSettings(max_length=128, max_question_tokens=32, stride=92).stride == 92  # the largest: 128 - 32 - 3 - 1
    with pytest.raises(SettingsError, match="stride"):
        ReaderSettings(max_length=128, max_question_tokens=32, stride=93)


def test_a_reader_not_loaded_yet_has_no_format_and_keeps_its_threads(tiny_bert):
    reader = Reader(tiny_bert, threads=3)
    assert reader.dtype == "" and reader.threads == 3 and not reader.loaded


def test_bf16_is_used_when_asked_for_or_where_it_is_measured_fast_on_the_cpu(monkeypatch):
    import qa.read

    from qa.read import use_bf16

    monkeypatch.setattr(qa.read, "bf16_is_fast", lambda device: device == "cpu")
    assert use_bf16("auto") is True and use_bf16("auto", "cuda") is False
    assert use_bf16("fp32") is False and use_bf16("bf16", "cuda") is True
    monkeypatch.setattr(qa.read, "bf16_is_fast", lambda device: False)
    assert use_bf16("auto") is False
