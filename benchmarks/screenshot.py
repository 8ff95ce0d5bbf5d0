"""Make docs/screenshot.png: the chat page after a question was answered.

    .venv/bin/python benchmarks/screenshot.py [--question "What did Xi say?"] [--out docs/screenshot.png]

Starts the real page on a free loopback port over a temporary index of seeds/, asks the question
in headless Chromium (Debian's `chromium`, driven by Playwright; `make browser` installs it) and
saves the page. Nothing leaves this machine: requests to other hosts are refused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--question", default="What did Xi say?")
    parser.add_argument("--seeds", default=str(ROOT / "seeds"), help="Documents to index (default: seeds/).")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--open-passage", action="store_true", help="Also unfold the whole passage under the answer.")
    args = parser.parse_args()

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from playwright.sync_api import sync_playwright

    from qa.app import serve
    from qa.chatbot import Chatbot
    from qa.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        bot = Chatbot(Settings(index_dir=str(Path(tmp) / "index"), seed_dir=args.seeds, host="127.0.0.1", port=port))
        bot.open()
        demo = serve(bot, block=False)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height}, device_scale_factor=1)

                def local_only(route):  # the page must not need the internet
                    host = urlparse(route.request.url).hostname or ""
                    if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                        route.continue_()
                    else:
                        route.abort()

                page.route("**/*", local_only)
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("#qa-ask")
                page.fill("#qa-question textarea", args.question)
                page.click("#qa-ask")
                page.wait_for_selector("#qa-chat [data-testid=bot]", timeout=180_000)
                if args.open_passage:
                    page.locator("#qa-chat [data-testid=bot] summary").first.click()
                page.mouse.move(0, 0)  # no hover effects in the picture
                page.locator("#qa-question textarea").blur()
                page.wait_for_timeout(500)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.out)
                browser.close()
        finally:
            demo.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
