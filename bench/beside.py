"""Questions beside an ingest: does indexing a large document stall answering?

    python -m bench.beside --chunks 1000 --out bench/results
    python -m bench.beside --chunks 1000 --levers before,default,before,default   # the change, in one run

One process, one index of the seeds (its question embeddings warmed, as a server's would be). The seeds
dev questions are asked in turn for --seconds with nothing else running (half before the ingest, half
after: the baseline), and while a document of PIAF paragraphs (real French text; --chunks 1000 makes
1,542 chunks, embedded from scratch: a fresh embedding cache) is indexed in a thread.
Reported: ask p50/p95 in each phase, their ratio, the ingest's chunks/s and how many questions were
answered during it. Target (issue: "indexing never stalls answering"): p95 during ≤ 2× p95 without.
Before the change, `Index.add` held the index lock for the whole ingest and a question waited for it
all (a 231-chunk upload made the questions overlapping it wait 37.8 s, median).

`--levers`: the two phases again for each way of making the ingest give way to questions (LEVERS), each
on an index of its own (a fresh embedding cache, so the document is embedded from scratch every time),
in one process, with the load average at the start and end of each. `default` is the code as it is (an
ingest beside questions: e5-small-int8 on one core fewer, the GIL handed over every 0.5 ms); `before`
the ingest as it was (the questions' embedder on every core, Python's 5 ms); the others were tried.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
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


# -- levers: ways of making an ingest give way to questions, applied around one ingest --------------
@contextmanager
def no_lever(idx):
    yield


@contextmanager
def switch_interval(idx, seconds: float = 0.0005):
    """The GIL handed over every 0.5 ms instead of 5: a question waits less for the ingest's Python."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextmanager
def _ingest_embedder(wrap):
    """index.ingest.add called with `wrap(embedder)` in place of the collection's embedder."""
    from index import ingest

    original = ingest.add

    def add(paths, catalog, store, embedder, *args, **kwargs):
        return original(paths, catalog, store, wrap(embedder), *args, **kwargs)

    ingest.add = add
    try:
        yield
    finally:
        ingest.add = original


@contextmanager
def before(idx):
    """The ingest as it was before it gave way to questions: the questions' own embedder on every core,
    Python's GIL switch interval (index.collection: _ingest_embedder, GIL_BESIDE_QUESTIONS)."""
    from index import collection

    col, interval = idx.collection, collection.GIL_BESIDE_QUESTIONS
    col._ingest_embedder = lambda: col.embedder
    collection.GIL_BESIDE_QUESTIONS = None
    try:
        yield
    finally:
        del col._ingest_embedder
        collection.GIL_BESIDE_QUESTIONS = interval


@contextmanager
def one_thread(idx):
    """The ingest embeds on a session of its own with one onnxruntime thread (e5-small-int8): a core
    is left to questions."""
    from index.e5fast import E5Fast
    from index.embedders import CachedEmbedder

    single = CachedEmbedder(E5Fast(threads=1), idx.collection.home / "cache" / "embeddings.sqlite")
    with _ingest_embedder(lambda embedder: single):
        yield


@contextmanager
def niced(idx, nice: int = 10, inner=no_lever):
    """The ingest's thread at a lower scheduling priority (Linux: nice is per thread)."""
    from index import ingest

    original = ingest.add

    def add(*args, **kwargs):
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        try:
            return original(*args, **kwargs)
        finally:
            os.setpriority(os.PRIO_PROCESS, tid, before)

    with inner(idx):
        ingest.add = add
        try:
            yield
        finally:
            ingest.add = original


class _Gated:
    """An embedder that embeds `batch` texts at a time, each only once no question is being answered
    (or after `patience` seconds)."""

    def __init__(self, inner, gate, batch: int, patience: float):
        self.inner, self.gate, self.batch, self.patience = inner, gate, batch, patience
        self.name, self.calibration = inner.name, inner.calibration

    def embed(self, texts, kind="passage", batch=32, progress=None):
        parts = []
        for i in range(0, len(texts), self.batch):
            with self.gate:
                self.gate.wait_for(lambda: self.gate.asking == 0, self.patience)
            parts.append(self.inner.embed(texts[i : i + self.batch], kind, progress=progress))
        return np.vstack(parts) if parts else self.inner.embed(texts, kind)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@contextmanager
def gated(idx, batch: int = 8, patience: float = 0.05):
    """Questions first: the ingest embeds 8 texts at a time, each batch waiting (up to 50 ms) until no
    question is in flight."""
    gate = threading.Condition()
    gate.asking = 0
    col = idx.collection
    search = col.search

    def counted(*args, **kwargs):
        with gate:
            gate.asking += 1
        try:
            return search(*args, **kwargs)
        finally:
            with gate:
                gate.asking -= 1
                gate.notify_all()

    col.search = counted
    try:
        with _ingest_embedder(lambda embedder: _Gated(embedder, gate, batch, patience)):
            yield
    finally:
        del col.search


@contextmanager
def both(idx, *levers):
    with levers[0](idx):
        if len(levers) > 1:
            with both(idx, *levers[1:]):
                yield
        else:
            yield


def _on_before(*levers):
    """Levers tried on the ingest as it was (`before`), one by one and together."""
    return lambda idx: both(idx, before, *levers)


LEVERS = {"default": no_lever, "before": before, "switch": _on_before(switch_interval),
          "threads1": _on_before(one_thread), "nice": _on_before(niced), "gate": _on_before(gated),
          "threads1+nice": _on_before(lambda idx: niced(idx, inner=one_thread)),
          "threads1+switch": _on_before(one_thread, switch_interval)}


def measure(work: Path, doc: Path, qs: list[str], seconds: float, lever=no_lever) -> dict:
    """Ask p50/p95 alone for `seconds` (half before the ingest, half after: the machine's load drifts),
    and while `doc` is indexed with `lever` applied."""
    from qa import Index

    idx = Index(work)
    idx.add([ROOT / "seeds"])
    for q in qs:  # warm: question and sentence embeddings in the cache, as on a running server
        idx.ask(q)
    load = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    alone = timed_asks(idx, qs, lambda: time.perf_counter() - t0 > seconds / 2)
    done = threading.Event()
    result = {}

    def ingest():
        t = time.perf_counter()
        try:
            report = idx.add([doc])
            result.update(chunks=report.chunks, seconds=time.perf_counter() - t)
        finally:
            done.set()

    with lever(idx):
        worker = threading.Thread(target=ingest)
        worker.start()
        beside = timed_asks(idx, qs, done.is_set)
        worker.join()
    load.append(os.getloadavg()[0])
    t0 = time.perf_counter()
    alone += timed_asks(idx, qs, lambda: time.perf_counter() - t0 > seconds / 2)
    pct = lambda xs, q: float(np.percentile(xs, q)) if xs else float("nan")  # noqa: E731
    return {"ask_alone_ms": {"n": len(alone), "p50": pct(alone, 50), "p95": pct(alone, 95)},
            "ask_during_ingest_ms": {"n": len(beside), "p50": pct(beside, 50), "p95": pct(beside, 95),
                                     "max": max(beside) if beside else None},
            "p95_ratio": pct(beside, 95) / pct(alone, 95),
            "ingest": {**result, "chunks_per_s": result["chunks"] / result["seconds"]},
            "load_1min": load, "embedder": idx.collection.embedder.name}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=30.0, help="length of the baseline phase")
    p.add_argument("--levers", default="", help="comma-separated: " + ", ".join(LEVERS) + " (default: the code as it is)")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-beside-"))
    doc = big_document(work, a.chunks)
    qs = questions()
    names = [n.strip() for n in a.levers.split(",") if n.strip()] or ["default"]
    unknown = [n for n in names if n not in LEVERS]
    if unknown:
        p.error(f"unknown lever {unknown[0]!r}: use {', '.join(LEVERS)}")
    runs = []
    for i, name in enumerate(names):
        runs.append({"lever": name, **measure(work / f"home-{i}", doc, qs, a.seconds, LEVERS[name])})
        print(json.dumps(runs[-1]), flush=True)
    out = runs[0] if names == ["default"] else {"runs": runs}
    print(json.dumps(out, indent=1))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        name = "beside.json" if names == ["default"] else "beside-levers.json"
        (a.out / name).write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    return out


if __name__ == "__main__":
    main()
