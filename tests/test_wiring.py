"""One wiring: the end-to-end evaluation measures the chatbot's own steps, and the runtime never
loads the offline tools (evaluation, training)."""

import subprocess
import sys
import textwrap

from qa.eval.run import documents_of, run_e2e
from qa.eval.squad import SquadExample
from tests.conftest import ROOT

PARAGRAPHS = [
    ("Bridge", "The Larkspur Bridge over the Venn River was opened in 1931 by mayor Ada Quill. It is painted green.",
     "Who opened the Larkspur Bridge?", "Ada Quill"),
    ("Otters", "Sea otters hold hands while they sleep so that they do not drift apart. They live in the North Pacific.",
     "Why do sea otters hold hands?", "so that they do not drift apart"),
    ("Bread", "Sourdough bread rises because of wild yeast and lactic acid bacteria in the starter.",
     "What makes sourdough bread rise?", "wild yeast and lactic acid bacteria"),
]


def examples():
    return [SquadExample(qid=str(i), title=title, paragraph=0, context=context, question=q,
                         answers=[(a, context.index(a))]) for i, (title, context, q, a) in enumerate(PARAGRAPHS)]


def test_e2e_eval_gives_the_answers_chat_gives(make_bot, monkeypatch):
    # A threshold below every score: the chat always answers, so each answer can be compared.
    bot = make_bot(threshold=-1e9)
    exs = examples()
    bot.add_documents(documents_of(exs))
    asked = []
    candidates = bot.candidates
    monkeypatch.setattr(bot, "candidates", lambda q, store=None, only=None: asked.append(q) or candidates(q, store, only))

    run = run_e2e(exs, bot)
    assert asked == [ex.question for ex in exs]
    predicted = run.predictions(threshold=bot.settings.threshold)
    for ex in exs:
        answer = bot.ask(ex.question)
        assert answer.kind == "answer" and answer.text
        assert predicted[ex.qid] == answer.text, ex.question
    assert all(r.retrieved_gold for r in run.results)  # three paragraphs, top_k 5: all retrieved


def test_runtime_never_loads_evaluation_or_training(tmp_path):
    # A fresh process imports the runtime and asks questions through the whole pipeline; the
    # reader is a stand-in (no torch), as only which modules load is in question here.
    code = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}]
        import qa, qa.chatbot, qa.app, qa.cli
        from qa.chatbot import Chatbot
        from qa.config import Settings
        from qa.types import Span
        from tests.conftest import HashEmbedder

        class Reader:
            model_path = __import__("pathlib").Path({str(tmp_path)!r})
            def warm_up(self): pass
            def read(self, question, passages): return [Span(0, 0, 2, passages[0][:2], 1.0)]

        bot = Chatbot(Settings(index_dir={str(tmp_path / 'index')!r}, seed_dir={str(ROOT / 'seeds')!r}),
                      embedder=HashEmbedder(), reader=Reader())
        kinds = [bot.ask(q).kind for q in ("hello", "", "What did Xi say?")]
        assert kinds == ["small_talk", "problem", "answer"], kinds
        print(sorted(m for m in sys.modules if m.startswith(("qa.eval", "qa.train"))))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
