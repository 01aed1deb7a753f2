"""Does the short-answer reader's margin ("some words here answer" over "none here") also choose the
answering sentence? Sentence choice inside the gold paragraph, as `python -m qa.reader.evaluate`
measures it (qa/reader/evaluate.py), for the reader, the span margin, and each beside the answerer's
score. Exploratory: nothing here chooses a setting.

    python eval/2026-12-07b/span_as_reader.py SPLIT [LIMIT]
"""
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from index.embedders import CachedEmbedder, e5_small_int8
from qa.reader import data
from qa.reader.data import answerer_scores
from qa.reader.model import Reader

split = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 0
items = data.examples(split)
by = defaultdict(list)
for it in items:
    by[it.source].append(it)
items = [it for g in by.values() for it in (g[:limit] if limit else g)]
emb = CachedEmbedder(e5_small_int8(), Path.home() / ".cache" / "bilingual-qa" / "reader-train-vectors.sqlite")
reader, spans = Reader.default().load(), Reader.default_span().load()
hits = defaultdict(lambda: defaultdict(list))
for it in items:
    cands = list(it.sentences[: it.paragraph])
    qvec = emb.embed([it.question], "query")[0]
    ans = answerer_scores(it, cands, qvec, emb)
    rd = reader.score(it.question, cands)
    sp = np.array([(spans.span(it.question, c) or (0, 0, -20.0))[2] for c in cands])
    methods = {"answerer score": ans, "reader": rd, "reader + 19.9 x answerer (as trained)": rd + 19.9 * ans,
               "span margin": sp}
    for a in (10, 20, 40):
        methods[f"span margin + {a} x answerer"] = sp + a * ans
    for b in (0.25, 0.5, 1.0):
        methods[f"reader + {b} x span margin + 19.9 x answerer"] = rd + b * sp + 19.9 * ans
    for name, s in methods.items():
        hits[it.source][name].append(data.holds_answer(it.answers, cands[int(np.argmax(s))]))
sources = list(hits)
print(f"# split {split}: top-1 sentence in the gold paragraph\n")
print("| method | " + " | ".join(f"{s} ({len(hits[s]['reader'])})" for s in sources) + " |")
print("|---|" + "---:|" * len(sources))
for name in hits[sources[0]]:
    print(f"| {name} | " + " | ".join(f"{np.mean(hits[s][name]):.3f}" for s in sources) + " |")
