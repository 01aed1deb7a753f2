"""Hybrid retrieval: dense vectors and BM25, fused, one language per passage.

Fusion is a weighted sum of z-scores (each side's scores standardised over its own top 50). It beat
reciprocal rank fusion on both the seeds and the Paris Call sets (README, "Choosing the settings"):
a confident BM25 match counts for more than its rank alone says. A passage in the other language is
scored by the dense side alone (BM25 cannot match across languages). When a passage and its translation
are both indexed (seed 000, the Paris Call), the one in the question's language is returned in the
other's place, so the same text is never cited twice as if it were two sources.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bm25 as bm25mod
from .catalog import ChunkRow
from .lexicon import OTHER, Lexicon
from .types import Passage


@dataclass(frozen=True)
class RetrievalSettings:
    """The fusion's tuning, chosen with `qa eval` on the seeds and Paris Call sets (README, "Choosing
    the settings"); a sweep passes another one instead of patching globals."""
    dense_weight: float = 1.0
    sparse_weight: float = 0.75
    # e5 scores a passage in the question's language higher than an equally good translation; this much
    # cosine is added to passages in the other language before fusing (chosen on the same sets)
    cross_lingual_bonus: float = 0.02
    other_language_dense_only: bool = True  # a passage in the other language: the dense side alone (fuse)
    lexicon: bool = True  # ... unless the question's words translated (index.lexicon) find it with BM25
    depth: int = 50  # hits each side contributes to the fusion
    # a long document's evidence, summed over its chunks: each chunk gets this much of the positive fused
    # scores of its document's other candidates (0: every chunk on its own)
    document_weight: float = 0.0


DEFAULT = RetrievalSettings()


@dataclass(frozen=True)
class Candidate:
    row: ChunkRow
    score: float  # fused
    dense: float  # cosine similarity to the question (0 when only BM25 found it)
    lexical: float  # BM25 score (0 when only the dense side found it)

    def passage(self) -> Passage:
        return passage(self.row, self.score, self.dense)


def passage(row: ChunkRow, score: float, similarity: float = 0.0) -> Passage:
    return Passage(row.text, row.path, row.lang, round(score, 6), row.start, row.end, row.lines, row.id,
                   row.where, row.twin or "", similarity, context=row.context)


def fuse(dense: list[tuple[str, float]], sparse: list[tuple[str, float]], rows: dict[str, ChunkRow],
         dense_weight: float = 1.0, sparse_weight: float = 0.75, qlang: str = "",
         translated: frozenset[str] = frozenset(), crossed: list[tuple[str, float]] | None = None) -> list[Candidate]:
    """Weighted sum of each side's z-scores; a passage found by one side only gets that side's part.

    BM25 cannot match a question with a passage in the other language (only names and numbers are
    shared), so with `qlang`, a passage in another language that the dense side found is scored from
    the dense side alone, weighted by both weights: it competes on what can judge it. Not when its
    document has a translation indexed (`translated`: paths with chunks that have twins): there the
    version in the question's language should win, and BM25 helps it to. `crossed`: BM25 hits of the
    question's words translated into the other language (index.lexicon), in that language only; with
    it, a passage in the other language gets its z-score there in place of the doubled dense weight.
    """
    z: list[dict[str, float]] = []
    for hits in (dense, sparse) + ((crossed,) if crossed is not None else ()):
        hits = [h for h in hits if h[0] in rows]
        values = np.array([v for _, v in hits], dtype=np.float64)
        mu, sd = (values.mean(), values.std() + 1e-9) if hits else (0.0, 1.0)
        z.append({cid: (v - mu) / sd for cid, v in hits})
    dz, sz = z[:2]
    xz = z[2] if len(z) > 2 else None
    score: dict[str, float] = {}
    for cid in dz.keys() | sz.keys() | (xz.keys() if xz else set()):
        other = qlang and rows[cid].lang != qlang and rows[cid].path not in translated
        if other and xz is not None:  # BM25 of the question's words translated
            score[cid] = dense_weight * dz.get(cid, 0.0) + sparse_weight * xz.get(cid, 0.0)
        elif other and cid in dz:
            score[cid] = (dense_weight + sparse_weight) * dz[cid]
        else:
            score[cid] = dense_weight * dz.get(cid, 0.0) + sparse_weight * sz.get(cid, 0.0)
    d, s = dict(dense), dict(sparse)
    order = sorted(score, key=lambda c: (-score[c], c))
    return [Candidate(rows[c], score[c], d.get(c, 0.0), s.get(c, 0.0)) for c in order]


def by_document(cands: list[Candidate], weight: float) -> list[Candidate]:
    """Each candidate's score plus `weight` x the positive scores of its document's other candidates,
    re-sorted: of two passages alike, the one whose document says more about the question goes first."""
    if weight <= 0:
        return cands
    total: dict[str, float] = {}
    for c in cands:
        total[c.row.path] = total.get(c.row.path, 0.0) + max(c.score, 0.0)
    out = [Candidate(c.row, c.score + weight * (total[c.row.path] - max(c.score, 0.0)), c.dense, c.lexical)
           for c in cands]
    return sorted(out, key=lambda c: (-c.score, c.row.id))


def prefer_language(cands: list[Candidate], rows: dict[str, ChunkRow], lang: str,
                    dense_of=None) -> list[Candidate]:
    """Replace a passage by its translation in `lang` when there is one; drop the second of a pair,
    and repeats of the same text in one file."""
    out, seen, texts = [], set(), set()
    for c in cands:
        row = c.row
        if row.lang != lang and row.twin in rows and rows[row.twin].lang == lang:
            twin = rows[row.twin]
            c = Candidate(twin, c.score, dense_of(twin.id) if dense_of else c.dense, c.lexical)
        key = (c.row.path, " ".join(c.row.text.split()))  # a letter repeated in one file counts once
        if c.row.id in seen or (c.row.twin and c.row.twin in seen) or key in texts:
            continue
        seen.add(c.row.id)
        texts.add(key)
        out.append(c)
    return out


def translated_terms(question: str, qlang: str) -> list[str]:
    """The question's words as the other language's stems: each word's stem there (names, numbers and
    cognates stem alike) and its translations in index.lexicon."""
    lex, other = Lexicon.default(), OTHER[qlang]
    out = []
    for w in bm25mod.words(question):
        out.append(bm25mod.stem(w, other))
        out.extend(t for t, _ in lex.translate(bm25mod.stem(w, qlang), qlang))
    return list(dict.fromkeys(out))


def search(question: str, qvec: np.ndarray, qlang: str, store, bm25: bm25mod.BM25, rows: dict[str, ChunkRow],
           n: int = 20, translated: frozenset[str] = frozenset(),
           settings: RetrievalSettings = DEFAULT) -> list[Candidate]:
    """The n best candidates for a question, fused and de-duplicated across languages."""
    dense = [(cid, sim + (settings.cross_lingual_bonus if cid in rows and rows[cid].lang != qlang else 0.0))
             for cid, sim in store.query(qvec, settings.depth)]
    dense.sort(key=lambda h: -h[1])
    sparse = bm25.search(bm25mod.query_terms(question), settings.depth)
    crossed = None
    if settings.lexicon and qlang in OTHER and settings.other_language_dense_only:
        hits = bm25.search(translated_terms(question, qlang), settings.depth)
        crossed = [(cid, v) for cid, v in hits if cid in rows and rows[cid].lang == OTHER[qlang]]
    cands = fuse(dense, sparse, rows, settings.dense_weight, settings.sparse_weight,
                 qlang=qlang if settings.other_language_dense_only else "", translated=translated, crossed=crossed)
    cands = by_document(cands, settings.document_weight)
    dense_map = dict(dense)
    return prefer_language(cands, rows, qlang, dense_of=lambda cid: dense_map.get(cid, 0.0))[:n]
