"""Training data options of a continued run: real unanswerables, the first half only, fresh questions first."""

import json

from qa.train.data import first_half_articles, load_training_examples, load_unanswerable_examples


def _squad(path, titles, per_article=4):
    data = []
    for t in titles:
        qas = []
        for q in range(per_article):
            answerable = q % 2 == 0
            qas.append({
                "id": f"{t}-{q}", "question": f"What is {t} {q}?", "is_impossible": not answerable,
                "answers": [{"text": "blue", "answer_start": 8}] if answerable else [],
            })
        data.append({"title": t, "paragraphs": [{"context": f"{t} is a blue thing.", "qas": qas}]})
    path.write_text(json.dumps({"version": "v2.0", "data": data}))
    return path


def test_only_the_first_half_of_the_articles_is_trained_on(tmp_path):
    f = _squad(tmp_path / "dev.json", ["A", "B", "C", "D"])
    answerable = load_training_examples([f], None, 0, first_half=("dev",))
    unanswerable = load_unanswerable_examples([f], first_half=("dev",))
    assert {ex.title for ex in answerable} == {"A", "B"}
    assert {ex.title for ex in unanswerable} == {"A", "B"}
    assert all(ex.answers for ex in answerable) and not any(ex.answers for ex in unanswerable)
    assert len(unanswerable) == 4
    assert {ex.title for ex in load_unanswerable_examples([f])} == {"A", "B", "C", "D"}
    assert [ex.title for ex in first_half_articles(answerable + unanswerable)] == ["A"] * 4


def test_questions_seen_before_are_taken_last(tmp_path):
    f = _squad(tmp_path / "train.json", [f"T{i}" for i in range(10)])  # 20 answerable questions
    every = [ex.qid for ex in load_training_examples([f], None, 0)]
    seen = set(every[:15])
    picked = [ex.qid for ex in load_training_examples([f], {"train": 5}, 0, avoid=seen)]
    assert sorted(picked) == sorted(every[15:])  # exactly the 5 unseen ones
    more = [ex.qid for ex in load_training_examples([f], {"train": 8}, 0, avoid=seen)]
    assert set(every[15:]) <= set(more) and len(set(more)) == 8
    # Without `avoid`, the draw is the one the first run made.
    assert load_training_examples([f], {"train": 5}, 0) == load_training_examples([f], {"train": 5}, 0, avoid=None)
