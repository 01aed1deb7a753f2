"""What retrieve() shows: R@1 / the answer inside the top passage @1 / inside one of the top 5 / the top
passage's mean characters, the chunks as indexed (passage_chars=0) then the default (widened to 450), in
one process over the sweep's index of each set:

    python eval/2026-12-07/passages_shown.py seeds,paris-call all test
    python eval/2026-12-07/passages_shown.py piaf,piaf-long,squad all test     # held out
    python eval/2026-12-07/passages_shown.py piaf,squad 400 train              # train slices

(The train-slice rows of passage-modes-train.md and passage-recut-test.md were made with this script
when the re-cut variants were still in the code, chosen by QA_RECUT_MODE; they were removed.)"""
import sys
from dataclasses import replace
from qa.answerers.extractive import DEFAULT as E
from index.retrieval import DEFAULT as F
from qa.eval.sweep import build, configured
from qa.eval.sets import default_workdir
from qa.eval.metrics import contains_answer
wd = default_workdir()
sets = sys.argv[1].split(","); limit = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "all" else None
split = sys.argv[3] if len(sys.argv) > 3 else "train"
for name in sets:
    es, idx = build(name, wd, split)
    qs = [q for q in es.questions if q.answerable and q.answers][:limit]
    row = {}
    for label, cfg in (("chunks", replace(E, passage_chars=0)), ("widened", E)):
        configured(idx, cfg, F)
        hit = a1 = a5 = chars = 0
        for q in qs:
            ps = idx.retrieve(q.text, 5)
            if not ps: continue
            hit += q.hit(ps[0]); a1 += q.hit(ps[0]) and contains_answer(ps[0].text, q.answers); chars += len(ps[0].text)
            a5 += any(q.hit(p) and contains_answer(p.text, q.answers) for p in ps)
        row[label] = (hit/len(qs), a1/len(qs), a5/len(qs), chars/len(qs))
    shown_split = split if name in ("piaf", "squad", "piaf-long", "squad-long", "piaf-md", "squad-md") else "all"
    first = f", first {limit}" if limit else ""
    print(f"| {name} ({shown_split}{first}) | {len(qs)} | " + " | ".join(f"{r[0]:.3f} / {r[1]:.3f} / {r[2]:.3f} / {r[3]:.0f}" for r in row.values()) + " |", flush=True)
