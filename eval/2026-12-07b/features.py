"""Record, for every question of a set, the candidate sentences the reader read in `ask` with the parts
of their score and whether the quote made around each holds a gold answer; for fitting the weights of
those parts on train splits and measuring them on test splits (fit.py beside this file).

    python eval/2026-12-07b/features.py SET SPLIT OUT.npz [LIMIT]

Nothing of the answerer changes: `qa.answerers.extractive.score` is wrapped, its output read.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import qa.answerers.extractive as ex
from qa.answerers.cues import CONTACT_TYPES, expected_types, has_type
from qa.answerers.reading import load_reader
from qa.answerers.spans import is_title
from qa.eval.metrics import contains_answer
from qa.eval.sets import default_workdir
from qa.eval.sweep import build

NAMES = ("hand", "cos", "overlap", "rank", "cross", "title", "typed", "contact", "logit", "fused", "similarity",
         "near", "part", "fused_gap", "similarity_gap")
_CURRENT: dict = {}
_original = ex.score


def recording(question, qvec, sents, embedder, qlang="", cfg=ex.DEFAULT, idf=lambda t: 1.0):
    out = _original(question, qvec, sents, embedder, qlang, cfg, idf)
    if "rows" in _CURRENT:  # the answer's own call (the rerank is not in ask)
        return out
    rank = {(s.passage.id, s.start, s.end): r for r, s in sents}
    aw = load_reader().answerer_weight
    types, contacts = expected_types(question), expected_types(question, CONTACT_TYPES)
    top = [s for r, s in sents if s.passage.score != 0.0]
    best_fused = max((s.passage.score for s in top), default=0.0)
    best_sim = max((s.passage.similarity for _, s in sents), default=0.0)
    rows = []
    for s in out[: cfg.reader_depth]:
        r = rank.get((s.passage.id, s.start, s.end), cfg.top)
        cos = float(s.vec @ qvec) if s.vec is not None else 0.0
        cross = float(bool(qlang) and s.passage.lang != qlang)
        title, typed = float(is_title(s.text)), float(bool(types) and has_type(s.text, types))
        contact = float(bool(contacts) and has_type(s.text, contacts, CONTACT_TYPES))
        base = s.score - s.read
        overlap = 0.0 if s.part else (base - cos - cfg.rank_bonus / (1 + r) - cfg.cross_lingual_sentence_bonus * cross
                                      + cfg.title_penalty * title - cfg.type_bonus * typed - cfg.contact_bonus * contact) / cfg.lexical_weight
        logit = s.read * aw / cfg.reader_weight
        near = float(s.passage.score == 0.0 and not s.part)
        label = contains_answer(ex.window(s, cfg).text, _CURRENT["answers"])
        rows.append(([s.score, cos, overlap, 1 / (1 + r), cross, title, typed, contact, logit, s.passage.score,
                      s.passage.similarity, near, float(bool(s.part)),
                      (s.passage.score - best_fused) if not near else 0.0, s.passage.similarity - best_sim], label))
    _CURRENT["rows"] = rows
    return out


def main() -> None:
    name, split, out = sys.argv[1:4]
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    ex.score = recording
    es, idx = build(name, default_workdir(), split, every=True)
    X, y, qid, answered, correct, answerable = [], [], [], [], [], []
    for i, q in enumerate(es.questions[:limit]):
        _CURRENT.clear()
        _CURRENT["answers"] = q.answers
        ans = idx.ask(q.text)
        for f, lab in _CURRENT.get("rows", []):
            X.append(f)
            y.append(lab)
            qid.append(i)
        answered.append(ans.answered)
        answerable.append(q.answerable)
        correct.append(bool(q.answerable and ans.answered and contains_answer(ans.text, q.answers)))
    np.savez(out, X=np.array(X, dtype=np.float64), y=np.array(y), qid=np.array(qid), answered=np.array(answered),
             correct=np.array(correct), answerable=np.array(answerable), names=np.array(NAMES))
    n = max(sum(answerable), 1)
    print(f"{name} {split}: {len(answerable)} questions, accuracy {sum(correct) / n:.3f}, {len(X)} rows -> {out}")


if __name__ == "__main__":
    main()
