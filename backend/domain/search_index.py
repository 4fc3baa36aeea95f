"""BM25 retrieval over short passages with ``bm25s`` (offline: our own tokeniser, no stemmer download)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

_STOPWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "ask_stopwords.txt"
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The library's English stop words plus the question words of ``data/ask_stopwords.txt``."""
    extra = [
        w.strip()
        for w in _STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
        if w.strip() and not w.startswith("#")
    ]
    return frozenset(STOPWORDS_EN) | frozenset(extra)


def _stem(token: str) -> str:
    # Plurals only: enough for "headaches"/"headache", and symmetric for index and query.
    if len(token) > 4 and not token[-1].isdigit():
        if token.endswith("ies"):
            return token[:-3] + "y"
        if token.endswith("s") and not token.endswith(("ss", "us", "is")):
            return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens without stop words (numbers kept: doses matter)."""
    if text.isascii():
        folded = text.lower()
    else:
        folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    stop = stopwords()
    return [_stem(t) for t in _TOKEN.findall(folded) if t not in stop]


class Bm25Index:
    """An in-memory BM25 index of ``texts``; ``search`` returns (position, score) best first."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        self._model = bm25s.BM25()
        self._vocab: set[str] = set()
        if texts:
            corpus = [tokenize(t) for t in texts]
            self._vocab = {t for doc in corpus for t in doc}
            self._model.index(corpus, show_progress=False)

    def search(self, query: str, k: int = 10) -> list[tuple[int, float]]:
        """Top ``k`` passages for ``query`` with a positive score."""
        terms = [t for t in tokenize(query) if t in self._vocab]
        if not terms or self.size == 0:
            return []
        scores = np.asarray(self._model.get_scores(terms), dtype=float)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in top if scores[i] > 0), key=lambda p: (-p[1], p[0]))
        return ranked

    def query_terms(self, query: str) -> list[str]:
        """The tokens of ``query`` that occur somewhere in the index."""
        return [t for t in tokenize(query) if t in self._vocab]
