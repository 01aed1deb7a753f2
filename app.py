"""The web UI: a Gradio chat over the same `ask` a notebook calls, and a Documents tab.

    python app.py            # or: qa serve  -> http://127.0.0.1:7860

`create_app()` builds the Blocks without launching, so tests (and notebooks) can use it directly.
The index is built in a background thread on first launch; the page shows its progress.

Documents tab: files dropped there are copied into ``<data folder>/uploads`` under a safe name
(``safe_name``: no folders, no "..", no control characters, at most NAME_CHARS characters) and indexed
with ``add_uploads``, the same function a notebook can call. A file that cannot be indexed is not kept,
and an earlier upload of the same name stays as it was; uploading a new version of a file replaces it.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
import unicodedata
from datetime import datetime
from pathlib import Path

import qa.config  # noqa: F401  (offline + no telemetry, before gradio is imported)

# Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a monitoring
# dashboard we do not use: 9 ms per answer at first, 28 ms once 10,000 answers are kept (more than our
# own ask), and memory that grows with them. Keep 100 events and summarise them once in a million.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")
# Gradio switches matplotlib's backend around every event; named here, matplotlib need not load pyplot
# to find out which it is (150 ms and ~30 MB on the first answer)
os.environ.setdefault("MPLBACKEND", "agg")

import gradio as gr  # noqa: E402

from index.loader import SUFFIXES, Unreadable, read_text
from qa.api import Index, default_index
from qa.errors import QAError
from qa.render import CSS, answer_html

EXAMPLES = [
    "Who chaired the Working Group on Internet Governance?",
    "Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?",
    "When will the first Prepcom of Phase II take place?",
    "Quand le Groupe de travail a-t-il été constitué ?",
]
SOURCES_EMPTY = "<div class='qa-meta'>Citations appear here: click one to see the passage in its file.</div>"
NAME_CHARS = 120  # longest name an uploaded file is stored under
DOC_HEADERS = ["File", "Languages", "Chunks", "Indexed"]


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: "../../etc/passwd" -> "passwd", control and
    path characters replaced, leading dots dropped, cut to NAME_CHARS keeping the extension."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", str(name)))[-1]
    base = "".join("_" if unicodedata.category(ch)[0] == "C" or ch in '<>:"|?*' else ch for ch in base)
    base = base.strip().lstrip(".").strip() or "upload"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > 10:
        stem, suffix = base, ""
    suffix = f".{suffix}" if suffix else ""
    limit = NAME_CHARS - len(suffix)
    while len(stem.encode()) > limit:  # bytes: file systems cap names at 255 bytes, not characters
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix if stem.rstrip(" .") else "upload" + suffix


def add_uploads(idx: Index, files, progress=None):
    """Copy uploaded files into <home>/uploads under safe names and index them.

    `files`: paths (Gradio's temporary copies) or (path, original name) pairs. Returns the indexing
    Report, with files that could not even be stored or read listed under ``failed``. A file that is
    not indexed is not kept; a new version of an uploaded name replaces the old one only if it reads.
    """
    from index.ingest import Report

    folder = idx.settings.home / "uploads"
    staging = folder / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    max_bytes = int(idx.settings.max_file_mb * 1e6)
    early, ready = Report(), []
    for item in files or []:
        src, original = (item if isinstance(item, (tuple, list)) else (item, item))
        src = Path(src if isinstance(src, (str, os.PathLike)) else src.name)  # a path, or a tempfile object
        name = safe_name(str(original))
        if Path(name).suffix.lower() not in SUFFIXES:
            early.failed.append((name, f"unsupported file type {Path(name).suffix or '(none)'}; "
                                                f"supported: {', '.join(sorted(SUFFIXES))}"))
            continue
        tmp = staging / name
        try:
            if src.stat().st_size > max_bytes:  # before copying a huge file anywhere
                raise Unreadable(f"is {src.stat().st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB "
                                 "limit (QA_MAX_FILE_MB)")
            shutil.copyfile(src, tmp)
            read_text(tmp, max_bytes)  # a bad file must not replace a good earlier upload of that name
        except (Unreadable, OSError) as e:
            early.failed.append((name, str(e) if isinstance(e, Unreadable) else f"cannot be stored: {e}"))
            tmp.unlink(missing_ok=True)
            continue
        except Exception as e:  # a reader's bug on a strange file: report it, keep the batch going
            early.failed.append((name, f"cannot be read: {type(e).__name__}: {e}"))
            tmp.unlink(missing_ok=True)
            continue
        dest = folder / name
        tmp.replace(dest)
        ready.append(dest)
    report = idx.add(ready, progress=progress) if ready else early
    if report is not early:
        report.failed[:0] = early.failed
    indexed = {d.path for d in idx.documents()}
    for p in ready:  # duplicates and failures are not kept
        if str(p.resolve()) not in indexed:
            p.unlink(missing_ok=True)
    return report


def documents_table(idx: Index | None) -> list[list]:
    if idx is None:
        return []
    return [[Path(d.path).name, d.langs, d.n_chunks, datetime.fromtimestamp(d.indexed_at).strftime("%Y-%m-%d %H:%M")]
            for d in idx.documents()]


def remove_document(idx: Index, path: str) -> str:
    """Remove a document from the index; an uploaded file is deleted too (it is our copy)."""
    n = idx.remove(path)
    p = Path(path)
    if p.parent == (idx.settings.home / "uploads").resolve():
        p.unlink(missing_ok=True)
    return f"Removed {p.name} ({n} passages)."


def report_markdown(report) -> str:
    lines = [f"**{report.summary().splitlines()[0]}**"]
    lines += [f"- ✓ added {Path(p).name}" for p in report.added]
    lines += [f"- 🔄 updated {Path(p).name}" for p in report.updated]
    lines += [f"- ⏭️ unchanged {Path(p).name}" for p in report.unchanged]
    lines += [f"- 🗑️ removed {Path(p).name}" for p in report.removed]
    lines += [f"- ⏭️ {Path(p).name}: {why}" for p, why in report.skipped]
    lines += [f"- ⚠️ {Path(p).name} {why}" for p, why in report.failed]
    return "\n".join(lines)


WAIT_FOR_BUILD = 20.0  # seconds a question or an upload waits for a build in progress before being told so


class Build:
    """The index being built in the background, with progress the page can show."""

    def __init__(self, factory):
        self.factory, self.index, self.error = factory, None, None
        self.done, self.total, self.what = 0, 0, "starting"
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> "Build":
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="index-build", daemon=True)
                self._thread.start()
        return self

    def _run(self):
        try:
            index = self.factory(progress=self._progress)
            self._progress(self.total, self.total, "loading the models")
            index.warm()  # the first question then waits for no model to load
            self.index = index
        except Exception as e:  # shown on the page instead of a dead UI
            self.error = e

    def _progress(self, done, total, what):
        self.done, self.total, self.what = done, total, what

    def wait(self, timeout: float | None = None) -> Index:
        """The index once built; a QAError saying how far the build is if it takes over `timeout` s
        (default WAIT_FOR_BUILD)."""
        self.start()
        self._thread.join(WAIT_FOR_BUILD if timeout is None else timeout)
        if self.error:
            raise self.error
        if self.index is None:
            raise QAError(f"the documents are still being indexed ({self.done}/{self.total or '?'} "
                          f"files, {self.what}); ask again in a moment")
        return self.index

    def status(self) -> str:
        if self.error:
            return f"⚠️ The index could not be built: {self.error}"
        if self.index is None:
            return f"… Building the index: {self.done}/{self.total or '?'} files ({self.what})…"
        docs = self.index.documents()
        langs = sorted({lang for d in docs for lang in (d.langs or "").split(",") if lang})
        return f"✓ Ready: {len(self.index)} passages from {len(docs)} documents ({', '.join(langs)})."


def create_app(index_factory=default_index) -> gr.Blocks:
    build = Build(index_factory).start()

    def load(progress=gr.Progress()):
        while build.index is None and build.error is None:
            progress((build.done, max(build.total, 1)), desc=f"Indexing {build.what}")
            yield build.status()
            time.sleep(0.3)
        yield build.status()

    def respond(message: str, history: list):
        history = list(history or [])
        try:
            ans = build.wait().ask(message, history=history)
        except QAError as e:
            shown = _shorten(message or "", 300)  # a refused 100 KB question is not echoed whole
            history += ([{"role": "user", "content": shown}] if shown.strip() else [])
            history += [{"role": "assistant", "content": f"⚠️ {e}"}]
            return history, SOURCES_EMPTY, ""
        text = (f"_{ans.note}_\n\n" if ans.note else "") + ans.text
        if not ans.answered and ans.related:
            text += "\n\n" + ("Passages peut-être en rapport : voir à droite." if ans.lang == "fr"
                             else "Maybe related passages are shown on the right.")
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": text}]
        return history, answer_html(ans, with_answer=False), ""

    def ask_json(question: str) -> dict:
        """The cited answer as JSON (for gradio_client and other programs)."""
        try:
            return build.wait().ask(question).to_dict()
        except QAError as e:
            return {"error": str(e)}

    def doc_choices():
        idx = build.index
        return [(Path(d.path).name, d.path) for d in idx.documents()] if idx else []

    def refresh():
        return documents_table(build.index), gr.update(choices=doc_choices(), value=None), build.status()

    def upload(files, progress=gr.Progress()):
        try:
            idx = build.wait()
        except QAError as e:
            return f"⚠️ {e}", *refresh()
        report = add_uploads(idx, files or [], lambda done, total, what: progress(
            (done, max(total, 1)), desc=f"Indexing {what}"))
        return report_markdown(report), *refresh()

    def delete(path):
        if not path:
            return "Choose a document to remove.", *refresh()
        try:
            message = remove_document(build.wait(), path)
        except QAError as e:
            message = f"⚠️ {e}"
        return message, *refresh()

    with gr.Blocks(title="Bilingual cited QA") as demo:
        gr.Markdown("## Ask your documents — en français ou en anglais\n"
                    "Every answer quotes the sentences it comes from; click a citation to see it in its file.")
        status = gr.Markdown(build.status(), elem_id="status")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="Conversation", height=460, elem_id="chat")
                        box = gr.Textbox(placeholder="Ask a question… / Posez une question…", show_label=False,
                                         elem_id="question", submit_btn=True)
                        gr.Examples(EXAMPLES, inputs=box)
                        gr.ClearButton([chat, box], value="New conversation")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(SOURCES_EMPTY, elem_id="sources")
            with gr.Tab("Documents", id="documents"):
                files = gr.File(label="Add documents (.txt .md .html .pdf .docx): drop files here", file_count="multiple",
                                file_types=sorted(SUFFIXES), type="filepath", elem_id="upload")
                outcome = gr.Markdown(elem_id="upload-report")
                table = gr.Dataframe(headers=DOC_HEADERS, value=documents_table(build.index), interactive=False,
                                     wrap=True, elem_id="documents")
                with gr.Row():
                    chosen = gr.Dropdown(label="Indexed document", choices=doc_choices(), elem_id="remove-choice")
                    remove = gr.Button("Remove from the index", variant="stop", elem_id="remove")
        box.submit(respond, [box, chat], [chat, sources, box], api_name="chat")
        gr.api(ask_json, api_name="ask")
        files.upload(upload, files, [outcome, table, chosen, status], api_name="upload").then(
            lambda: None, None, files, api_name=False)
        remove.click(delete, chosen, [outcome, table, chosen, status], api_name="remove")
        demo.load(load, None, status, api_name=False).then(refresh, None, [table, chosen, status], api_name=False)
    return demo


def _shorten(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def main(host: str | None = None, port: int | None = None, home=None) -> None:
    from qa.config import Settings

    s = Settings.from_env(host=host, port=port, home=home)
    factory = (lambda progress=None: _index_at(s, progress)) if home else default_index
    demo = create_app(factory)
    demo.queue(default_concurrency_limit=4)
    print(f"Bilingual QA: open http://{s.host}:{s.port} (data in {s.home})", flush=True)
    demo.launch(server_name=s.host, server_port=s.port, css=CSS.replace("<style>", "").replace("</style>", ""),
                show_error=True, max_file_size=f"{s.max_file_mb:g}mb")  # the browser refuses bigger uploads


def _index_at(settings, progress):
    from qa.config import SEEDS_DIR

    idx = Index(settings=settings)
    if len(idx) == 0:
        idx.add([SEEDS_DIR], progress=progress)
    return idx


if __name__ == "__main__":
    main()
