"""The `qa` command, through click's test runner."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qa.cli import cli
from tests.conftest import ROOT, SEED


def run(*args, env=None):
    # No seed folder: the index holds only what a test adds.
    env = {"QA_SEED_DIR": str(ROOT / "tests" / "no-such-folder"), **(env or {})}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_help_is_instant_and_imports_no_heavy_library():
    code = "import sys, qa, qa.cli; heavy = [m for m in ('torch', 'transformers', 'faiss', 'gradio', 'sentence_transformers', 'spacy') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    result = run("--help")
    assert result.exit_code == 0
    for command in ("index", "ask", "chat", "serve", "eval", "train-reader"):
        assert command in result.output


def test_train_reader_help_documents_the_recipe():
    result = run("train-reader", "--help")
    assert result.exit_code == 0 and "resumes" in result.output and "--max-length" in result.output


def test_bad_setting_is_a_message_not_a_traceback(tmp_path):
    result = run("--index", str(tmp_path / "i"), "ask", "x?", env={"QA_TOP_K": "none"})
    assert result.exit_code == 1 and "top_k" in result.output and "Traceback" not in result.output


def test_eval_refuses_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "v2.0"}')
    result = run("eval", str(bad))
    assert result.exit_code == 1 and '"data" list' in result.output


@pytest.mark.slow
def test_index_ask_documents_remove_and_damage(tmp_path):
    idx = str(tmp_path / "index")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bridge.md").write_text("# Larkspur Bridge\n\nThe Larkspur Bridge was opened in 1931 by mayor Ada Quill.")
    out = run("--index", idx, "index", str(SEED), str(tmp_path / "docs"))
    assert out.exit_code == 0 and "indexed 2 document(s)" in out.output
    assert "already indexed" in run("--index", idx, "index", str(SEED)).output

    answer = json.loads(run("--index", idx, "ask", "Who opened the Larkspur Bridge?", "--json").stdout)
    assert "Ada Quill" in answer["text"] and answer["source"] == "bridge.md" and not answer["abstained"]
    assert {"text", "score", "abstained", "source", "start", "end", "passage", "question", "alternatives"} <= set(answer)

    listing = run("--index", idx, "documents").output
    assert "bridge.md" in listing and "000_1d6ad4e23a77a5e2.txt" in listing
    assert "removed: bridge.md" in run("--index", idx, "index", "--remove", "bridge.md").output

    # Damage the index: a clear message, then --rebuild recovers the last intact version.
    gen = max((tmp_path / "index").glob("gen-*"))
    (gen / "vectors.faiss").write_bytes(b"garbage")
    broken = run("--index", idx, "ask", "What did Xi say?")
    assert broken.exit_code == 1 and "damaged" in broken.output and "qa index --rebuild" in broken.output
    fixed = run("--index", idx, "index", "--rebuild")
    assert fixed.exit_code == 0 and "recovered" in fixed.output
    assert run("--index", idx, "ask", "What did Xi say?").exit_code == 0


@pytest.mark.slow
def test_missing_reader_folder_is_a_message(tmp_path):
    result = run("--index", str(tmp_path / "i"), "--reader", str(tmp_path / "no-model"), "ask", "What did Xi say?",
                 env={"QA_SEED_DIR": str(tmp_path / "none")})
    assert result.exit_code == 1 and "no reader model" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_new_index_from_seeds_says_indexed_and_unknown_removal_fails(tmp_path):
    idx = str(tmp_path / "index")
    seeds = {"QA_SEED_DIR": str(ROOT / "seeds")}
    first = CliRunner().invoke(cli, ["--index", idx, "index", str(ROOT / "seeds")], env=seeds, catch_exceptions=False)
    assert first.exit_code == 0
    assert "indexed 1 document(s)" in first.stdout and "already indexed" not in first.stdout, first.output
    (tmp_path / "bridge.md").write_text("# Larkspur Bridge\n\nThe Larkspur Bridge was opened in 1931 by mayor Ada Quill.")
    more = CliRunner().invoke(cli, ["--index", idx, "index", str(tmp_path / "bridge.md")], env=seeds, catch_exceptions=False)
    assert "saving the index" in more.stdout and more.stderr == ""  # routine progress is not an error

    gone = CliRunner().invoke(cli, ["--index", idx, "index", "--remove", "notes.md"], env=seeds, catch_exceptions=False)
    assert gone.exit_code == 1 and "notes.md" in gone.stderr and "qa documents" in gone.stderr
    listing = CliRunner().invoke(cli, ["--index", idx, "documents"], env=seeds, catch_exceptions=False).stdout
    assert SEED.name in listing and "On Wednesday, South Korean President" in listing  # the title

    typo = CliRunner().invoke(cli, ["--index", idx, "ask", "Who did Lee meet on Tusday?"], env=seeds, catch_exceptions=False)
    assert "(understood as: Who did Lee meet on Tuesday?)" in typo.stdout and "Li Qiang" in typo.stdout


@pytest.mark.parametrize("question, message", [("", "Please type a question"), ("?!?", "couldn't find any words")])
def test_a_question_that_cannot_be_asked_is_an_error(question, message):
    result = CliRunner().invoke(cli, ["ask", question], catch_exceptions=False)
    assert result.exit_code == 1 and message in result.stderr and result.stdout == ""
