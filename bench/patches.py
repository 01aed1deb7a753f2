"""Measure library patches the benchmark recommends, without changing the library: each patch is
applied here to a copy (a subclass, or a function beside the original) and timed against the original
on a built index of bench.run.

    python -m bench.patches /tmp/qa-bench/use-v3/10000/ours --embedder use-v3 [--scale 10]

1. BM25.search converts two Python lists of the whole index to arrays and sorts every score at each
   query. Patch: keep the arrays between queries (dropped on add/remove) and take the top n with
   argpartition. Same results, checked here.
2. Index._reload reads every chunk row from the catalog twice (rows, then load_bm25 reads them
   again). Patch: build BM25 from the rows already read.

--scale k adds k-1 copies of every chunk's terms under new ids, to see BM25 at k times the size
(the copies are exact, so postings grow k-fold: a pessimistic stand-in for k times more text).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import qa  # noqa: F401  (qa before index: see bench.corpus)
from index import bm25 as bm25mod
from index.catalog import Catalog

from . import corpus


class PatchedBM25(bm25mod.BM25):
    """BM25 with patch 1: per-index arrays kept between queries, top n by argpartition."""

    _dense: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, chunk_id, terms):
        self._dense = None
        super().add(chunk_id, terms)

    def remove(self, chunk_id):
        self._dense = None
        super().remove(chunk_id)

    def search(self, terms, n=50):
        with self._lock:
            N = len(self.pos)
            if N == 0 or not terms:
                return []
            if self._dense is None:
                self._dense = (np.asarray(self._len, dtype=np.float32), ~np.asarray(self._alive, dtype=bool))
            lens, dead = self._dense
            avgdl = self._total / N
            scores = np.zeros(len(self.ids), dtype=np.float32)
            for t in dict.fromkeys(terms):
                if t not in self._post:
                    continue
                idx, tf = self._postings(t)
                idf = np.log(1 + (N - len(idx) + 0.5) / (len(idx) + 0.5))
                scores[idx] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lens[idx] / avgdl))
            scores[dead] = 0
            k = min(n, len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def timed(fn, *args, repeat: int = 1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return out, best


def ms_stats(values: list[float]) -> dict:
    v = sorted(values)
    return {"p50_ms": round(v[len(v) // 2] * 1000, 2), "p95_ms": round(v[int(len(v) * 0.95)] * 1000, 2),
            "mean_ms": round(statistics.mean(v) * 1000, 2)}


def measure(home: Path, embedder: str, scale: int, n_questions: int = 100) -> dict:
    catalog = Catalog(home / f"catalog-{embedder}.sqlite")
    rows, read_s = timed(catalog.chunks)

    def fill(index):
        for r in rows:
            index.add(r.id, r.terms.split())
        return index

    _, build_s = timed(fill, bm25mod.BM25())
    original, patched = bm25mod.BM25(), PatchedBM25()
    for copy in range(scale):
        for r in rows:
            terms = r.terms.split()
            original.add(f"{r.id}#{copy}", terms)
            patched.add(f"{r.id}#{copy}", terms)
    manifest = home.parents[2] / "corpus" / home.parent.name / "manifest.json"  # <workdir>/<embedder>/<size>/ours
    qs = [q["q"] for q in corpus.questions(json.loads(manifest.read_text()), n_questions)["retrieve"]]
    terms = [bm25mod.query_terms(q) for q in qs]
    for t in terms[:5]:  # postings arrays are cached per term by both: warm them alike
        original.search(t), patched.search(t)
    before, after, same = [], [], 0
    for t in terms:
        a, sa = timed(original.search, t, 50)
        b, sb = timed(patched.search, t, 50)
        before.append(sa)
        after.append(sb)
        # equal scores may come in another order (numpy's default sort is not stable either)
        same += [c for c, _ in a] == [c for c, _ in b] or (
            np.allclose([x for _, x in a], [x for _, x in b]) and {c for c, _ in a[:-1]} <= {c for c, _ in b})
    return {"home": str(home), "chunks": len(rows), "bm25_size": len(original),
            "open": {"catalog_read_s": round(read_s, 3), "bm25_build_from_rows_s": round(build_s, 3),
                     "saved_by_patch_2_s": round(read_s, 3)},
            "bm25_search": {"before": ms_stats(before), "after": ms_stats(after),
                            "same_results_up_to_ties": f"{same}/{len(terms)}"}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.patches", description=__doc__.split("\n\n")[0])
    p.add_argument("home", type=Path, help="an index built by bench.run: <workdir>/<embedder>/<size>/ours")
    p.add_argument("--embedder", default="e5-small")
    p.add_argument("--scale", type=int, default=1)
    a = p.parse_args(argv)
    print(json.dumps(measure(a.home, a.embedder, a.scale), indent=1))


if __name__ == "__main__":
    main()
