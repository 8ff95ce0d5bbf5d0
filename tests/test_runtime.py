"""The reader's number format, chosen by measurement: fallbacks, the cache's keys, the accuracy gate."""

from __future__ import annotations

import json

import pytest

from qa import runtime
from qa.read import Reader, ReaderSettings


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _fp32_model(tiny_bert):
    import torch
    from transformers import AutoModelForQuestionAnswering

    return AutoModelForQuestionAnswering.from_pretrained(tiny_bert, dtype=torch.float32).eval()


def _format_of(model) -> str:
    if "DynamicQuantizedLinear" in repr(model):
        return "int8"
    return "bf16" if str(next(model.parameters()).dtype) == "torch.bfloat16" else "fp32"


def test_the_fastest_allowed_format_is_chosen_and_kept(tiny_bert):
    times = {"fp32": 0.3, "bf16": 0.5, "int8": 0.1}
    timed = []

    def timer(model, vocab):
        timed.append(_format_of(model))
        return times[timed[-1]]

    fmt, model = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32", "bf16", "int8"), timer)
    assert fmt == "int8" and sorted(timed) == ["bf16", "fp32", "int8"]
    entry = next(iter(runtime.read_cache().values()))
    assert entry["chosen"] == "int8" and entry["seconds"] == times
    timed.clear()
    again, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32", "bf16", "int8"), timer)
    assert again == "int8" and timed == []  # the cached choice, no new timing


def test_a_format_that_fails_is_skipped(tiny_bert):
    def timer(model, vocab):
        if _format_of(model) == "bf16":
            raise RuntimeError("no bf16 kernel in this build")
        return 0.2

    fmt, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("bf16", "fp32"), timer)
    assert fmt == "fp32"
    entry = next(iter(runtime.read_cache().values()))
    assert "bf16" in entry["failed"] and "no bf16 kernel" in entry["failed"]["bf16"]


def test_every_format_failing_falls_back_to_fp32(tiny_bert):
    def timer(model, vocab):
        raise RuntimeError("broken")

    fmt, model = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32", "int8"), timer)
    assert fmt == "fp32" and _format_of(model) == "fp32"


@pytest.mark.parametrize("change", ["processor", "library"])
def test_a_choice_measured_on_another_processor_or_library_version_is_not_reused(tiny_bert, monkeypatch, change):
    calls = []

    def timer(model, vocab):
        calls.append(1)
        return 0.1

    runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32",), timer)
    assert len(calls) == 1
    if change == "processor":
        monkeypatch.setattr(runtime, "processor_name", lambda: "Another CPU @ 1.0GHz")
    else:
        monkeypatch.setattr(runtime, "library_versions", lambda: {"torch": "9.9", "transformers": "9.9"})
    runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32",), timer)
    assert len(calls) == 2 and len(runtime.read_cache()) == 2


def test_a_cached_choice_the_model_no_longer_allows_is_measured_again(tiny_bert):
    calls = []

    def timer(model, vocab):
        calls.append(1)
        return 0.1

    runtime.write_cache(runtime.cache_key(tiny_bert, "cpu", 1), {"chosen": "int8"})
    fmt, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32",), timer)
    assert fmt == "fp32" and calls


def test_a_format_allowed_since_the_choice_was_cached_is_timed_too(tiny_bert):
    timed = []

    def timer(model, vocab):
        timed.append(_format_of(model))
        return {"fp32": 0.5, "int8": 0.1}.get(_format_of(model), 1.0)

    first, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32",), timer)
    assert first == "fp32" and timed == ["fp32"]
    again, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32",), timer)
    assert again == "fp32" and timed == ["fp32"]  # same candidates: the cached choice
    widened, _ = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32", "int8"), timer)
    assert widened == "int8" and sorted(timed[1:]) == ["fp32", "int8"]


def test_allowed_formats_come_from_the_models_accuracy_check(tmp_path):
    assert runtime.allowed_formats(tmp_path) == ("fp32", "bf16")  # not checked: int8 is not used
    (tmp_path / "runtimes.json").write_text(json.dumps({"allowed": ["int8", "fp32"]}))
    assert runtime.allowed_formats(tmp_path) == ("fp32", "int8")
    (tmp_path / "runtimes.json").write_text("{broken")
    assert runtime.allowed_formats(tmp_path) == ("fp32", "bf16")


def test_a_formats_score_shift_is_read_from_its_accuracy_check(tmp_path):
    (tmp_path / "runtimes.json").write_text(json.dumps({"allowed": ["fp32", "onnx-int8"], "score_offset": {"onnx-int8": 1.25}}))
    assert runtime.score_offset(tmp_path, "onnx-int8") == 1.25
    assert runtime.score_offset(tmp_path, "fp32") == 0.0  # none fitted for it
    for broken in ('{"score_offset": {"onnx-int8": "high"}}', '{"score_offset": [1]}', '{"score_offset": {"onnx-int8": NaN}}', "{broken"):
        (tmp_path / "runtimes.json").write_text(broken)
        assert runtime.score_offset(tmp_path, "onnx-int8") == 0.0
    assert runtime.score_offset(tmp_path / "nowhere", "int8") == 0.0


def test_the_reader_takes_its_formats_shift_off_every_score(tiny_bert, tmp_path):
    import shutil

    folder = tmp_path / "reader"
    shutil.copytree(tiny_bert, folder)
    (folder / "runtimes.json").write_text(json.dumps({"allowed": ["fp32", "int8"], "score_offset": {"int8": 2.5}}))
    passage = ["The tower stands in Paris near the river, and it was finished in 1889."]
    settings = ReaderSettings(max_length=128, stride=32, precision="int8")
    shifted = Reader(folder, settings)
    plain = Reader(folder, settings)
    plain.score_offset = 0.0  # set before loading: kept, as the accuracy check reads
    a, b = shifted.read("When was the tower finished?", passage), plain.read("When was the tower finished?", passage)
    assert shifted.score_offset == 2.5 and plain.score_offset == 0.0
    assert [(s.start, s.end) for s in a] == [(s.start, s.end) for s in b] and a
    assert all(abs((y.score - x.score) - 2.5) < 1e-4 for x, y in zip(a, b))
    fp32 = Reader(folder, ReaderSettings(max_length=128, stride=32, precision="fp32"))
    fp32.read("When?", passage)
    assert fp32.score_offset == 0.0  # the shift belongs to the int8 format only


def test_the_reader_runs_in_int8_and_answers_with_spans_of_the_passage(tiny_bert):
    reader = Reader(tiny_bert, ReaderSettings(max_length=128, stride=32, precision="int8"))
    spans = reader.read("Where is the tower?", ["The tower stands in Paris near the river."])
    assert reader.dtype == "int8" and _format_of(reader.model) == "int8"
    assert all("The tower stands in Paris near the river."[s.start : s.end] == s.text for s in spans)


def test_qa_info_names_the_processor_and_the_choice(tmp_path):
    from click.testing import CliRunner

    from qa.cli import cli

    runtime.write_cache(f"{runtime.here_key()}cpu|threads=2|x", {"chosen": "int8", "seconds": {"fp32": 0.2, "int8": 0.1}, "model": "m"})
    runtime.write_cache(f"{runtime.processor_name()}|torch=0.1|cpu|threads=2|x", {"chosen": "bf16", "seconds": {"bf16": 0.1}, "model": "m"})
    out = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "info"]).output
    assert runtime.processor_name() in out and "chose int8 (int8 100 ms, fp32 200 ms)" in out
    assert "chose bf16" not in out  # measured with other library versions: not used, not shown


def test_cutting_documents_into_passages_does_not_load_the_embedder(real_embedder):
    from qa.chunk import wordpiece_counter
    from qa.embed import Embedder

    texts = ["The Plimsoll lighthouse on Garrow Point was painted green in 1932.", "Ça va? 2019's test\u2014dash \f x", ""]
    fresh = Embedder()
    offsets = fresh.token_offsets(texts)
    assert not fresh.loaded  # the tokenizer alone
    assert offsets == wordpiece_counter(real_embedder.tokenizer)(texts)  # the same word pieces as the model's own


def test_qa_info_names_both_readers_of_the_cascade(tmp_path):
    from click.testing import CliRunner

    from qa.cli import cli

    out = CliRunner().invoke(cli, ["--index", str(tmp_path / "i"), "--reader", "cascade", "info"]).output
    assert "reader: cascade: fast, then accurate when the fast reader's confidence is under" in out
    assert "reader: fast (" in out and "reader: accurate (" in out


# --- ONNX Runtime formats ---------------------------------------------------

PASSAGE = "The Plimsoll lighthouse on Garrow Point was painted green in 1932 by the harbour board."


def _spans(reader):
    return [(s.start, s.end, s.text, s.score) for s in reader.read("When was the lighthouse painted green?", [PASSAGE])]


def test_the_reader_in_onnx_runtime_gives_the_spans_and_scores_of_torch_fp32(tiny_bert):
    settings = dict(max_length=128, stride=32)
    torch_spans = _spans(Reader(tiny_bert, ReaderSettings(**settings, precision="fp32")))
    reader = Reader(tiny_bert, ReaderSettings(**settings, precision="onnx"))
    onnx_spans = _spans(reader)
    assert reader.dtype == "onnx" and type(reader.model).__name__ == "OnnxSpanModel"
    assert [s[:3] for s in onnx_spans] == [s[:3] for s in torch_spans] and torch_spans
    assert max(abs(a[3] - b[3]) for a, b in zip(onnx_spans, torch_spans)) < 1e-3
    assert (runtime.onnx_dir(tiny_bert) / "onnx.onnx").exists()  # kept for next time


def test_the_reader_in_onnx_int8_answers_with_spans_of_the_passage(tiny_bert):
    reader = Reader(tiny_bert, ReaderSettings(max_length=128, stride=32, precision="onnx-int8"))
    spans = _spans(reader)
    assert reader.dtype == "onnx-int8" and spans
    assert all(PASSAGE[start:end] == text for start, end, text, _ in spans)


def test_a_damaged_onnx_file_is_built_again(tiny_bert, caplog):
    settings = ReaderSettings(max_length=128, stride=32, precision="onnx")
    expected = _spans(Reader(tiny_bert, settings))
    kept = runtime.onnx_dir(tiny_bert) / "onnx.onnx"
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as by a full disk
    assert _spans(Reader(tiny_bert, settings)) == expected
    assert "building it again" in caplog.text and kept.stat().st_size > 1000


def test_onnx_formats_without_onnx_runtime_are_skipped_not_fatal(tiny_bert, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ModuleNotFoundError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    fmt, model = runtime.choose_format(_fp32_model(tiny_bert), tiny_bert, "cpu", 1, ("fp32", "onnx", "onnx-int8"),
                                       lambda m, vocab: 0.2)
    assert fmt == "fp32" and _format_of(model) == "fp32"
    entry = next(iter(runtime.read_cache().values()))
    assert set(entry["failed"]) == {"onnx", "onnx-int8"} and "onnxruntime" in entry["failed"]["onnx"]
    assert not (runtime.onnx_dir(tiny_bert)).exists()  # nothing exported for nothing


def test_the_onnx_runtime_version_is_part_of_the_cached_choice():
    assert "onnxruntime" in runtime.library_versions()


def test_the_test_run_keeps_its_timings_out_of_the_users_cache(monkeypatch):
    # conftest points the cache at the checkout: a format timed while tests load the machine
    # would otherwise be the one the user's own `qa` runs with until the libraries change.
    from tests.conftest import ROOT

    monkeypatch.undo()  # this file's own fixture's cache folder
    assert runtime.cache_file().is_relative_to(ROOT / ".cache")
