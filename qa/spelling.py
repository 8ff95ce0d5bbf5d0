"""Typo-tolerant questions: a misspelt word is corrected to a word of the indexed documents.

A question word is corrected only when it is neither in the index's vocabulary (the words BM25
indexes) nor an English word, and a vocabulary word is within a small edit distance of it
("Tusday" -> "Tuesday"). Names and numbers that occur in the documents are in the vocabulary,
so they are never changed; numbers are never looked at. The vocabulary is built once per
version of the index; matching uses rapidfuzz (a swap of two letters is one edit), and the English word list is symspellpy's.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Iterable

from qa.store.base import STOPWORDS, keyword_tokens

# Letters only (numbers and words with digits are never corrected), with an inner apostrophe.
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away


def max_edits(word: str) -> int:
    """How many edits a word of this length may be away from its correction."""
    return 1 if len(word) <= 7 else 2


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words (symspellpy's 82,765-word frequency list), never corrected."""
    from importlib.resources import files

    text = (files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


class Speller:
    """Corrects question words against a vocabulary.

    Args:
        texts: The texts whose keyword tokens make the vocabulary (the indexed documents).
    """

    def __init__(self, texts: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(keyword_tokens(text))
        self.counts = counts
        self._choices = [w for w in counts if len(w) >= MIN_LENGTH - 1 and not w.isdigit()]

    def correction(self, word: str) -> str | None:
        """The vocabulary word `word` was meant to be, or None to leave it as it is."""
        low = word.lower().replace("\u2019", "'")
        if "'" in low and low not in english_words():  # "sister's": the word before the apostrophe
            stem, _, _ = word.partition("'" if "'" in word else "\u2019")
            fixed = self.correction(stem)
            return fixed + word[len(stem) :] if fixed else None
        if len(low) < MIN_LENGTH or low in self.counts or low in STOPWORDS or low in english_words():
            return None
        from rapidfuzz import distance, process

        limit = max_edits(low)
        found = process.extract(low, self._choices, scorer=distance.OSA.distance, score_cutoff=limit, limit=10)
        if not found:
            return None
        best = min(found, key=lambda f: (f[1], -self.counts[f[0]], f[0]))[0]
        return _same_case(best, word)

    def correct(self, question: str) -> str:
        """The question with its misspelt words corrected (unchanged when none is)."""
        return _WORD.sub(lambda m: self.correction(m.group(0)) or m.group(0), question)


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
