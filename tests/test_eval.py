"""`qa eval` in both modes on both SQuAD versions, with the default reader (slow)."""

import json

import pytest
from click.testing import CliRunner

from qa.calibration import Calibration
from qa.cli import cli

pytestmark = pytest.mark.slow

PARAS = [
    ("Larkspur Bridge", "The Larkspur Bridge over the Venn River was opened in 1931 by mayor Ada Quill. It is painted green."),
    ("Otters", "Sea otters hold hands while they sleep so that they do not drift apart. They live in the North Pacific."),
    ("Bread", "Sourdough bread rises because of wild yeast and lactic acid bacteria in the starter."),
]


def squad_file(tmp_path, version):
    data = []
    for p, (title, context) in enumerate(PARAS):
        qas = []
        answers = {"Larkspur Bridge": [("Who opened the Larkspur Bridge?", "Ada Quill")],
                   "Otters": [("Why do sea otters hold hands?", "so that they do not drift apart")],
                   "Bread": [("What makes sourdough bread rise?", "wild yeast and lactic acid bacteria")]}[title]
        for i, (q, a) in enumerate(answers):
            qas.append({"id": f"{p}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}], "is_impossible": False})
        if version == "v2.0":
            qas.append({"id": f"{p}-x", "question": "What is the melting point of tungsten?", "answers": [], "is_impossible": True})
        data.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    path = tmp_path / f"tiny-{version}.json"
    path.write_text(json.dumps({"version": version, "data": data}))
    return path


@pytest.mark.parametrize("version", ["v1.1", "v2.0"])
@pytest.mark.parametrize("mode", ["reader", "e2e"])
def test_eval_modes_and_versions(tmp_path, version, mode):
    path = squad_file(tmp_path, version)
    preds, report, na = tmp_path / "preds.json", tmp_path / "report", tmp_path / "na.json"
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "unused"), "eval", str(path), "--mode", mode,
                                      "--predictions", str(preds), "--report", str(report), "--json",
                                      "--na-probs", str(na)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{"):])
    predictions = json.loads(preds.read_text())
    n = 3 if version == "v1.1" else 6
    assert len(predictions) == n and all(isinstance(v, str) for v in predictions.values())
    assert metrics["total"] == n and metrics["HasAns_total"] == 3
    assert metrics["HasAns_f1"] >= 60
    # The official na_prob file: every question id, a probability of no answer each.
    na_probs = json.loads(na.read_text())
    assert set(na_probs) == set(predictions) and all(0.0 <= v <= 1.0 for v in na_probs.values())
    assert 0.0 <= metrics["auroc"] <= 1.0 and 0.0 <= metrics["ece"] <= 1.0
    if version == "v2.0":
        assert metrics["NoAns_total"] == 3
        assert all(predictions[f"{p}-x"] == "" for p in range(3)) == (metrics["NoAns_exact"] == 100.0)
    if mode == "e2e":
        assert metrics["retrieval_recall"] == 100.0
    for name in ("metrics.json", "reliability.png", "threshold.png"):
        assert (report / name).stat().st_size > 1000
    saved = json.loads((report / "metrics.json").read_text())
    # Without --threshold, the threshold used and reported is the one shipped with the default reader (the cascade).
    from qa.cascade import CASCADE_READER

    shipped = Calibration.load(CASCADE_READER / "calibration.json").threshold
    assert metrics["threshold"] == shipped and saved["shipped_threshold"] == shipped


def test_calibrate_writes_a_fitted_threshold(tmp_path):
    path = squad_file(tmp_path, "v2.0")
    out = tmp_path / "calibration.json"
    result = CliRunner().invoke(cli, ["eval", str(path), "--calibrate", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    fitted = json.loads(out.read_text())
    assert "tiny-v2.0.json" in fitted["fitted_on"] and isinstance(fitted["threshold"], float)
