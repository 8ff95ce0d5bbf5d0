"""qa: ask questions about your documents and get the exact words that answer them.

    from qa import Chatbot
    bot = Chatbot.load("index")           # builds from seeds/ when index/ is missing
    a = bot.ask("What did Xi say?", history=[])
    a.kind, a.text, a.score, a.source, a.start, a.end, a.passage   # kind: answer, abstain, small_talk, problem

Importing this package loads no model and no heavy library; they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.config import Settings, load_settings
from qa.types import Answer, Chunk, Document, Hit, Span

if TYPE_CHECKING:
    from qa.chatbot import Chatbot, IndexReport
    from qa.read import Reader, ReaderSettings

__all__ = ["Answer", "Chatbot", "Chunk", "Document", "Hit", "IndexReport", "Reader", "ReaderSettings", "Settings", "Span", "load_settings"]
__version__ = "0.1.0"

_LAZY = {"Chatbot": "qa.chatbot", "IndexReport": "qa.chatbot", "Reader": "qa.read", "ReaderSettings": "qa.read"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
