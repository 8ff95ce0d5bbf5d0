"""The errors qa raises for a person to read: one root, `QAError`, and a few kinds.

The library raises them with a message that says what went wrong and what to do; the command
line turns any of them into that message and exit status 1, and the page into a message in the
chat (`qa.cli.main`, `qa.app`). Each kind also derives from the built-in error it refines, so
code that caught `ValueError` or `RuntimeError` before still does.
"""

from __future__ import annotations


class QAError(Exception):
    """Base of every error qa raises for a person to read."""


class SettingsError(QAError, ValueError):
    """A setting has a value that cannot be used (the message names it and the allowed values)."""


class IngestError(QAError, ValueError):
    """A file cannot be indexed (unsupported, empty, too large, unreadable, no text)."""


class StoreError(QAError, RuntimeError):
    """Base of the errors of a passage store."""


class ReaderLoadError(QAError, RuntimeError):
    """The reader model folder is missing or not a question-answering model."""


class DataFormatError(QAError, ValueError):
    """An evaluation or training file is not in the SQuAD format."""


class TrainingError(QAError, RuntimeError):
    """A training run cannot start or resume (the message says what to remove or change)."""
