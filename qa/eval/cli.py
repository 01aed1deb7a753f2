"""`qa eval SET`: the command, registered on the `qa` CLI's subparsers."""
from __future__ import annotations

import json
from pathlib import Path

from .harness import evaluate
from .output import plot
from .sets import HELD_OUT_BY_DEFAULT, SETS, SPLITS, default_workdir


def cmd_eval(args) -> int:
    overrides = {"chunk_chars": args.chunk_chars, "abstain_below": args.abstain_below, "answerer": args.answerer,
                 "llm_url": args.llm_url, "llm_model": args.llm_model, "llm_timeout": args.llm_timeout}
    report = evaluate(args.set, k=args.k, embedder=args.embedder, limit=args.limit, baselines=args.baselines,
                      workdir=args.workdir, cache=args.cache, home=args.home, docs=args.docs or (), full=args.full,
                      split=args.split, progress=True,
                      **{key: v for key, v in overrides.items() if v is not None})
    print(report)
    if args.misses and report.outcomes:
        print("\nmisses (ours):\n" + "\n".join(report.misses()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"\nwrote {args.json}")
    if args.plot:
        print(f"wrote {plot(report, args.plot)}")
    return 0


def add_parser(sub) -> None:
    """Register `qa eval` on the CLI's subparsers."""
    import argparse

    s = sub.add_parser("eval", help="measure retrieval, answers and citations on an evaluation set, beside baselines",
                       epilog="sets: seeds, paris-call, paris-call-en-only, paris-call-fr-only, piaf (--full), squad, piaf-long, "
                              "squad-long, piaf-md, squad-md, piaf-absent, squad-absent (half the articles left out: their "
                              "questions unanswerable), tatoeba, un, or a questions .jsonl with --docs. Indexes and embedding "
                              "caches are kept in --workdir, so a second run is fast.")
    s.add_argument("set", metavar="SET", help=" | ".join(SETS) + " | FILE.jsonl (with --docs)")
    s.add_argument("--home", default=None, help="index into this data folder, keeping what it holds (default: "
                                                "a fresh index in --workdir, rebuilt from the embedding cache)")
    s.add_argument("--workdir", default=None, help=f"indexes and caches of the runs (default {default_workdir()})")
    s.add_argument("--cache", default=None, help="embedding cache folder, shared by every set (default WORKDIR/cache)")
    s.add_argument("--k", type=int, default=5, help="recall at k (default 5); MRR is at 10")
    s.add_argument("--json", metavar="OUT.json", help="write the report, every question included, as JSON")
    s.add_argument("--plot", metavar="OUT.png",
                   help="write R@1, R@k and the answer in the top passage per subset and system as a PNG")
    s.add_argument("--embedder", default=None, help="e5-small | use-v3 | minilm | ... (default QA_EMBEDDER)")
    s.add_argument("--limit", type=int, default=None, help="only the first N questions (or sentence pairs)")
    s.add_argument("--split", choices=SPLITS, default=None,
                   help="the questions of the fixed split by article (qa/eval/splits.py); every document is still "
                        f"indexed (default: test for {', '.join(HELD_OUT_BY_DEFAULT)}; all for the others)")
    s.add_argument("--full", action="store_true", help="piaf, piaf-long, piaf-md: every question of the split, not a fixed "
                                                       "sample of up to 1,000")
    s.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                   help="also run BM25 alone, dense alone and the plain llama-index recipe at 256 and 1024 "
                        "tokens (default: yes)")
    s.add_argument("--docs", nargs="+", metavar="PATH", help="the documents a questions .jsonl is about")
    s.add_argument("--chunk-chars", type=int, default=None, help="override QA_CHUNK_CHARS for this run")
    s.add_argument("--abstain-below", type=float, default=None, help="override QA_ABSTAIN_BELOW for this run")
    s.add_argument("--answerer", default=None, help="extractive | llm: who writes our answers (default QA_ANSWERER); "
                                                   "llm also reports what became of the model's quotes")
    s.add_argument("--llm-url", default=None, help="the OpenAI-compatible server for --answerer llm (default QA_LLM_URL)")
    s.add_argument("--llm-model", default=None, help="the model name sent to it (default QA_LLM_MODEL)")
    s.add_argument("--llm-timeout", type=float, default=None, help="seconds per answer (default QA_LLM_TIMEOUT)")
    s.add_argument("--misses", action="store_true", help="list the questions we get wrong")
    s.set_defaults(fn=cmd_eval)
