"""The Python API: indexing, updates, bad input, concurrency (fast, with a hash embedder)."""

import threading

import pytest

from qa.chatbot import Chatbot
from qa.layout import shown_words
from qa.store.faiss_store import FaissStore
from qa.types import Answer
from tests.conftest import ROOT, HashEmbedder


@pytest.fixture
def bot(make_bot):
    return make_bot(seeds=True, chunk_tokens=60, chunk_overlap=10)


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_missing_index_is_built_from_the_seeds(bot, tmp_path):
    assert [d.source for d in bot.documents()] == ["000_1d6ad4e23a77a5e2.txt"]
    assert bot.store.count() > 1
    assert FaissStore.exists(tmp_path / "index")


def test_adding_the_same_file_twice_changes_nothing(bot, tmp_path):
    f = write(tmp_path, "otters.txt", "Otters hold hands while sleeping.")
    first = bot.add_paths([f])
    count = bot.store.count()
    second = bot.add_paths([f, write(tmp_path, "copy.txt", "Otters hold hands while sleeping.")])
    assert first.added == ["otters.txt"] and second.added == []
    assert second.unchanged == ["otters.txt", "copy.txt"]
    assert bot.store.count() == count


def test_refused_files_leave_the_index_unchanged(bot, tmp_path):
    before = (sorted(d.id for d in bot.documents()), bot.store.count())
    bad = [write(tmp_path, "empty.txt", ""), tmp_path / "bin.txt", write(tmp_path, "x.exe", "MZ")]
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 10)
    report = bot.add_paths(bad)
    assert report.added == [] and len(report.problems) == 3
    assert (sorted(d.id for d in bot.documents()), bot.store.count()) == before
    assert "empty" in report.summary() and "binary" in report.summary()


def test_remove_by_name_and_reload(bot, tmp_path):
    bot.add_paths([write(tmp_path, "a.txt", "Alpha text here."), write(tmp_path, "b.txt", "Beta text here.")])
    assert bot.remove(["a.txt"]) == ["a.txt"]
    assert bot.remove(["nope.txt"]) == []
    again = Chatbot(bot.settings, embedder=HashEmbedder(), reader=bot.reader)
    again.open()
    assert sorted(d.source for d in again.documents()) == ["000_1d6ad4e23a77a5e2.txt", "b.txt"]


def test_changed_settings_rebuild_from_stored_documents(bot, tmp_path):
    bot.add_paths([write(tmp_path, "a.txt", "Alpha text here. " * 50)])
    changed = Chatbot(bot.settings.replace(chunk_tokens=30, chunk_overlap=5), embedder=HashEmbedder(), reader=bot.reader)
    changed.open()
    assert sorted(d.source for d in changed.documents()) == sorted(d.source for d in bot.documents())
    assert changed.store.count() > bot.store.count()
    assert max(len(c.text.split()) for c in changed.store.chunks) <= 30


@pytest.mark.parametrize("question, message", [
    ("", "Please type a question"),
    ("   ", "Please type a question"),
    ("?!", "couldn't find any words"),
    ("why " * 12_500, "characters long"),
    ("\x00\x01\x02", "Please type a question"),
    ("When?", "Ask the whole question"),  # a bare follow-up with nothing before it
])
def test_bad_questions_get_a_message_not_an_error(bot, question, message):
    a = bot.ask(question)
    assert isinstance(a, Answer) and a.abstained and message in a.message and a.text == ""


@pytest.mark.parametrize("question", ["习近平说了什么？", "Qu'a dit Xi à propos de la Corée ?", "What did Xi say? \U0001f914\U0001f1f0\U0001f1f7", "Wh\u0000at d\u001bid Xi say?"])
def test_other_languages_emoji_and_control_characters_get_an_answer_or_abstention(bot, question):
    a = bot.ask(question)
    # Either an abstention that says so, or an answer that is an exact slice of its document.
    if a.abstained:
        assert a.text == "" and a.message and a.alternatives == ()
    else:
        assert a.text and shown_words({d.id: d for d in bot.documents()}[a.doc_id].text[a.start : a.end]) == a.text
    assert "\u0000" not in a.question and "\u001b" not in a.question


def test_greeting_lists_documents_without_sources(bot):
    a = bot.ask("Hello!")
    assert "000_1d6ad4e23a77a5e2.txt" in a.message and a.source == "" and not a.alternatives


def test_answers_point_into_their_document(bot):
    a = bot.ask("What did Xi say about North Korea?")
    docs = {d.id: d for d in bot.documents()}
    for ans in (a, *a.alternatives):
        if ans.text:
            assert shown_words(docs[ans.doc_id].text[ans.start : ans.end]) == ans.text
            assert docs[ans.doc_id].text[ans.passage_start : ans.passage_start + len(ans.passage)] == ans.passage
            assert ans.quote and docs[ans.doc_id].text[ans.quote_start : ans.quote_start + len(ans.quote)] == ans.quote
            assert 0.0 <= ans.score <= 1.0


def test_concurrent_uploads_and_questions_lose_nothing(bot, tmp_path):
    files = [write(tmp_path, f"doc{i}.txt", f"Document {i} is about the river number {i}. It flows north.") for i in range(12)]
    errors: list[BaseException] = []

    def upload(batch):
        try:
            bot.add_paths(batch)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    def ask():
        try:
            for _ in range(5):
                a = bot.ask("Which river flows north?")
                assert isinstance(a, Answer)
                store = bot.store
                assert store.count() == len(store.chunks) == store._index().ntotal
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=upload, args=(files[i::3],)) for i in range(3)] + [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = {d.source for d in bot.documents()}
    assert {f.name for f in files} <= names
    reloaded = FaissStore.load(tmp_path / "index", bot.indexer.build_info())
    assert {f.name for f in files} <= {d.source for d in reloaded.documents.values()}


def test_two_processes_share_one_index_folder(bot, tmp_path):
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(ROOT)!r}]
        from qa.chatbot import Chatbot
        from qa.config import Settings
        from tests.conftest import HashEmbedder
        b = Chatbot(Settings(index_dir={str(tmp_path / "index")!r}, seed_dir="none", chunk_tokens=60, chunk_overlap=10), embedder=HashEmbedder(), reader=object())
        b.open()
        b.add_paths([sys.argv[1]])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(write(tmp_path, f"p{i}.txt", f"Process {i} wrote this."))], cwd=ROOT) for i in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    reloaded = FaissStore.load(tmp_path / "index", bot.indexer.build_info())
    assert {"p0.txt", "p1.txt", "p2.txt"} <= {d.source for d in reloaded.documents.values()}
