"""Retrieve latency for questions the index has never seen, with and without the answer-grain rerank.

    python -m bench.novel HOME [--embedder e5-small-int8] [--n 60]

PIAF questions (../shared/eval/piaf) not in the benchmark's question file beside HOME, shuffled with a
fixed seed (`--seed`); the first n timed with ``retrieve(q, 5, rerank=False)``, the next n with ``retrieve(q, 5)``
(each question once, so each embeds its question for the first time).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np

from qa.reader.data import PIAF


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path, help="a built data folder (e.g. WORKDIR/e5-small-int8/100000/ours)")
    ap.add_argument("--embedder", default="e5-small-int8")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7, help="another seed for other questions (a question asked before is cached)")
    args = ap.parse_args(argv)
    from qa import Index

    asked = args.home.parent / "questions.json"
    used = asked.read_text(encoding="utf-8") if asked.exists() else ""
    qs = [q["question"] for a in json.loads(PIAF.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"] for q in p["qas"]]
    random.Random(args.seed).shuffle(qs)
    qs = [q for q in qs if json.dumps(q)[1:-1] not in used][: 2 * args.n]
    idx = Index(args.home, embedder=args.embedder)
    idx.ask("Quel est le sujet de ce texte ?")  # warm: models, lazy loads
    idx.retrieve("What is this text about?")
    for name, rerank, group in (("fused (rerank=False)", False, qs[: args.n]), ("default (rerank)", True, qs[args.n :])):
        times = []
        for q in group:
            t = time.perf_counter()
            idx.retrieve(q, 5, rerank=rerank)
            times.append(1000 * (time.perf_counter() - t))
        print(f"{name}: {len(times)} first-time questions, p50 {np.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms; "
              f"{len(idx)} chunks; 1-minute load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
