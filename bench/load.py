"""The web app under load: concurrent gradio_client sessions against app.create_app on 127.0.0.1.

    python -m bench.load --seconds 60 --clients 16 --concurrency 4
    python -m bench.load --seconds 60 --clients 16 --concurrency 1,2,4,8     # the sweep for demo.queue

For each concurrency limit: a fresh server process (``app.create_app`` + ``demo.queue(
default_concurrency_limit=N)`` + ``launch`` on a free loopback port, as ``app.main`` does) over the seeds
index in --workdir (built on first use). Each server is warmed up by asking every question once, one
at a time, so all settings start alike: the question and sentence embeddings are then in the embedding
cache, and the timed answers measure search, answer composition and Gradio's queue, not the model.
Then ``--clients`` threads, each with its own gradio_client session, ask the seeds dev questions
(tests/data/seeds_dev.jsonl) in turn through the ``/ask`` API until --seconds have passed (no call
starts after that; each call may take at most --timeout). The server's RSS is sampled twice a second.
An error is an exception, a timeout, or an ``{"error": ...}`` answer.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from . import report

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "seeds_dev.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: str, port: int, concurrency: int, embedder: str) -> None:
    """The server process: app.main's setup, with the concurrency limit and data folder given."""
    import faulthandler

    faulthandler.enable()  # a crash in native code (Chroma, an embedder) leaves its stacks in the log
    import app
    from qa import Index
    from qa.config import SEEDS_DIR

    def factory(progress=None):
        idx = Index(home, embedder=embedder)
        if len(idx) == 0:
            idx.add([SEEDS_DIR], progress=progress)
        return idx

    demo = app.create_app(factory)
    demo.queue(default_concurrency_limit=concurrency)
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_up(url: str, proc: subprocess.Popen, limit: float = 180) -> None:
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server at {url} did not answer within {limit:.0f} s")


def connect(url: str):
    from gradio_client import Client

    # httpx's 5 s default is too short for /config while the server is still indexing or loaded.
    # ssl_verify=False: gradio_client makes a new httpx client for each call (two per answer), and one
    # that verifies certificates loads the CA bundle first: 29 ms of CPU each, 66 ms of client CPU per
    # answer on the machine that also runs the server. The server is plain HTTP on loopback anyway.
    return Client(url, verbose=False, download_files=False, ssl_verify=False, httpx_kwargs={"timeout": 120})


def ask(client, question: str, timeout: float) -> str | None:
    """None when answered; else what went wrong."""
    try:
        out = client.submit(question, api_name="/ask").result(timeout=timeout)
    except Exception as e:  # timeouts, connection errors, server-side exceptions: all count as errors
        return f"{type(e).__name__}: {e}"[:200]
    if not isinstance(out, dict) or "error" in out:
        return f"answer: {str(out)[:200]}"
    return None


def slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares MB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt, mr = sum(t for t, _ in samples) / n, sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return 60 * sum((t - mt) * (r - mr) for t, r in samples) / var if var else 0.0


def one_setting(concurrency: int, a, questions: list[str], novel, log) -> dict:
    for attempt in range(3):  # Gradio's launch gives up when its own first request to the server is
        port = free_port()    # slow ("localhost is not accessible"), which happens on a loaded machine
        url = f"http://127.0.0.1:{port}/"
        server = subprocess.Popen([sys.executable, "-m", "bench.load", "--serve", "--home", str(a.home), "--port",
                                   str(port), "--concurrency", str(concurrency), "--embedder", a.embedder],
                                  cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_up(url, server)
            break
        except RuntimeError:
            if server.poll() is None or attempt == 2:
                server.kill()
                raise
    try:
        t = time.perf_counter()
        warm = connect(url)
        warm_errors = [e for e in (ask(warm, q, 600) for q in questions) if e]
        warmup = {"seconds": round(time.perf_counter() - t, 1), "errors": warm_errors[:3]}
        clients = [connect(url) for _ in range(a.clients)]
        times, new_times, errors, rss = [], [], [], []
        lock, start = threading.Lock(), time.perf_counter()
        deadline = start + a.seconds
        every = round(1 / a.novel) if a.novel else 0

        def session(i: int, client) -> None:
            j, n = i, 0
            while time.perf_counter() < deadline:
                n += 1
                new = bool(every) and (n + i) % every == 0
                if new:
                    with lock:
                        q = next(novel)
                else:
                    q = questions[j % len(questions)]
                    j += a.clients
                t0 = time.perf_counter()
                err = ask(client, q, a.timeout)
                with lock:
                    (errors.append(err) if err else (new_times if new else times).append(time.perf_counter() - t0))

        def sample() -> None:
            while time.perf_counter() < deadline + a.timeout and server.poll() is None:
                rss.append((time.perf_counter() - start, rss_mb(server.pid)))
                time.sleep(0.5)

        threads = [threading.Thread(target=session, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        sampler = threading.Thread(target=sample, daemon=True)
        rss.append((0.0, rss_mb(server.pid)))
        cpu0, mine0 = cpu_s(server.pid), cpu_s(os.getpid())
        for th in [sampler, *threads]:
            th.start()
        for th in threads:
            th.join(a.seconds + a.timeout + 5)
        elapsed = time.perf_counter() - start
        server_cpu, client_cpu = cpu_s(server.pid) - cpu0, cpu_s(os.getpid()) - mine0
        window = [(t, r) for t, r in rss if t <= a.seconds]
        new = {"new_answers": len(new_times), "new_p50_s": round(report.pct(new_times, 0.5), 3),
               "new_p95_s": round(report.pct(new_times, 0.95), 3), "seen_p95_s": round(report.pct(times, 0.95), 3)}
        times = times + new_times
        return {"concurrency": concurrency, "answers": len(times), "errors": len(errors), "error_examples": errors[:5],
                **(new if every else {}), "loadavg": round(os.getloadavg()[0], 1),
                "server_cpu_ms_per_answer": round(1000 * server_cpu / max(1, len(times)), 1),
                "clients_cpu_ms_per_answer": round(1000 * client_cpu / max(1, len(times)), 1),
                "per_s": round(len(times) / elapsed, 2), "p50_s": round(report.pct(times, 0.5), 3),
                "p95_s": round(report.pct(times, 0.95), 3), "max_s": round(max(times, default=0.0), 3),
                "rss_start_mb": round(window[0][1], 1), "rss_end_mb": round(window[-1][1], 1),
                "rss_max_mb": round(max(r for _, r in rss), 1), "rss_slope_mb_per_min": round(slope(window), 2),
                "rss_samples": [(round(t, 1), round(r, 1)) for t, r in rss], "warmup": warmup}
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="timed window per concurrency setting")
    p.add_argument("--clients", type=int, default=16, help="concurrent gradio_client sessions")
    p.add_argument("--concurrency", default="4", help="demo.queue(default_concurrency_limit=...), comma-separated to sweep")
    p.add_argument("--timeout", type=float, default=60, help="seconds one answer may take before it counts as an error")
    p.add_argument("--novel", type=float, default=0.0,
                   help="share of asks that are new PIAF questions (embeddings not cached), e.g. 0.1")
    p.add_argument("--embedder", default="e5-small")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench"))
    p.add_argument("--home", type=Path, help="data folder to serve (default: the seeds, indexed in --workdir)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.serve:
        return serve(str(a.home), a.port, int(a.concurrency), a.embedder)
    a.home = a.home or a.workdir / "load" / a.embedder
    a.out.mkdir(parents=True, exist_ok=True)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    from . import corpus

    piaf = list(dict.fromkeys(q for p in corpus.piaf_paragraphs() for q in p["questions"]))
    random.Random(int(time.time())).shuffle(piaf)  # new to the cache even on a second run
    novel = iter(piaf)
    settings = []
    a.workdir.mkdir(parents=True, exist_ok=True)
    with open(a.workdir / "load-server.log", "a") as log:
        for c in (int(x) for x in a.concurrency.split(",")):
            print(f"{time.strftime('%H:%M:%S')} concurrency {c}: {a.clients} clients for {a.seconds:.0f} s", flush=True)
            s = one_setting(c, a, questions, novel, log)
            print(f"  {s['answers']} answers, {s['errors']} errors, p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s, "
                  f"RSS {s['rss_start_mb']:.0f} -> {s['rss_end_mb']:.0f} MB (warm-up {s['warmup']['seconds']} s)", flush=True)
            settings.append(s)
    first = settings[0]["warmup"]
    result = {"command": "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]),
              "clients": a.clients, "seconds": a.seconds, "novel_share": a.novel, "questions": len(questions), "embedder": a.embedder,
              "index": "the three seeds" if a.home == a.workdir / "load" / a.embedder else str(a.home),
              "warmup": f"every question once, one at a time, per server ({first['seconds']} s for the first, "
                        "which also fills the embedding cache on a fresh data folder)",
              "loadavg_end": os.getloadavg()[0], "settings": settings}
    path = a.out / "load.json"  # one run per command: a run replaces an earlier one of the same command
    runs = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    runs = [r for r in runs if r["command"] != result["command"]] + [result]
    path.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False))
    report.write(a.out)


if __name__ == "__main__":
    main()
