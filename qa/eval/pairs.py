"""Sentence pairs (`qa eval tatoeba`, `qa eval un`): the embedder alone. For each sentence, is its
translation the nearest of all the other side's sentences?"""
from __future__ import annotations

from pathlib import Path
from time import perf_counter

import numpy as np

from .metrics import DEPTH, progress_bar, rank_metrics
from .report import Report, Scores, Subset
from .sets import need, shared_dir

PAIRS = {"tatoeba": ("tatoeba-fra-eng", "tatoeba.fra-eng.eng", "tatoeba.fra-eng.fra"),
         "un": ("un-parallel-devset", "UNv1.0.devset.en", "UNv1.0.devset.fr")}


def evaluate_pairs(name: str, embedder: str, cache: Path, k: int = 5, limit: int | None = None,
                   progress: bool = False) -> Report:
    """For each of the first `limit` sentences, is its translation the nearest of all the other side's?

    Two ways to embed: both sides as passages (how the index pairs translated chunks) and the source
    as a query (how a question meets a passage). A duplicate sentence counts as its own translation.
    """
    from index.chunker import clean
    from index.embedders import CachedEmbedder, get_embedder

    folder, en_file, fr_file = PAIRS[name]
    t0 = perf_counter()
    texts = {lang: need(shared_dir() / "eval" / folder / f).read_text("utf-8").splitlines()[:limit]
             for lang, f in (("en", en_file), ("fr", fr_file))}
    emb = CachedEmbedder(get_embedder(embedder), cache / "embeddings.sqlite")
    n = len(texts["en"])
    bar = progress_bar(range(4 * n), progress, f"embedding {name}", "sentence")
    vec = {}
    for lang in ("en", "fr"):
        for kind in ("passage", "query"):
            vec[lang, kind] = emb.embed([clean(t) for t in texts[lang]], kind, progress=getattr(bar, "update", None))
    if progress:
        bar.close()
    subsets = []
    for src, dst in (("fr", "en"), ("en", "fr")):
        targets = [clean(t) for t in texts[dst]]
        scores = []
        for system, kind in (("passage-passage", "passage"), ("query-passage", "query")):
            top = np.argsort(-(vec[src, kind] @ vec[dst, "passage"].T), axis=1)[:, :DEPTH]
            ranks = [next((j for j, c in enumerate(row, 1) if targets[c] == targets[i]), None)
                     for i, row in enumerate(top)]
            scores.append(Scores(system, *rank_metrics(ranks, k)))
        subsets.append(Subset(f"{src}→{dst}", n, n, tuple(scores)))
    info = f"{n} sentence pairs; embedder {embedder}; the other side's {n} sentences are the candidates"
    systems = ("passage-passage", "query-passage")
    return Report(name, embedder, k, systems, tuple(subsets), (), info, perf_counter() - t0)
