"""Calibrate abstention: ``python -m qa.reader.abstain record|fit``.

``record --sets piaf-absent,squad-absent --split train`` asks every question of the sets with
abstention off and writes, for each, what the evidence is made of (for each candidate sentence of the
passages retrieval found: its score without the reader's part, and that part; the unknown names) and
whether the answer it gave was right, to a JSON file (default eval/abstain-SPLIT.json). The -absent
sets leave half of their articles out of the documents, so half of their questions are unanswerable
(qa/eval/sets.py); the seeds have 12 unanswerable questions of their own.

``fit --train eval/abstain-train.json --test eval/abstain-test.json eval/abstain-seeds.json`` chooses,
on the train rows only, for each share of the reader's part in the evidence
(`ExtractiveSettings.evidence_read`), the highest threshold at which every train set still answers 90%
of its answerable questions (`fit`), and prints what it gives on every set of the files: answered,
abstained, accurate, and their utility (right answers and right abstentions, the two rates averaged),
beside the threshold in use.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.answerers import extractive

ROOT = Path(__file__).resolve().parents[2]
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
ANSWERED = 0.90  # the share of answerable questions every train set must still answer


def record(sets: list[str], split: str, limit: int | None, workdir: Path | None) -> list[dict]:
    """One row per question of `sets`: its set, whether it is answerable and answered right with
    abstention off, its candidates' (score without the reader, the reader's part) and unknown names."""
    from qa.eval import evaluate

    seen: dict[str, tuple[list, int]] = {}
    plain = extractive.evidence_of
    last: list[str] = [""]

    def recording(candidates, unknown, cfg=extractive.DEFAULT):
        seen[last[0]] = ([(round(s.score - s.read, 4), round(s.read, 4)) for s in candidates], unknown)
        return 1e3  # never abstain: every question gets the answer it would give

    from qa import api

    ask = api.Index.ask

    def asking(self, question, *a, **k):  # the question whose evidence `recording` is about to see
        last[0] = question
        return ask(self, question, *a, **k)

    rows = []
    extractive.evidence_of, api.Index.ask = recording, asking
    try:
        for name in sets:
            report = evaluate(name, split=split, limit=limit, baselines=False, embed_latency=False,
                              workdir=workdir, progress=True)
            for o in report.outcomes:
                cands, unknown = seen.pop(o.question, ([], 0))
                rows.append({"set": name, "id": o.id, "lang": o.lang, "answerable": o.answerable,
                             "correct": bool(o.correct), "candidates": cands, "unknown": unknown})
    finally:
        extractive.evidence_of, api.Index.ask = plain, ask
    return rows


def evidence(row: dict, share: float, penalty: float) -> float:
    """The evidence of a recorded question at this share of the reader's part (-inf: no candidate)."""
    if not row["candidates"]:
        return -np.inf
    return max(a + share * r for a, r in row["candidates"]) - penalty * row["unknown"]


def rates(rows: list[dict], share: float, threshold: float, penalty: float) -> dict:
    ans = [r for r in rows if r["answerable"]]
    un = [r for r in rows if not r["answerable"]]
    answered = [evidence(r, share, penalty) >= threshold for r in ans]
    out = {"n": len(rows), "answered": np.mean(answered) if ans else None,
           "accuracy": np.mean([a and r["correct"] for a, r in zip(answered, ans)]) if ans else None,
           "abstained": np.mean([evidence(r, share, penalty) < threshold for r in un]) if un else None}
    out["utility"] = np.mean([x for x in (out["accuracy"], out["abstained"]) if x is not None])
    return out


def by_set(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["set"], []).append(r)
    return out


def fit(train: list[dict], share: float, penalty: float, answered: float = ANSWERED) -> float:
    """The highest threshold at which every train set still answers at least `answered` of its
    answerable questions (the issue's target: abstention >= 0.90 both ways): abstention only rises with
    the threshold, so this is the most abstention the answerable questions allow."""
    values = sorted({round(evidence(r, share, penalty), 4) for r in train if r["candidates"]})
    if not values:
        return 0.0
    # each set's highest threshold answering `answered` of its answerable questions: the least of them
    highest = []
    for rows in by_set(train).values():
        e = np.array([evidence(r, share, penalty) for r in rows if r["answerable"]])
        if len(e):
            highest.append(max((t for t in values if np.mean(e >= t) >= answered), default=values[0]))
    return min(highest, default=values[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--sets", default="piaf-absent,squad-absent")
    r.add_argument("--split", default="train")
    r.add_argument("--limit", type=int)
    r.add_argument("--workdir", type=Path)
    r.add_argument("--out", type=Path)
    f = sub.add_parser("fit")
    f.add_argument("--train", type=Path, default=ROOT / "eval" / "abstain-train.json")
    f.add_argument("--test", type=Path, nargs="*", default=[ROOT / "eval" / "abstain-test.json"])
    args = ap.parse_args(argv)
    if args.cmd == "record":
        rows = record(args.sets.split(","), args.split, args.limit, args.workdir)
        out = args.out or ROOT / "eval" / f"abstain-{args.split}.json"
        out.write_text(json.dumps(rows, ensure_ascii=False) + "\n", "utf-8")
        print(f"{len(rows)} questions recorded in {out}")
        return
    cfg = extractive.DEFAULT
    penalty = cfg.unknown_name_penalty
    train = json.loads(args.train.read_text("utf-8"))
    files = [(args.train.stem, train)] + [(p.stem, json.loads(p.read_text("utf-8"))) for p in args.test if p.exists()]
    in_use = calibrated()
    print(f"threshold in use (share 0): {in_use}; unknown-name penalty {penalty}")
    print("| share | threshold | file | set | n | answered | abstained | accuracy | utility |")
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for share, t in [(0.0, in_use)] + [(s, fit(train, s, penalty)) for s in SHARES]:
        for fname, rows in files:
            for name, rs in by_set(rows).items():
                x = rates(rs, share, t, penalty)
                cell = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
                print(f"| {share} | {t:.3f} | {fname} | {name} | {x['n']} | {cell(x['answered'])} | "
                      f"{cell(x['abstained'])} | {cell(x['accuracy'])} | {cell(x['utility'])} |")


def calibrated() -> float:
    """The threshold e5-small's calibration sets today (both its engines; no model is loaded)."""
    from index.embedders import E5Small

    return E5Small.calibration.abstain_below


if __name__ == "__main__":
    main()
