"""Coverage and rightness of short answers at each margin threshold, from short_answers.py's rows:
rules only, then the rules and the short-answer reader above the threshold (the rules first).

    python eval/2026-12-07b/short_table.py ROWS.json [ROWS.json ...]
"""
import json
import sys

from qa.eval.metrics import short_right

for path in sys.argv[1:]:
    rows = json.load(open(path))
    n = len(rows)
    print(f"\n{path}: {n} answerable questions answered, quote right {sum(r['correct'] for r in rows) / n:.3f}")
    print("| threshold | short answers given | right | right, of answers whose quote is right |")
    print("|---:|---:|---:|---:|")
    for t in (None, 0, 2, 3, 4, 5, 6, 8):
        picks = [(r["rules"] or (r["span"][0] if t is not None and r["span"] and r["span"][1] >= t else None), r) for r in rows]
        given = [(p, r) for p, r in picks if p]
        ok = [short_right(p, r["answers"]) for p, r in given]
        okq = [short_right(p, r["answers"]) for p, r in given if r["correct"]]
        label = "rules only" if t is None else t
        print(f"| {label} | {len(given) / n:.3f} | {sum(ok) / max(len(ok), 1):.3f} | {sum(okq) / max(len(okq), 1):.3f} |")
