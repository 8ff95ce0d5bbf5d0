"""Official SQuAD scoring, on cases worked out by hand."""

import json

import pytest

from qa.eval.squad import SquadExample, SquadFormatError, f1_score, load_squad, normalize_answer, squad_metrics


def ex(qid, answers):
    return SquadExample(qid, "q?", "context", tuple((a, 0) for a in answers))


def test_normalisation_drops_case_punctuation_articles_and_space():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear") == "apple pear"


def test_f1_by_hand():
    # prediction "the big red dog" -> big red dog; gold "red dog barked" -> red dog barked
    # common = {red, dog} = 2; precision 2/3, recall 2/3 -> F1 2/3
    assert f1_score("the big red dog", "red dog barked") == pytest.approx(2 / 3)
    assert f1_score("", "") == 1.0
    assert f1_score("x", "") == 0.0


def test_metrics_by_hand_with_unanswerable_questions():
    examples = [ex("a", ["Paris", "the city of Paris"]), ex("b", ["1990"]), ex("c", []), ex("d", [])]
    preds = {"a": "city of Paris", "b": "in 1991", "c": "", "d": "something"}
    m = squad_metrics(examples, preds)
    # a: EM 1 (matches gold 2 after normalisation), F1 1; b: EM 0, F1 0 ("in 1991" vs "1990")
    # c: right abstention -> 1/1; d: answered an unanswerable -> 0/0
    assert m["exact"] == pytest.approx(50.0)
    assert m["f1"] == pytest.approx(50.0)
    assert m["HasAns_exact"] == pytest.approx(50.0) and m["HasAns_total"] == 2
    assert m["NoAns_exact"] == pytest.approx(50.0) and m["NoAns_total"] == 2


def test_partial_f1_enters_the_average():
    # gold "red dog barked", prediction "big red dog": F1 = 2/3 -> 66.67 over one question
    m = squad_metrics([ex("x", ["red dog barked"])], {"x": "big red dog"})
    assert m["f1"] == pytest.approx(200 / 3)
    assert m["exact"] == 0.0


def test_missing_prediction_counts_as_abstention():
    m = squad_metrics([ex("x", ["a b"]), ex("y", [])], {})
    assert m["HasAns_f1"] == 0.0 and m["NoAns_f1"] == 100.0


def test_load_v2_file(tmp_path):
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "Paris is big.", "qas": [
        {"id": "1", "question": "What is big?", "answers": [{"text": "Paris", "answer_start": 0}], "is_impossible": False},
        {"id": "2", "question": "Why?", "answers": [], "is_impossible": True}]}]}]}))
    a, b = load_squad(f)
    assert a.answers == (("Paris", 0),) and a.title == "T"
    assert b.is_impossible


@pytest.mark.parametrize("content, message", [
    ("not json", "not a JSON file"),
    ('{"nodata": 1}', '"data" list'),
    ('{"data": [{"paragraphs": [{"qas": []}]}]}', '"context"'),
    ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"question": "q"}]}]}]}', '"id"'),
])
def test_malformed_files_say_what_is_wrong(tmp_path, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(SquadFormatError, match=message):
        load_squad(f)
