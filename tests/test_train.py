"""Reader training on a tiny file with a tiny model: steps, safetensors checkpoints, resuming."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

import qa.train.loop as loop
from qa.read import Reader
from qa.train.loop import TrainConfig, train_reader

PARAGRAPHS = [
    ("Bridge", "The Larkspur Bridge over the Venn River was opened in 1931 by mayor Ada Quill. It is painted green.",
     [("Who opened the Larkspur Bridge?", "Ada Quill"), ("What colour is the bridge?", "green")]),
    ("Otters", "Sea otters hold hands while they sleep. They live in the North Pacific. Their fur is very dense.",
     [("Where do sea otters live?", "the North Pacific"), ("What do otters hold while they sleep?", "hands")]),
    ("Bread", "Sourdough bread rises because of wild yeast. The starter is fed with flour and water every day.",
     [("What makes sourdough rise?", "wild yeast"), ("What is the starter fed with?", "flour and water")]),
]


@pytest.fixture
def data_dir(tmp_path):
    data = [{"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": f"{title}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
        for i, (q, a) in enumerate(qas)]}]} for title, context, qas in PARAGRAPHS]
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tiny.json").write_text(json.dumps({"version": "1.1", "data": data}))
    return folder


def config(tmp_path, data_dir, tiny_bert, name, **kw):
    return TrainConfig(data_dir=data_dir, output_dir=tmp_path / f"{name}-out", work_dir=tmp_path / f"{name}-work",
                       base_model=str(tiny_bert), files={"tiny": None}, max_length=64, stride=16, max_question_tokens=16,
                       batch_size=2, epochs=1, precision="fp32", checkpoint_minutes=0, **kw)


def test_training_writes_a_reader_and_a_stopped_run_resumes_to_the_same_weights(tmp_path, data_dir, tiny_bert, monkeypatch):
    whole = train_reader(config(tmp_path, data_dir, tiny_bert, "whole"), log=lambda msg: None)
    info = json.loads((whole / "training.json").read_text())
    assert info["batches"] > 2 and info["precision"] == "fp32" and info["recipe"]["max_length"] == 64
    assert Reader(whole).read("Who opened the Larkspur Bridge?", [PARAGRAPHS[0][1]])
    work = tmp_path / "whole-work"
    folder = work / (work / "CHECKPOINT").read_text()
    assert sorted(p.name for p in folder.iterdir()) == ["model.safetensors", "optimizer.safetensors", "state.json"]
    assert not list(work.rglob("*.pt")) and len(list(work.glob("checkpoint-*"))) == 1
    assert json.loads((folder / "state.json").read_text())["batches"] == info["batches"]

    real_save = loop.save_checkpoint

    def save_then_stop(cfg, run, elapsed):
        real_save(cfg, run, elapsed)
        if run.batches == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", save_then_stop)
    cfg = config(tmp_path, data_dir, tiny_bert, "stopped")
    with pytest.raises(KeyboardInterrupt):
        train_reader(cfg, log=lambda msg: None)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    said = []
    resumed = train_reader(cfg, log=said.append)
    assert any("resuming" in line and "batch 2/" in line for line in said)
    a, b = load_file(str(whole / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    changed = config(tmp_path, data_dir, tiny_bert, "stopped", learning_rate=3e-4)
    with pytest.raises(RuntimeError, match="other settings"):
        train_reader(changed, log=lambda msg: None)


def test_an_old_pickle_checkpoint_is_refused_not_loaded(tmp_path, data_dir, tiny_bert):
    old = tmp_path / "old-work"
    old.mkdir()
    (old / "checkpoint.pt").write_bytes(b"not loaded")
    with pytest.raises(RuntimeError, match="older version"):
        train_reader(config(tmp_path, data_dir, tiny_bert, "old"), log=lambda msg: None)


def test_training_windows_follow_the_reader_rules(tmp_path, data_dir):
    with pytest.raises(ValueError, match="precision must be auto, bf16 or fp32"):
        TrainConfig(data_dir=data_dir, output_dir=tmp_path, precision="fp8")
    with pytest.raises(ValueError, match="stride"):
        TrainConfig(data_dir=data_dir, output_dir=tmp_path, max_length=64, stride=50, max_question_tokens=16)


def test_the_learning_rate_warms_up_then_decays_to_zero_at_a_total_that_may_be_cut():
    schedule = loop.LinearSchedule(warmup=4, total=20)
    assert [schedule(s) for s in (0, 2, 4)] == [0.0, 0.5, 1.0]
    assert schedule(12) == pytest.approx(0.5) and schedule(20) == 0.0 and schedule(25) == 0.0
    schedule.total = 12
    assert schedule(8) == pytest.approx(0.5) and schedule(12) == 0.0


def test_a_run_fitted_to_its_minutes_keeps_the_batches_the_measured_pace_allows(tmp_path, data_dir):
    cfg = TrainConfig(data_dir=data_dir, output_dir=tmp_path, grad_accum=2)
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    run = loop.Run(model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, loop.LinearSchedule(2, 50)))
    order = [[i] for i in range(100)]
    loop.fit_to_time(cfg, run, order, done=10, seconds_per_batch=0.5, seconds_left=20.0)
    assert len(order) == 50 and run.scheduler.lr_lambdas[0].total == 25  # 40 more batches, 2 per step
    loop.fit_to_time(cfg, run, order, done=10, seconds_per_batch=0.5, seconds_left=1000.0)
    assert len(order) == 50  # time to spare: nothing added, nothing cut


def test_a_run_with_little_time_trains_fewer_batches_and_windows_are_made_once(tmp_path, data_dir, tiny_bert, monkeypatch):
    monkeypatch.setattr(loop, "WARM_BATCHES", 0)
    monkeypatch.setattr(loop, "PACE_BATCHES", 1)
    said = []
    full = json.loads((train_reader(config(tmp_path, data_dir, tiny_bert, "full"), log=said.append) / "training.json").read_text())
    assert not any("read from" in line for line in said)
    work = tmp_path / "full-work"  # a new run in the same folder: its windows are kept, its checkpoint is not
    (work / "CHECKPOINT").unlink()
    for folder in work.glob("checkpoint-*"):
        shutil.rmtree(folder)
    short = train_reader(config(tmp_path, data_dir, tiny_bert, "full", minutes=1e-9), log=said.append)
    assert any("training windows read from" in line for line in said)  # same windows, same work folder
    assert json.loads((short / "training.json").read_text())["batches"] == 2 < full["batches"]
    with pytest.raises(ValueError, match="minutes must be greater than 0"):
        config(tmp_path, data_dir, tiny_bert, "none", minutes=0)


@pytest.mark.parametrize("types", [[0, 0, 1, 1], []])  # BERT's segment ids; MPNet has none
def test_kept_training_windows_read_back_exactly_and_are_no_pickle(tmp_path, data_dir, monkeypatch, types):
    from qa.train.data import Feature

    made = [Feature([101, 7, 8, 102], types, 2, 3), Feature([101, 9, 102, 5, 6], types + [1] if types else [], 0, 0)]
    monkeypatch.setattr(loop, "build_features", lambda cfg, tokenizer, log, sources=None: (made, {"windows": 2}))

    class Tokenizer:
        def get_vocab(self):
            return {"[CLS]": 101}

    cfg = TrainConfig(data_dir=data_dir, output_dir=tmp_path / "out", work_dir=tmp_path / "work")
    assert loop.cached_features(cfg, Tokenizer(), log=lambda msg: None) == (made, {"windows": 2})
    monkeypatch.setattr(loop, "build_features", lambda cfg, tokenizer, log, sources=None: pytest.fail("tokenised again"))
    said = []
    assert loop.cached_features(cfg, Tokenizer(), log=said.append) == (made, {"windows": 2})
    assert said and "read from" in said[0]
    asked = []  # where each window comes from is not kept: asked for, the windows are made again
    monkeypatch.setattr(loop, "build_features", lambda cfg, tokenizer, log, sources=None: (asked.append(sources), (made, {"windows": 2}))[1])
    sources: list = []
    assert loop.cached_features(cfg, Tokenizer(), log=said.append, sources=sources) == (made, {"windows": 2})
    assert asked == [sources]
    [kept] = (tmp_path / "work").glob("features-*.npz")
    import numpy as np

    np.load(kept, allow_pickle=False).close()  # plain arrays: loads with pickling refused
