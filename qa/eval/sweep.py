"""How the answer and fusion settings were chosen: each variant of qa/answer.py and qa/retrieval.py
run over the same indexes, in one process, on the seeds dev set, the Paris Call (both halves, and the
English half alone: French questions answered from English text) and a fixed slice of PIAF.

    python eval/sweep.py                 # every table of README "Choosing the settings" (answers part)
    python eval/sweep.py --piaf 1000     # a larger PIAF slice (default 500)

The indexes are built by `qa eval`'s own code into its work folder, with its shared embedding cache, so a
second run embeds nothing. A variant is a set of module constants, patched for its run and restored.
`qa eval SET` then measures the chosen defaults with the baselines beside them (eval/REPORT.md).
"""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa import answer as A  # noqa: E402
from qa import evaluate as ev  # noqa: E402
from qa import retrieval as R  # noqa: E402
from qa.config import Settings  # noqa: E402

SETS = ("seeds", "paris-call", "paris-call-en-only", "piaf")

VARIANTS = [  # (label, {module constant: value}); applied on top of the defaults
    ("best sentence alone (before windows)", {A: dict(WINDOW_NEXT=0, WINDOW_PREV=False, WINDOW_LEAD=False, MIN_FACT_CHARS=10**6)}),
    ("+ next sentence of the paragraph", {A: dict(WINDOW_PREV=False, WINDOW_LEAD=False, MIN_FACT_CHARS=10**6)}),
    ("+ lead-in block, line before a title, short lines with numbers", {}),
    ("  two next sentences, 500 characters", {A: dict(WINDOW_NEXT=2, WINDOW_CHARS=500)}),
    ("cross-lingual sentence bonus 0.02", {A: dict(CROSS_LINGUAL_SENTENCE_BONUS=0.02)}),
    ("cross-lingual sentence bonus 0.04", {A: dict(CROSS_LINGUAL_SENTENCE_BONUS=0.04)}),
    ("cross-lingual sentence bonus 0.10", {A: dict(CROSS_LINGUAL_SENTENCE_BONUS=0.10)}),
    ("fusion: BM25 z-score for every passage (before)", {R: dict(OTHER_LANGUAGE_DENSE_ONLY=False)}),
]


@contextmanager
def patched(changes: dict):
    saved = [(m, k, getattr(m, k)) for m, kv in changes.items() for k in kv]
    for m, kv in changes.items():
        for k, v in kv.items():
            setattr(m, k, v)
    try:
        yield
    finally:
        for m, k, v in saved:
            setattr(m, k, v)


def build(name: str, workdir: Path):
    es = ev.load_set(name, workdir)
    s = Settings.from_env()
    home = workdir / f"{es.name}-{ev._slug(s.embedder)}-c{s.chunk_chars}-sweep"
    return es, ev._index(es, s, home, workdir / "cache", False)


def measure(es, idx, limit: int | None) -> dict:
    hits = correct = answered = answerable = abstained = unanswerable = quoted = 0
    for q in es.questions[:limit]:
        ans = idx.ask(q.text)
        quoted += sum(len(c.quote) for c in ans.citations)
        if q.answerable:
            passages = idx.retrieve(q.text, 1)
            hits += bool(passages) and q.hit(passages[0])
            answerable += 1
            answered += ans.answered
            correct += ans.answered and ev.contains_answer(ans.text, q.answers)
        else:
            unanswerable += 1
            abstained += not ans.answered
    n = max(answerable, 1)
    return {"R@1": hits / n, "acc": correct / n, "answered": answered / n,
            "abstained": abstained / unanswerable if unanswerable else None,
            "quoted": quoted / max(1, answered + unanswerable - abstained)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--piaf", type=int, default=500, help="PIAF questions (the first N of qa eval's fixed sample)")
    p.add_argument("--workdir", type=Path, default=None)
    a = p.parse_args(argv)
    workdir = a.workdir or ev.default_workdir()
    indexes = {name: build(name, workdir) for name in SETS}
    print("| variant | " + " | ".join(f"{n} R@1 / acc" for n in SETS) + " | seeds answered / abstained | mean quote chars (seeds) |")
    print("|---|" + "---|" * (len(SETS) + 2))
    for label, changes in [("**defaults**", {})] + VARIANTS:
        with patched(changes):
            rows = {n: measure(es, idx, a.piaf if n == "piaf" else None) for n, (es, idx) in indexes.items()}
        s = rows["seeds"]
        print(f"| {label} | " + " | ".join(f"{r['R@1']:.3f} / {r['acc']:.3f}" for r in rows.values())
              + f" | {s['answered']:.3f} / {s['abstained']:.3f} | {s['quoted']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
