"""For choosing when the answer leads with a short answer: run `ask` over a set's split and record, for
each answered question, the rules' short answer (cues.short_answer) and the short-answer reader's span
with its margin over "none here", in the best sentence; then print, per margin threshold, how many
answers get a short answer and how many of those are right (qa.eval.metrics.short_right), rules
first or the reader first.

    python eval/2026-12-07b/short_answers.py SET SPLIT [LIMIT [ROWS.json]]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import qa.answerers.extractive as ex
from qa.answerers.cues import CONTACT_TYPES, expected_types, short_answer
from qa.answerers.reading import load_reader
from qa.eval.metrics import short_right
from qa.eval.metrics import contains_answer
from qa.eval.sets import default_workdir
from qa.eval.sweep import build

seen: list = []
_original = ex.short


def recording(question, sentence, cfg=ex.DEFAULT):
    rules = short_answer(sentence, question, expected_types(question), expected_types(question, CONTACT_TYPES))
    got = load_reader("span").span(question, sentence)
    seen.append((sentence[rules[0]:rules[1]] if rules else None, (sentence[got[0]:got[1]], got[2]) if got else None))
    return _original(question, sentence, cfg)


def main() -> None:
    name, split = sys.argv[1:3]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    ex.short = recording
    es, idx = build(name, default_workdir(), split, every=True)
    rows, dump = [], []
    for q in es.questions[:limit]:
        seen.clear()
        ans = idx.ask(q.text)
        if q.answerable and ans.answered and seen and q.answers:
            rows.append((seen[-1], q.answers))
            dump.append({"question": q.text, "rules": seen[-1][0], "span": seen[-1][1], "answers": list(q.answers),
                         "correct": contains_answer(ans.text, q.answers)})
    if len(sys.argv) > 4:
        Path(sys.argv[4]).write_text(json.dumps(dump, ensure_ascii=False, indent=0), "utf-8")
    n = len(rows)
    print(f"{name} {split}: {n} answerable questions answered")
    print("| threshold | rules only: given / right | reader only: given / right | rules, then reader | reader, then rules |")
    print("|---:|---|---|---|---|")
    for t in (-2, 0, 1, 2, 3, 4, 5, 6, 8):
        cols = []
        for mode in ("rules", "reader", "rules+reader", "reader+rules"):
            given = right = 0
            for (rules, got), answers in rows:
                model = got[0] if got and got[1] >= t else None
                pick = {"rules": rules, "reader": model, "rules+reader": rules or model, "reader+rules": model or rules}[mode]
                if pick:
                    given += 1
                    right += short_right(pick, answers)
            cols.append(f"{given / max(n, 1):.3f} / {right / max(given, 1):.3f}")
        print(f"| {t} | " + " | ".join(cols) + " |")
    if rows:
        print("examples:", [(q[1][0] if q[1] else None, round(q[1][1], 1) if q[1] else None, a[0]) for q, a in rows[:12]])


if __name__ == "__main__":
    main()
