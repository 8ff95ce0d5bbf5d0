"""Distillation: a teacher's answer distribution carried onto the student's windows, and training on it."""

import json

import numpy as np
import pytest
import torch

from qa.train.data import tokenize_examples
from qa.train.distill import carry_over, load_targets, save_targets, soft_loss, teacher_targets
from qa.train.loop import TrainConfig, build_features, train_reader
from tests.test_train import PARAGRAPHS, data_dir  # noqa: F401 - the fixture

QUIET = {"log": lambda *a, **k: None}


def test_the_teacher_chances_go_to_the_student_token_holding_the_same_characters():
    # Passage "... Ada Quill ..."; the student has [CLS] q [SEP] "ada" "quill" [SEP], the teacher
    # read the text from character 10 on and cut it as "ad" "a" "qu" "ill".
    student = [None, None, None, (10, 13), (14, 19), None]
    teacher = [None, None, (0, 2), (2, 3), (4, 6), (6, 9), None]
    start = np.array([0.1, 0, 0.6, 0.05, 0.2, 0.05, 0])
    end = np.array([0.1, 0, 0.05, 0.25, 0.1, 0.5, 0])
    out = carry_over(student, 10, teacher, start, end)
    assert out.shape == (2, 6)
    assert out[0].tolist() == pytest.approx([0.1, 0, 0, 0.65, 0.25, 0])  # "ad", "a" start in "ada"
    assert out[1].tolist() == pytest.approx([0.1, 0, 0, 0.3, 0.6, 0])  # "ill" ends where "quill" ends
    assert out.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_a_teacher_token_between_student_tokens_goes_to_the_nearest_one_and_no_passage_keeps_only_no_answer():
    student = [None, (0, 3), (4, 9)]
    out = carry_over(student, 0, [None, (3, 4), (9, 12)], np.array([0.5, 0.3, 0.2]), np.array([0.5, 0.3, 0.2]))
    assert out[0].tolist() == pytest.approx([0.5, 0.3, 0.2])  # start at 3 lies after "ada" began
    assert out[1].tolist() == pytest.approx([0.5, 0.0, 0.5])  # ends at 4 and 12: "quill", the last token
    empty = carry_over([None, None], 0, [None, (0, 2)], np.array([0.7, 0.3]), np.array([0.6, 0.4]))
    assert empty.tolist() == [[1.0, 0.0], [1.0, 0.0]]


def test_soft_targets_of_one_hot_answers_at_t1_are_the_usual_span_loss():
    logits = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    ends = torch.randn(3, 8, generator=torch.Generator().manual_seed(1))
    gold_start, gold_end = torch.tensor([0, 2, 5]), torch.tensor([0, 3, 7])
    soft = torch.zeros(3, 2, 8)
    soft[torch.arange(3), 0, gold_start] = 1
    soft[torch.arange(3), 1, gold_end] = 1
    usual = (torch.nn.functional.cross_entropy(logits, gold_start) + torch.nn.functional.cross_entropy(ends, gold_end)) / 2
    assert soft_loss(logits, ends, soft, 1.0).item() == pytest.approx(usual.item(), rel=1e-5)
    hot = soft_loss(logits, ends, soft, 2.0).item()
    assert hot != pytest.approx(usual.item()) and hot > 0


def config(tmp_path, data_dir, tiny_bert, **kw):  # noqa: F811
    return TrainConfig(data_dir=data_dir, output_dir=tmp_path / "out", work_dir=tmp_path / "work",
                       base_model=str(tiny_bert), files={"tiny": None}, max_length=48, stride=16, max_question_tokens=16,
                       batch_size=2, epochs=1, precision="fp32", checkpoint_minutes=1e9, unanswerable_ratio=0.5, **kw)


def test_windows_with_their_sources_are_the_same_windows_and_point_at_their_passage_text(tmp_path, data_dir, tiny_bert):  # noqa: F811
    from transformers import AutoTokenizer

    cfg = config(tmp_path, data_dir, tiny_bert)
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    plain, _ = build_features(cfg, tokenizer, **QUIET)
    sources: list = []
    kept, _ = build_features(cfg, tokenizer, sources=sources, **QUIET)
    assert [f.input_ids for f in kept] == [f.input_ids for f in plain] and len(sources) == len(kept)
    answered = 0
    for feature, (example, offsets) in zip(kept, sources):
        assert len(offsets) == len(feature.input_ids) and offsets[0] is None
        for token, span in zip(feature.input_ids, offsets):
            if span is not None and span[1] > span[0]:  # the token is the passage's text there
                assert tokenizer.decode([token]).replace("##", "") == example.context[span[0]:span[1]].lower()
        if feature.start:
            answered += 1
            text = example.context[offsets[feature.start][0]:offsets[feature.end][1]]
            assert text == example.answers[0][0]
    assert answered >= 6  # every question of the tiny file, in its window
    assert tokenize_examples([], tokenizer, 48, 16, 16, 0, sources=sources) == [] and len(sources) == len(kept)


def test_a_student_distils_from_a_teacher_and_targets_of_other_windows_are_refused(tmp_path, data_dir, tiny_bert):  # noqa: F811
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    cfg = config(tmp_path, data_dir, tiny_bert)
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    sources: list = []
    features, _ = build_features(cfg, tokenizer, sources=sources, **QUIET)
    teacher = AutoModelForQuestionAnswering.from_pretrained(tiny_bert)
    targets = teacher_targets(sources, teacher, tokenizer, "cpu", temperature=2.0, batch_size=3, **QUIET)
    for feature, target in zip(features, targets):
        assert target.shape == (2, len(feature.input_ids)) and target.dtype == np.float16
        assert target.astype(float).sum(axis=1) == pytest.approx([1.0, 1.0], abs=2e-3)
        question = [i for i, t in enumerate(feature.token_type_ids) if t == 0][1:]  # after [CLS]
        assert not target[:, question].any()
    path = tmp_path / "teacher.npz"
    save_targets(path, targets, 2.0, {"teacher": "tiny"})
    back, meta = load_targets(path, [len(f.input_ids) for f in features])
    assert meta == {"temperature": 2.0, "teacher": "tiny"} and all(np.array_equal(a, b) for a, b in zip(back, targets))
    with pytest.raises(ValueError, match="other training windows"):
        load_targets(path, [len(f.input_ids) for f in features][:-1])

    for weight in (-0.1, 1.5):
        with pytest.raises(ValueError, match="distill_weight must be between 0 and 1"):
            config(tmp_path, data_dir, tiny_bert, teacher_file=str(path), distill_weight=weight)
    said: list = []
    out = train_reader(config(tmp_path, data_dir, tiny_bert, teacher_file=str(path), distill_weight=0.7), log=said.append)
    assert any("distilling: 70% of the loss from tiny at T=2.0" in line for line in said)
    card = json.loads((out / "training.json").read_text())
    assert card["recipe"]["teacher_file"] == str(path) and card["batches"] == -(-len(features) // 2)
    plain = train_reader(config(tmp_path / "plain", data_dir, tiny_bert), **QUIET)
    from safetensors.torch import load_file

    a, b = load_file(str(out / "model.safetensors")), load_file(str(plain / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)  # the teacher changed what was learnt
