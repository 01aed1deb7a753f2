"""The `qa` command: index documents, ask questions, serve the web UI.

Exit codes: 0 done, 1 some files failed to index, 2 bad input (missing path, empty question...),
3 the store cannot be used (e.g. the Chroma server is down).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from datetime import datetime

from index.loader import SUFFIXES, formats

from .config import help_table
from .errors import ConfigError, QAError, QuestionError, SourceError, StoreError
from .progress import tqdm_progress

EPILOG = "configuration (environment variables):\n" + "\n".join(
    f"  {name:<24} {help}" + ("" if "(default" in help or default in ("", None) else f" (default: {default})")
    for name, default, help in help_table())


def _index(args, must_exist: bool = False):
    from pathlib import Path

    from .api import Index

    if must_exist and args.home and not Path(args.home).expanduser().is_dir():
        raise SourceError(f"no index in {args.home}: the folder does not exist (run `qa index PATH --home "
                          f"{args.home}` first)")
    return Index(args.home, embedder=getattr(args, "embedder", None))


def visible(text: str, keep_newlines: bool = True) -> str:
    """Text from a document or a file name made safe for a terminal: control characters (ESC
    sequences, carriage returns, bells...) and invisible format characters are shown as \\xNN or
    \\uNNNN, never sent to the terminal as they are."""
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and not (ch == "\t" and keep_newlines):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def cmd_index(args) -> int:
    idx = _index(args)
    bar, progress = tqdm_progress("indexing", unit="file")
    try:
        report = idx.add(args.paths, progress=progress, prune=not args.keep_missing, follow_links=args.follow_links)
    finally:
        bar.close()
    print(report.summary())
    print(f"index: {len(idx)} chunks from {len(idx.documents())} documents in {idx.settings.home}")
    return 1 if report.failed else 0


def cmd_ask(args) -> int:
    from .api import default_index

    question = " ".join(args.question)
    if question == "-":
        question = sys.stdin.read()
    if not question.strip():  # before the seeds are indexed on a first run, not after
        raise QuestionError("the question is empty: type a question about your documents")
    if args.home:
        idx = _index(args, must_exist=True)
        if len(idx) == 0:
            print(f"the index in {idx.settings.home} is empty: run `qa index PATH` first", file=sys.stderr)
            return 2
    else:
        bar, progress = tqdm_progress("indexing the seeds (first use)", lazy=True)
        try:
            idx = default_index(progress=progress)
        finally:
            bar.close()
    if args.llm_url:
        from .answerers import make

        idx.answerer = make("llm", idx.collection, idx.settings.with_(answerer="llm", llm_url=args.llm_url))
    ans = idx.ask(question)
    if args.json:  # JSON escapes control characters itself
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(visible(str(ans)))
    return 0


def cmd_retrieve(args) -> int:
    from .api import default_index

    idx = _index(args, must_exist=True) if args.home else default_index()
    passages = idx.retrieve(" ".join(args.question), k=args.k, rerank=not args.no_rerank)
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(p) for p in passages], ensure_ascii=False, indent=2))
    else:
        for i, p in enumerate(passages, 1):
            print(f"{i}. [{p.score:.4f}] {visible(str(p))}")
    return 0


def cmd_list(args) -> int:
    idx = _index(args, must_exist=True)
    docs = idx.documents()
    if not docs:
        print(f"no documents indexed in {idx.settings.home}")
        return 0
    for d in docs:
        when = datetime.fromtimestamp(d.indexed_at).strftime("%Y-%m-%d %H:%M")
        print(f"{visible(d.path, keep_newlines=False)}\t{d.langs}\t{d.n_chunks} chunks\t{when}")
    print(f"{len(docs)} documents, {len(idx)} chunks")
    return 0


def cmd_remove(args) -> int:
    from pathlib import Path

    idx = _index(args, must_exist=True)
    given = Path(args.path).expanduser()
    docs = []
    for target in dict.fromkeys((Path(os.path.abspath(given)), given.resolve())):  # a link as indexed, or its target
        docs = docs or [d.path for d in idx.documents() if Path(d.path) == target or Path(d.path).is_relative_to(target)]
    if not docs:
        raise ConfigError(f"{args.path} is not in the index, nor is any document under it (see `qa list`)")
    for path in docs:  # a folder: every document under it
        n = idx.remove(path)
        print(f"removed {visible(path, keep_newlines=False)}: {n} chunks")
    if len(docs) > 1:
        print(f"{len(docs)} documents removed")
    return 0


def cmd_serve(args) -> int:
    import socket

    from .config import Settings

    s = Settings.from_env(host=args.host, port=args.port, home=args.home, llm_url=args.llm_url)
    with socket.socket() as probe:  # a clear message, not Gradio's OSError traceback
        try:
            probe.bind((s.host, s.port))
        except OSError as e:
            raise ConfigError(f"cannot listen on {s.host}:{s.port} ({e.strerror or e}); is another server running "
                              "there? Choose another with --port or QA_PORT") from None
    import app

    app.main(host=args.host, port=args.port, home=args.home, llm_url=args.llm_url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qa", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Ask questions, in English or French, about your documents; every answer quotes its sources.\n\n"
                    "  qa ask \"Who chaired the Working Group on Internet Governance?\"   (the seeds, out of the box)\n"
                    "  qa index ~/my-docs --home ~/my-qa && qa ask --home ~/my-qa \"...\"\n"
                    "  qa serve                                      (web UI at http://127.0.0.1:7860)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    home = dict(default=None, help="data folder of the index (default: QA_HOME, else ~/.local/share/bilingual-qa)")
    llm_url = dict(help="answer with a language model on this OpenAI-compatible server (QA_ANSWERER=llm, "
                        "QA_LLM_URL); every quote it gives is checked against the files")

    s = sub.add_parser(
        "index", help=f"add files or folders ({formats()}) to the index; unchanged files are skipped",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Index files and folders (walked recursively; hidden files and folders are ignored).\n"
                    f"Formats: {', '.join(sorted(SUFFIXES))} (PDF with a text layer); citations give the line range,\n"
                    "the heading path (Markdown, HTML, Word) or the page (PDF).\n\n"
                    "Incremental: unchanged files (same content hash) are skipped, changed files are re-chunked\n"
                    "and their old passages removed, and when a FOLDER is indexed again, documents under it whose\n"
                    "files no longer exist are removed from the index (--keep-missing keeps them).\n"
                    "A file with exactly the same content as an indexed one is reported as a duplicate and not\n"
                    "indexed twice. A file that cannot be read (damaged, encrypted or scanned PDF, empty, binary,\n"
                    "over QA_MAX_FILE_MB) is reported with the reason; the rest is indexed, and an earlier\n"
                    "indexed version of it is kept. An interrupted run keeps what it committed; run it again\n"
                    "to complete it. Symbolic links inside a FOLDER are not followed unless --follow-links;\n"
                    "FIFOs, devices and sockets are never read. Exit code 1 when some file failed.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    s.add_argument("--keep-missing", action="store_true",
                   help="keep documents whose files were deleted from a re-indexed folder (default: remove them)")
    s.add_argument("--embedder", default=None, metavar="NAME",
                   help="index with this embedder (default QA_EMBEDDER, auto: the one this data folder was built "
                        "with, else e5-small-int8); e5-small-int8 over a folder built with e5-small builds the "
                        "faster engine's index beside the old one, which auto opens from then on")
    s.add_argument("--follow-links", action="store_true",
                   help="follow symbolic links inside the folders, even to files outside them, and index what they "
                        "lead to under the link's path (default: links are skipped and reported)")
    s.add_argument("--home", **home)
    s.set_defaults(fn=cmd_index)

    s = sub.add_parser("ask", help="answer a question with cited quotes (indexes the seeds on first use)")
    s.add_argument("question", nargs="+", help="the question, in English or French ('-' reads it from stdin)")
    s.add_argument("--json", action="store_true", help="print the answer as JSON (with `answerer`: who wrote it)")
    s.add_argument("--home", **home)
    s.add_argument("--llm-url", default=None, metavar="URL", help=llm_url["help"])
    s.set_defaults(fn=cmd_ask)

    s = sub.add_parser("retrieve", help="print the passages that best match a question")
    s.add_argument("question", nargs="+")
    s.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    s.add_argument("--no-rerank", action="store_true",
                   help="the fused order alone: no answer-grain reordering by the answerer and the reader (faster)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--home", **home)
    s.set_defaults(fn=cmd_retrieve)

    s = sub.add_parser("list", help="list the indexed documents")
    s.add_argument("--home", **home)
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("remove", help="remove a document, or every document under a folder, from the index")
    s.add_argument("path", help="a file as indexed (it may be gone from disk), or a folder")
    s.add_argument("--home", **home)
    s.set_defaults(fn=cmd_remove)

    s = sub.add_parser("serve", help="start the web UI (indexes the seeds on first launch)")
    s.add_argument("--host", default=None, help="address to bind (default QA_HOST, 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default QA_PORT, 7860)")
    s.add_argument("--home", **home)
    s.add_argument("--llm-url", default=None, metavar="URL", help=llm_url["help"])
    s.set_defaults(fn=cmd_serve)
    from .eval.cli import add_parser as add_eval
    from .feedback import add_parser as add_feedback

    add_eval(sub)
    add_feedback(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (SourceError, QuestionError, ConfigError) as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return 3
    except QAError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted; everything indexed so far is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qa ask ... | head -1`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

