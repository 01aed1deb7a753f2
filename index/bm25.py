"""BM25 over French and English text, kept incrementally in memory.

Tokens: lower-cased, French elisions split off (l', d', qu', jusqu'... with ' or ’), stop words
dropped, Snowball-stemmed in the passage's language, then accent-folded ("différentes" and
"differentes" meet). A question is stemmed with both stemmers, since it may be in either language.

The index is updated in place on add/remove (no rebuild per query); the catalog stores each chunk's
terms so a restart rebuilds it without re-tokenising.
"""
from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache

import numpy as np
import Stemmer

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+")
STOP = set("""
a an and are as at be by for from has have in is it its of on or that the this to was were will with
what who whom which when where why how does did do can could would should their there they them
au aux avec ce ces cet cette dans de des du elle elles en est et eux il ils je la le les leur leurs
lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui quel quelle quels
quelles sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y a ete etre ont sont
""".split())
_STEMMERS = {"en": Stemmer.Stemmer("english"), "fr": Stemmer.Stemmer("french")}


def fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(_ELISION.sub(" ", text.lower())) if len(w) > 1 and fold(w) not in STOP]


@lru_cache(maxsize=200_000)
def _stem(word: str, lang: str) -> str:
    return fold(_STEMMERS[lang].stemWord(word))


def doc_terms(text: str, lang: str) -> list[str]:
    lang = lang if lang in _STEMMERS else "en"
    return [_stem(w, lang) for w in words(text)]


def query_terms(text: str) -> list[str]:
    """Stems of the question under both stemmers (deduplicated, order kept)."""
    out = []
    for w in words(text):
        out.extend({_stem(w, "fr"), _stem(w, "en")})
    return list(dict.fromkeys(out))


class BM25:
    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self._len: list[int] = []
        self._alive: list[bool] = []
        self._post: dict[str, tuple[list[int], list[int]]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._total = 0
        self._docs: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.RLock()

    def __len__(self):
        return len(self.pos)

    def add(self, chunk_id: str, terms: list[str]) -> None:
        with self._lock:
            if chunk_id in self.pos:
                self.remove(chunk_id)
            i = len(self.ids)
            self._docs = None
            self.ids.append(chunk_id)
            self.pos[chunk_id] = i
            self._len.append(len(terms))
            self._alive.append(True)
            self._total += len(terms)
            for t, tf in Counter(terms).items():
                p = self._post.setdefault(t, ([], []))
                p[0].append(i)
                p[1].append(tf)
                self._arrays.pop(t, None)

    def knows(self, term: str) -> bool:
        """Whether any indexed passage has this (stemmed) term."""
        return term in self._post

    def remove(self, chunk_id: str) -> None:
        with self._lock:
            i = self.pos.pop(chunk_id, None)
            if i is None:
                return
            self._alive[i] = False
            self._docs = None
            self._total -= self._len[i]
            if len(self.ids) > 1000 and len(self.pos) < 0.7 * len(self.ids):
                self._compact()

    def search(self, terms: list[str], n: int = 50) -> list[tuple[str, float]]:
        with self._lock:
            N = len(self.pos)
            if N == 0 or not terms:
                return []
            avgdl = self._total / N
            lens, alive = self._doc_arrays()
            scores = np.zeros(len(self.ids), dtype=np.float32)
            for t in dict.fromkeys(terms):
                if t not in self._post:
                    continue
                idx, tf = self._postings(t)
                idf = math.log(1 + (N - len(idx) + 0.5) / (len(idx) + 0.5))
                denom = tf + self.k1 * (1 - self.b + self.b * lens[idx] / avgdl)
                scores[idx] += idf * tf * (self.k1 + 1) / denom
            scores[~alive] = 0
            if n < len(scores):  # the top n without sorting every score
                top = np.argpartition(-scores, n)[:n]
                top = top[np.argsort(-scores[top])]
            else:
                top = np.argsort(-scores)
            return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def _doc_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Lengths and liveness as arrays, kept between queries and dropped on add/remove."""
        if self._docs is None:
            self._docs = (np.asarray(self._len, dtype=np.float32), np.asarray(self._alive, dtype=bool))
        return self._docs

    def _postings(self, t: str) -> tuple[np.ndarray, np.ndarray]:
        if t not in self._arrays:
            idx, tf = self._post[t]
            self._arrays[t] = (np.asarray(idx, dtype=np.int64), np.asarray(tf, dtype=np.float32))
        return self._arrays[t]

    def _compact(self) -> None:
        """Drop removed chunks' postings once they are 30% of the index."""
        keep = [i for i, a in enumerate(self._alive) if a]
        remap = {old: new for new, old in enumerate(keep)}
        post = {}
        for t, (idx, tf) in self._post.items():
            pairs = [(remap[i], f) for i, f in zip(idx, tf) if i in remap]
            if pairs:
                post[t] = ([p[0] for p in pairs], [p[1] for p in pairs])
        self.ids = [self.ids[i] for i in keep]
        self._len = [self._len[i] for i in keep]
        self._alive = [True] * len(keep)
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self._post, self._arrays, self._docs = post, {}, None
