"""The web UI: a Gradio chat over the same `ask` a notebook calls.

    python app.py            # or: qa serve  -> http://127.0.0.1:7860

`create_app()` builds the Blocks without launching, so tests (and notebooks) can use it directly.
The index is built in a background thread on first launch; the page shows its progress.
"""
from __future__ import annotations

import threading
import time

import qa.config  # noqa: F401  (offline + no telemetry, before gradio is imported)

import gradio as gr

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
            self.index = self.factory(progress=self._progress)
        except Exception as e:  # shown on the page instead of a dead UI
            self.error = e

    def _progress(self, done, total, what):
        self.done, self.total, self.what = done, total, what

    def wait(self, timeout: float | None = None) -> Index:
        self.start()
        self._thread.join(timeout)
        if self.error:
            raise self.error
        if self.index is None:
            raise QAError("the index is still being built; try again in a moment")
        return self.index

    def status(self) -> str:
        if self.error:
            return f"⚠️ The index could not be built: {self.error}"
        if self.index is None:
            return f"⏳ Building the index: {self.done}/{self.total or '?'} chunks ({self.what})…"
        docs = self.index.documents()
        return f"✅ Ready: {len(self.index)} passages from {len(docs)} documents ({', '.join(sorted({d.langs for d in docs}))})."


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
            history += [{"role": "user", "content": message or " "}, {"role": "assistant", "content": f"⚠️ {e}"}]
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

    with gr.Blocks(title="Bilingual cited QA") as demo:
        gr.Markdown("## Ask your documents — en français ou en anglais\n"
                    "Every answer quotes the sentences it comes from; click a citation to see it in its file.")
        status = gr.Markdown(build.status(), elem_id="status")
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
        box.submit(respond, [box, chat], [chat, sources, box], api_name="chat")
        gr.api(ask_json, api_name="ask")
        demo.load(load, None, status, api_name=False)
    return demo


def main(host: str | None = None, port: int | None = None, home=None) -> None:
    from qa.config import Settings

    s = Settings.from_env(host=host, port=port, home=home)
    factory = (lambda progress=None: _index_at(s, progress)) if home else default_index
    demo = create_app(factory)
    demo.queue(default_concurrency_limit=4)
    print(f"Bilingual QA: open http://{s.host}:{s.port} (data in {s.home})", flush=True)
    demo.launch(server_name=s.host, server_port=s.port, css=CSS.replace("<style>", "").replace("</style>", ""),
                show_error=True)


def _index_at(settings, progress):
    from qa.config import SEEDS_DIR

    idx = Index(settings=settings)
    if len(idx) == 0:
        idx.add([SEEDS_DIR], progress=progress)
    return idx


if __name__ == "__main__":
    main()
