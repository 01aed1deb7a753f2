"""Would the reader help abstention? ``python -m qa.reader.abstain [--home DIR]``.

Asks every seeds dev question (tests/data/seeds_dev.jsonl) of an index of the seeds and records, for
each, the best sentence's evidence as the answerer decides abstention today (its score alone) and as
it would with the reader's part added; prints how well each separates the answerable questions from
the unanswerable ones (AUC) and the unanswerable ones' values. The seeds are a tuned set: a threshold
on the combined value would need a split the reader has not seen.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.answerers import extractive

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=Path.home() / ".cache" / "bilingual-qa" / "abstain-seeds")
    args = ap.parse_args(argv)
    from qa import Index

    seen: dict[str, tuple[float, float]] = {}
    plain = extractive.read

    def recording(question, ranked, *args, **kwargs):
        out = plain(question, ranked, *args, **kwargs)
        if out:
            seen[question] = (max(s.score - s.read for s in out), max(s.score for s in out))
        return out

    extractive.read = recording
    idx = Index(args.home)
    if not len(idx):
        idx.add([ROOT / "seeds"])
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "seeds_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    values = []
    for r in rows:
        seen.pop(r["question"], None)
        idx.ask(r["question"])
        if r["question"] in seen:
            values.append((seen[r["question"]], bool(r["answerable"])))
    for k, name in ((0, "score alone (today)"), (1, "score + reader")):
        pos = np.array([v[k] for v, a in values if a])
        neg = np.array([v[k] for v, a in values if not a])
        auc = float(np.mean(pos[:, None] > neg[None, :]))
        print(f"{name}: AUC {auc:.3f} ({len(pos)} answerable, {len(neg)} not); unanswerable: "
              + " ".join(f"{x:.3f}" for x in np.sort(neg)))


if __name__ == "__main__":
    main()
