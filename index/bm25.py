"""BM25 over French and English text, kept incrementally in memory.

Tokens: lower-cased, French elisions split off (l', d', qu', jusqu'... with ' or ’), stop words
dropped, Snowball-stemmed in the passage's language, then accent-folded ("différentes" and
"differentes" meet). A question is stemmed with both stemmers, since it may be in either language.

The index is updated in place on add/remove (no rebuild per query); the catalog stores each chunk's
terms so a restart rebuilds it without re-tokenising, with ``BM25.build``: all postings at once, in
numpy (100k chunks: 0.5 s instead of 2.8 s adding them one by one). Postings built that way live in
two flat arrays; chunks added later go to per-term lists; a term's postings are both, joined.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+")
CACHE_FORMAT = 1  # bump when BM25.build_cached's file changes
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


def stem(word: str, lang: str) -> str:
    """A lower-cased word's stem in `lang` (en, fr; anything else: en), accent-folded."""
    return _stem(word, lang if lang in _STEMMERS else "en")


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
        self._base = (np.zeros(0, np.int64), np.zeros(0, np.float32))  # (chunk, tf) of every term, by term
        self._span: dict[str, tuple[int, int]] = {}  # term -> its slice of _base
        self._post: dict[str, tuple[list[int], list[int]]] = {}  # added since: term -> (chunks, tfs)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._total = 0
        self._docs: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.RLock()

    @classmethod
    def build(cls, ids: list[str], terms: list[str], **kw) -> "BM25":
        """An index of chunks whose terms are given as space-separated strings (as the catalog stores
        them), built at once: the same scores as adding them one by one."""
        return cls._build(ids, terms, " ".join(terms), **kw)

    @classmethod
    def _build(cls, ids: list[str], terms: list[str], joined: str, **kw) -> "BM25":
        index = cls(**kw)
        if not ids:
            return index
        words = joined.split()
        lens = np.fromiter((t.count(" ") + 1 if t else 0 for t in terms), np.int64, len(terms))
        if lens.sum() != len(words):  # not single-space separated after all
            lens = np.fromiter((len(t.split()) for t in terms), np.int64, len(terms))
        vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
        term_of = np.fromiter(map(vocab.__getitem__, words), np.int64, len(words))
        chunk_of = np.repeat(np.arange(len(ids), dtype=np.int64), lens)
        pairs, tf = np.unique(term_of * len(ids) + chunk_of, return_counts=True)  # sorted by term, then chunk
        term_ids = pairs // len(ids)
        starts = np.flatnonzero(np.r_[True, term_ids[1:] != term_ids[:-1]])
        ends = np.r_[starts[1:], len(pairs)]
        names = list(vocab)
        index._base = (pairs % len(ids), tf.astype(np.float32))
        index._span = {names[t]: (a, b) for t, a, b in zip(term_ids[starts].tolist(), starts.tolist(), ends.tolist())}
        return index._with(ids, lens)

    def _with(self, ids: list[str], lens: np.ndarray) -> "BM25":
        """The chunk side of a built index: ids, positions, lengths."""
        self.ids = list(ids)
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self._len = lens.tolist()
        self._alive = [True] * len(ids)
        self._total = int(lens.sum())
        if len(self.pos) < len(ids):  # an id twice: keep its last terms, as add() would
            for i, cid in enumerate(ids):
                if self.pos[cid] != i:
                    self._alive[i] = False
                    self._total -= self._len[i]
        return self

    @classmethod
    def build_cached(cls, ids: list[str], terms: list[str], path: Path, **kw) -> "BM25":
        """``build``, kept in ``path`` (an .npz beside the catalog) for the next open: a process that
        opens the same chunks with the same terms loads the postings instead of building them (100k
        chunks: README, "Speed and scale"). The file is keyed by a hash of every id and term, so an
        index that changed in any way is built again (and the file replaced); a file that cannot be
        read or written only costs the build."""
        joined = " ".join(terms)
        index = cls(**kw)  # filled from the file, or replaced by a build
        h = hashlib.blake2b(f"{CACHE_FORMAT}\n{index.k1} {index.b}\n".encode(), digest_size=16)
        h.update("\n".join(ids).encode())
        h.update(b"\0")
        h.update(joined.encode())
        key = h.hexdigest()
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    names = z["names"].tobytes().decode().split("\n") if len(z["names"]) else []
                    index._base = (z["chunk"].astype(np.int64), z["tf"])
                    index._span = dict(zip(names, zip(z["start"].tolist(), z["end"].tolist())))
                    return index._with(ids, z["lens"].astype(np.int64))
        except (OSError, KeyError, ValueError):
            pass  # no file yet, another index's, or unreadable: build
        index = cls._build(ids, terms, joined, **kw)
        if ids:
            names = list(index._span)
            spans = np.array([index._span[n] for n in names], np.int64).reshape(-1, 2)
            tmp = path.with_name(f"{path.name}.tmp{os.getpid()}.{threading.get_ident()}.npz")
            try:
                np.savez(tmp, key=np.array(key), names=np.frombuffer("\n".join(names).encode(), np.uint8),
                         chunk=index._base[0].astype(np.int32), tf=index._base[1], start=spans[:, 0], end=spans[:, 1],
                         lens=np.asarray(index._len, np.int32))
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)  # a read-only data folder: built at every open, as before
        return index

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
        with self._lock:
            if term not in self._post and term not in self._span:
                return False
            if len(self.pos) == len(self.ids):  # nothing removed
                return True
            return bool(self._doc_arrays()[1][self._postings(term)[0]].any())

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a (stemmed) term: the rarer, the more it weighs; a
        term no passage has weighs the most."""
        with self._lock:
            N = len(self.pos)
            df = 0
            if term in self._post or term in self._span:
                idx, _ = self._postings(term)
                df = len(idx) if N == len(self.ids) else int(self._doc_arrays()[1][idx].sum())
            return math.log(1 + (N - df + 0.5) / (df + 0.5)) if N else 1.0

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
                if t not in self._post and t not in self._span:
                    continue
                idx, tf = self._postings(t)
                df = len(idx) if N == len(self.ids) else int(alive[idx].sum())  # removed chunks do not count
                idf = math.log(1 + (N - df + 0.5) / (df + 0.5))
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

    def _postings(self, t: str, keep: bool = True) -> tuple[np.ndarray, np.ndarray]:
        got = self._arrays.get(t)
        if got is None:
            idx, tf = [], []
            if t in self._span:
                a, b = self._span[t]
                idx.append(self._base[0][a:b])
                tf.append(self._base[1][a:b])
            if t in self._post:
                idx.append(np.asarray(self._post[t][0], dtype=np.int64))
                tf.append(np.asarray(self._post[t][1], dtype=np.float32))
            got = (np.concatenate(idx), np.concatenate(tf)) if len(idx) > 1 else (idx[0], tf[0])
            if keep:
                self._arrays[t] = got
        return got

    def _compact(self) -> None:
        """Drop removed chunks' postings once they are 30% of the index."""
        keep = np.flatnonzero(np.asarray(self._alive, dtype=bool))
        remap = np.full(len(self.ids), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        idx_parts, tf_parts, span, at = [], [], {}, 0
        for t in set(self._span) | set(self._post):
            idx, tf = self._postings(t, keep=False)
            new = remap[idx]
            alive = new >= 0
            if alive.any():
                idx_parts.append(new[alive])
                tf_parts.append(tf[alive])
                span[t] = (at, at + len(idx_parts[-1]))
                at += len(idx_parts[-1])
        self._base = (np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64),
                      np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.float32))
        self._span, self._post = span, {}
        self.ids = [self.ids[i] for i in keep]
        self._len = [self._len[i] for i in keep]
        self._alive = [True] * len(keep)
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self._arrays, self._docs = {}, None
