"""The web page: a Gradio chat over the same `ask` a notebook calls, and a Documents tab.

    python app.py            # or: qa serve  -> http://127.0.0.1:7860

The page only: `create_app()` builds the Blocks without launching or indexing, so tests (and
notebooks) can use it directly; `main()` starts the index's build (qa.build) in a background thread
and launches; the page shows the build's progress. Uploads, listing and removal are qa.library's.
"""
from __future__ import annotations

import time
from pathlib import Path

from index import offline  # noqa: F401  (offline, no telemetry, Gradio's event log capped: before gradio)

import gradio as gr  # noqa: E402,I001

import qa
from index.loader import SUFFIXES, formats
from qa.api import Index, default_index
from qa.build import Build
from qa.errors import QAError
from qa.library import add_uploads, describe, document_names, documents_table, remove_document, report_markdown
from qa.render import CSS, answer_html, markdown_literal

EXAMPLES = [
    "Who chaired the Working Group on Internet Governance?",
    "Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?",
    "When will the first Prepcom of Phase II take place?",
    "Quand le Groupe de travail a-t-il été constitué ?",
]
SOURCES_EMPTY = "<div class='qa-meta'>Citations appear here: click one to see the passage in its file.</div>"
NO_SOURCES = {"en": "<div class='qa-meta'>No passage of the documents answers this question.</div>",
              "fr": "<div class='qa-meta' lang='fr'>Aucun passage des documents ne répond à cette question.</div>"}
DOC_HEADERS = ["Title", "File", "Languages", "Chunks", "Indexed"]
PAGE_JS = (Path(qa.__file__).parent / "page.js").read_text("utf-8")  # [n] links, each answer's sources


def create_app(index_factory=default_index, build: Build | None = None) -> gr.Blocks:
    """The page over the index `index_factory(progress=...)` makes. Building the page starts nothing:
    `main` starts the index's build before launching, and otherwise the first visit or question does."""
    build = build or Build(index_factory)

    def load(progress=gr.Progress()):
        build.start()
        while build.index is None and build.error is None:
            progress((build.done, max(build.total, 1)), desc=f"Indexing {build.what}")
            yield build.status()
            time.sleep(0.3)
        yield build.status()

    def respond(message: str, history: list, turns: list):
        history = list(history or [])
        if not (message or "").strip():  # Enter on an empty box: nothing asked, nothing changes
            return history, gr.update(), gr.update(), ""
        turns = _aligned(turns, history)
        try:
            ans = build.wait().ask(message, history=history)
        except QAError as e:
            shown = _shorten(message or "", 300)  # a refused 100 KB question is not echoed whole
            history += [{"role": "user", "content": shown}, {"role": "assistant", "content": f"⚠️ {e}"}]
            turns = turns + [{"lang": "en", "html": SOURCES_EMPTY}]
            return history, turns, sources_panel(turns), ""
        text = (f"_{markdown_literal(ans.note)}_\n\n" if ans.note else "") + markdown_literal(ans.text)
        if not ans.answered and ans.related:
            text += "\n\n" + ("Passages peut-être en rapport : voir à droite." if ans.lang == "fr"
                             else "Maybe related passages are shown on the right.")
        history += [{"role": "user", "content": markdown_literal(message)}, {"role": "assistant", "content": text}]
        if not ans.citations and not ans.related:
            shown = NO_SOURCES[ans.lang if ans.lang in NO_SOURCES else "en"]
        else:
            shown = answer_html(ans, with_answer=False, key=f"{len(turns)}-")
        turns = turns + [{"lang": ans.lang, "html": shown}]
        return history, turns, sources_panel(turns), ""

    def ask_json(question: str) -> dict:
        """The cited answer as JSON (for gradio_client and other programs)."""
        try:
            return build.wait().ask(question).to_dict()
        except QAError as e:
            return {"error": str(e)}

    def doc_choices():
        return list(document_names(build.index))  # names only: no server path reaches the page

    def refresh():
        return (documents_table(build.index), gr.update(choices=doc_choices(), value=None), build.status(),
                markdown_literal(describe(build.index)))

    def upload(files, progress=gr.Progress()):
        try:
            idx = build.wait()
        except QAError as e:
            return f"⚠️ {e}", *refresh()
        try:
            report = add_uploads(idx, files or [], lambda done, total, what: progress(
                (done, max(total, 1)), desc=f"Indexing {what}"))
        finally:  # our copy is in <home>/uploads (if it was indexed): Gradio's is not kept
            for f in files or []:
                Path(f if isinstance(f, str) else getattr(f, "name", "")).unlink(missing_ok=True)
        return report_markdown(report), *refresh()

    def delete(name):
        if not name:
            return "Choose a document to remove.", *refresh()
        try:
            idx = build.wait()
            if name not in document_names(idx):
                raise QAError(f"{name!r} is not an indexed document; the Documents list names them")
            message = remove_document(idx, name)
        except QAError as e:
            message = f"⚠️ {e}"
        return message, *refresh()

    with gr.Blocks(title="Bilingual cited QA", delete_cache=(600, 3600)) as demo:  # temporary uploads: 1 h
        gr.Markdown("## Ask your documents — en français ou en anglais\n"
                    "Every answer quotes the sentences it comes from; click a citation to see it in its file.")
        status = gr.Markdown(build.status(), elem_id="status")
        about = gr.Markdown(elem_id="about")  # what the collection is, in a sentence
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="Conversation", height=460, elem_id="chat", buttons=["copy", "copy_all"])
                        box = gr.Textbox(label="Your question / Votre question", show_label=False,
                                         placeholder="Ask a question… / Posez une question…",
                                         elem_id="question", submit_btn=True)
                        gr.Examples(EXAMPLES, inputs=box)
                        new = gr.Button("New conversation", elem_id="new-conversation")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(SOURCES_EMPTY, elem_id="sources", js_on_load=PAGE_JS,
                                          html_template='<div aria-live="polite">${value}</div>')
            with gr.Tab("Documents", id="documents"):
                files = gr.File(label=f"Add documents ({formats()}): drop files here", file_count="multiple",
                                file_types=sorted(SUFFIXES), type="filepath", elem_id="upload")
                outcome = gr.Markdown(elem_id="upload-report")
                table = gr.Dataframe(headers=DOC_HEADERS, value=documents_table(build.index), interactive=False,
                                     wrap=True, elem_id="documents")
                with gr.Row():
                    chosen = gr.Dropdown(label="Indexed document", choices=doc_choices(), elem_id="remove-choice",
                                         allow_custom_value=True)  # programs name a document the list shows
                    remove = gr.Button("Remove from the index", variant="stop", elem_id="remove")
        turns = gr.State([])  # one entry per answer in the chat: its language and its sources' HTML
        box.submit(respond, [box, chat, turns], [chat, turns, sources, box], api_name="chat")
        new.click(lambda: ([], [], SOURCES_EMPTY, ""), None, [chat, turns, sources, box], api_name=False)
        chat.clear(lambda: ([], SOURCES_EMPTY), None, [turns, sources], api_name=False)  # its bin icon
        gr.api(ask_json, api_name="ask")
        files.upload(upload, files, [outcome, table, chosen, status, about], api_name="upload").then(
            lambda: None, None, files, api_name=False)
        remove.click(delete, chosen, [outcome, table, chosen, status, about], api_name="remove")
        demo.load(load, None, status, api_name=False).then(refresh, None, [table, chosen, status, about], api_name=False)
    return demo


def sources_panel(turns: list[dict]) -> str:
    """Every answer's sources, each in its own section (the page shows one: the last answer's, or the
    one whose answer or [n] was clicked; qa/page.js)."""
    if not turns:
        return SOURCES_EMPTY
    last = len(turns) - 1
    return "".join(f'<section class="qa-turn" data-turn="{i}" data-lang="{t["lang"]}" lang="{t["lang"]}"'
                   f'{"" if i == last else " hidden"}>{t["html"]}</section>' for i, t in enumerate(turns))


def _aligned(turns, history) -> list[dict]:
    """One turn per assistant message of `history` (a program calling /chat sends its history only)."""
    turns = list(turns or [])
    answers = sum(1 for m in history if isinstance(m, dict) and m.get("role") == "assistant")
    missing = answers - len(turns)
    return [{"lang": "en", "html": SOURCES_EMPTY}] * missing + turns if missing > 0 else turns[-answers:] if answers else []


def _shorten(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def main(host: str | None = None, port: int | None = None, home=None, llm_url: str | None = None) -> None:
    from qa.config import Settings

    s = Settings.from_env(host=host, port=port, home=home, llm_url=llm_url, answerer="llm" if llm_url else None)
    factory = (lambda progress=None: _index_at(s, progress)) if home or llm_url else default_index
    build = Build(factory).start()  # indexing starts with the server, before the first visit
    demo = create_app(build=build)
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
