"""Measure library patches the benchmark recommended, on a built index of bench.run. All four below
are now in the library; the code before them is kept here, so the gain can be measured again.

    python -m bench.patches /tmp/qa-bench/use-v3/10000/ours --embedder use-v3 [--scale 10]

1. BM25.search converted two Python lists of the whole index to arrays and sorted every score at
   each query. Patch (commit dcabc9d): keep the arrays between queries (dropped on add/remove) and
   take the top n with argpartition. Same results up to the order of ties, checked here.
2. Index._reload read every chunk row from the catalog twice (rows, then load_bm25 read them again).
   Patch (commit dcabc9d): build BM25 from the rows already read; the time saved is one catalog read.
3. VectorStore.query called ``col.count()`` before each query, to cap k; Chroma counts its rows every
   time. chromadb 1.5 returns fewer results when k exceeds the count (and [] when empty), so the call
   went. Measured: retrieve (query embedding cached), interleaved with and without it.
4. ingest.pair_translations made one Chroma query, filtered on the other language, per new chunk
   (and again per candidate twin). Patch: the same queries, 256 per call, grouped by language (now
   VectorStore.query_many; the library also searches exactly in numpy when many chunks are new).
   Measured: ms per chunk, both ways, on chunk vectors of the index.

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

from index import bm25 as bm25mod
from index.catalog import Catalog

from . import corpus


class UnpatchedBM25(bm25mod.BM25):
    """BM25.search as it was before patch 1 (commit dcabc9d): per-query arrays and a full sort."""

    def search(self, terms, n=50):
        with self._lock:
            N = len(self.pos)
            if N == 0 or not terms:
                return []
            avgdl = self._total / N
            lens = np.asarray(self._len, dtype=np.float32)
            scores = np.zeros(len(self.ids), dtype=np.float32)
            for t in dict.fromkeys(terms):
                if t not in self._post:
                    continue
                idx, tf = self._postings(t)
                idf = np.log(1 + (N - len(idx) + 0.5) / (len(idx) + 0.5))
                scores[idx] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lens[idx] / avgdl))
            scores[~np.asarray(self._alive)] = 0
            top = np.argsort(-scores)[:n]
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
    original, patched = UnpatchedBM25(), bm25mod.BM25()
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


def store_count(home: Path, embedder: str, n_questions: int = 100) -> dict:
    """Patch 3: retrieve with and without the count before each Chroma query (cached query embeddings)."""
    from qa import Index

    idx = Index(home, embedder=embedder)
    manifest = home.parents[2] / "corpus" / home.parent.name / "manifest.json"
    qs = [q["q"] for q in corpus.questions(json.loads(manifest.read_text()), n_questions)["retrieve"]]
    library = idx.collection.store.query

    def with_count(vector, n, where=None):  # VectorStore.query before the patch
        def call(col):
            k = min(n, col.count())
            if k <= 0:
                return []
            r = col.query(query_embeddings=[vector.tolist()], n_results=k, where=where, include=["distances"])
            return [(cid, 1.0 - float(d)) for cid, d in zip(r["ids"][0], r["distances"][0])]

        return idx.collection.store._run("query", call)

    for q in qs:  # embeddings cached, lazy loads done
        idx.retrieve(q)
    before, after, same = [], [], 0
    for q in qs:
        idx.collection.store.query = with_count
        a, sa = timed(idx.retrieve, q)
        idx.collection.store.query = library
        b, sb = timed(idx.retrieve, q)
        before.append(sa)
        after.append(sb)
        same += [p.id for p in a] == [p.id for p in b]
    count_s = timed(idx.collection.store.count, repeat=20)[1]
    return {"count_ms": round(count_s * 1000, 2), "retrieve_before": ms_stats(before), "retrieve_after": ms_stats(after),
            "same_results": f"{same}/{len(qs)}"}


def pairing(home: Path, embedder: str, n: int = 256) -> dict:
    """Patch 4: the pairing queries one per call (as ingest does) and n per call, ms per chunk."""
    from index.store import VectorStore

    store = VectorStore(home / "chroma", embedder)
    got = store._run("read", lambda col: col.get(limit=20 * n, include=["embeddings", "metadatas"]))
    by_lang: dict[str, list] = {}
    for v, m in zip(got["embeddings"], got["metadatas"]):
        by_lang.setdefault(m["lang"], []).append(v)
    lang, vecs = max(by_lang.items(), key=lambda kv: len(kv[1]))
    vecs = [list(map(float, v)) for v in vecs[:n]]
    where = {"lang": {"$ne": lang}}

    def ask(batch):
        return store._run("query", lambda col: col.query(query_embeddings=batch, n_results=3, where=where,
                                                         include=["distances"]))

    def one():
        return [ask([v]) for v in vecs[:50]]

    def many():
        return ask(vecs)

    _, one_s = timed(one)
    _, many_s = timed(many)
    return {"one_per_call_ms_per_chunk": round(one_s / 50 * 1000, 2),
            "batched_ms_per_chunk": round(many_s / len(vecs) * 1000, 2), "batch": len(vecs)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.patches", description=__doc__.split("\n\n")[0])
    p.add_argument("home", type=Path, help="an index built by bench.run: <workdir>/<embedder>/<size>/ours")
    p.add_argument("--embedder", default="e5-small")
    p.add_argument("--scale", type=int, default=1)
    a = p.parse_args(argv)
    out = measure(a.home, a.embedder, a.scale)
    out["store_count"] = store_count(a.home, a.embedder)
    out["pairing_queries"] = pairing(a.home, a.embedder)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
