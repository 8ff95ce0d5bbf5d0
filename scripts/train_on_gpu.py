"""Train both readers on SQuAD 2.0 whole on a GPU lent for minutes, and read the validation files there.

A lent GPU machine has no network and takes at most ~64 MB of files per call, so the work is
staged: `pack` (here) writes the data and the fast reader's weights (the first call's load) and
the accurate base in bf16 with the shipped adapters, cut into pieces that each fit one call.
There, `fast` starts in the background while the pieces arrive, `accurate` runs when the last
one is in, and `collect` packs what they made into pieces that fit the way back; `unpack` (here)
puts the readers into a folder and the validation reads into `scripts/evaluate_reader.py`'s cache,
so that refitting confidence and thresholds costs no reading on the CPU.

    python scripts/train_on_gpu.py pack .gpu                       # here
    python scripts/train_on_gpu.py fast --data D --base B --minutes 3   # there, each reader:
    python scripts/train_on_gpu.py accurate --data D --pieces P --minutes 4
    python scripts/train_on_gpu.py collect --out $OUT
    python scripts/train_on_gpu.py unpack FILES_DIR --to runs/gpu   # here

The calls of the lease of 2026-12-04 (about 12 minutes of the 15; tokenising takes a minute of
the machine's CPU, training 3-4 minutes per reader, reading the validation files under a minute):

  1. carry .gpu/first: unpack data.tgz into /tmp/gpu, copy model.safetensors to /tmp/gpu/fast-base
     (with the shipped reader's other files), then start, each with `setsid nohup ... &` so that they
     outlive the call, `fast --data /tmp/gpu/data --base /tmp/gpu/fast-base --minutes 3` and
     `features --reader accurate --data /tmp/gpu/data`;
  2.-4. carry .gpu/p1, .gpu/p2, .gpu/p3 in turn, copying each into /tmp/gpu/pieces/;
  5. carry .gpu/p4, copy it, wait for /tmp/gpu/accurate/features-*.pkl, run `accurate --pieces
     /tmp/gpu/pieces --minutes 4`, wait for /tmp/gpu/fast.done, `collect --out $OUT`.

The distillation lease of 2026-12-04 (the fast reader taught by the accurate one; `pipeline`):

  1. carry .gpu/first: unpack data.tgz into /tmp/gpu, copy model.safetensors to /tmp/gpu/fast-base
     (with the shipped reader's JSON files), then `setsid nohup python3 scripts/train_on_gpu.py
     pipeline --data /tmp/gpu/data --base /tmp/gpu/fast-base --pieces /tmp/gpu/pieces --work
     /tmp/gpu &`: it makes the windows (2 minutes), starts the plain run, and waits for the pieces;
  2.-4. carry .gpu/p1, p2, p3, copying each into /tmp/gpu/pieces/pN/ (seconds each);
  5. carry .gpu/p4, copy it, `touch /tmp/gpu/pieces/ready`, wait for /tmp/gpu/pipeline.done,
     `collect --out $OUT`.
  Measured there: the plain run 100 s for one epoch (3,264 batches), the teacher 464 s for 156,647
  windows (bound by the machine's CPU: tokenising and carrying the chances over in Python, one
  process), the distilled run 124 s, reading the validation files about 230 s a reader (CPU too).
  The teacher's time ran the lease out before the distilled runs had read the validation files:
  the distilled weights came back and were read here. Its CPU side was then cut (arrays instead of
  Python lists; the chances carried over with numpy): with a stand-in model, 2,630 windows took
  2.3 s on a 2-core AMD EPYC, so all 156,647 should take about 2 minutes there, not 8.

Keep everything there under /tmp: a file written into the work tree's copy (a tracked path) is
gone after the next call's copy (that lease lost its first fast run to it).
Each call here needs the two weight files out of git's index for the call (`git rm --cached`,
listed in .git/info/exclude; `git reset` them after): with them the work tree is over 64 MB.

Recipe (both readers continue from the shipped ones): every answerable question of SQuAD v1.1
train, all 41,060 joined unanswerable questions of SQuAD 2.0 train and its 348 with plausible
answers, the first half of SQuAD v2.0 DEV, TyDi QA train and 2,000 SQuAD-Shifts questions: about
one question in three unanswerable, as in SQuAD 2.0. Each run is fitted to its minutes
(`TrainConfig.minutes`). The accurate reader trains every encoder layer (embeddings frozen) and
ships the change as rank-`--rank` adapters (a truncated SVD).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

DATA = ROOT.parent / "shared" / "data" / "qa-train"
DATA_FILES = ("squad_v1.1_train", "squad_v2.0_train_unanswerable_joined", "squad_v2.0_train_unanswerable",
              "squad_v2.0_DEV_minus_heldout", "squad_v1.1_DEV_minus_heldout", "tydiqa_goldp_en_train",
              "tydiqa_goldp_en_dev", "squadshifts_new_wiki_test")
V2_DEV, V2_PLAUSIBLE, V2_JOINED = "squad_v2.0_DEV_minus_heldout", "squad_v2.0_train_unanswerable", "squad_v2.0_train_unanswerable_joined"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"  # frozen in the fast reader's training: not sent back
PIECE_BYTES = 62_000_000  # one call carries at most 64 MiB with the work tree
RETURN_BYTES = 15 * 2**20  # a file back is at most 16 MiB
RECIPES: dict[str, dict[str, Any]] = {  # per reader: learning rate, batch, epochs, how its weights change
    "fast": {"learning_rate": 5e-5, "batch_size": 48, "epochs": 2.0, "tune": "full"},
    "accurate": {"learning_rate": 3e-5, "batch_size": 32, "epochs": 2.0, "tune": "top", "top_layers": 12},
}


def config(reader: str, data: Path, work: Path, minutes: float | None, base: str | Path | None = None,
           max_examples: int | None = None, **changes: Any):  # noqa: ANN201
    """The training run of `reader` (the same windows whether built ahead or when training);
    `changes`: other `TrainConfig` settings (epochs, teacher_file, distill_weight)."""
    from qa.read import SHIPPED_READER
    from qa.train.loop import TrainConfig

    files = {"squad_v1.1_train": None, "tydiqa_goldp_en_train": None, "squadshifts_new_wiki_test": 2000,
             V2_DEV: None, V2_PLAUSIBLE: None, V2_JOINED: None}
    return TrainConfig(
        data_dir=data, output_dir=work / "out", work_dir=work, base_model=str(base or SHIPPED_READER), files=files,
        unanswerable_files=(V2_DEV, V2_PLAUSIBLE, V2_JOINED), first_half_files=(V2_DEV,), unanswerable_ratio=0.03,
        max_length=192, stride=64, precision="auto", checkpoint_minutes=1e9, seed=43, minutes=minutes,
        max_examples=max_examples, unanswerable_limit=max_examples and max_examples // 2,
        **{**RECIPES[reader], **changes},
    )


def pack(stage: Path) -> None:
    """Here: the first call's load (data, fast reader) and the accurate pieces, under `stage`."""
    import torch
    from safetensors.torch import load_file, save_file

    from qa.accurate import ACCURATE_READER, base_model_dir
    from qa.read import SHIPPED_READER

    first = stage / "first"
    first.mkdir(parents=True, exist_ok=True)
    with tarfile.open(first / "data.tgz", "w:gz") as tar:
        for name in DATA_FILES:
            tar.add(DATA / f"{name}.json", arcname=f"data/{name}.json")
    shutil.copy(SHIPPED_READER / "model.safetensors", first / "model.safetensors")
    base = base_model_dir()
    work = stage / "accurate-load"
    (work / "base").mkdir(parents=True, exist_ok=True)
    weights = {k: v.to(torch.bfloat16) for k, v in load_file(str(base / "model.safetensors")).items()}
    save_file(weights, str(work / "base" / "model.bf16.safetensors"))
    for src in base.iterdir():
        if src.name not in ("model.safetensors", "SHA256"):
            shutil.copy(src, work / "base" / src.name)
    shutil.copy(ACCURATE_READER / "adapter_model.safetensors", work / "adapter_model.safetensors")
    blob = stage / "accurate.tar"
    with tarfile.open(blob, "w") as tar:
        tar.add(work, arcname="accurate-load")
    shutil.rmtree(work)
    with open(blob, "rb") as f:
        for i, chunk in enumerate(iter(lambda: f.read(PIECE_BYTES), b"")):
            (stage / f"p{i + 1}").mkdir(exist_ok=True)
            (stage / f"p{i + 1}" / "accurate.tar.part").write_bytes(chunk)
    blob.unlink()
    print(*sorted(f"{p.relative_to(stage)} {p.stat().st_size / 1e6:.1f} MB" for p in stage.rglob("*") if p.is_file()), sep="\n")


def assemble_accurate(pieces: list[Path], into: Path) -> None:
    """There: the accurate base in fp32 where `qa.accurate` looks for it, and the shipped adapters."""
    import torch
    from safetensors.torch import load_file, save_file

    from qa.accurate import ACCURATE_READER, BASE_SHA256, default_cache_dir

    blob = into / "accurate.tar"
    with open(blob, "wb") as joined:
        for piece in pieces:
            joined.write(piece.read_bytes())
    with tarfile.open(blob) as tar:
        tar.extractall(into, filter="data")
    load = into / "accurate-load"
    target = default_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    for src in (load / "base").iterdir():
        if not src.name.endswith(".safetensors"):
            shutil.copy(src, target / src.name)
    weights = {k: v.to(torch.float32) for k, v in load_file(str(load / "base" / "model.bf16.safetensors")).items()}
    save_file(weights, str(target / "model.safetensors"), metadata={"format": "pt"})
    (target / "SHA256").write_text(BASE_SHA256 + "\n")  # the bf16-rounded base stands in for the exact one
    shutil.copy(load / "adapter_model.safetensors", ACCURATE_READER / "adapter_model.safetensors")


def train(reader: str, data: Path, work: Path, minutes: float | None, features_only: bool = False,
          max_examples: int | None = None, base: Path | None = None, **changes: Any) -> Path:
    """Train `reader` (or only build its windows); returns the folder of the reader to ship."""
    from transformers import AutoTokenizer

    from qa.accurate import ACCURATE_READER
    from qa.train.loop import cached_features, train_reader

    if features_only:  # the accurate tokenizer is the adapter folder's: no base needed yet
        tokenizer_dir = ACCURATE_READER if reader == "accurate" else config(reader, data, work, None).base_model
        cached_features(config(reader, data, work, minutes, max_examples=max_examples),
                        AutoTokenizer.from_pretrained(tokenizer_dir))
        return work
    if reader == "fast":
        return train_reader(config(reader, data, work, minutes, base=base, max_examples=max_examples, **changes))
    from train_squad2 import merged_accurate_base

    from qa.train.tuning import extract_adapters

    full = train_reader(config(reader, data, work, minutes, base=str(merged_accurate_base(work)), max_examples=max_examples))
    return extract_adapters(full, work / "adapters", rank=RANK)


RANK = 64


def read_validation(folder: Path, data: Path, cache: Path, adapters: bool, limit: int | None = None,
                    role: str | None = None) -> None:
    """The reader's results on the validation files, into `scripts/evaluate_reader.py`'s cache."""
    import torch
    from evaluate_reader import FILES, TYDI, _weights_hash, read_file

    from qa.read import Reader
    from qa.readers import ReaderChoice, model_loader

    device = "cuda" if torch.cuda.is_available() else "cpu"
    reader = Reader(folder, None, device=device, loader=model_loader(ReaderChoice(folder, device, adapters)))
    for name, part in sorted(FILES.values(), key=lambda f: f[1] is None) + list(TYDI.values()):  # v2.0 first
        read_file(folder, data / name, part, cache, reader=reader, limit=limit)
    (cache / f"{role or ('accurate' if adapters else 'fast')}.hash").write_text(_weights_hash(folder))


# The fast reader's runs of a distillation lease: each continues from the shipped fast reader for
# one epoch of the same windows in the same order; "plain" is the same budget without a teacher.
DISTILL_RUNS: dict[str, dict[str, Any]] = {
    "plain": {"epochs": 1.0},
    "distill": {"epochs": 1.0, "distill_weight": 0.5},
    "distill8": {"epochs": 1.0, "distill_weight": 0.8},
}
TEMPERATURE = 2.0


def teacher_windows(data: Path, work: Path, max_examples: int | None, log: Any = print) -> list:
    """The fast reader's training windows (kept in WORK/fast for the runs) and where each comes
    from: (question, character span of each token), for the teacher to read the same text."""
    from transformers import AutoTokenizer

    from qa.train.loop import cached_features

    cfg = config("fast", data, work / "fast", None, max_examples=max_examples)
    sources: list = []
    cached_features(cfg, AutoTokenizer.from_pretrained(cfg.base_model), log, sources)  # kept for every run
    return sources


def teacher(sources: list, work: Path, pieces: Path | None, log: Any = print) -> Path:
    """The accurate reader's soft targets on the windows of `sources`, in WORK/teacher.npz
    (`pieces`: where the packed accurate reader arrives, `assemble_accurate`; None = the installed one)."""
    import torch

    from qa.accurate import ACCURATE_READER, load_adapted_model
    from qa.train.distill import save_targets, teacher_targets

    if pieces is not None:
        while not (pieces / "ready").exists():  # the last call writes it once the last piece is in
            time.sleep(2)
        assemble_accurate(sorted(pieces.glob("p*/accurate.tar.part")), work)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer = load_adapted_model(ACCURATE_READER, torch.float32)
    t0 = time.time()
    targets = teacher_targets(sources, model.to(device), tokenizer, device, TEMPERATURE, log=log)
    log(f"teacher: {len(targets):,} windows in {time.time() - t0:.0f} s")
    path = work / "teacher.npz"
    save_targets(path, targets, TEMPERATURE, {"teacher": "the accurate reader as shipped (qa/models/accurate)"})
    del model
    return path


def pipeline(data: Path, work: Path, base: Path | None, pieces: Path | None, max_examples: int | None,
             limit: int | None, runs: dict[str, dict[str, Any]] = DISTILL_RUNS) -> None:
    """There, in the background from the first call: the windows, then the plain run at once and
    the distilled ones once the teacher's targets are made (after the last piece arrives);
    WORK/pipeline.done (each run's exit code) at the end."""
    common = ["--data", str(data), "--work", str(work)] + (["--base", str(base)] if base else []) + (["--max-examples", str(max_examples)] if max_examples else []) \
        + (["--limit", str(limit)] if limit else [])

    def start(name: str) -> subprocess.Popen:
        (work / name).mkdir(parents=True, exist_ok=True)
        for windows in (work / "fast").glob("features-*.npz"):
            shutil.copy(windows, work / name / windows.name)
        settings = [f"--{k.replace('_', '-')}={v}" for k, v in runs[name].items()]
        if "distill_weight" in runs[name]:
            settings.append(f"--teacher={work / 'teacher.npz'}")
        log = open(work / f"{name}.log", "w")  # noqa: SIM115 - the child writes it
        return subprocess.Popen([sys.executable, __file__, "fast", f"--name={name}", *settings, *common],
                                stdout=log, stderr=subprocess.STDOUT)

    work.mkdir(parents=True, exist_ok=True)
    sources = teacher_windows(data, work, max_examples)
    children = {name: start(name) for name in runs if "distill_weight" not in runs[name]}
    teacher(sources, work, pieces)
    del sources
    children.update({name: start(name) for name in runs if "distill_weight" in runs[name]})
    codes = {name: child.wait() for name, child in children.items()}
    (work / "pipeline.done").write_text(json.dumps(codes) + "\n")


def collect(work: Path, out: Path, budget: int = 56 * 2**20) -> None:
    """There: what the runs made, as one tar cut into pieces that fit the way back. The fast
    readers' weights go without the frozen word-piece table (rebuilt by `unpack`), distilled runs
    first, as many as `budget` bytes allow; every run's validation reads and logs go."""
    from safetensors.torch import load_file, save_file

    blob = work / "back.tgz"
    fast_runs = sorted((d.parent.parent.name for d in work.glob("*/out/model.safetensors")), key=lambda n: (n == "plain", n))
    sent = 0
    with tarfile.open(blob, "w:gz", compresslevel=3) as tar:  # the reads (JSON) shrink several times
        for name in fast_runs:
            out_dir = work / name / "out"
            weights = work / f"{name}-without-word-embeddings.safetensors"
            kept = {k: v for k, v in load_file(str(out_dir / "model.safetensors")).items() if k != WORD_EMBEDDINGS}
            save_file(kept, str(weights), metadata={"format": "pt"})
            if sent + weights.stat().st_size > budget:
                print(f"{name}: its weights left out (no room on the way back); its reads go", flush=True)
                continue
            sent += weights.stat().st_size
            tar.add(weights, arcname=weights.name)
            tar.add(out_dir, arcname=name, filter=lambda t: None if t.name == f"{name}/model.safetensors" else t)
        for path, arcname in ((work / "accurate" / "adapters", "accurate"), (work / "eval-cache", "eval-cache")):
            if path.exists():
                tar.add(path, arcname=arcname)
        for log in work.glob("*.log"):
            tar.add(log, arcname=f"logs/{log.name}")
        for card in work.glob("*/out/training.json"):
            tar.add(card, arcname=f"logs/{card.parent.parent.name}-full-training.json")
    out.mkdir(parents=True, exist_ok=True)
    with open(blob, "rb") as f:
        for i, chunk in enumerate(iter(lambda: f.read(RETURN_BYTES), b"")):
            (out / f"back.tgz.{i:02d}").write_bytes(chunk)


def unpack(files: Path, to: Path) -> None:
    """Here: the readers as shippable folders under `to`, and the validation reads in the cache
    (a run whose weights stayed there keeps its reads under the hash they had there)."""
    from safetensors.torch import load_file, save_file

    from qa.read import SHIPPED_READER

    to.mkdir(parents=True, exist_ok=True)
    blob = to / "back.tgz"
    with open(blob, "wb") as joined:
        for piece in sorted(files.glob("back.tgz.*")):
            joined.write(piece.read_bytes())
    with tarfile.open(blob) as tar:
        tar.extractall(to, filter="data")
    table = load_file(str(SHIPPED_READER / "model.safetensors"))[WORD_EMBEDDINGS]
    for partial in to.glob("*-without-word-embeddings.safetensors"):
        weights = load_file(str(partial))
        weights[WORD_EMBEDDINGS] = table
        save_file(weights, str(to / partial.name.removesuffix("-without-word-embeddings.safetensors") / "model.safetensors"),
                  metadata={"format": "pt"})
    from evaluate_reader import _weights_hash

    cache = ROOT / "runs" / "eval-cache"
    for sent in (to / "eval-cache").glob("*.hash"):  # the fast weights rebuilt here hash differently from those read there
        role = sent.stem
        here = _weights_hash(to / role) if any((to / role).glob("*.safetensors")) else sent.read_text()
        shutil.copytree(to / "eval-cache" / sent.read_text(), cache / here, dirs_exist_ok=True)
        print(f"{role}: validation reads in {cache / here}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["pack", "fast", "accurate", "features", "pipeline", "collect", "unpack"])
    ap.add_argument("path", type=Path, nargs="?", help="pack: the stage folder; unpack: the folder of the files back")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gpu"))
    ap.add_argument("--reader", choices=sorted(RECIPES), default="accurate", help="features: whose windows to build")
    ap.add_argument("--base", type=Path, help="fast: the reader folder to continue (default: the shipped one)")
    ap.add_argument("--pieces", type=Path, help="accurate: the folder holding p1/, p2/, ... as packed")
    ap.add_argument("--minutes", type=float, default=None, help="fit the training into this many minutes")
    ap.add_argument("--out", type=Path, help="collect: where the pieces to send back go")
    ap.add_argument("--max-examples", type=int, help="train on this many answerable questions only (a trial)")
    ap.add_argument("--limit", type=int, help="read this many questions of each validation file only (a trial)")
    ap.add_argument("--to", type=Path, default=ROOT / "runs" / "gpu", help="unpack: where the readers go")
    ap.add_argument("--name", help="fast: the run's name (its folder under --work; default: the reader's)")
    ap.add_argument("--epochs", type=float, help="passes over the windows (default: the recipe's)")
    ap.add_argument("--teacher", type=Path, help="fast: the teacher's soft targets (distillation)")
    ap.add_argument("--distill-weight", type=float, help="fast: share of the loss from the teacher")
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    work = args.work
    if args.step == "pack":
        pack(args.path)
    elif args.step == "unpack":
        unpack(args.path, args.to)
    elif args.step == "collect":
        collect(work, args.out)
    elif args.step == "pipeline":
        pipeline(args.data, work, args.base, args.pieces, args.max_examples, args.limit)
    elif args.step == "features":
        train(args.reader, args.data, work / args.reader, args.minutes, features_only=True, max_examples=args.max_examples)
    else:
        if args.step == "accurate":
            assemble_accurate(sorted(args.pieces.glob("p*/accurate.tar.part")), work)
        changes: dict[str, Any] = {k: v for k, v in (("epochs", args.epochs), ("teacher_file", args.teacher and str(args.teacher)),
                                     ("distill_weight", args.distill_weight)) if v is not None}
        name = args.name or args.step
        t0 = time.time()
        folder = train(args.step, args.data, work / name, args.minutes, max_examples=args.max_examples, base=args.base, **changes)
        print(f"{name}: trained in {time.time() - t0:.0f} s, reading the validation files", flush=True)
        read_validation(folder, args.data, work / "eval-cache", adapters=args.step == "accurate", limit=args.limit, role=name)
        (work / f"{name}.done").write_text("done\n")


if __name__ == "__main__":
    main()
