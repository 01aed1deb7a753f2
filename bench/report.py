"""Summaries, and the three outputs: report.json (merged by embedder and size), report.md, plot.png."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

TARGETS = {"ingest_ratio": 0.8, "retrieve_p50_ms": 50, "retrieve_p95_ms": 150, "cold_s": 5.0,
           "rss_mb": 1536, "load_p95_s": 1.0}
SYSTEMS = {"ours": "ours", "llama_index": "llama-index"}
# retrieve time, split in parts that do not overlap ("embed" holds "model": the rest is the cache)
RETRIEVE_PARTS = ["model", "cache", "chroma", "bm25", "detect", "other"]


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    i = (len(v) - 1) * q
    lo, hi = int(i), min(int(i) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)


def latency(rows: list[dict]) -> dict:
    ms = [r["ms"] for r in rows]
    out = {"n": len(ms), "p50_ms": round(pct(ms, 0.5), 1), "p95_ms": round(pct(ms, 0.95), 1),
           "mean_ms": round(statistics.mean(ms), 1) if ms else None}
    cpu = [r["cpu_ms"] for r in rows if "cpu_ms" in r]
    if cpu:  # CPU time of the process (all its threads): what the query costs, whatever else runs
        out.update({"cpu_p50_ms": round(pct(cpu, 0.5), 1), "cpu_p95_ms": round(pct(cpu, 0.95), 1)})
    for flag in ("hit1", "hit5", "answered", "cites_gold"):
        seen = [r[flag] for r in rows if r.get(flag) is not None]
        if seen:
            out[flag] = round(sum(seen) / len(seen), 3)
    labels = sorted({k for r in rows for k in r["parts"]})
    out["parts_mean_ms"] = {k: round(statistics.mean(r["parts"].get(k, 0.0) for r in rows), 2) for k in labels}
    if {"embed", "chroma", "bm25"} <= set(labels) and "compose" not in labels:  # a retrieve: split it
        parts = out["parts_mean_ms"]
        parts["cache"] = round(parts["embed"] - parts.get("model", 0.0), 2)
        parts["other"] = round(out["mean_ms"] - parts["embed"] - parts["chroma"] - parts["bm25"]
                               - parts.get("detect", 0.0), 2)
    return out


def summarise_system(ingest: dict, query: dict, cold: dict) -> dict:
    out = {"ingest": ingest, "open": {k: query[k] for k in ("import_s", "open_s", "bm25_build_s", "rss_mb") if k in query},
           "cold_start": cold, "peak_rss_mb": query["peak_rss_mb"], "loadavg_during_queries": query["loadavg"]}
    for loop in ("retrieve", "retrieve_repeat", "ask", "ask_repeat", "retrieve_fused_repeat"):
        if loop in query:
            out[loop] = latency(query[loop])
    return out


def merge(out: Path, entry: dict) -> dict:
    """Add or replace the run of (embedder, size); two runs may finish at once, hence the lock."""
    import fcntl

    path = out / "report.json"
    with open(out / ".report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {"runs": []}
        data["runs"] = [r for r in data["runs"] if (r["embedder"], r["size"]) != (entry["embedder"], entry["size"])]
        data["runs"].append(entry)
        data["runs"].sort(key=lambda r: (r["embedder"] != "e5-small", r["embedder"], r["size"]))
        data["targets"] = TARGETS
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False))
        write(out, data)
    return data


def write(out: Path, data: dict | None = None) -> None:
    if data is None:
        path = out / "report.json"
        data = json.loads(path.read_text()) if path.exists() else {"runs": []}
    load = json.loads((out / "load.json").read_text()) if (out / "load.json").exists() else None
    (out / "report.md").write_text(markdown(data, load))
    if data.get("runs"):
        plot(data, out / "plot.png")


def model_share(ing: dict) -> float | None:
    """The share of the ingest's wall time spent in the embedding model: the ratio to the bare embedder
    if the model ran at its bare speed in both. Unlike "× raw" (the bare embedder timed before and
    after the ingest), it does not move when other work starts or stops in between. None when the
    embeddings came from a seeded cache."""
    model = ing.get("phases_s", {}).get("model")
    if not model or ing.get("seeded_cache_rows"):
        return None
    return model / ing["seconds"]


def _mark(value, target, below=True) -> str:
    if value is None or target is None:
        return ""
    return " ✅" if (value <= target if below else value >= target) else " ❌"


def _f(v, nd=0) -> str:
    return "–" if v is None else f"{v:,.{nd}f}"


def _system_rows(data: dict):
    """(run, system name, its results, ingest, retrieve, repeat, ask, chunks) for every system measured."""
    for r in data["runs"]:
        for key, name in SYSTEMS.items():
            s = r.get(key)
            if s:
                ing = s["ingest"]
                yield (r, name, s, ing, s["retrieve"], s.get("retrieve_repeat", {}), s.get("ask", {}),
                       ing.get("chunks", ing.get("nodes")))


def markdown(data: dict, load: dict | None) -> str:
    if load and "settings" in load:  # a load.json of one run, as first written
        load = {"runs": [load]}
    t = TARGETS
    lines = ["# Speed and scale", "",
             "Generated by `bench/report.py` from `report.json`: see bench/README.md for the method. "
             "Latencies are for questions asked for the first time (their embedding is computed); "
             "\"repeat\" asks them again, so the query embedding is cached and what is left is search.", "",
             "| embedder | chunks | system | ingest chunks/s | × raw (model share) | retrieve p50 / p95 ms | repeat p50 ms "
             "| ask p50 / p95 ms | cold start s | peak RSS MB (serve / ingest) | hit@5 | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r, name, s, ing, ret, rep, ask, n in _system_rows(data):
        per_s = ing.get("chunks_per_s", ing.get("nodes_per_s"))
        big = r["size"] >= 100_000
        patched = [p for p, key in (("prefetch", "prefetch"), ("bulk upsert", "bulk_upsert"),
                                    ("batched pairing", "batched_pairing")) if ing.get(key)]
        name += f" (ingest patched: {' + '.join(patched)})" if patched else ""
        if ing.get("seeded_cache_rows"):
            name += f" (ingest resumed with {ing['seeded_cache_rows']:,} cached embeddings: its speed is no measurement)"
        lines.append(
            f"| {r['embedder']} | {n:,} | {name} | {_f(per_s, 2)} | {_f(ing['ratio_to_raw'], 2)}"
            f"{'' if ing.get('seeded_cache_rows') else _mark(ing['ratio_to_raw'], t['ingest_ratio'], below=False)} "
            f"({_f(model_share(ing), 2)}) "
            f"| {_f(ret['p50_ms'])}{_mark(ret['p50_ms'], t['retrieve_p50_ms']) if big else ''} / "
            f"{_f(ret['p95_ms'])}{_mark(ret['p95_ms'], t['retrieve_p95_ms']) if big else ''} "
            f"| {_f(rep.get('p50_ms'), 1)} | {_f(ask.get('p50_ms'))} / {_f(ask.get('p95_ms'))} "
            f"| {_f(s['cold_start']['median_s'], 1)}{_mark(s['cold_start']['median_s'], t['cold_s'])} "
            f"| {_f(s['peak_rss_mb'])}{_mark(s['peak_rss_mb'], t['rss_mb']) if big else ''} / "
            f"{_f(ing.get('peak_rss_mb'))} | {_f(ret.get('hit5'), 2)} | {_f(s['loadavg_during_queries'], 1)} |")
    lines += ["", "\"× raw\": ingest speed over the bare embedder's, timed on 300 of the corpus's chunk texts before and "
              "after the ingest (their mean); \"model share\": the share of the ingest's time spent in the model, the "
              "same ratio when the load does not change in between (it does not see a model slowed by small batches: see "
              "\"ingest mean batch\" below).", "",
              f"Targets: ingest ≥ {t['ingest_ratio']} × the bare embedder; at 100k chunks retrieve p50 ≤ "
              f"{t['retrieve_p50_ms']} ms, p95 ≤ {t['retrieve_p95_ms']} ms, peak RSS ≤ {t['rss_mb']} MB; cold start ≤ "
              f"{t['cold_s']} s. \"load avg\" is the machine's 1-minute load average (2 CPUs) during the queries: "
              "above 2, other work shared the CPUs and every time here is inflated.", "",
              "## CPU time", "",
              "The same measurements in CPU time of the measuring process (all its threads): unlike the wall times "
              "above, it does not grow when other work shares the CPUs. On an idle machine a single-threaded step "
              "takes about its CPU time; the embedders use up to 2 threads.", "",
              "| embedder | chunks | system | ingest chunks per CPU-s | × raw (CPU) | retrieve CPU p50 / p95 ms "
              "| repeat CPU p50 ms | ask CPU p50 / p95 ms | cold start CPU s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r, name, s, ing, ret, rep, ask, n in _system_rows(data):
        if "cpu_p50_ms" in ret:
            lines.append(
                f"| {r['embedder']} | {n:,} | {name} | {_f(n / ing['cpu_s'] if 'cpu_s' in ing else None, 2)} | {_f(ing.get('cpu_ratio_to_raw'), 2)} "
                f"| {_f(ret.get('cpu_p50_ms'))} / {_f(ret.get('cpu_p95_ms'))} | {_f(rep.get('cpu_p50_ms'), 1)} "
                f"| {_f(ask.get('cpu_p50_ms'))} / {_f(ask.get('cpu_p95_ms'))} | {_f(s['cold_start'].get('cpu_median_s'), 1)} |")
    lines += ["", "## Where the time goes", "",
              "Ours, mean ms per first-time retrieve (model = query embedding, cache = embedding-cache lookups and "
              "writes; other = fusion, language preference, rows), and per ingest (seconds by phase).", "",
              "| embedder | chunks | " + " | ".join(RETRIEVE_PARTS) + " | open s (BM25 build s) | ingest phases s | ingest mean batch |",
              "|---|---|" + "---|" * (len(RETRIEVE_PARTS) + 3)]
    for r in data["runs"]:
        s = r["ours"]
        parts = s["retrieve"]["parts_mean_ms"]
        phases = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(s["ingest"]["phases_s"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {r['embedder']} | {s['ingest']['chunks']:,} | "
                     + " | ".join(_f(parts.get(k), 1) for k in RETRIEVE_PARTS)
                     + f" | {_f(s['open']['open_s'], 1)} ({_f(s['open'].get('bm25_build_s'), 1)}) | {phases} "
                       f"| {_f(s['ingest']['mean_batch'], 1)} |")
    lines += ["", "## Runs", "", "The library changed while these ran (other work is committed meanwhile): \"library\" is the commit "
              "the index was built with, then the one the queries ran with.", "",
              "| embedder | size | command | ours built (ingest s), llama-index ingest s | library | wall s of the run |",
              "|---|---|---|---|---|---|"]
    for r in data["runs"]:
        ing = r["ours"]["ingest"]
        lines.append(f"| {r['embedder']} | {r['size']:,} | `{r.get('command', '')}` | {ing.get('built_at', '')} "
                     f"({ing['seconds']:,.0f} s), {r.get('llama_index', {}).get('ingest', {}).get('seconds', 0):,.0f} s "
                     f"| {ing.get('library', '?')} / {r.get('library', '?')} | {r['wall_s']:,.0f} |")
    for run in (load or {}).get("runs", []):
        share = run.get("novel_share", 0.0)
        lines += ["", f"## Under load{f' with {share:.0%} new questions' if share else ''}, {run['seconds']:.0f} s", "",
                  f"`{run['command']}`: {run['clients']} gradio_client sessions on 127.0.0.1 asking the "
                  f"{run['questions']} seeds dev questions for {run['seconds']:.0f} s each"
                  + (f", and every {round(1 / share)}th ask a PIAF question never asked before (its embeddings "
                     "are computed)" if share else "")
                  + f"; index {run['index']}, embedder {run['embedder']}. Warm-up first: {run['warmup']}", "",
                  "| concurrency limit | answers | errors | answers/s | p50 s | p95 s | max s | new questions: n, p50, p95 s "
                  "| server RSS MB start → end (max) | RSS slope MB/min | CPU ms per answer: server / clients | load avg |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in run["settings"]:
            new = f"{s['new_answers']}, {s['new_p50_s']:.2f}, {s['new_p95_s']:.2f}" if "new_answers" in s else "–"
            lines.append(f"| {s['concurrency']} | {s['answers']} | {s['errors']}{' ✅' if s['errors'] == 0 else ' ❌'} "
                         f"| {s['per_s']:.2f} | {s['p50_s']:.2f} | {s['p95_s']:.2f}{_mark(s['p95_s'], t['load_p95_s'])} "
                         f"| {s['max_s']:.2f} | {new} | {s['rss_start_mb']:.0f} → {s['rss_end_mb']:.0f} ({s['rss_max_mb']:.0f}) "
                         f"| {s['rss_slope_mb_per_min']:+.1f} | {_f(s.get('server_cpu_ms_per_answer'))} / "
                         f"{_f(s.get('clients_cpu_ms_per_answer'))} "
                         f"| {_f(s.get('loadavg'), 1)} |")
    return "\n".join(lines) + "\n"


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    (lat, ask), (mem, parts) = axes
    styles = {"e5-small": "-", "use-v3": "--", "minilm": ":"}
    for emb in sorted({r["embedder"] for r in data["runs"]}):
        runs = sorted((r for r in data["runs"] if r["embedder"] == emb), key=lambda r: r["size"])
        ls = styles.get(emb, "-.")
        for key, name, color in (("ours", "ours", "C0"), ("llama_index", "llama-index", "C1")):
            have = [r for r in runs if key in r]
            if not have:
                continue
            x = [r["ours"]["ingest"]["chunks"] for r in have]  # the same corpus for both: our chunk count
            lat.plot(x, [r[key]["retrieve"]["p50_ms"] for r in have], ls, marker="o", color=color, label=f"{name} p50 ({emb})")
            lat.plot(x, [r[key]["retrieve"]["p95_ms"] for r in have], ls, marker="^", color=color, alpha=0.5,
                     label=f"{name} p95 ({emb})")
            mem.plot(x, [r[key]["peak_rss_mb"] for r in have], ls, marker="o", color=color, label=f"{name} serving ({emb})")
            mem.plot(x, [r[key]["ingest"]["peak_rss_mb"] for r in have], ls, marker="s", color=color, alpha=0.5,
                     label=f"{name} indexing ({emb})")
            if key == "ours":
                lat.plot(x, [r[key]["retrieve_repeat"]["p50_ms"] for r in have], ls, marker="x", color="C2",
                         label=f"ours p50, query embedding cached ({emb})")
                ask.plot(x, [r[key]["ask"]["p50_ms"] for r in have], ls, marker="o", color=color, label=f"p50 ({emb})")
                ask.plot(x, [r[key]["ask"]["p95_ms"] for r in have], ls, marker="^", color=color, alpha=0.5, label=f"p95 ({emb})")
                ask.plot(x, [r[key]["ask_repeat"]["p50_ms"] for r in have], ls, marker="x", color="C2",
                         label=f"p50 asked again, embeddings cached ({emb})")
    lat.axhline(TARGETS["retrieve_p50_ms"], color="grey", lw=0.8, ls=":")
    lat.axhline(TARGETS["retrieve_p95_ms"], color="grey", lw=0.8, ls=":")
    mem.axhline(TARGETS["rss_mb"], color="grey", lw=0.8, ls=":")
    for ax, title, unit in ((lat, "retrieve latency (k=5)", "ms"), (ask, "ask latency (ours)", "ms"),
                            (mem, "peak RSS", "MB")):
        ax.set(xscale="log", yscale="log", title=title, xlabel="chunks in the index", ylabel=unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    # where a retrieve's time goes, ours, by size (one bar group per run)
    runs = data["runs"]
    bottom = [0.0] * len(runs)
    labels = [f"{r['embedder']}\n{r['ours']['ingest']['chunks']:,}" for r in runs]
    for i, part in enumerate(RETRIEVE_PARTS):
        vals = [max(0.0, r["ours"]["retrieve"]["parts_mean_ms"].get(part, 0.0)) for r in runs]
        parts.bar(labels, vals, bottom=bottom, label=part, color=f"C{i + 3}")
        bottom = [b + v for b, v in zip(bottom, vals)]
    parts.set(title="ours: mean retrieve time by part (first-time questions)", ylabel="ms")
    parts.legend(fontsize=7)
    parts.tick_params(axis="x", labelsize=7)
    fig.suptitle("bench.run: cost against corpus size (dotted grey: targets)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
