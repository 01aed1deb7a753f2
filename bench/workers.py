"""What runs in a fresh process, one per measurement: its peak memory is that measurement's alone.

    python -m bench.workers ingest  HOME CORPUS EMBEDDER [--sample N]   # ours: Index(home).add([corpus])
    python -m bench.workers query   HOME EMBEDDER QUESTIONS.json         # ours: retrieve/ask latency
    python -m bench.workers llama-ingest FOLDER CORPUS EMBEDDER [--sample N]
    python -m bench.workers llama-query  FOLDER EMBEDDER QUESTIONS.json

Each prints one line ``RESULT {json}`` last. Time inside the library is attributed by wrapping a few
of its objects' methods on the instance (the embedding model, the Chroma store, BM25...): the library
itself is not changed. Cold start is not here: it is a bare ``python -c`` (see COLD_* below), so it
pays for nothing but the project's own imports.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

BATCH = 32  # the embedders' own batch size (Embedder.embed, CachedEmbedder.embed, llama-index's default)

COLD_OURS = """import time; t0 = time.time()
from qa import Index
t1 = time.time(); idx = Index({home!r}, embedder={embedder!r}); t2 = time.time()
a = idx.ask({question!r}); t3 = time.time()
import json, resource; ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({{"t_start": t0, "t_imported": t1, "t_opened": t2, "t_answered": t3, "answered": a.answered, "cpu_s": ru.ru_utime + ru.ru_stime}}))
"""
COLD_LLAMA = """import time; t0 = time.time()
import chromadb, qa
from chromadb.config import Settings
from llama_index.core import VectorStoreIndex
from llama_index.vector_stores.chroma import ChromaVectorStore
from index.embedders import get_embedder
from qa.eval.baselines import llama_embedding
t1 = time.time()
col = chromadb.PersistentClient(path={home!r}, settings=Settings(anonymized_telemetry=False)).get_collection("baseline")
r = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=col), embed_model=llama_embedding(get_embedder({embedder!r}))).as_retriever(similarity_top_k=5)
t2 = time.time(); hits = r.retrieve({question!r}); t3 = time.time()
import json, resource; ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({{"t_start": t0, "t_imported": t1, "t_opened": t2, "t_answered": t3, "answered": bool(hits), "cpu_s": ru.ru_utime + ru.ru_stime}}))
"""


class Clock:
    """Seconds spent in wrapped callables, by label; nested labels each count their own time."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner, attr: str, label: str, on_call=None) -> None:
        inner = getattr(owner, attr)

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                self.seconds[label] += time.perf_counter() - t
                self.calls[label] += 1
                if on_call:
                    on_call(*a, **kw)

        timed.__wrapped__ = inner
        setattr(owner, attr, timed)

    def take(self) -> dict[str, float]:
        out = {k: round(v * 1000, 3) for k, v in self.seconds.items()}
        self.seconds.clear()
        return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def raw_rate(embed_batch, texts: list[str], batch: int) -> dict:
    """Chunks per second of the bare model (no cache, no store) on these texts, `batch` at a time."""
    t, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        embed_batch(texts[i : i + batch], "passage")
    s, cpu = time.perf_counter() - t, time.process_time() - cpu
    return {"texts": len(texts), "batch": batch, "seconds": round(s, 3), "per_s": round(len(texts) / s, 3),
            "cpu_s": round(cpu, 3), "per_cpu_s": round(len(texts) / cpu, 3),
            "chars_per_s": round(sum(map(len, texts)) / s, 1), "loadavg": os.getloadavg()[0]}


def sample_files(corpus: Path, n_files: int) -> list[Path]:
    """A seeded random sample: the corpus is PIAF first, then UN text, whose chunks cost differently."""
    files = sorted(corpus.rglob("*.txt"))
    return random.Random(0).sample(files, min(n_files, len(files)))


def ingest(home: str, corpus: str, embedder: str, sample: int) -> dict:
    import qa  # noqa: F401
    from index import ingest as ingest_mod
    from index.chunker import chunk
    from index.embedders import get_embedder
    from index.loader import read_text
    from qa import Index

    model = get_embedder(embedder)
    model.embed_batch(["warm up"], "passage")  # model loaded before anything is timed
    chunks_by_file = [[c.embedded for c in chunk(read_text(f))] for f in sample_files(Path(corpus), sample)]
    texts = [t for cs in chunks_by_file for t in cs][:sample]
    raw = raw_rate(model.embed_batch, texts, BATCH)
    # the batches ingestion really makes: one document's chunks at a time
    per_doc, t, n = [], time.perf_counter(), 0
    for cs in chunks_by_file:
        if n >= sample // 3:
            break
        model.embed_batch(cs, "passage")
        n += len(cs)
    raw_doc = {"texts": n, "batch": "one document", "seconds": round(time.perf_counter() - t, 3),
               "per_s": round(n / (time.perf_counter() - t), 3)}

    clock, batches, marks = Clock(), [], {}
    t_open = time.perf_counter()
    idx = Index(home, embedder=embedder)
    open_s = time.perf_counter() - t_open
    clock.wrap(model, "embed_batch", "model", on_call=lambda texts, kind: batches.append(len(texts)))
    clock.wrap(idx.collection.store, "upsert", "chroma_upsert")
    clock.wrap(idx.collection.store, "query_many", "chroma_query")  # pairing; store.query goes through it too
    for name in ("pend", "replace_document", "settled"):
        clock.wrap(idx.collection.catalog, name, "catalog")
    clock.wrap(ingest_mod, "chunk", "chunk")
    clock.wrap(ingest_mod, "read_text", "read")

    def progress(done, total, what):
        if what in ("pairing translations", "done"):
            marks.setdefault(what, time.perf_counter())

    t0, cpu0 = time.perf_counter(), time.process_time()
    report = idx.add([corpus], progress=progress)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    # the bare model again, after: the machine's load drifts, the mean of the two is the reference
    raw_after = raw_rate(model.embed_batch.__wrapped__, texts, BATCH)
    raw["per_s_before"], raw["per_s_after"] = raw["per_s"], raw_after["per_s"]
    raw["per_s"] = round((raw["per_s"] + raw_after["per_s"]) / 2, 3)
    raw["per_cpu_s"] = round(2 * len(texts) / (raw["cpu_s"] + raw_after["cpu_s"]), 3)
    chunks = idx.collection.catalog.count_chunks()
    embedded = idx.collection.embedder._db.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
    pairing = marks.get("done", t0) - marks.get("pairing translations", t0)
    return {
        "embedder": embedder, "seconds": round(seconds, 2), "open_seconds": round(open_s, 2),
        "files": len(report.added), "failed": len(report.failed), "skipped": len(report.skipped),
        "chunks": chunks, "texts_embedded": embedded, "chunks_per_s": round(chunks / seconds, 3),
        "chars_per_s": round(sum(len(r.text) for r in idx.collection.rows.values()) / seconds, 1),
        "cpu_s": round(cpu, 1), "chunks_per_cpu_s": round(chunks / cpu, 3),
        "raw": raw, "raw_per_document": raw_doc, "ratio_to_raw": round(chunks / seconds / raw["per_s"], 3),
        "cpu_ratio_to_raw": round(chunks / cpu / raw["per_cpu_s"], 3),
        "phases_s": {**{k: round(v, 2) for k, v in clock.seconds.items()}, "pairing": round(pairing, 2)},
        "mean_batch": round(statistics.mean(batches), 2) if batches else 0,
        "twins": sum(1 for r in idx.collection.rows.values() if r.twin), "peak_rss_mb": round(peak_rss_mb(), 1),
        "loadavg": os.getloadavg()[0],
    }


def _latencies(run, items: list[dict], clock: Clock) -> list[dict]:
    out = []
    for item in items:
        clock.take()
        t, cpu = time.perf_counter(), time.process_time()
        got = run(item["q"])
        ms, cpu_ms = (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000
        out.append({"ms": round(ms, 3), "cpu_ms": round(cpu_ms, 3), "parts": clock.take(), **got(item)})
    return out


def query(home: str, embedder: str, questions: str) -> dict:
    t0 = time.perf_counter()
    import qa  # noqa: F401
    import qa.api
    from index import ingest as ingest_mod
    from qa.answerers import extractive
    from qa import Index

    sets = json.loads(Path(questions).read_text())
    clock = Clock()
    clock.wrap(ingest_mod, "load_bm25", "bm25_build")
    t_open = time.perf_counter()
    idx = Index(home, embedder=embedder)
    opened = {"import_s": round(t_open - t0, 3), "open_s": round(time.perf_counter() - t_open, 3),
              "bm25_build_s": round(clock.seconds["bm25_build"], 3), "rss_mb": round(rss_mb(), 1)}
    for q in ("Quel est le sujet de ce texte ?", "What is this text about?"):  # warm: models, lazy loads
        idx.ask(q)
    clock.take()
    col = idx.collection
    clock.wrap(col.embedder.inner, "embed_batch", "model")
    clock.wrap(col.embedder, "embed", "embed")  # cache lookups + the model on a miss
    clock.wrap(col.store, "query", "chroma")
    clock.wrap(col.bm25, "search", "bm25")
    clock.wrap(qa.api, "detect", "detect")
    clock.wrap(extractive, "compose", "compose")
    clock.wrap(qa.api, "verify", "verify")

    def retrieved(q):
        ps = idx.retrieve(q, 5)
        return lambda item: {"hit5": item["gold"] in {p.source for p in ps} if item["gold"] else None,
                             "hit1": bool(ps) and ps[0].source == item["gold"] if item["gold"] else None}

    def fused(q):  # retrieve(rerank=False): the fused order, no sentence embedded or read
        ps = idx.retrieve(q, 5, rerank=False)
        return lambda item: {"hit5": item["gold"] in {p.source for p in ps} if item["gold"] else None,
                             "hit1": bool(ps) and ps[0].source == item["gold"] if item["gold"] else None}

    def asked(q):
        a = idx.ask(q)
        return lambda item: {"answered": a.answered,
                             "cites_gold": any(c.passage.source == item["gold"] for c in a.citations)
                             if item["gold"] else None}

    result = {"chunks": len(idx), **opened,
              "retrieve": _latencies(retrieved, sets["retrieve"], clock),
              "retrieve_repeat": _latencies(retrieved, sets["retrieve"], clock),
              "ask": _latencies(asked, sets["ask"], clock),
              "ask_repeat": _latencies(asked, sets["ask"], clock),
              # the retrieve questions again (their vectors cached, as retrieve_repeat's), without the rerank
              "retrieve_fused_repeat": _latencies(fused, sets["retrieve"], clock)}
    return {**result, "peak_rss_mb": round(peak_rss_mb(), 1), "loadavg": os.getloadavg()[0]}


def _llama_nodes(files: list[Path]) -> list[str]:
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode

    docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    nodes = SentenceSplitter(chunk_size=1024, chunk_overlap=200).get_nodes_from_documents(docs)
    return [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]


def llama_ingest(folder: str, corpus: str, embedder: str, sample: int) -> dict:
    import qa  # noqa: F401
    from index.chunker import clean
    from index.embedders import get_embedder
    from qa.eval.baselines import LlamaIndexRecipe

    model = get_embedder(embedder)
    model.embed_batch(["warm up"], "passage")
    texts = [clean(t) for t in _llama_nodes(sample_files(Path(corpus), sample))][: max(30, sample // 3)]
    raw = raw_rate(model.embed_batch, texts, BATCH)
    clock, batches = Clock(), []
    clock.wrap(model, "embed_batch", "model", on_call=lambda texts, kind: batches.append(len(texts)))
    t0, cpu0 = time.perf_counter(), time.process_time()
    recipe = LlamaIndexRecipe([corpus], model, folder)  # the raw model: the plain recipe has no cache
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    raw_after = raw_rate(model.embed_batch.__wrapped__, texts, BATCH)
    raw["per_s_before"], raw["per_s_after"] = raw["per_s"], raw_after["per_s"]
    raw["per_s"] = round((raw["per_s"] + raw_after["per_s"]) / 2, 3)
    raw["per_cpu_s"] = round(2 * len(texts) / (raw["cpu_s"] + raw_after["cpu_s"]), 3)
    return {"embedder": embedder, "seconds": round(seconds, 2), "files": recipe.n_documents, "nodes": recipe.n_nodes,
            "nodes_per_s": round(recipe.n_nodes / seconds, 3), "raw": raw, "cpu_s": round(cpu, 1),
            "ratio_to_raw": round(recipe.n_nodes / seconds / raw["per_s"], 3),
            "cpu_ratio_to_raw": round(recipe.n_nodes / cpu / raw["per_cpu_s"], 3),
            "phases_s": {k: round(v, 2) for k, v in clock.seconds.items()},
            "mean_batch": round(statistics.mean(batches), 2) if batches else 0,
            "peak_rss_mb": round(peak_rss_mb(), 1), "loadavg": os.getloadavg()[0]}


def llama_query(folder: str, embedder: str, questions: str) -> dict:
    t0 = time.perf_counter()
    import chromadb
    import qa  # noqa: F401
    from chromadb.config import Settings
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.embedders import get_embedder
    from qa.eval.baselines import llama_embedding

    sets = json.loads(Path(questions).read_text())
    t_open = time.perf_counter()
    col = chromadb.PersistentClient(path=folder, settings=Settings(anonymized_telemetry=False)).get_collection("baseline")
    model = get_embedder(embedder)
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=col), embed_model=llama_embedding(model))
    retriever = index.as_retriever(similarity_top_k=5)
    opened = {"import_s": round(t_open - t0, 3), "open_s": round(time.perf_counter() - t_open, 3), "rss_mb": round(rss_mb(), 1)}
    retriever.retrieve("Quel est le sujet de ce texte ?")
    clock = Clock()
    clock.wrap(model, "embed_batch", "model")
    clock.wrap(col, "query", "chroma")

    def retrieved(q):
        hits = retriever.retrieve(q)
        sources = [h.node.metadata.get("file_path") for h in hits]
        return lambda item: {"hit5": item["gold"] in sources if item["gold"] else None,
                             "hit1": bool(sources) and sources[0] == item["gold"] if item["gold"] else None}

    result = {"chunks": col.count(), **opened,
              "retrieve": _latencies(retrieved, sets["retrieve"], clock)}
    return {**result, "peak_rss_mb": round(peak_rss_mb(), 1), "loadavg": os.getloadavg()[0]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.workers")
    p.add_argument("what", choices=["ingest", "query", "llama-ingest", "llama-query"])
    p.add_argument("where", help="our data folder (home), or the llama-index Chroma folder")
    p.add_argument("args", nargs="+", help="ingest: CORPUS EMBEDDER; query: EMBEDDER QUESTIONS.json")
    p.add_argument("--sample", type=int, default=300, help="chunk texts for the raw embedder throughput")
    a = p.parse_args(argv)
    if a.what == "ingest":
        out = ingest(a.where, a.args[0], a.args[1], a.sample)
    elif a.what == "llama-ingest":
        out = llama_ingest(a.where, a.args[0], a.args[1], a.sample)
    elif a.what == "query":
        out = query(a.where, *a.args)
    else:
        out = llama_query(a.where, *a.args)
    print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
