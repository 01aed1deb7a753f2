"""Ingest, query latency, cold start and peak memory at several corpus sizes, ours and llama-index.

    python -m bench.run --sizes 1000,10000 --embedder e5-small --out bench/results
    python -m bench.run --sizes 1000,10000,100000 --embedder use-v3 --out bench/results

For each size: the corpus is written (bench/corpus.py), then, each in a fresh process:
1. ours: ``Index(home).add([corpus])`` with an empty embedding cache, timed end to end, beside the bare
   embedder's throughput on a sample of the same chunk texts (``embed_batch``, batches of 32, no cache);
2. ours: retrieve and ask latency on questions never asked before (their query embedding is computed),
   then the same questions again (embeddings cached: what is left is search), peak RSS;
3. ours: cold start, ``python -c "from qa import Index; Index(home).ask(q)"``, process start to answer;
4. the same for the llama-index recipe (qa/eval/baselines.py LlamaIndexRecipe: SimpleDirectoryReader,
   SentenceSplitter 1024/200, VectorStoreIndex over Chroma, our embedder without cache); it has no
   ``ask``, so its "first answer" is its first retrieve.

Built indexes are kept in --workdir with their ingest measurement, and reused by later runs (the
measurement is the one taken when they were built; --rebuild to build and time them again).
Results merge into <out>/report.json by (embedder, size); report.md and plot.png are rewritten.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import corpus, report, workers

ROOT = Path(__file__).resolve().parent.parent


def child(args: list[str], log: Path) -> dict:
    """Run a worker (or `-c` code) in a fresh interpreter; its RESULT line, parsed."""
    with open(log, "a") as err:
        err.write(f"\n$ {' '.join(args)}\n")
        err.flush()
        done = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args[:3])} failed (exit {done.returncode}); see {log}")
    return json.loads(lines[-1][len("RESULT "):])


def cold_start(code: str, questions: list[dict], where: str, embedder: str, log: Path) -> dict:
    runs = []
    for item in questions:
        spawned = time.time()
        r = child(["-c", code.format(home=where, embedder=embedder, question=item["q"])], log)
        runs.append({"total_s": round(r["t_answered"] - spawned, 3),
                     "interpreter_s": round(r["t_start"] - spawned, 3),
                     "import_s": round(r["t_imported"] - r["t_start"], 3),
                     "open_s": round(r["t_opened"] - r["t_imported"], 3),
                     "first_answer_s": round(r["t_answered"] - r["t_opened"], 3), "answered": r["answered"],
                     "cpu_s": round(r["cpu_s"], 3)})
    totals = sorted(r["total_s"] for r in runs)
    cpus = sorted(r["cpu_s"] for r in runs)
    return {"runs": runs, "median_s": totals[len(totals) // 2], "max_s": totals[-1], "cpu_median_s": cpus[len(cpus) // 2]}


def library_version() -> str:
    """The commit the library code was at (others change it while a long run goes on), "+dirty" if
    index/, qa/ or app.py have uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain", "--", "index", "qa", "app.py") else "")


def asked_before(home: Path, embedder: str):
    """Whether a question's query embedding is in this index's cache (CachedEmbedder's key)."""
    import hashlib

    import qa  # noqa: F401  (before index: see bench.corpus)
    from index.chunker import clean

    path = home / "cache" / "embeddings.sqlite"
    if not (home / "ingest.json").exists() or not path.exists():
        return lambda q: False
    db = sqlite3.connect(path)

    def seen(q: str) -> bool:
        key = hashlib.sha256(f"{embedder}\0query\0{clean(' '.join(q.split()))}".encode()).hexdigest()
        return db.execute("SELECT 1 FROM vec WHERE key = ?", (key,)).fetchone() is not None

    return seen


def built(folder: Path, rebuild: bool) -> dict | None:
    saved = folder / "ingest.json"
    if saved.exists() and not rebuild:
        return json.loads(saved.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    return None


def measure(size: int, embedder: str, work: Path, n_questions: int, sample: int, rebuild: str,
            baseline: bool, cold_runs: int, seed_cache: Path | None, say) -> tuple[dict, dict]:
    started = time.time()
    manifest = corpus.build(work / "corpus", size)
    base = work / embedder / str(size)
    base.mkdir(parents=True, exist_ok=True)
    log = base / "log.txt"
    qfile = base / "questions.json"
    qsets = corpus.questions(manifest, n_questions, seen=asked_before(base / "ours", embedder))
    qsets["cold"] = qsets["cold"][:cold_runs]
    qfile.write_text(json.dumps(qsets, ensure_ascii=False))
    entry = {"embedder": embedder, "size": size, "corpus": {k: v for k, v in manifest.items() if k != "piaf_questions"},
             "questions": {k: {"fr": sum(q["lang"] == "fr" for q in v), "en": sum(q["lang"] == "en" for q in v)}
                           for k, v in qsets.items()}, "cpus": os.cpu_count(),
             "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "library": library_version()}

    home = base / "ours"
    say(f"[{embedder} {size}] ours: ingest")
    ing = built(home, rebuild in ("ours", "all"))
    if ing is None:
        seeded = 0
        if seed_cache:  # a killed build's embeddings: the index is built faster, its ingest time means nothing
            (home / "cache").mkdir(parents=True)
            shutil.copyfile(seed_cache, home / "cache" / "embeddings.sqlite")
            db = sqlite3.connect(home / "cache" / "embeddings.sqlite")
            seeded = db.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
            db.close()
        ing = child(["-m", "bench.workers", "ingest", str(home), manifest["folder"], embedder,
                     "--sample", str(sample)], log)
        ing["seeded_cache_rows"] = seeded
        ing["library"] = library_version()
        ing["built_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        (home / "ingest.json").write_text(json.dumps(ing))
    say(f"[{embedder} {size}] ours: {ing['chunks']} chunks in {ing['seconds']:.0f} s; queries")
    q = child(["-m", "bench.workers", "query", str(home), embedder, str(qfile)], log)
    say(f"[{embedder} {size}] ours: cold start")
    cold = cold_start(workers.COLD_OURS, qsets["cold"], str(home), embedder, log)
    entry["ours"] = report.summarise_system(ing, q, cold)
    raw = {"ours": q}

    if baseline:
        folder = base / "llama"
        say(f"[{embedder} {size}] llama-index: ingest")
        ling = built(folder, rebuild in ("llama-index", "all"))
        if ling is None:
            ling = child(["-m", "bench.workers", "llama-ingest", str(folder / "chroma"), manifest["folder"], embedder,
                          "--sample", str(sample)], log)
            ling["built_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            ling["library"] = library_version()
            (folder / "ingest.json").write_text(json.dumps(ling))
        say(f"[{embedder} {size}] llama-index: {ling['nodes']} nodes in {ling['seconds']:.0f} s; queries")
        lq = child(["-m", "bench.workers", "llama-query", str(folder / "chroma"), embedder, str(qfile)], log)
        lcold = cold_start(workers.COLD_LLAMA, qsets["cold"], str(folder / "chroma"), embedder, log)
        entry["llama_index"] = report.summarise_system(ling, lq, lcold)
        raw["llama_index"] = lq
    entry["wall_s"] = round(time.time() - started, 1)
    return entry, raw


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000", help="corpus sizes in chunks, comma-separated")
    p.add_argument("--embedder", default="e5-small", help="e5-small | use-v3 | minilm")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="report.json, report.md, plot.png")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench"), help="corpora and built indexes")
    p.add_argument("--questions", type=int, default=100, help="timed questions per loop (retrieve, ask)")
    p.add_argument("--sample", type=int, default=300, help="chunk texts for the raw embedder throughput")
    p.add_argument("--cold-runs", type=int, default=3, help="cold starts per system (each a new question)")
    p.add_argument("--rebuild", nargs="?", const="all", default="", choices=["all", "ours", "llama-index"],
                   help="build and time the indexes again (both, or one side)")
    p.add_argument("--seed-cache", type=Path, help="an embeddings.sqlite to start our new index's cache with "
                   "(resuming a killed build; its ingest time is then labelled as no measurement)")
    p.add_argument("--no-baseline", action="store_true", help="skip the llama-index recipe")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]

    def say(msg):
        print(f"{datetime.now():%H:%M:%S} {msg}", flush=True)

    for size in sizes:
        entry, raw = measure(size, a.embedder, a.workdir, a.questions, a.sample, a.rebuild, not a.no_baseline,
                             a.cold_runs, a.seed_cache, say)
        entry["command"] = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
        (a.out / "raw").mkdir(exist_ok=True)
        (a.out / "raw" / f"{a.embedder}-{size}.json").write_text(json.dumps(raw))
        report.merge(a.out, entry)
        say(f"[{a.embedder} {size}] done in {entry['wall_s']:.0f} s -> {a.out / 'report.md'}")


if __name__ == "__main__":
    main()
