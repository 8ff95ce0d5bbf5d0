"""The `qa` command. Thin: parses flags, calls the Python API, turns errors into messages."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.errors import QAError

if TYPE_CHECKING:
    from qa.chatbot import Chatbot
    from qa.indexer import IndexReport
    from qa.types import Answer


class Problem(click.ClickException):
    """A problem the user can fix, printed without a traceback (exit status 1)."""


class _Commands(click.Group):
    """The `qa` group: every error qa raises for a person (`QAError`), and a file or port the
    system refused (`OSError`), becomes its message and exit status 1, here and nowhere else."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (QAError, OSError) as err:
            raise Problem(str(err)) from None


def _bot(ctx: click.Context, seed: bool = True, extra: dict[str, Any] | None = None) -> Chatbot:
    """The chatbot the options name, opened (a new index seeded when `seed`), with any parts the
    caller gave (`_parts`)."""
    from qa.chatbot import Chatbot
    from qa.config import load_settings

    bot = Chatbot(load_settings(**{**_options(ctx), **(extra or {})}), **_parts(ctx))
    bot.open(seed=seed)
    return bot


def _options(ctx: click.Context) -> dict[str, Any]:
    return {k: v for k, v in ctx.obj.items() if k != "parts"}


def _parts(ctx: click.Context) -> dict[str, Any]:
    """Parts to build the chatbot with instead of the defaults (`Chatbot`'s keyword arguments),
    given by a program that runs the command line: `cli.main(obj={"parts": {...}})`."""
    return dict(ctx.obj.get("parts") or {})


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", default=None, metavar="DIR", help="Index folder (default: index, or QA_INDEX_DIR).")
@click.option("--reader", default=None, metavar="cascade|accurate|fast|auto|DIR",
              help="Reader: cascade (default: fast, and accurate when the fast one is under 80% sure; seed p50 106 ms "
                   "on 2 cores with bf16, SQuAD 2.0 F1 77.6), accurate (12 layers: 468 ms, F1 80.0), fast (88 ms, "
                   "F1 63.8), auto (accurate where qa[accurate] is installed, else fast) or a QA model folder.")
@click.option("--store", default=None, metavar="URI", help="Passage store: a folder, faiss://DIR, milvus://FILE.db or http://HOST:19530.")
@click.option("--top-k", type=int, default=None, help="Passages read per question (default 5).")
@click.option("--threshold", type=float, default=None, help="Abstain below this reader score (default: the calibrated one).")
@click.version_option(package_name="qa")
@click.pass_context
def cli(ctx: click.Context, index_dir: str | None, reader: str | None, store: str | None, top_k: int | None, threshold: float | None) -> None:
    """Ask questions about your documents; get the exact words that answer them.

    Documents (.txt, .md, .html, .pdf) are indexed into a folder (index/ by default); every
    answer quotes its passage and names its source, or says the documents don't say.
    Everything runs offline on the CPU.
    """
    from qa.config import load_settings

    overrides: dict[str, Any] = {"index_dir": index_dir, "reader": reader, "store": store, "top_k": top_k, "threshold": threshold}
    settings = load_settings(**overrides)
    parts = (ctx.obj or {}).get("parts") or {}
    ctx.obj = {"index_dir": settings.index_dir, **{k: v for k, v in overrides.items() if v is not None and k != "index_dir"}, "parts": parts}


@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-embed every indexed document (after changing settings or if the index is damaged).")
@click.option("--remove", "remove", multiple=True, metavar="NAME", help="Remove a document by its file name or id (repeatable).")
@click.option("--ray", "use_ray", is_flag=True, help="Read, chunk and embed with a pool of Ray workers (large ingests; needs qa[scale]).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Ray workers, one CPU each (with --ray).")
@click.option("--ray-address", default=None, metavar="HOST:PORT", help="A running Ray cluster (with --ray; default: a local Ray on 127.0.0.1).")
@click.pass_context
def index_cmd(
    ctx: click.Context, paths: tuple[Path, ...], rebuild: bool, remove: tuple[str, ...],
    use_ray: bool, workers: int, ray_address: str | None,
) -> None:
    """Add files or folders to the index (re-adding a file changes nothing; a file with the
    name of an indexed one but new content replaces it)."""
    unknown: list[str] = []
    # A new index given files starts with those alone; the seed article is for a first look.
    bot = _rebuild(ctx) if rebuild else _bot(ctx, seed=not paths)
    if remove:
        known = {key for d in bot.documents() for key in (d.id, d.source)}
        unknown = [name for name in remove if name not in known]
        gone = bot.remove(list(remove))
        if gone:
            click.echo(f"removed: {', '.join(gone)}")
    if paths:
        report = _with_seeds(bot.seeded, _add(bot, paths, use_ray, workers, ray_address))
        click.echo(report.summary())
        refused = _refused_by_name(paths, report)
        if refused or (report.problems and not report.added and not report.unchanged and not report.updated):
            click.echo(f"{len(bot.documents())} document(s), {bot.store.count()} passages in {ctx.obj['index_dir']}")
            raise Problem(f"not indexed: {', '.join(refused)}" if refused else "nothing was indexed")
    elif bot.seeded.added:  # a new index, seeded with the demo article
        click.echo(bot.seeded.summary())
    docs = bot.documents()
    click.echo(f"{len(docs)} document(s), {bot.store.count()} passages in {ctx.obj['index_dir']}")
    if unknown:  # after the files named were indexed: one wrong name does not cancel the rest
        raise Problem(f"no document named {', '.join(unknown)} in the index (`qa documents` lists them)")


def _add(bot: Chatbot, paths: tuple[Path, ...], use_ray: bool, workers: int, ray_address: str | None) -> IndexReport:
    if use_ray:
        from qa.ray_ingest import index_with_ray

        return index_with_ray(bot, list(paths), workers=workers, address=ray_address)
    return bot.add_paths(list(paths), progress=lambda stage, frac: click.echo(f"  {stage}") if stage.startswith("saving") else None)


def _refused_by_name(paths: tuple[Path, ...], report: IndexReport) -> list[str]:
    """The files named on the command line (not found in a folder) that were not indexed."""
    from qa.ingest import safe_name

    done = {*report.added, *report.updated, *report.unchanged}
    return [str(p) for p in paths if not p.is_dir() and safe_name(p.name) not in done]


def _with_seeds(seeded: IndexReport, report: IndexReport) -> IndexReport:
    """The report of `qa index` on a new index, counting the seed documents opening it just
    indexed as added (not as "already indexed")."""
    if not seeded or not seeded.added:
        return report
    report.unchanged = [u for u in report.unchanged if u not in seeded.added]
    report.added[:0] = [a for a in seeded.added if a not in report.added]
    report.passages += seeded.passages
    return report


def _rebuild(ctx: click.Context) -> Chatbot:
    """Re-embed the newest readable documents of the store (after changing settings, or when it
    is damaged) and say what was recovered and what could not be."""
    from qa.chatbot import Chatbot
    from qa.config import load_settings

    bot = Chatbot(load_settings(**_options(ctx)), **_parts(ctx))
    salvage = bot.rebuild()
    for problem in salvage.problems:
        click.echo(f"  {problem}", err=True)
    click.echo(f"rebuilt from {salvage.origin}: {len(salvage.documents)} document(s) recovered")
    return bot


@cli.command("info")
@click.option("--measure", is_flag=True, help="Load the reader and the embedder now (measuring their formats if this processor has not been measured).")
@click.pass_context
def info_cmd(ctx: click.Context, measure: bool) -> None:
    """This machine and the number formats of the reader and the embedder: measured choices and their timings."""
    from qa.config import load_settings
    from qa.embed import PACKAGED_RUNTIMES, packaged_model_dir
    from qa.readers import resolve_reader
    from qa.runtime import allowed_formats, cache_file, cpu_flags, here_key, library_versions, processor_name, read_cache

    settings = load_settings(**_options(ctx))
    flags = cpu_flags()
    units = [name for name, flag in (("AMX", "amx_bf16"), ("AVX-512 BF16", "avx512_bf16"), ("AVX-512 VNNI", "avx512_vnni"), ("AVX2", "avx2")) if flag in flags]
    click.echo(f"processor: {processor_name()} ({', '.join(units) or 'no vector units reported'}), {os.cpu_count()} cores")
    click.echo("libraries: " + ", ".join(f"{k} {v}" for k, v in library_versions().items()))
    cascade = settings.reader == "cascade" and not settings.reader_path
    kinds = ["fast", "accurate"] if cascade else [settings.reader]
    folders = [resolve_reader(kind, "" if cascade else settings.reader_path).folder for kind in kinds]
    if cascade:
        from qa.cascade import CASCADE_READER, sure_level

        click.echo(f"reader: cascade: fast, then accurate when the fast reader's confidence is under "
                   f"{sure_level(CASCADE_READER):.0%}; precision setting: {settings.reader_precision}")
    for kind, folder in zip(kinds, folders):
        click.echo(f"reader: {kind} ({folder}); precision setting: {settings.reader_precision}; "
                   f"allowed by its accuracy check: {', '.join(allowed_formats(folder))}")
    embedder_folder = Path(settings.embedder_path) if settings.embedder_path else packaged_model_dir()
    record = Path(settings.embedder_path) if settings.embedder_path else PACKAGED_RUNTIMES
    click.echo(f"embedder: {embedder_folder}; precision setting: {settings.embedder_precision}; "
               f"allowed by its accuracy check: {', '.join(allowed_formats(record))}")
    folders.append(embedder_folder)
    if measure:
        bot = _bot(ctx)
        bot.reader.warm_up()
        stages = [bot.reader.first.reader, bot.reader.second.reader] if cascade else [bot.reader]  # type: ignore[attr-defined]
        bot.embedder.embed(["warm up"])
        click.echo("loaded in: " + ", ".join(str(getattr(r, "dtype", "?")) for r in stages)
                   + f"; embedder: {getattr(bot.embedder, 'dtype', '?')}")
    # Only what was measured with this processor and these libraries: an older choice is not used.
    here = [v for k, v in read_cache().items() if k.startswith(here_key())]
    wanted = {Path(f).resolve() for f in folders}
    mine = [v for v in here if Path(str(v.get("model", ""))).resolve() in wanted] or here
    if not mine:
        click.echo(f"no measured choice yet on this processor (the reader measures on first use; {cache_file()})")
    for entry in mine:
        timings = ", ".join(f"{f} {1000 * t:.0f} ms" for f, t in sorted(entry.get("seconds", {}).items(), key=lambda kv: kv[1]))
        click.echo(f"measured {entry.get('measured', '')}: {entry.get('model')}: chose {entry.get('chosen')} ({timings})")


@cli.command("documents")
@click.pass_context
def documents_cmd(ctx: click.Context) -> None:
    """List the indexed documents."""
    from qa.text import title_of

    bot = _bot(ctx)
    docs = bot.documents()
    if not docs:
        click.echo("no documents indexed yet: add some with `qa index PATH`")
    for d in docs:
        title = title_of(d)
        click.echo(f"{d.id}  {d.source}" + (f"  \u2014 {title}" if title and title != d.source else ""))
    click.echo(f"search: {bot.store.mode}")


DOC_OPTION = click.option("--doc", "docs", multiple=True, metavar="NAME",
                          help="Answer only from this document (file name or id; repeatable). `qa documents` lists them.")


@cli.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@DOC_OPTION
@click.pass_context
def ask_cmd(ctx: click.Context, question: str, as_json: bool, docs: tuple[str, ...]) -> None:
    """Answer one question."""
    from qa.config import load_settings
    from qa.conversation import check_question, clean_question

    problem = check_question(clean_question(question), load_settings(**_options(ctx)).max_question_chars)
    if problem:  # before any model loads
        raise Problem(problem)
    answer = _ask_running_server(ctx, question, [], docs)
    if answer is None:
        click.echo("Loading the models\u2026", err=True)  # seconds on a laptop: said at once
        bot = _bot(ctx)
        _check_scope(bot, docs)
        answer = bot.ask(question, scope=docs)
    if as_json:
        click.echo(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
    else:
        _echo_understood(question, answer)
        click.echo(format_answer(answer))


def _ask_running_server(ctx: click.Context, question: str, history: list, docs: tuple[str, ...]) -> Answer | None:
    """The answer of a `qa serve` of this index with the same settings, when one runs here (`qa.remote`)."""
    from qa.config import load_settings
    from qa.remote import ask_server, find_server

    if _parts(ctx):  # a program gave its own parts: answer with those
        return None
    server = find_server(load_settings(**_options(ctx)))
    answer = ask_server(server, question, history, docs) if server else None
    if answer is not None and answer.kind == "problem" and answer.message.startswith("No document named"):
        raise Problem(answer.message)
    return answer


def _check_scope(bot: Chatbot, docs: tuple[str, ...]) -> None:
    from qa.chatbot import documents_named

    _, unknown = documents_named(bot.documents(), docs)
    if unknown:
        raise Problem(f"no document named {', '.join(unknown)} in the index (`qa documents` lists them)")


@cli.command("chat")
@DOC_OPTION
@click.pass_context
def chat_cmd(ctx: click.Context, docs: tuple[str, ...]) -> None:
    """Chat in the terminal (follow-up questions understood; Ctrl-D to leave)."""
    from qa.config import load_settings
    from qa.conversation import remember
    from qa.remote import ask_server, find_server

    server = None if _parts(ctx) else find_server(load_settings(**_options(ctx)))
    bot = None if server else _loaded_bot(ctx, docs)
    if server:
        click.echo(f"Asking the chat page running at {server['url']} (its models are loaded). Ask a question (Ctrl-D to leave).")
    history: list = []
    while True:
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        answer = ask_server(server, question, history, docs) if server else None
        if answer is None:  # no server, or it stopped: answer here
            bot = bot or _loaded_bot(ctx, docs)
            answer = bot.ask(question, history=history, scope=docs)
        _echo_understood(question, answer)
        click.echo(format_answer(answer))
        history = remember(history, question, answer)


def _loaded_bot(ctx: click.Context, docs: tuple[str, ...]) -> Chatbot:
    click.echo("Loading the models\u2026", err=True)
    bot = _bot(ctx)
    _check_scope(bot, docs)
    bot.warm_up()  # now, not on the first question
    click.echo(f"{len(bot.documents())} document(s) indexed. Ask a question (Ctrl-D to leave).")
    return bot


@cli.command("serve")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1: this computer only).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.option("--share", is_flag=True, default=None, help="Also publish a public Gradio share link.")
@click.option("--auth", default=None, metavar="USER:PASSWORD", help="Require this login (or set QA_AUTH).")
@click.option("--no-uploads", "no_uploads", is_flag=True, help="Do not accept document uploads on the page.")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None, share: bool | None, auth: str | None, no_uploads: bool) -> None:
    """Start the chat page in the browser (http://127.0.0.1:7860)."""
    from qa.app import serve

    extra = {"host": host, "port": port, "share": share, "auth": auth, "uploads": False if no_uploads else None}
    serve(_bot(ctx, extra={k: v for k, v in extra.items() if v is not None}))


@cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(["reader", "e2e"]), default="reader", show_default=True,
              help="reader: each question against its own paragraph; e2e: every paragraph indexed, each question asked of the whole index.")
@click.option("--predictions", type=click.Path(path_type=Path), help="Write {question id: answer, '' when abstaining} here.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), help="Write metrics.json and plots (reliability, F1 against threshold) here.")
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option("--calibrate", "calibrate_out", type=click.Path(path_type=Path), default=None,
              help="Fit the confidence (probability that the answer is right) and the threshold on this file and write them here (e.g. the reader's calibration.json).")
@click.option("--part", type=click.Choice(["first", "second"]), default=None,
              help="Only the first or second half of the file's articles (fit on one, measure on the other).")
@click.option("--na-probs", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the official SQuAD 2.0 no-answer probabilities here: {question id: 1 - confidence of the best answer}.")
@click.pass_context
def eval_cmd(ctx: click.Context, file: Path, mode: str, predictions: Path | None, as_json: bool, report: Path | None,
             limit: int | None, calibrate_out: Path | None, part: str | None, na_probs: Path | None) -> None:
    """Measure EM/F1 on a SQuAD v1.1 or v2.0 file (official scoring).

    Prints EM, F1, HasAns EM/F1, NoAns accuracy, retrieval recall (e2e), latency p50/p95, and
    how well the confidence (the probability that the best answer is right, F1 >= 0.5) separates
    right from wrong answers (AUROC) and matches the share right (ECE).
    """
    from qa.eval.run import run_eval

    bar = _ProgressBar(f"{mode} on {file.name}")
    try:
        summary = run_eval(_options(ctx), file, mode, predictions, report, limit, calibrate_out, part, progress=bar.update,
                           na_probs=na_probs, parts=_parts(ctx))
    finally:
        bar.finish()
    click.echo(json.dumps(summary["metrics"], indent=2) if as_json else format_metrics(summary))


class _ProgressBar:
    """A progress bar on stderr that learns its length from the first update."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
        self.bar.update(done - self.bar.pos)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()


def format_metrics(summary: dict[str, Any]) -> str:
    """`qa eval`'s metrics as an aligned table."""
    m = summary["metrics"]
    rows = [("questions", f"{m['questions']}"), ("EM", f"{m['exact']:.2f}"), ("F1", f"{m['f1']:.2f}")]
    if "HasAns_f1" in m:
        rows += [("HasAns EM", f"{m['HasAns_exact']:.2f}"), ("HasAns F1", f"{m['HasAns_f1']:.2f}")]
    if "NoAns_exact" in m:
        rows.append(("NoAns accuracy", f"{m['NoAns_exact']:.2f}"))
    if "retrieval_recall" in m:
        rows.append((f"retrieval recall@{m.get('top_k')}", f"{m['retrieval_recall']:.2f}"))
    rows += [
        ("latency p50 ms", f"{m.get('latency_p50_ms', 0):.1f}"),
        ("latency p95 ms", f"{m.get('latency_p95_ms', 0):.1f}"),
        ("threshold", f"{m['threshold']:.3f}"),
        ("confidence AUROC", f"{m['auroc']:.3f}" if m.get("auroc") is not None else "n/a"),
        ("confidence ECE", f"{m['ece']:.3f}"),
    ]
    best = summary.get("best_threshold") or {}
    if best:
        rows.append(("best threshold here", f"{best['threshold']:.3f} (F1 {best['f1']:.2f})"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


@cli.command("train-reader")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared/data/qa-train"), show_default=True, help="Folder of the SQuAD-format training files.")
@click.option("--out", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/reader-out"), show_default=True, help="Where to write the trained reader.")
@click.option("--work", "work_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/reader"), show_default=True, help="Checkpoint folder; a run restarted with the same folder resumes.")
@click.option("--epochs", type=float, default=None, help="Passes over the data (default 1).")
@click.option("--max-length", type=int, default=None, help="Tokens per training window (default 192).")
@click.option("--batch-size", type=int, default=None, help="Windows per step (default 32).")
@click.option("--lr", "learning_rate", type=float, default=None, help="Peak learning rate (default 1e-4).")
@click.option("--unanswerable", "unanswerable_ratio", type=float, default=None, help="Synthetic unanswerable questions per answerable one (default 0.35).")
@click.option("--question-edits", "question_edit_share", type=float, default=None, help="Share of those made by editing the question: entity swap, antonym, negation (default 0.6).")
@click.option("--max-examples", type=int, default=None, help="Use only this many answerable questions (quick trials).")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default=None, help="auto: bf16 where the processor supports it.")
@click.option("--seed", type=int, default=None, help="Random seed (default 13).")
@click.option("--base", "base", default="fast", show_default=True, metavar="fast|accurate|DIR",
              help="Encoder to start from: fast (MiniLM-L6), accurate (MPNet-base, needs qa[accurate]) or a model folder.")
@click.option("--tune", type=click.Choice(["full", "lora", "top"]), default=None,
              help="Weights trained: full, lora (small adapters; default for accurate) or top (the top layers).")
@click.option("--lora-rank", type=int, default=None, help="Rank of the LoRA adapters (default 16).")
@click.option("--top-layers", type=int, default=None, help="Layers trained with --tune top (default 4).")
def train_reader_cmd(data_dir: Path, output_dir: Path, work_dir: Path, **options: Any) -> None:
    """Train the extractive reader from the packaged MiniLM encoder.

    The defaults are the recipe of the shipped reader: SQuAD v1.1 train (76k questions),
    some TyDi QA English and SQuAD-Shifts, COVID-QA, plus synthetic unanswerable questions
    (edited questions, paragraphs without the answer), one pass at 192 tokens, bf16 on a CPU
    that has it. About 2 hours on 2 cores; uses a GPU when
    one is present. Stop it any time: the same command resumes from the last checkpoint
    (every 10 minutes). Then run `qa eval` on the DEV files to measure and calibrate it.

    With --base accurate it trains the accurate reader: LoRA adapters over the 12-layer
    MPNet encoder (needs qa[accurate]), written as a small folder that --reader DIR loads.
    """
    from qa.train.loop import TrainConfig, train_reader
    from qa.train.tuning import recipe_defaults

    given = recipe_defaults({k: v for k, v in options.items() if v is not None})
    cfg = TrainConfig(data_dir=data_dir, output_dir=output_dir, work_dir=work_dir, **given)
    train_reader(cfg, log=click.echo)


def _echo_understood(question: str, answer: Answer) -> None:
    """Say how a rewritten question (follow-up, corrected typo) was understood."""
    if answer.question and answer.question != " ".join(question.split()):
        click.echo(f"(understood as: {answer.question})")


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """An `Answer` as plain JSON-ready data."""
    from dataclasses import asdict

    return asdict(answer)


def format_answer(answer: Answer) -> str:
    """An answer as terminal text: the span, its source and confidence, the sentence around it.

    An answer below `qa.render.LOW_CONFIDENCE` is led by "Not sure:".
    """
    from qa.layout import Place
    from qa.render import hedge, shown_line

    lines = []
    if answer.message and not answer.text:
        lines.append(answer.message)
    if answer.kind == "summary":
        for a in answer.alternatives:
            place = Place(a.page, a.section, a.line).describe()
            lines += [f"  > {shown_line(a.quote).strip()}", f"    source: {a.source}{', ' + place if place else ''}"]
        return "\n".join(lines)
    for i, a in enumerate((answer, *answer.alternatives)):
        if not a.text:
            continue
        lead = "" if i == 0 else "Also: "
        lines.append(f"{lead}{hedge(a.score)}{a.text.strip()}")
        lines.append(f"  > {shown_line(a.quote).strip()}")
        title = f" \u2014 {a.title}" if a.title and a.title != a.source else ""
        place = Place(a.page, a.section, a.line).describe()
        lines.append(f"  source: {a.source}{title}{', ' + place if place else ''}, confidence {a.score:.0%}")
    return "\n".join(lines)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
