"""The Gradio chat page: ask, read the answer in its passage, upload documents.

Only this module imports gradio. Every handler catches its errors and answers in the chat,
so a bad question or file never breaks the page.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAError
from qa.render import escape, render_answer, render_documents

if TYPE_CHECKING:
    from qa.chatbot import Chatbot
    from qa.types import Document

log = logging.getLogger("qa.app")

EXAMPLES = [
    "What did Xi say?",
    "Who did Lee meet on Tuesday?",
    "What did he tell Lee?",
    "What has North Korea refused?",
    "What is this about?",
]

CSS = """
#qa-chat .qa-answer p { margin: .15em 0; }
#qa-chat .qa-answer + .qa-answer { margin-top: .7em; padding-top: .6em; border-top: 1px solid var(--border-color-primary); }
#qa-chat .qa-answer strong { font-size: 1.05em; }
#qa-chat .qa-answer blockquote { border-left: 3px solid #e3a008; margin: .35em 0 !important; padding: .15em .8em; font-style: normal; }  /* Gradio's is !important */
#qa-chat mark { background: #fde68a; color: #1f2937; padding: 0 .15em; border-radius: 3px; }
#qa-chat .qa-source, #qa-chat .qa-understood, #qa-chat details summary { color: var(--body-text-color-subdued); font-size: .85em; }
#qa-chat details summary { cursor: pointer; margin-top: .2em; }
#qa-chat details p { font-size: .92em; margin-top: .3em; }
#qa-chat .qa-abstain { color: #b45309; }
#qa-status { white-space: pre-line; font-size: .9em; }
#qa-documents ul { margin: .2em 0 0 1.1em; }
#qa-documents code { word-break: break-all; }
footer { display: none !important; }
"""

REFRESH_SECONDS = 5  # how often an open page checks for documents changed elsewhere
# Any file can be dropped on the page: one qa does not read is named in the status with the
# reason (a type filter on the upload box refused it in a pop-up that vanished).
UPLOAD_HINT = "txt, md, html, pdf, docx, pptx, xlsx, odt, epub, csv"
LOADING_NOTE = "Loading the models\u2026 your question will be answered in a few seconds."
ASK_CONCURRENCY = 8  # questions in flight at once; qa.batching reads them together (8 beat 16 in benchmarks/load.py)


class Warmup:
    """Loads the bot's models in a background thread, so that the page is up at once."""

    def __init__(self, bot: Chatbot) -> None:
        self.bot = bot
        self.done = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> "Warmup":
        threading.Thread(target=self._run, name="qa-warm-up", daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self.bot.warm_up()
            log.info("models ready in %.1f s", time.perf_counter() - started)
        except BaseException as err:  # reported by serve() or by the question that waits
            log.exception("loading the models failed")
            self.error = err
        finally:
            self.done.set()


def build_app(bot: Chatbot, warmup: Warmup | None = None) -> Any:
    """The chat page (a `gr.Blocks`) over a `Chatbot`; questions asked before `warmup` is done
    get a note, then their answer once the models are loaded."""
    # Longer than ~60 lines on purpose: Gradio declares a page as nested `with` blocks, and the
    # three handlers are closures over `bot` and `settings` next to the components they update;
    # the layout reads top to bottom as the page looks.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    settings = bot.settings

    def ask(message: str, chat: list[dict[str, str]], turns: list[tuple[str, Any]], scope: list[str] | None = None):
        from qa.conversation import remember

        chat = list(chat or [])
        turns = list(turns or [])
        message = message if isinstance(message, str) else ""
        shown = message if len(message) <= 500 else message[:500] + "\u2026"
        if shown.strip():  # an empty question gets a reply, not an empty bubble
            chat.append({"role": "user", "content": escape(shown)})
        if warmup is not None and not warmup.done.is_set():
            yield "", [*chat, {"role": "assistant", "content": escape(LOADING_NOTE)}], turns
            warmup.done.wait()
        try:
            answer = bot.ask(message, history=turns, scope=[n for n in (scope or []) if isinstance(n, str)])
            reply = render_answer(answer, message)
            turns = remember(turns, message, answer)
        except QAError as err:  # a problem qa can put in words (a damaged index, a missing reader)
            reply = escape(str(err))
        except Exception:  # the page must keep working whatever happens
            log.exception("question failed")
            reply = escape("Sorry, something went wrong while answering. Please try again or rephrase the question.")
        chat.append({"role": "assistant", "content": reply})
        yield "", chat, turns

    def upload(files: list[str] | None, progress: Any = gr.Progress()):
        try:
            return _index_uploads(files or [], progress)
        finally:  # Gradio's copy of each file is not needed once it is indexed or refused
            forget_uploads(files or [])

    def _index_uploads(files: list[str], progress: Any):
        if not settings.uploads:
            return "Uploads are switched off on this server.", *_listing(bot), None
        try:
            # Gradio keeps each upload under its own name, so the file name is the source shown.
            report = bot.add_paths(files or [], progress=lambda stage, frac: progress(frac, desc=stage))
            status = report.summary()
        except QAError as err:
            status = f"Indexing failed ({err}); the documents already indexed are unchanged."
        except Exception:
            log.exception("indexing failed")
            status = "Indexing failed; the documents already indexed are unchanged. Please try again."
        # The upload box is emptied (after a refusal too), so the next upload holds only the new files.
        return escape(status), *_listing(bot), None

    def remove(name: str | None):
        if not settings.uploads:
            return "Changing documents is switched off on this server.", *_listing(bot)
        if not name:
            return "Choose a document to remove.", *_listing(bot)
        try:
            gone = bot.remove([name])
            status = f"Removed {', '.join(gone)}." if gone else f"{name} is not in the index (perhaps removed from another page or the command line); the list is now up to date."
        except QAError as err:
            status = f"Removing failed ({err}); nothing was changed."
        except Exception:
            log.exception("remove failed")
            status = "Removing failed; nothing was changed."
        return escape(status), *_listing(bot)

    def refresh(shown: str):
        """The document list and removal menu, when the documents changed since `shown`."""
        current = _signature(bot)
        if current == shown:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return *_listing(bot, keep_choice=True), current

    with gr.Blocks(title="qa \u00b7 ask your documents", analytics_enabled=False, fill_height=True) as demo:
        gr.Markdown("## Ask your documents\nAnswers are the documents' own words, highlighted in their passage, with the source and a confidence. When the documents don't say, I say so.")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                # No label (it floats over the first message) and no "share" button (it posts to
                # Hugging Face; this page is offline).
                chat = gr.Chatbot(
                    label="Chat", show_label=False, height=520, elem_id="qa-chat", sanitize_html=True, latex_delimiters=[],
                    placeholder="Ask a question about the documents, or click an example below.",
                    buttons=["copy", "copy_all"],
                )
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question\u2026", show_label=False, scale=5, elem_id="qa-question", max_lines=4, autofocus=True)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                examples = gr.Examples(examples_for(bot.documents(), seed_names(settings.seed_dir)), inputs=box, label="Examples (click one)")
                clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=1):
                gr.Markdown("### Documents")
                # Filled when the page loads and kept current: documents added or removed
                # anywhere (another page, `qa index`) show up within REFRESH_SECONDS.
                doc_list = gr.HTML(render_documents(bot.documents()), elem_id="qa-documents")
                scope = gr.Dropdown(choices=sorted(d.source for d in bot.documents()), value=[], multiselect=True,
                                    label="Answer only from (empty: all documents)", elem_id="qa-scope", allow_custom_value=True)
                shown = gr.State("")
                status = gr.HTML("", elem_id="qa-status")
                if settings.uploads:
                    files = gr.File(label=f"Add documents ({UPLOAD_HINT} \u00b7 up to {settings.max_upload_mb} MB each)",
                                    file_count="multiple", type="filepath", elem_id="qa-upload")
                with gr.Row(visible=settings.uploads):
                    # Custom values pass Gradio's own check, so a name another session removed
                    # gets our message rather than "not in the list of choices".
                    pick = gr.Dropdown(choices=[], value=None, label="Remove a document", scale=3,
                                       allow_custom_value=True, elem_id="qa-remove-pick")
                    drop = gr.Button("Remove", size="sm", scale=1, elem_id="qa-remove")
                if settings.uploads:
                    files.upload(upload, inputs=files, outputs=[status, doc_list, pick, scope, examples.dataset, files],
                                 concurrency_limit=1, concurrency_id="index", show_progress_on=[status])
                    drop.click(remove, inputs=pick, outputs=[status, doc_list, pick, scope, examples.dataset], concurrency_limit=1,
                               concurrency_id="index", show_progress_on=[status])
                timer = gr.Timer(REFRESH_SECONDS)
                for trigger in (demo.load, timer.tick, pick.focus):
                    trigger(refresh, inputs=shown, outputs=[doc_list, pick, scope, examples.dataset, shown], show_progress="hidden", queue=False,
                            api_visibility="private")
        send.click(ask, inputs=[box, chat, turns, scope], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_name="ask")
        # One public API endpoint, "ask"; the other triggers of the same function stay private.
        box.submit(ask, inputs=[box, chat, turns, scope], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private")
        # A clicked example is asked at once, not only copied into the box.
        examples.load_input_event.then(ask, inputs=[box, chat, turns, scope], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private")
        clear.click(lambda: ([], []), outputs=[chat, turns])
        chat.clear(lambda: [], outputs=turns)
    return demo


def _listing(bot: Chatbot, keep_choice: bool = False) -> tuple[str, Any, Any, Any]:
    """The documents panel's HTML, the removal menu's and the scope menu's updates, and the
    examples, from the latest index.

    Args:
        keep_choice: Leave the removal menu's chosen name as it is (a refresh must not undo a choice).
    """
    import gradio as gr

    docs = bot.documents()
    choices = sorted(d.source for d in docs)
    examples = gr.Dataset(samples=[[q] for q in examples_for(docs, seed_names(bot.settings.seed_dir))])
    pick = gr.update(choices=choices) if keep_choice else gr.update(choices=choices, value=None)
    return render_documents(docs), pick, gr.update(choices=choices), examples


def seed_names(seed_dir: str) -> set[str]:
    """The file names of the demo documents (the seed folder's files)."""
    return {p.name for p in Path(seed_dir).glob("*") if p.is_file()} if seed_dir else set()


def examples_for(documents: list[Document], seeds: set[str], most: int = 5) -> list[str]:
    """Example questions that fit the documents indexed: the demo article's while it is there,
    then a summary of each of the user's documents (newest names last, so a few of each)."""
    from qa.text import title_of

    shown: list[str] = []
    if any(d.source in seeds for d in documents):
        shown += EXAMPLES[:3] if len(documents) > 1 else EXAMPLES
    for d in sorted((d for d in documents if d.source not in seeds), key=lambda d: d.source.lower()):
        title = title_of(d)
        shown.append(f"Summarize {d.source}" if not title or len(title) > 60 else f"What is {d.source} about?")
    return shown[:most] or ["What is this about?"]


def _signature(bot: Chatbot) -> str:
    """Changes whenever the set of documents does."""
    return "\n".join(sorted(d.id + d.source for d in bot.documents()))


def upload_folder() -> Path:
    """Where Gradio keeps uploaded files until a handler takes them."""
    import tempfile

    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def forget_uploads(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploaded files (and their emptied folders), so that
    no upload outlives its indexing or refusal. Only files inside Gradio's upload folder."""
    root = upload_folder()
    for path in paths:
        file = Path(path).resolve()
        if root not in file.parents:
            continue
        file.unlink(missing_ok=True)
        try:
            file.parent.rmdir()  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass


UNCLAIMED_UPLOAD_SECONDS = 600  # an upload no handler took within this long is deleted
_FILE_ROUTES = ("/upload", "/process_recording")  # Gradio's routes that store a file


def _carries_a_file(scope: dict) -> bool:
    if scope.get("type") != "http" or scope.get("method") != "POST":
        return False
    headers = dict(scope.get("headers") or [])
    multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
    return multipart or scope.get("path", "").rstrip("/").endswith(_FILE_ROUTES)


async def _refuse(send: Any, status: int, message: str) -> None:
    import json as _json

    body = _json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class UploadGate:
    """ASGI middleware in front of every route that stores a file (any multipart POST, and
    Gradio's upload and recording routes): with uploads off, each is answered 403; with them on,
    a file is refused (507) while unclaimed uploads already hold `cap_bytes` on disk, so no client
    can fill the disk with files it never indexes (`sweep_uploads` deletes those)."""

    def __init__(self, app: Any, uploads: bool = False, cap_bytes: int = 0) -> None:
        self.app, self.uploads, self.cap_bytes = app, uploads, cap_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if _carries_a_file(scope):
            if not self.uploads:
                return await _refuse(send, 403, "Uploads are switched off on this server.")
            if self.cap_bytes and _folder_bytes(upload_folder()) >= self.cap_bytes:
                return await _refuse(send, 507, "Too many uploads are waiting to be indexed; try again in a few minutes.")
        await self.app(scope, receive, send)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for f in folder.rglob("*") if folder.is_dir() else []:
        try:
            total += f.stat().st_size if f.is_file() else 0
        except OSError:
            pass
    return total


def sweep_uploads(older_than: float = UNCLAIMED_UPLOAD_SECONDS, now: float | None = None) -> list[Path]:
    """Delete files in Gradio's upload folder that no handler took within `older_than` seconds
    (uploads never followed by indexing, and the empty files Gradio leaves); returns them."""
    now = time.time() if now is None else now
    root, gone = upload_folder(), []
    for f in sorted(root.rglob("*")) if root.is_dir() else []:
        try:
            if f.is_file() and not f.is_symlink() and now - f.stat().st_mtime > older_than:
                f.unlink()
                gone.append(f)
        except OSError:
            continue
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True) if root.is_dir() else []:
        try:
            folder.rmdir()  # only when emptied
        except OSError:
            pass
    return gone


def _sweep_forever(stop: threading.Event, every: float = 60.0) -> None:
    while not stop.wait(every):
        sweep_uploads()


def _theme() -> Any:
    import gradio as gr

    # System fonts only: the default theme fetches web fonts, and the page must work offline.
    return gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(bot: Chatbot, block: bool = True) -> Any:
    """Start the chat page with the bot's settings (host, port, share, auth, uploads).

    The page is up before the models are loaded: they load in the background, and a question
    asked meanwhile waits for them. A reader that cannot be loaded stops a blocking serve with
    its message (ReaderLoadError).
    """
    from qa.batching import batch_models

    s = bot.settings
    started = time.perf_counter()
    batch_models(bot)
    warmup = Warmup(bot)  # started once the page listens: loading models competes with building it
    demo = build_app(bot, warmup)
    demo.queue(default_concurrency_limit=1, max_size=256)
    auth = tuple(s.auth.split(":", 1)) if s.auth else None
    if not _is_loopback(s.host) and not auth:
        log.warning("the chat page is open to the network at %s without a login; set QA_AUTH=user:password to require one", s.host)
    try:
        # quiet: Gradio's own start-up lines give advice in its terms (share=True in launch()).
        demo.launch(
            server_name=s.host, server_port=s.port, share=s.share, auth=auth, max_file_size=f"{s.max_upload_mb}mb",
            show_error=False, quiet=True, prevent_thread_lock=True, theme=_theme(), css=CSS,
            footer_links=[], allowed_paths=[], app_kwargs=_app_kwargs(s.uploads, _upload_cap(s)),
        )
    except OSError as err:
        if "port" not in str(err):
            raise
        raise OSError(f"port {s.port} on {s.host} is in use (another qa or program?): stop it, or choose another "
                      f"port with --port N or QA_PORT=N") from None
    warmup.start()
    add_document_view(demo.app, bot)
    add_command_line_door(demo.app, bot, warmup)
    sweep_uploads()  # what an earlier run left
    threading.Thread(target=_sweep_forever, args=(threading.Event(),), name="qa-upload-sweeper", daemon=True).start()
    log.info("chat page ready in %.1f s", time.perf_counter() - started)
    print(f"qa: the chat page is at http://{s.host}:{s.port} \u2014 open it in a browser (Ctrl-C stops it)", flush=True)
    print(f"{len(bot.documents())} document(s); search: {bot.store.mode}", flush=True)  # which store mode serves
    if block:
        warmup.done.wait()
        if warmup.error is not None:
            demo.close()
            raise warmup.error
        demo.block_thread()
    return demo


def add_document_view(app: Any, bot: Chatbot) -> None:
    """GET /document/{id}?start=&end=: the cited document, whole, with the answer marked and
    scrolled to (`qa.render.render_document_page`). Behind the page's login when it has one;
    served with a policy that lets it run no script and load nothing."""
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from qa.render import render_document_page

    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer"}

    async def document(request: Request) -> HTMLResponse:
        if not _signed_in(app, request):
            return HTMLResponse("<p>Sign in on the chat page first.</p>", status_code=401, headers=headers)
        doc = bot.indexer.latest().documents.get(request.path_params["doc_id"])
        if doc is None:
            return HTMLResponse("<p>This document is no longer indexed.</p>", status_code=404, headers=headers)
        start, end = (_int(request.query_params.get(k)) for k in ("start", "end"))
        return HTMLResponse(render_document_page(doc, start, end), headers=headers)

    # First, so that no route of Gradio's (a catch-all) answers this path instead.
    app.router.routes.insert(0, Route("/document/{doc_id}", document, methods=["GET"]))


def add_command_line_door(app: Any, bot: Chatbot, warmup: Warmup) -> None:
    """POST /api/qa/ask for `qa ask` and `qa chat` on this machine (`qa.remote`): the token they
    read from SERVING.json in the index folder (owner-only) opens it; the file goes when qa exits."""
    import atexit
    from dataclasses import asdict

    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from qa.remote import ASK_PATH, TOKEN_HEADER, announce, withdraw
    from qa.types import answer_from_dict

    token = announce(bot.settings)
    atexit.register(withdraw, bot.settings, token)

    async def ask(request: Request) -> JSONResponse:
        if request.headers.get(TOKEN_HEADER) != token:
            return JSONResponse({"detail": "not allowed"}, status_code=403)
        try:
            data = await request.json()
            question = str(data["question"])
            history = [(str(q), answer_from_dict(a)) for q, a in data.get("history") or []]
            scope = [str(n) for n in data.get("scope") or []]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"detail": "a question is needed"}, status_code=400)
        await run_in_threadpool(warmup.done.wait)
        answer = await run_in_threadpool(bot.ask, question, history, scope)
        return JSONResponse(asdict(answer))

    app.router.routes.insert(0, Route(ASK_PATH, ask, methods=["POST"]))


def _signed_in(app: Any, request: Any) -> bool:
    """Whether the request comes from a browser signed in to the page (always, without a login)."""
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    cookie = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie}") or request.cookies.get(f"access-token-unsecure-{cookie}")
    return token is not None and app.tokens.get(token) is not None


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _upload_cap(s: Any) -> int:
    """Bytes that unclaimed uploads may hold on disk: five largest files without a login, twenty with one."""
    return (20 if s.auth else 5) * s.max_upload_mb * 1024 * 1024


def _app_kwargs(uploads: bool, cap_bytes: int) -> dict[str, Any]:
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(UploadGate, uploads=uploads, cap_bytes=cap_bytes)]}


def main() -> None:
    """`python app.py`: the chat page over index/ (built from seeds/ if missing)."""
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from qa.chatbot import Chatbot
    from qa.config import load_settings
    from qa.errors import QAError

    try:
        serve(Chatbot.load(load_settings().index_dir))
    except (QAError, OSError) as err:  # OSError: a busy port
        sys.exit(f"qa: {err}")
