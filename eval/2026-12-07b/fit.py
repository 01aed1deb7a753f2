"""Fit weights for the parts of a candidate sentence's score (features.py's rows) on train splits, and
compare, on every set and split recorded, how often the best sentence's quote holds a gold answer:
the hand-set score (the product today) against the fitted one.

    python eval/2026-12-07b/fit.py DIR FEATURE,FEATURE,... [TRAIN_SETS]

The loss: for each train question with at least one quote holding an answer, -log of the softmax mass
of those rows (listwise), plus a little L2. Features standardised on the train rows.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

SETS = ("seeds", "paris-call", "paris-call-en-only", "paris-call-fr-only", "squad", "piaf")


def load(path: Path):
    d = np.load(path)
    return d["X"], d["y"].astype(bool), d["qid"], list(d["names"]), d


def groups(qid):
    out = {}
    for i, q in enumerate(qid):
        out.setdefault(int(q), []).append(i)
    return list(out.values())


def top1(scores, y, qid, n_questions):
    """Share of the answerable questions whose best-scored row holds an answer."""
    hit = 0
    for g in groups(qid):
        hit += bool(y[g[int(np.argmax(scores[g]))]])
    return hit / max(n_questions, 1)


def fit(Xs, ys, qids, l2=1e-3, steps=400):
    X = np.concatenate(Xs)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    data = []
    for X_, y_, q_ in zip(Xs, ys, qids):
        for g in groups(q_):
            if y_[g].any() and not y_[g].all():
                data.append((torch.tensor((X_[g] - mu) / sd), torch.tensor(y_[g])))
    opt = torch.optim.LBFGS([w], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = sum(-(torch.logsumexp((x @ w)[y], 0) - torch.logsumexp(x @ w, 0)) for x, y in data) / len(data)
        loss = loss + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy() / sd, mu, len(data)


def main() -> None:
    d = Path(sys.argv[1])
    feats = sys.argv[2].split(",")
    train_sets = sys.argv[3].split(",") if len(sys.argv) > 3 else ["squad", "piaf", "paris-call", "paris-call-en-only", "paris-call-fr-only"]
    cache = {}
    for s in SETS:
        for sp in ("train", "test"):
            if (d / f"{s}-{sp}.npz").exists():
                cache[s, sp] = load(d / f"{s}-{sp}.npz")
    names = next(iter(cache.values()))[3]
    cols = [names.index(f) for f in feats]
    tr = [cache[s, "train"] for s in train_sets if (s, "train") in cache]
    w, mu, n = fit([c[0][:, cols] for c in tr], [c[1] for c in tr], [c[2] for c in tr])
    print(f"fitted on {', '.join(train_sets)} train ({n} questions with a quote holding an answer and one not)")
    print("weights (per unit of each feature): " + ", ".join(f"{f} {x:+.4f}" for f, x in zip(feats, w)))
    print(f"| set | split | questions | product accuracy | best quote holds an answer: hand | fitted |")
    print("|---|---|---:|---:|---:|---:|")
    for (s, sp), (X, y, qid, _, raw) in cache.items():
        n_ans = int(raw["answerable"].sum())
        hand = top1(X[:, names.index("hand")], y, qid, n_ans)
        new = top1(X[:, cols] @ w, y, qid, n_ans)
        acc = raw["correct"].sum() / max(n_ans, 1)
        print(f"| {s} | {sp} | {n_ans} | {acc:.3f} | {hand:.3f} | {new:.3f} |")


if __name__ == "__main__":
    main()
