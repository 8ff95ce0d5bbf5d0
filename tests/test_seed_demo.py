"""The seed article is a demo, not a squatter: a new index given files holds those alone, and a
removed seed stays removed when the index is opened again (`make run` runs `qa index`)."""

from click.testing import CliRunner

from qa.cli import cli
from tests.conftest import ROOT, HashEmbedder
from tests.test_store_faults import NoReader


def qa(tmp_path, *args):
    parts = {"embedder": HashEmbedder(), "reader": NoReader()}
    env = {"QA_SEED_DIR": str(ROOT / "seeds"), "QA_CHUNK_TOKENS": "60", "QA_CHUNK_OVERLAP": "10"}
    return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), *args], env=env, obj={"parts": parts})


def listed(result):
    return sorted(line.split()[1] for line in result.output.splitlines() if len(line.split()) > 1 and len(line.split()[0]) == 16)


def test_a_new_index_given_files_holds_those_alone(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "plan.txt").write_text("The move starts in May. Boxes are packed by room.")
    result = qa(tmp_path, "index", str(tmp_path / "mine"))
    assert result.exit_code == 0 and "plan.txt" in result.output and "000_" not in result.output, result.output
    assert listed(qa(tmp_path, "documents")) == ["plan.txt"]


def test_a_new_index_opened_without_files_is_seeded_and_a_removed_seed_stays_removed(tmp_path):
    first = qa(tmp_path, "index")
    assert first.exit_code == 0 and "indexed 1 document(s)" in first.output, first.output
    seed = listed(qa(tmp_path, "documents"))
    assert seed == ["000_1d6ad4e23a77a5e2.txt"]
    assert qa(tmp_path, "index", "--remove", seed[0]).exit_code == 0
    assert qa(tmp_path, "index").exit_code == 0  # what `make run` does at each start
    assert listed(qa(tmp_path, "documents")) == []
