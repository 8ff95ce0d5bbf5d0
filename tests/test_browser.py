"""The chat page in a real browser: headless Chromium (Debian's package) driven by Playwright.

The real page (`qa.app.serve`) runs in this process on a free loopback port, over a temporary
index of the seed article and a hostile document full of markup. Every request the page makes
to a host other than this machine is refused and recorded, so the page is tested offline.

Needs Debian's `chromium` (`make test` installs it with `make browser`); fails without it.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import SEED, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright import sync_api  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSWER_TIMEOUT_MS = 180_000  # the machine may be busy (training); answers are usually a few seconds
BOT = "#qa-chat [data-testid=bot]"
USER = "#qa-chat [data-testid=user]"
QUESTION = "#qa-question textarea"

# A document that tries every way of running script through the chat page. The answer to
# ZORBLAX_QUESTION is in the sentence that carries the markup, so the markup is in the quote.
HOSTILE = """The Zorblax Festival of Quenton

The Zorblax festival was first held in Quenton in 1887, under a banner that read <script>window.__pwned=1</script> and showed <img src=x onerror="window.__pwned=2"> beside the words [click me](javascript:window.__pwned=3).
The festival was founded by the baker Mirela Tosk to celebrate the harvest of blue turnips.
Every year the festival crowns a Turnip Queen and ends with a parade of lanterns along the river Vell.
"""
ZORBLAX_QUESTION = "In which year was the Zorblax festival first held in Quenton?"

UPLOADED = "The Plimsoll lighthouse on Garrow Point was painted green in 1932 by its keeper, Anselm Vey.\nIt has 212 steps.\n"
UPLOADED_NAME = "garrow_lighthouse.txt"

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SERVED: dict[str, Path] = {}  # the served index folder, for the command line to change


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shipped_reader: Any, real_embedder: Any) -> Iterator[Any]:
    """The chat page over the seed article and the hostile document; yields its URL."""
    from qa.app import serve
    from qa.chatbot import Chatbot
    from qa.config import Settings

    folder = tmp_path_factory.mktemp("browser")
    seeds = folder / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    (seeds / "zorblax.txt").write_text(HOSTILE, encoding="utf-8")
    port = free_port()
    settings = Settings(index_dir=str(folder / "index"), seed_dir=str(seeds), host="127.0.0.1", port=port)
    bot = Chatbot(settings, embedder=real_embedder, reader=shipped_reader)
    bot.open()
    SERVED["index"] = folder / "index"
    demo = serve(bot, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        assert CHROMIUM, "chromium is not installed: run `make browser` (apt-get install chromium)"
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


EXTERNAL: list[str] = []  # every non-local URL the page asked for, in any test of this module


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page (own cookies and session) on the chat page; non-local requests are refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:
            EXTERNAL.append(url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("pageerror", lambda err: errors.append(str(err)))
    pg.goto(server)
    pg.wait_for_selector("#qa-ask", timeout=60_000)
    pg.js_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def ask(page: Any, question: str) -> Any:
    """Type `question`, press Ask, and return the reply (a locator) once it is shown."""
    before = page.locator(BOT).count()
    page.fill(QUESTION, question)
    page.click("#qa-ask")
    return wait_reply(page, before)


def wait_reply(page: Any, before: int) -> Any:
    page.wait_for_function(f"document.querySelectorAll({BOT!r}).length > {before}", timeout=ANSWER_TIMEOUT_MS)
    return page.locator(BOT).last


def pwned(page: Any) -> Any:
    return page.evaluate("() => window.__pwned")


def test_ask_shows_answer_highlight_source_and_confidence(page: Any) -> None:
    reply = ask(page, "What did Xi say?")
    text = reply.inner_text()
    assert reply.locator("mark").count() >= 1, text
    assert reply.locator("strong").first.inner_text().strip()  # the answer itself
    assert SEED.name in text
    assert re.search(r"confidence \d+%", text), text
    reply.locator("summary").first.click()  # the passage opens and shows the whole context
    assert "patience" in reply.inner_text()
    assert page.input_value(QUESTION) == ""  # the box is ready for the next question


def test_the_cited_document_opens_at_the_highlighted_answer(page: Any) -> None:
    reply = ask(page, ZORBLAX_QUESTION)
    link = reply.locator("a", has_text="Open the document").first
    with page.context.expect_page() as opened:
        link.click()
    doc = opened.value
    doc.wait_for_load_state()
    mark = doc.locator("mark#answer")
    assert mark.count() == 1 and "1887" in mark.inner_text()
    assert doc.evaluate("() => window.__pwned") is None  # the hostile markup is text here too
    assert "<script>window.__pwned=1</script>" in doc.inner_text("pre")
    assert page.locator(BOT).count() >= 1  # the chat stays where it was


def test_a_word_file_is_uploaded_and_answered_with_its_section(page: Any, tmp_path: Path) -> None:
    from tests.office_files import FACTS, write_docx

    page.set_input_files("#qa-upload input[type=file]", str(write_docx(tmp_path / "ferries.docx")))
    page.wait_for_function("(t => t.includes('indexed') && t.includes('ferries.docx'))(document.querySelector('#qa-status').innerText)",
                           timeout=ANSWER_TIMEOUT_MS)
    _sentence, question, words, section = FACTS["ferries.docx"]
    text = ask(page, question).inner_text()
    assert words in text and "ferries.docx" in text and section in text, text


def test_hostile_document_is_shown_as_text(page: Any) -> None:
    reply = ask(page, ZORBLAX_QUESTION)
    assert pwned(page) is None
    assert "zorblax.txt" in reply.inner_text()
    # No element that could run or load anything came from the document.
    assert reply.locator("script, img, iframe, object, embed, [onerror], [onclick], a[href^='javascript']").count() == 0
    # Click everything that can be clicked (summary first opens the passage, then its insides).
    for element in reply.locator("a, button, summary, mark, code, blockquote, strong, [href], [role=button]").all():
        if element.is_visible():
            element.click(timeout=5_000)
            page.wait_for_timeout(100)
            assert pwned(page) is None
    text = reply.inner_text()
    for literal in ("<script>", "onerror", "javascript:", "[click me]"):
        assert literal in text, f"{literal!r} is not shown as text in: {text}"
    assert reply.get_by_text("<script>", exact=False).first.is_visible()

    # The user's own words are text too.
    ask(page, 'What did <img src=x onerror="window.__pwned=5"> say?')
    assert "<img src=x" in page.locator(USER).last.inner_text()
    assert pwned(page) is None
    assert page.locator("#qa-chat img[src=x]").count() == 0


def test_example_question_is_answered_on_click(page: Any) -> None:
    before = page.locator(BOT).count()
    page.get_by_text("What did Xi say?", exact=True).click()
    reply = wait_reply(page, before)
    assert "What did Xi say?" in page.locator(USER).last.inner_text()
    assert SEED.name in reply.inner_text() or "don't say" in reply.inner_text()


def test_empty_and_huge_questions_get_a_message_and_the_page_keeps_working(page: Any) -> None:
    reply = ask(page, "")
    assert "Please type a question" in reply.inner_text()
    reply = ask(page, "why " * 12_499 + "why?")  # 50,000 characters
    assert "50,000 characters" in reply.inner_text()
    assert len(page.locator(USER).last.inner_text()) < 1_000  # the huge question is shown shortened
    reply = ask(page, "What did Xi say?")
    assert reply.locator("mark").count() >= 1
    assert page.js_errors == []


def test_upload_indexes_a_document_and_refuses_a_binary_one(page: Any, tmp_path: Path) -> None:
    good = tmp_path / UPLOADED_NAME
    good.write_text(UPLOADED, encoding="utf-8")
    binary = tmp_path / "holiday_photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)

    # Record what the status area shows while indexing (progress, then the result).
    page.evaluate("""() => {
        window.__progress = [];
        new MutationObserver(() => {
            for (const el of document.querySelectorAll('#qa-status, #qa-documents, [data-testid=status-tracker]')) {
                const t = el.innerText.trim();
                if (t && !window.__progress.includes(t)) window.__progress.push(t);
            }
        }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    page.set_input_files("#qa-upload input[type=file]", str(good))
    page.wait_for_function("document.querySelector('#qa-status').innerText.includes('indexed')", timeout=ANSWER_TIMEOUT_MS)
    assert UPLOADED_NAME in page.inner_text("#qa-status")
    shown = page.evaluate("() => window.__progress")
    assert any(re.search(r"embedding|saving|reading|processing|queue|\d\.\ds", t) for t in shown), shown
    documents = page.inner_text("#qa-documents")
    assert UPLOADED_NAME in documents

    reply = ask(page, "In which year was the Plimsoll lighthouse painted green?")
    assert UPLOADED_NAME in reply.inner_text()

    page.set_input_files("#qa-upload input[type=file]", str(binary))
    # The progress shows in the status area too ("reading holiday_photo.txt"): wait for the verdict.
    page.wait_for_function("document.querySelector('#qa-status').innerText.includes('binary')", timeout=ANSWER_TIMEOUT_MS)
    status = page.inner_text("#qa-status")
    assert "binary" in status and "indexed 1" not in status, status
    assert page.inner_text("#qa-documents") == documents


def test_follow_up_question_shows_how_it_was_understood(page: Any) -> None:
    ask(page, "Who did Lee meet on Tuesday?")
    reply = ask(page, "What did he tell Lee?")
    assert "Understood as" in reply.inner_text()


def test_page_works_offline(page: Any) -> None:
    """Nothing beyond this machine is reachable: the page must render and answer anyway."""
    assert page.title().startswith("qa")
    assert page.locator("#qa-question textarea").is_visible()
    assert SEED.name in page.inner_text("#qa-documents")
    reply = ask(page, "What has North Korea refused?")
    assert reply.inner_text().strip()
    assert page.js_errors == []
    if EXTERNAL:  # reported, not failed: the page worked without them
        warnings.warn(f"the page asked for {len(set(EXTERNAL))} external URL(s), all refused: {sorted(set(EXTERNAL))}")


# --- a newcomer's page: a live document list, one progress display, short follow-ups ----------

COLOPHON = "The Quenton colophon was carved by the stonemason Ilse Marrow in 1702, above the west door.\n"


def new_page(browser: Any, server: str) -> Any:
    """Another browser session (own cookies) on the chat page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda r: r.continue_() if (urlparse(r.request.url).hostname or "") in LOCAL_HOSTS else r.abort())
    pg = context.new_page()
    pg.goto(server)
    pg.wait_for_selector("#qa-ask", timeout=60_000)
    return pg


def wait_text(page: Any, selector: str, text: str, timeout: int) -> None:
    """Wait until the element shows `text` (it may not exist yet while the page loads)."""
    page.wait_for_function(f"(document.querySelector({selector!r})?.innerText || '').includes({text!r})", timeout=timeout)


def choose_to_remove(page: Any, name: str) -> None:
    box = page.locator("#qa-remove-pick input")
    box.click()
    box.fill(name)
    box.press("Enter")


def test_document_list_is_live_and_removal_works_from_every_session(page: Any, browser: Any, server: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    wait_text(page, "#qa-documents", "document(s)", 30_000)
    assert "colophon.txt" not in page.inner_text("#qa-documents")
    other = new_page(browser, server)  # open before the change: it must catch up by itself
    (tmp_path / "colophon.txt").write_text(COLOPHON, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_SEED_DIR": str(tmp_path / "no-seeds")}
    done = subprocess.run([sys.executable, "-m", "qa", "--index", str(SERVED["index"]), "index", str(tmp_path / "colophon.txt")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0 and "indexed 1 document(s)" in done.stdout, done.stdout + done.stderr

    page.reload()
    wait_text(page, "#qa-documents", "colophon.txt", 30_000)
    assert "The Quenton colophon was carved" in page.inner_text("#qa-documents")  # its title
    wait_text(other, "#qa-documents", "colophon.txt", 30_000)

    # Chosen in this page, removed from the other session: this page's removal then says so.
    choose_to_remove(page, "colophon.txt")
    choose_to_remove(other, "colophon.txt")
    other.click("#qa-remove")
    wait_text(other, "#qa-status", "Removed colophon.txt", 60_000)
    assert "colophon.txt" not in other.inner_text("#qa-documents")
    page.click("#qa-remove")
    wait_text(page, "#qa-status", "colophon.txt", 60_000)
    status = page.inner_text("#qa-status")
    assert "not in the index" in status and "list of choices" not in status, status
    assert "colophon.txt" not in page.inner_text("#qa-documents")
    assert page.locator(".toast-body, [data-testid=toast-body]").count() == 0  # no Gradio error pop-up
    other.context.close()


def test_upload_shows_one_progress_display_that_advances(page: Any, tmp_path: Path) -> None:
    long_doc = tmp_path / "almanac.txt"
    long_doc.write_text("\n".join(f"In year {1800 + i} the almanac of Quenton recorded {i} floods and {i + 3} fairs, "
                                  f"and the harvest of blue turnips weighed {i * 7} tonnes in the valley of Vell." for i in range(300)),
                        encoding="utf-8")
    page.evaluate("""() => {
        window.__shown = []; window.__most = 0;
        new MutationObserver(() => {
            const bars = [...document.querySelectorAll('[data-testid=status-tracker], .progress-text, .progress-level')]
                .filter(el => el.offsetParent !== null && /embedding passages \\d+/.test(el.innerText));
            const trackers = new Set(bars.map(el => el.closest('[data-testid=status-tracker]') || el));
            window.__most = Math.max(window.__most, trackers.size);
            for (const el of bars) { const m = el.innerText.match(/embedding passages (\\d+)\\/(\\d+)/); if (m && !window.__shown.includes(m[1])) window.__shown.push(m[1]); }
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    page.set_input_files("#qa-upload input[type=file]", str(long_doc))
    wait_text(page, "#qa-status", "indexed 1 document(s)", ANSWER_TIMEOUT_MS)
    assert "almanac.txt" in page.inner_text("#qa-status")
    shown, most = page.evaluate("() => [window.__shown, window.__most]")
    assert most == 1, f"{most} progress displays at once"
    assert len(shown) >= 2, f"the progress did not advance: {shown}"


def test_refused_upload_leaves_the_upload_box_ready(page: Any, tmp_path: Path) -> None:
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    page.set_input_files("#qa-upload input[type=file]", str(binary))
    wait_text(page, "#qa-status", "binary", ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(500)
    assert "scan.txt" not in page.inner_text("#qa-upload")  # emptied, ready for the next file
    assert page.locator("#qa-upload .error, #qa-upload [data-testid=status-tracker].error").count() == 0


def test_typo_and_short_follow_up_in_the_page(page: Any) -> None:
    reply = ask(page, "Who did Lee meet on Tusday?")
    text = reply.inner_text()
    assert "Li Qiang" in text and "Understood as: Who did Lee meet on Tuesday?" in text, text
    reply = ask(page, "When?")
    text = reply.inner_text()
    assert "Understood as: When did Lee meet" in text and "Tuesday" in text, text
