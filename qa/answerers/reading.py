"""The readers as the extractive answerer uses them (qa.reader): the sentence reader re-scoring the best
sentences (`read`), the passage reader adding to a passage's sentences (`passage_reads`), each loaded
once per process and left out, said once on stderr, where it cannot run (`load_reader`). A reader's
logit is divided by the weight it was trained beside the answerer's score with, so what it adds stays
on the answerer's scale.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from index.chunker import clean

if TYPE_CHECKING:
    from index.types import Passage

    from .extractive import ExtractiveSettings, Sentence


def passage_reads(question: str, passages: list[Passage], cfg: ExtractiveSettings) -> dict[str, float]:
    """What the reader adds to each passage's sentences when it reads the passage whole with the
    question (``cfg.passage_weight`` x its logit / its trained weight); {} when off or unavailable."""
    if cfg.passage_weight <= 0 or (reader := load_reader("passages")) is None:
        return {}
    unique = list({p.id: p for p in passages}.values())
    if len(unique) < 2:
        return {}
    logits = reader.score(question, [clean(p.text) for p in unique], max_tokens=cfg.passage_tokens)
    return {p.id: cfg.passage_weight * float(x) / reader.answerer_weight for p, x in zip(unique, logits)}


def read(question: str, ranked: list[Sentence], depth: int, weight: float | list[float] = 1.0,
         context_weight: float = 0.0) -> list[Sentence]:
    """The first `depth` sentences re-scored by the reader, which reads each with the question: their
    score + `weight` x the reader's logit / the weight it was trained beside this score with (so the
    scale stays the answerer's), the rest after them; `weight` may be one per sentence of `ranked`. With `context_weight`, the reader in context
    (reader-context.npz, which reads each of their passages' candidates together, in the file's order)
    adds that much of its logit to the reader's. Unchanged when the reader cannot run here (said once)."""
    weights = list(weight) if isinstance(weight, (list, tuple)) else [weight] * len(ranked)
    if depth < 2 or len(ranked) < 2 or max(weights[:depth]) <= 0:
        return ranked
    reader = load_reader()
    if reader is None:
        return ranked
    head = ranked[:depth]
    logits = _logits(reader, question, head, ranked)
    if context_weight > 0 and (in_context := load_reader("context")) is not None:
        logits = logits + context_weight * _logits(in_context, question, head, ranked)
    added = [w * float(x) / reader.answerer_weight for w, x in zip(weights, logits)]
    head = [replace(s, score=s.score + a, read=s.read + a) for s, a in zip(head, added)]
    return sorted(head, key=lambda s: -s.score) + ranked[depth:]


def _logits(reader, question: str, head: list[Sentence], ranked: list[Sentence]) -> np.ndarray:
    """The reader's logit for each sentence of `head`: read alone, or, by a reader in context, with the
    other candidates of its passage (of `ranked`) in the file's order; a letter's date or signature
    line, which is not in the passage, is read alone."""
    if not reader.context:
        return reader.score(question, [s.said for s in head]).astype(np.float64)
    key = lambda s: (s.passage.source, s.passage.start, s.part)  # noqa: E731
    wanted = {key(s) for s in head}
    groups: dict = {}
    for s in ranked:
        if key(s) in wanted:
            groups.setdefault(key(s), []).append(s)
    parts = [sorted(g, key=lambda s: s.start) for g in groups.values()]
    got = reader.score_groups(question, [[clean(s.text) for s in g] for g in parts])
    by = {id(s): float(x) for g, xs in zip(parts, got) for s, x in zip(g, xs)}
    return np.array([by[id(s)] for s in head])


def span_of(question: str, sentence: str, margin: float) -> tuple[int, int] | None:
    """The words of `sentence` the short-answer reader (qa.reader.span) finds answering `question`, as
    offsets into it, when it prefers them to "none here" by `margin`; None otherwise or when it cannot
    run here (said once)."""
    reader = load_reader("span")
    if reader is None or not sentence.strip():
        return None
    got = reader.span(question, sentence)
    return got[:2] if got is not None and got[2] >= margin else None


_READER: dict = {}
_KINDS = {"": "the reader", "context": "the reader in context", "passages": "the passage reader", "span": "the short-answer reader"}


def load_reader(kind: str = ""):
    """The packaged reader (`kind="context"`: the reader in context; `"passages"`: the passage reader),
    loaded once; None (said once on stderr) when it cannot load here."""
    if kind not in _READER:
        try:
            from ..reader import Reader

            r = {"": Reader.default, "context": Reader.default_in_context, "passages": Reader.default_passages,
                 "span": Reader.default_span}[kind]().load()
            if kind == "span" and not r.spans:
                raise ValueError(f"{r.artefact.name} is not a short-answer reader")
            if kind != "span" and r.answerer_weight <= 0:
                raise ValueError(f"{r.artefact.name} was not trained beside the answerer's score")
            _READER[kind] = r
        except Exception as e:  # noqa: BLE001 (whatever stops the reader, answers fall back to the score alone)
            why = (str(e).strip().splitlines() or [""])[0][:200]
            print(f"qa: answers without {_KINDS[kind]}, which cannot be used here: {type(e).__name__}: {why}", file=sys.stderr)
            _READER[kind] = None
    return _READER[kind]
