"""What every passage store shares: its errors, the keyword tokenisation BM25 uses, and the
passage count above which search turns approximate."""

from __future__ import annotations

import re
from typing import Sequence

from qa.types import Document

# Exact search up to this many passages, approximate above. Exact search grows linearly: ~15 ms
# at 100,000 passages and 120 ms at 1,000,000 on one quiet core (benchmarks/scale.py), so it
# passes the 20 ms aimed for at about 165,000. On real sentence embeddings at 1,000,000 an
# approximate index keeps recall@10 >= 0.95 in a few ms (benchmarks/scale_real.py: IVF4096
# nprobe=16, 0.973 at 1.3 ms p50).
APPROXIMATE_ABOVE = 150_000
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where "
    "why how all any both each few more most other some such no nor not only own same so than too very "
    "is are was were be been being have has had having do does did doing i me my we our you your he him "
    "his she her it its they them their what which who whom this that these those am can will just should".split()
)


class StoreError(RuntimeError):
    """Base of the errors of a passage store."""


class IndexCorruptError(StoreError):
    """The index files are damaged or incomplete."""


class IndexMismatchError(StoreError):
    """The index was built with other settings; `documents` holds its documents for a rebuild."""

    def __init__(self, message: str, documents: Sequence[Document] = ()) -> None:
        super().__init__(message)
        self.documents = list(documents)


def keyword_tokens(text: str) -> list[str]:
    """Lower-cased words without English stop words: what BM25 indexes and searches."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


