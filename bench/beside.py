"""Questions beside an ingest: does indexing a large document stall answering?

    python -m bench.beside --chunks 1000 --out bench/results

One process, one index of the seeds (its question embeddings warmed, as a server's would be). First the
seeds dev questions are asked in turn for --seconds with nothing else running: the baseline. Then a
document of about --chunks chunks (PIAF paragraphs, real French text, embedded from scratch: a fresh
embedding cache) is indexed in a thread while the same questions are asked in turn until it is done.
Reported: ask p50/p95 in each phase, their ratio, the ingest's chunks/s and how many questions were
answered during it. Target (issue: "indexing never stalls answering"): p95 during ≤ 2× p95 without.
Before the change, `Index.add` held the index lock for the whole ingest and a question waited for it
all (a 231-chunk upload made the questions overlapping it wait 37.8 s, median).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "seeds_dev.jsonl").open(encoding="utf-8")]
    return [r["question"] for r in rows]


def big_document(folder: Path, chunks: int) -> Path:
    from qa.eval.sets import shared_dir

    data = json.loads((shared_dir() / "eval" / "piaf" / "piaf-v1.0.json").read_text("utf-8"))["data"]
    paras = [p["context"] for a in data for p in a["paragraphs"]]
    text, n = [], 0
    for p in paras:  # ~450-character chunks: about len/400 chunks a paragraph
        text.append(p)
        n += max(1, len(p) // 400)
        if n >= chunks:
            break
    doc = folder / "piaf-grand-document.txt"
    doc.write_text("\n\n".join(text) + "\n", "utf-8")
    return doc


def timed_asks(idx, qs: list[str], until) -> list[float]:
    out, i = [], 0
    while not until():
        t = time.perf_counter()
        idx.ask(qs[i % len(qs)])
        out.append(1000 * (time.perf_counter() - t))
        i += 1
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=30.0, help="length of the baseline phase")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    from qa import Index

    work = Path(tempfile.mkdtemp(prefix="bench-beside-"))
    idx = Index(work / "home")
    idx.add([ROOT / "seeds"])
    qs = questions()
    for q in qs:  # warm: question and sentence embeddings in the cache, as on a running server
        idx.ask(q)
    t0 = time.perf_counter()
    alone = timed_asks(idx, qs, lambda: time.perf_counter() - t0 > a.seconds)
    doc = big_document(work, a.chunks)
    done = threading.Event()
    result = {}

    def ingest():
        t = time.perf_counter()
        report = idx.add([doc])
        result.update(chunks=report.chunks, seconds=time.perf_counter() - t)
        done.set()

    worker = threading.Thread(target=ingest)
    worker.start()
    beside = timed_asks(idx, qs, done.is_set)
    worker.join()
    pct = lambda xs, q: float(np.percentile(xs, q)) if xs else float("nan")  # noqa: E731
    out = {"ask_alone_ms": {"n": len(alone), "p50": pct(alone, 50), "p95": pct(alone, 95)},
           "ask_during_ingest_ms": {"n": len(beside), "p50": pct(beside, 50), "p95": pct(beside, 95),
                                    "max": max(beside) if beside else None},
           "p95_ratio": pct(beside, 95) / pct(alone, 95),
           "ingest": {**result, "chunks_per_s": result["chunks"] / result["seconds"]}}
    print(json.dumps(out, indent=1))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "beside.json").write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    return out


if __name__ == "__main__":
    main()
