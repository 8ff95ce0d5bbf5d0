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
from typing import Any

from qa.render import escape, render_answer, render_documents

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

UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf"]
LOADING_NOTE = "Loading the models\u2026 your question will be answered in a few seconds."
ASK_CONCURRENCY = 8  # questions in flight at once; qa.batching reads them together (8 beat 16 in benchmarks/load.py)


class Warmup:
    """Loads the bot's models in a background thread, so that the page is up at once."""

    def __init__(self, bot: Any) -> None:
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


def build_app(bot: Any, warmup: Warmup | None = None) -> Any:
    """The chat page (a `gr.Blocks`) over a `Chatbot`; questions asked before `warmup` is done
    get a note, then their answer once the models are loaded."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    settings = bot.settings

    def ask(message: str, chat: list[dict[str, str]], turns: list[tuple[str, Any]]):
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
            answer = bot.ask(message, history=turns)
            reply = render_answer(answer, message)
            if answer.text or answer.message.startswith("The documents don't say"):
                turns.append((message, answer))
                turns = turns[-6:]
        except Exception:  # the page must keep working whatever happens
            log.exception("question failed")
            reply = escape("Sorry, something went wrong while answering. Please try again or rephrase the question.")
        chat.append({"role": "assistant", "content": reply})
        yield "", chat, turns

    def upload(files: list[str] | None, progress: Any = gr.Progress()):
        from qa.ingest import IngestError, load_file

        if not settings.uploads:
            return "Uploads are switched off on this server.", render_documents(bot.documents()), gr.update(), None
        files = files or []
        docs, problems = [], []
        for i, path in enumerate(files):
            progress((i, len(files)), desc=f"reading {Path(path).name}")
            try:
                docs.append(load_file(path, settings.max_upload_mb * 1024 * 1024, name=Path(path).name))
            except IngestError as err:
                problems.append(str(err))
            except Exception:
                log.exception("reading an upload failed")
                problems.append(f"{Path(path).name}: could not be read")
        try:
            report = bot.add_documents(docs, progress=lambda stage, frac: progress(frac, desc=stage))
            report.problems[:0] = problems
            status = report.summary()
        except Exception:
            log.exception("indexing failed")
            status = "Indexing failed; the documents already indexed are unchanged. Please try again."
        # The upload box is emptied, so the next upload holds only the new files.
        return escape(status), render_documents(bot.documents()), gr.update(choices=_doc_choices(bot), value=None), None

    def remove(name: str | None):
        if not settings.uploads:
            return "Changing documents is switched off on this server.", render_documents(bot.documents()), gr.update()
        if not name:
            return "Choose a document to remove.", render_documents(bot.documents()), gr.update()
        try:
            gone = bot.remove([name])
            status = f"Removed {', '.join(gone)}." if gone else "No such document."
        except Exception:
            log.exception("remove failed")
            status = "Removing failed; nothing was changed."
        return escape(status), render_documents(bot.documents()), gr.update(choices=_doc_choices(bot), value=None)

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
                examples = gr.Examples(EXAMPLES, inputs=box, label="Examples (click one)")
                clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=1):
                gr.Markdown("### Documents")
                doc_list = gr.HTML(render_documents(bot.documents()), elem_id="qa-documents")
                status = gr.HTML("", elem_id="qa-status")
                if settings.uploads:
                    files = gr.File(label=f"Add documents (txt, md, html, pdf \u00b7 up to {settings.max_upload_mb} MB each)",
                                    file_count="multiple", file_types=UPLOAD_TYPES, type="filepath", elem_id="qa-upload")
                    with gr.Row():
                        pick = gr.Dropdown(choices=_doc_choices(bot), value=None, label="Remove a document", scale=3)
                        drop = gr.Button("Remove", size="sm", scale=1)
                    files.upload(upload, inputs=files, outputs=[status, doc_list, pick, files], concurrency_limit=1, concurrency_id="index")
                    drop.click(remove, inputs=pick, outputs=[status, doc_list, pick], concurrency_limit=1, concurrency_id="index")
        send.click(ask, inputs=[box, chat, turns], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_name="ask")
        # One public API endpoint, "ask"; the other triggers of the same function stay private.
        box.submit(ask, inputs=[box, chat, turns], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private")
        # A clicked example is asked at once, not only copied into the box.
        examples.load_input_event.then(ask, inputs=[box, chat, turns], outputs=[box, chat, turns], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask", api_visibility="private")
        clear.click(lambda: ([], []), outputs=[chat, turns])
        chat.clear(lambda: [], outputs=turns)
    return demo


def _doc_choices(bot: Any) -> list[str]:
    return sorted(d.source for d in bot.documents())


def _theme() -> Any:
    import gradio as gr

    # System fonts only: the default theme fetches web fonts, and the page must work offline.
    return gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(bot: Any, block: bool = True) -> Any:
    """Start the chat page with the bot's settings (host, port, share, auth, uploads).

    The page is up before the models are loaded: they load in the background, and a question
    asked meanwhile waits for them. A reader that cannot be loaded stops a blocking serve with
    its message (ReaderLoadError).
    """
    from qa.batching import batch_models

    s = bot.settings
    started = time.perf_counter()
    batch_models(bot)
    warmup = Warmup(bot).start()
    demo = build_app(bot, warmup)
    demo.queue(default_concurrency_limit=1, max_size=256)
    auth = tuple(s.auth.split(":", 1)) if s.auth else None
    if not _is_loopback(s.host) and not auth:
        log.warning("the chat page is open to the network at %s without a login; set QA_AUTH=user:password to require one", s.host)
    demo.launch(
        server_name=s.host, server_port=s.port, share=s.share, auth=auth, max_file_size=f"{s.max_upload_mb}mb",
        show_error=False, quiet=False, prevent_thread_lock=True, theme=_theme(), css=CSS,
        footer_links=[], allowed_paths=[], app_kwargs={},
    )
    log.info("chat page ready in %.1f s", time.perf_counter() - started)
    if block:
        warmup.done.wait()
        if warmup.error is not None:
            demo.close()
            raise warmup.error
        demo.block_thread()
    return demo


def main() -> None:
    """`python app.py`: the chat page over index/ (built from seeds/ if missing)."""
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from qa.chatbot import Chatbot
    from qa.config import SettingsError, load_settings
    from qa.store.base import StoreError
    from qa.read import ReaderLoadError

    try:
        serve(Chatbot.load(load_settings().index_dir))
    except (SettingsError, StoreError, ReaderLoadError, ValueError) as err:
        sys.exit(f"qa: {err}")
