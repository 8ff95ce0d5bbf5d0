"""A document acknowledged is never dropped by an automatic path: opening a damaged index serves
every acknowledged document or refuses with a message, and a rebuild restores them all.
Each case here lost a document before the journal of acknowledged saves (issue: faults 1, 2, 4)."""

import random
import shutil

import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.store.base import StoreError
from tests.conftest import HashEmbedder
from tests.test_store_faults import TEXTS, NoReader, build, damage, make_bot, open_or_rebuild, sources


def newest_generation(tmp_path):
    return sorted((tmp_path / "index").glob("gen-*"))[-1]


def add_two_more(tmp_path, store=""):
    bot = make_bot(tmp_path, store)
    bot.open()
    for name, text in (("owls.txt", "Owls hunt at night and turn their heads far."), ("figs.txt", "Fig trees grow in warm dry places.")):
        (tmp_path / name).write_text(text)
        bot.add_paths([tmp_path / name])
    return bot


@pytest.mark.parametrize("what", ["documents.jsonl", "vectors.faiss"])
def test_pointer_missing_and_newest_damaged_refuses_instead_of_serving_an_older_version(tmp_path, what):
    build(tmp_path)
    (tmp_path / "index" / "CURRENT").unlink()
    damage(newest_generation(tmp_path) / what, "truncate" if what == "documents.jsonl" else "delete")
    with pytest.raises(StoreError, match="newest version.*tea.txt.*qa index --rebuild"):
        make_bot(tmp_path).open()
    assert open_or_rebuild(tmp_path)[0] == sorted(TEXTS)


def test_the_newest_generation_deleted_refuses_and_a_rebuild_restores_every_document(tmp_path):
    build(tmp_path)
    shutil.rmtree(newest_generation(tmp_path))
    with pytest.raises(StoreError, match="newest version"):
        make_bot(tmp_path).open()
    salvage = make_bot(tmp_path).rebuild()
    assert sorted(d.source for d in salvage.documents) == sorted(TEXTS)
    bot = make_bot(tmp_path)
    bot.open()
    assert sources(bot) == sorted(TEXTS)
    # The rebuild's clean-up kept every document's copy: a second fault is still recoverable.
    assert len(list((tmp_path / "index" / "documents").glob("*.json"))) == len(TEXTS)


def test_saves_after_a_fallback_never_delete_the_kept_copy_of_an_acknowledged_document(tmp_path):
    build(tmp_path)
    kept = {p.name for p in (tmp_path / "index" / "documents").glob("*.json")}
    bot = add_two_more(tmp_path)  # two more saves: older generations are cleaned up
    assert kept <= {p.name for p in (tmp_path / "index" / "documents").glob("*.json")}
    removed = bot.remove(["owls.txt"])  # a removal asked for does drop its copy
    assert removed == ["owls.txt"]
    assert len(list((tmp_path / "index" / "documents").glob("*.json"))) == len(TEXTS) + 1


def test_the_cli_says_so_and_exits_1_on_a_refused_index(tmp_path):
    build(tmp_path)
    (tmp_path / "index" / "CURRENT").unlink()
    shutil.rmtree(newest_generation(tmp_path))
    parts = {"embedder": HashEmbedder(), "reader": NoReader()}
    env = {"QA_SEED_DIR": str(tmp_path / "seeds"), "QA_CHUNK_TOKENS": "40", "QA_CHUNK_OVERLAP": "5"}
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "documents"], env=env, obj={"parts": parts})
    assert result.exit_code == 1 and "newest version" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index", "--rebuild"], env=env, obj={"parts": parts})
    assert result.exit_code == 0 and "3 document(s) recovered" in result.output, result.output


@pytest.mark.parametrize("seed", range(12))
def test_any_one_file_damaged_at_random_loses_no_acknowledged_document(tmp_path, seed):
    rng = random.Random(seed)
    build(tmp_path)
    files = sorted(p for p in (tmp_path / "index").rglob("*") if p.is_file() and p.name != ".lock")
    target = rng.choice(files)
    damage(target, rng.choice(["truncate", "garble", "delete"]))
    got, _, searchable = open_or_rebuild(tmp_path)
    assert got == sorted(TEXTS) and searchable, target


@pytest.mark.milvus
def test_an_emptied_milvus_lite_database_is_not_reseeded_over_its_documents(tmp_path):
    pytest.importorskip("milvus_lite")
    store = f"milvus://{tmp_path / 'm' / 'qa.db'}"
    build(tmp_path, store)
    for part in (tmp_path / "m" / "qa.db").iterdir():  # the database folder emptied; the kept copies stay beside it
        shutil.rmtree(part) if part.is_dir() else part.unlink()
    with pytest.raises(StoreError, match="qa index --rebuild"):
        make_bot(tmp_path, store).open()
    assert len(list((tmp_path / "m").glob("qa.db.qa-documents/*.json"))) == len(TEXTS)
    assert open_or_rebuild(tmp_path, store)[0] == sorted(TEXTS)
