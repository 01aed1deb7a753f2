"""Retrieval at answer grain: `retrieve()`'s first passages reordered by the answerer's score of their
best sentence (the reader included), then each shown widened by the sentences around it (README, "The
reader"). The answerer's own scoring and settings (qa.answerers.extractive), used for passages.
"""
from __future__ import annotations

import numpy as np

from index.loader import Sources
from index.types import Passage

from .extractive import DEFAULT, ExtractiveSettings, score, span_passage, split
from .spans import fill


def rerank(question: str, qlang: str, qvec: np.ndarray, passages: list[Passage], collection, sources: Sources,
           cfg: ExtractiveSettings = DEFAULT) -> list[Passage]:
    """Retrieval at answer grain: the first `cfg.rerank_depth` passages reordered by the score of their
    best sentence (the answer's own scoring, passage rank included), the rest after them as they were.
    A long passage that mentions the subject then gives way to the one that says the answer (train
    splits, top 5: PIAF R@1 0.767 -> 0.787, SQuAD 0.680 -> 0.693, seeds 0.891 -> 0.938). Each of them
    is then widened to `cfg.passage_chars` characters (`widen`)."""
    head = passages[: cfg.rerank_depth]
    if len(head) < 2:
        return passages
    have = {h.id for h in head}
    near = collection.neighbours(head[0], qvec, cfg.neighbours) if cfg.neighbours and cfg.neighbours_in_rerank else []
    near = [p for p in near if p.id not in have]
    best: dict[str, float] = {}
    sents = split(head, sources, cfg) + [(cfg.neighbour_rank, s) for _, s in split(near, sources, cfg)]
    for s in score(question, qvec, sents, collection.embedder, qlang, cfg, collection.idf):
        best.setdefault(s.passage.id, s.score)
    taken = {p.id for p in near}
    rest = [p for p in passages[cfg.rerank_depth :] if p.id not in taken]
    ranked = sorted(head + near, key=lambda p: -best.get(p.id, -1e9))
    if cfg.passage_chars:  # the same passages for every k: only these are widened, never into each other
        ranked = [widen(p, collection, sources, have | taken, cfg.passage_chars) for p in ranked]
    return ranked + rest


def widen(p: Passage, collection, sources: Sources, shown: set[str], limit: int) -> Passage:
    """Passage `p` with the whole sentences after it, then those before it, up to `limit` characters
    (spans.fill), taken from the chunks beside it in its language and section (no heading between)
    that are not shown themselves, so no two passages overlap. Its own text is all kept: a chunk that
    ends on a lead-in ("This includes:") shows the list after it (the seeds: the answer inside the top
    passage 0.766 -> 0.797; README). `p` as it is when its file changed since it was indexed."""
    src = sources.get(p.source)
    if src is None or src.text[p.start : p.end] != p.text:
        return p
    text, lo, hi = src.text, p.start, p.end
    heads = src.sections()  # where a heading starts
    for cid, a, b in collection.adjoining(p):
        if cid in shown:
            continue
        if b <= lo and not text[b:lo].strip() and not any(b <= o <= lo for o in heads):
            lo = a
        elif a >= hi and not text[hi:a].strip() and not any(hi <= o <= a for o in heads):
            hi = b
    a, b = fill(text, p.start, p.end, lo, hi, limit)
    return p if (a, b) == (p.start, p.end) else span_passage(p, sources, a, b)
