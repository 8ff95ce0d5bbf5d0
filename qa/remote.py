"""A warm command line: `qa ask` and `qa chat` ask a `qa serve` of the same index on this
machine, which has its models loaded, instead of loading them again (seconds instead of tens).

`qa serve` writes SERVING.json into the index folder (readable by its owner only): its local
address, its process id, a random token and the settings that decide answers. The command line
uses it only when that process is alive and those settings are its own, so the answers are the
ones it would give itself; on any failure it answers locally. Standard library only: importing
this module costs nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from qa.config import Settings
from qa.types import Answer, answer_from_dict

SERVER_FILE = "SERVING.json"
ASK_PATH = "/api/qa/ask"
TOKEN_HEADER = "X-QA-Token"
# Settings of the page (and the seed folder, read only when an index is made); every other setting can change an answer.
PAGE_ONLY = {"host", "port", "share", "auth", "uploads", "max_upload_mb", "seed_dir"}


def answer_settings(settings: Settings) -> dict[str, Any]:
    """The settings that decide answers (all but the page's own)."""
    values = {k: v for k, v in asdict(settings).items() if k not in PAGE_ONLY}
    values["index_dir"] = str(Path(settings.index_dir).resolve())
    return values


def announce(settings: Settings) -> str:
    """Write SERVING.json for a page being served with `settings`; returns the token requests must carry."""
    token = secrets.token_urlsafe(24)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "localhost") else settings.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    record = {"url": f"http://{host}:{settings.port}", "pid": os.getpid(), "token": token, "settings": answer_settings(settings)}
    path = Path(settings.index_dir) / SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)
    return token


def withdraw(settings: Settings, token: str) -> None:
    """Remove SERVING.json when it is still this server's."""
    path = Path(settings.index_dir) / SERVER_FILE
    try:
        if json.loads(path.read_text()).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


def find_server(settings: Settings) -> dict[str, Any] | None:
    """The record of a live `qa serve` of this index with these answer settings, or None."""
    try:
        record = json.loads((Path(settings.index_dir) / SERVER_FILE).read_text())
        os.kill(int(record["pid"]), 0)  # alive? (signal 0 only checks)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if record.get("settings") == answer_settings(settings) else None


def ask_server(record: dict[str, Any], question: str, history: Sequence[tuple[str, Answer]] = (),
               scope: Sequence[str] = (), timeout: float = 120.0) -> Answer | None:
    """The server's answer, or None when it cannot give one (then answer locally)."""
    body = json.dumps({"question": question, "scope": list(scope),
                       "history": [[q, asdict(a)] for q, a in history]}).encode()
    request = urllib.request.Request(record["url"] + ASK_PATH, data=body, method="POST",
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: record["token"]})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return answer_from_dict(json.loads(response.read()))
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
        return None
