"""The embedder's number format: chosen among those its accuracy check allows, ONNX Runtime
giving the vectors sentence-transformers gives, and a model the ONNX path cannot reproduce kept
in torch."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from qa import runtime
from qa.embed import Embedder
from qa.errors import SettingsError

TEXTS = ["Lee met Xi in Beijing on Monday.", "  What did Xi say about patience?  ", "short", "word " * 400]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@functools.lru_cache(maxsize=None)
def _tiny_sentence_model(pooling: str) -> Path:
    """A 2-layer random BERT with the packaged tokenizer as a sentence-transformers folder (pooling,
    then unit length), built once per process."""
    import atexit
    import shutil
    import tempfile

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from qa.train.loop import packaged_encoder_path

    out = Path(tempfile.mkdtemp(prefix=f"qa-tiny-st-{pooling}-"))
    atexit.register(shutil.rmtree, out, True)
    tokenizer = AutoTokenizer.from_pretrained(packaged_encoder_path())
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    (out / "bert").mkdir()
    BertModel(config).save_pretrained(out / "bert")
    tokenizer.save_pretrained(out / "bert")
    first = Transformer(str(out / "bert"), max_seq_length=128)
    model = SentenceTransformer(modules=[first, Pooling(32, pooling), Normalize()], device="cpu")
    model.save(str(out / "st"))
    return out / "st"


def _allow(folder: Path, formats: list[str]) -> None:
    (folder / runtime.RUNTIMES_FILE).write_text(json.dumps({"allowed": formats}))


def test_the_embedder_in_onnx_runtime_gives_the_vectors_of_sentence_transformers():
    folder = _tiny_sentence_model("mean")
    torch_vectors = Embedder(folder, precision="fp32").embed(TEXTS)
    onnx = Embedder(folder, precision="onnx")
    onnx_vectors = onnx.embed(TEXTS)
    assert onnx.dtype == "onnx" and type(onnx._onnx).__name__ == "OnnxEncoder"
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 32)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-4  # same tokens, same mean over real tokens, unit length
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # in the given order, whatever order they were read in (by length)
    assert np.abs(onnx.embed(TEXTS[::-1]) - onnx_vectors[::-1]).max() < 1e-5


def test_onnx_int8_vectors_stay_close_to_fp32():
    folder = _tiny_sentence_model("mean")
    fp32 = Embedder(folder, precision="fp32").embed(TEXTS)
    int8 = Embedder(folder, precision="onnx-int8")
    vectors = int8.embed(TEXTS)
    assert int8.dtype == "onnx-int8"
    assert float((vectors * fp32).sum(axis=1).min()) > 0.9


def test_auto_chooses_the_fastest_allowed_format_and_keeps_the_choice(monkeypatch):
    folder = _tiny_sentence_model("mean")
    _allow(folder, ["fp32", "onnx"])
    timed: list[str] = []

    def timer(model, vocab):
        kind = "onnx" if type(model).__name__ == "OnnxEncoder" else "fp32"
        timed.append(kind)
        return {"onnx": 0.1, "fp32": 0.5}[kind]

    monkeypatch.setattr(runtime, "time_forward", timer)
    first = Embedder(folder)
    first.embed(TEXTS[:1])
    assert first.dtype == "onnx" and sorted(timed) == ["fp32", "onnx"]
    second = Embedder(folder)
    second.embed(TEXTS[:1])
    assert second.dtype == "onnx" and len(timed) == 2  # read from the cache, not timed again
    assert any(v.get("chosen") == "onnx" for v in runtime.read_cache().values())


def test_auto_uses_only_what_the_accuracy_check_allows(monkeypatch):
    folder = _tiny_sentence_model("mean")
    _allow(folder, ["fp32"])
    monkeypatch.setattr(runtime, "time_forward", lambda model, vocab: 0.5)
    e = Embedder(folder)
    e.embed(TEXTS[:1])
    assert e.dtype == "fp32" and e._onnx is None


def test_a_model_pooled_otherwise_than_by_the_mean_stays_in_torch(monkeypatch):
    folder = _tiny_sentence_model("cls")
    _allow(folder, ["fp32", "onnx", "onnx-int8"])
    timed: list[str] = []
    monkeypatch.setattr(runtime, "time_forward", lambda model, vocab: timed.append(type(model).__name__) or 0.5)
    e = Embedder(folder)
    e.embed(TEXTS[:1])
    assert e.dtype == "fp32" and timed == ["BertModel"]  # the ONNX formats were not even candidates
    with pytest.raises(SettingsError, match="pools other than by the mean"):
        Embedder(folder, precision="onnx").embed(TEXTS[:1])


def test_the_packaged_embedder_has_an_accuracy_record_naming_known_formats():
    from qa.embed import PACKAGED_RUNTIMES

    allowed = runtime.allowed_formats(PACKAGED_RUNTIMES)
    assert "fp32" in allowed and set(allowed) <= set(runtime.FORMATS)
    assert json.loads((PACKAGED_RUNTIMES / runtime.RUNTIMES_FILE).read_text())["allowed"]  # written, not the fallback


@pytest.mark.parametrize("bad", ["int8", "int4", "fp16", ""])
def test_an_unknown_embedder_precision_is_refused_with_the_choices(bad):
    with pytest.raises(SettingsError, match="auto, fp32, bf16, onnx or onnx-int8"):
        Embedder(precision=bad)
    from qa.config import Settings

    with pytest.raises(SettingsError, match="embedder_precision must be"):
        Settings(embedder_precision=bad)
