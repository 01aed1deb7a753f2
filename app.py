"""The web page: a Gradio chat over the same `ask` a notebook calls, and a Documents tab.

    python app.py            # or: qa serve  -> http://127.0.0.1:7860

The page only: `create_app()` builds the Blocks without launching or indexing, so tests (and
notebooks) can use it directly; `main()` starts the index's build (qa.build) in a background thread
and launches; the page shows the build's progress. The conversation side is qa.chat's; uploads, listing and
removal are qa.library's.
"""
from __future__ import annotations

import html

import time
from pathlib import Path

from index import offline  # noqa: F401  (offline, no telemetry, Gradio's event log capped: before gradio)

import gradio as gr  # noqa: E402,I001

import qa
from index.loader import formats
from qa.api import Index, default_index
from qa.build import Build
from qa.chat import SOURCES_EMPTY, handlers
from qa.errors import QAError
from qa.labels import LABELS, label, page_lang
from qa.library import (add_uploads, describe, document_names, documents_table, document_view, reindex_document,
                        remove_document, report_markdown)
from qa.render import CSS, markdown_literal

EXAMPLES = [
    "Who chaired the Working Group on Internet Governance?",
    "Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?",
    "When will the first Prepcom of Phase II take place?",
    "Quand le Groupe de travail a-t-il été constitué ?",
]
DOC_HEADERS = LABELS["en"]["headers"]
PAGE_JS = (Path(qa.__file__).parent / "page.js").read_text("utf-8")  # [n] links, each answer's sources
# The page's language: a choice saved in this browser, else the browser's own
INITIAL_LANG = "() => { const v = localStorage.getItem('qa-lang') || navigator.language || 'en'; " \
               "return v.toLowerCase().startsWith('fr') ? 'fr' : 'en'; }"


# The page's lang attribute, and Gradio's own words (upload area, footer) in the same language: its
# translations are in its core module, loaded already; changeLocale is what its Settings panel calls
SET_LANG = """(v) => {
  document.documentElement.lang = v;
  const core = performance.getEntriesByType('resource').map(e => e.name).find(n => /\\/core-[\\w-]+\\.js$/.test(n));
  if (core) import(core).then(m => m.changeLocale && m.changeLocale(v)).catch(() => {});
}"""


# On a phone the conversations panel covers the page: it starts closed there (its toggle opens it)
PHONE_SIDEBAR = """() => {
  if (window.innerWidth >= 768) return;
  const toggle = document.querySelector('#sidebar.open .toggle-button, #sidebar.open button[aria-label="Toggle Sidebar"]');
  if (toggle) toggle.click();
}"""


def create_app(index_factory=default_index, build: Build | None = None) -> gr.Blocks:
    """The page over the index `index_factory(progress=...)` makes. Building the page starts nothing:
    `main` starts the index's build before launching, and otherwise the first visit or question does."""
    build = build or Build(index_factory)
    talk = handlers(build)  # the conversation side (qa.chat)

    def load(lang, progress=gr.Progress()):
        build.start()
        while build.index is None and build.error is None:
            progress((build.done, max(build.total, 1)), desc=f"Indexing {build.what}")
            yield status(build, lang)
            time.sleep(0.3)
        yield status(build, lang)

    def ask_json(question: str) -> dict:
        """The cited answer as JSON (for gradio_client and other programs)."""
        try:
            return build.wait().ask(question).to_dict()
        except QAError as e:
            return {"error": str(e)}

    def doc_choices():
        return list(document_names(build.index))  # names only: no server path reaches the page

    def by_file(progress, lang):
        """An indexing callback moving Gradio's progress bar, a file at a time."""
        return lambda done, total, what: progress((done, max(total, 1)), desc=label(lang, "indexing", what=what),
                                                  unit="files")

    def refresh(lang="en", keep=None):
        """The list, the choice (`keep` stays chosen if still indexed), the status and the description."""
        import pandas as pd  # Gradio's dependency: a frame carries its headers in the page's language

        names = doc_choices()
        return (pd.DataFrame(documents_table(build.index), columns=label(lang, "headers")),
                gr.update(choices=names, value=keep if keep in names else None), status(build, lang),
                markdown_literal(describe(build.index, lang)))

    def upload(files, lang, progress=gr.Progress()):
        try:
            idx = build.wait()
        except QAError as e:
            return f"⚠️ {e}", *refresh(lang)
        try:
            report = add_uploads(idx, files or [], by_file(progress, lang))
        finally:  # our copy is in <home>/uploads (if it was indexed): Gradio's is not kept
            for f in files or []:
                Path(f if isinstance(f, str) else getattr(f, "name", "")).unlink(missing_ok=True)
        return report_markdown(report, lang), *refresh(lang)

    def on_document(name, lang, act, keep=False):
        """`act(idx, name)` on a document the list shows: its message, then the list refreshed (`keep`:
        the document stays chosen, for the next action)."""
        if not name:
            return label(lang, "choose_first"), *refresh(lang)
        try:
            idx = build.wait()
            if name not in document_names(idx):
                raise QAError(label(lang, "not_indexed", name=name))
            message = act(idx, name)
        except QAError as e:
            message = f"⚠️ {e}"
        return message, *refresh(lang, keep=name if keep else None)

    def delete(name, lang):
        return on_document(name, lang, lambda idx, n: remove_document(idx, n, lang))

    def reindex(name, lang, progress=gr.Progress()):
        return on_document(name, lang, lambda idx, n: reindex_document(idx, n, lang, by_file(progress, lang)), keep=True)

    def open_file(name, lang):
        """The chosen document's whole text under the list (its file as it is now)."""
        if not name or name not in document_names(build.index):
            return gr.update(visible=False), ""
        try:
            return gr.update(visible=True), document_view(build.index, name)
        except QAError as e:
            return gr.update(visible=True), f"⚠️ {html.escape(str(e))}"

    def pick_row(evt: gr.SelectData):
        """A row clicked in the list: chosen for the actions under it (re-index, remove: asked first)."""
        name = evt.row_value[1] if evt.row_value and len(evt.row_value) > 1 else ""
        return (name, gr.update(visible=False)) if name in document_names(build.index) else (gr.update(), gr.update())

    def ask_remove(name, lang):
        """A row clicked in the list (or a name chosen): its removal asked first, the document named."""
        names = document_names(build.index)
        if not name or name not in names:
            return gr.update(), gr.update(visible=False), ""
        title = next((row[0] for row in documents_table(build.index) if row[1] == name), name)
        return name, gr.update(visible=True), label(lang, "remove_ask", title=markdown_literal(title),
                                                    name=markdown_literal(name))

    def choices(kept):
        """The documents to search in, as the list shows them now; the chosen ones still indexed kept."""
        names = doc_choices()
        return gr.update(choices=names, value=[n for n in kept or () if n in names])

    def relabel(lang):
        """Every label of the page in `lang`."""
        lang = page_lang(lang)
        table, _, status_text, about_text = refresh(lang)
        return (lang, label(lang, "title"), gr.update(label=label(lang, "switch")),
                gr.update(label=label(lang, "tab_ask")), gr.update(label=label(lang, "tab_docs")),
                gr.update(label=label(lang, "chat")),
                gr.update(label=label(lang, "question"), placeholder=label(lang, "placeholder")),
                gr.update(label=label(lang, "examples")), gr.update(value=label(lang, "new")),
                gr.update(label=label(lang, "search_in"), info=label(lang, "search_in_info")),
                gr.update(label=label(lang, "conversations")), gr.update(label=label(lang, "conversations")),
                gr.update(label=label(lang, "rename"), placeholder=label(lang, "rename_hint")),
                gr.update(value=label(lang, "delete")), gr.update(value=label(lang, "export")),
                gr.update(value=label(lang, "delete_yes")), gr.update(value=label(lang, "cancel")),
                gr.update(value=label(lang, "remove_yes")), gr.update(value=label(lang, "cancel")),
                gr.update(value=label(lang, "close")),
                gr.update(label=label(lang, "exported")),
                label(lang, "sources"), gr.update(label=label(lang, "upload", formats=formats())),
                gr.update(value=label(lang, "remove")), table, gr.update(label=label(lang, "choose"), choices=doc_choices()),
                status_text, about_text, talk.mode_choice(lang, keep=True), gr.update(value=label(lang, "reindex")),
                gr.update(value=label(lang, "open")), gr.update(value=label(lang, "close")))

    with gr.Blocks(title="Bilingual cited QA", delete_cache=(600, 3600)) as demo:  # temporary uploads: 1 h
        ui = gr.State("en")  # the page's language
        # the conversation shown: its id ("" before its first answer; None for programs calling /chat,
        # whose conversations are not stored), and the same kept in this browser for the next visit
        cur = gr.State(None)
        conv = gr.BrowserState("", storage_key="qa-conversation", secret="qa-conversation")  # an id, not a secret
        with gr.Sidebar(label=label("en", "conversations"), elem_id="sidebar") as sidebar:
            conv_list = gr.Radio([], label=label("en", "conversations"), elem_id="conversations")
            new = gr.Button(label("en", "new"), elem_id="new-conversation", variant="primary")
            title_box = gr.Textbox(label=label("en", "rename"), elem_id="rename", max_length=200,
                                   placeholder=label("en", "rename_hint"))
            with gr.Row():
                forget_btn = gr.Button(label("en", "delete"), elem_id="delete-conversation", variant="stop", size="sm")
                export_btn = gr.Button(label("en", "export"), elem_id="export-conversation", size="sm")
            with gr.Column(visible=False, elem_id="delete-confirm", variant="panel") as confirm_box:
                confirm_text = gr.Markdown()
                with gr.Row():
                    confirm_yes = gr.Button(label("en", "delete_yes"), variant="stop", size="sm", elem_id="delete-yes")
                    confirm_no = gr.Button(label("en", "cancel"), size="sm", elem_id="delete-no")
            exported = gr.File(label=label("en", "exported"), visible=False, elem_id="exported", interactive=False)
        with gr.Row(equal_height=True):
            heading = gr.Markdown(label("en", "title"), elem_id="heading")
            switch = gr.Radio([("English", "en"), ("Français", "fr")], value="en", label=label("en", "switch"),
                              elem_id="lang-switch", scale=0, min_width=200, show_label=False, container=False)
        status_md = gr.Markdown(status(build, "en"), elem_id="status")
        about = gr.Markdown(elem_id="about")  # what the collection is, in a sentence
        with gr.Tabs():
            with gr.Tab(label("en", "tab_ask"), id="ask") as tab_ask:
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label=label("en", "chat"), height=460, elem_id="chat",
                                          buttons=["copy", "copy_all"])
                        box = gr.Textbox(label=label("en", "question"), show_label=False,
                                         placeholder=label("en", "placeholder"), elem_id="question", submit_btn=True)
                        mode = gr.Radio([(label("en", "mode_extractive"), "extractive"), (label("en", "mode_llm"), "llm")],
                                        value=None, label=label("en", "mode"), info=label("en", "mode_none"),
                                        interactive=False, elem_id="answerer")  # enabled once a model is found
                        within = gr.Dropdown(choices=doc_choices(), value=[], multiselect=True, elem_id="search-in",
                                             label=label("en", "search_in"), info=label("en", "search_in_info"))
                        examples = gr.Examples(EXAMPLES, inputs=box, label=label("en", "examples"))
                    with gr.Column(scale=2):
                        sources_md = gr.Markdown(label("en", "sources"))
                        sources = gr.HTML(SOURCES_EMPTY, elem_id="sources", js_on_load=PAGE_JS,
                                          html_template='<div aria-live="polite">${value}</div>', head=CSS)
                        with gr.Column(visible=False, elem_id="document-view", variant="panel") as doc_box:
                            doc_view = gr.HTML()
                            doc_close = gr.Button(label("en", "close"), size="sm", elem_id="document-close")
            with gr.Tab(label("en", "tab_docs"), id="documents") as tab_docs:
                # every type is taken: what cannot be indexed is listed in the report with the reason
                files = gr.File(label=label("en", "upload", formats=formats()), file_count="multiple",
                                type="filepath", elem_id="upload")
                outcome = gr.Markdown(elem_id="upload-report")
                table = gr.Dataframe(headers=DOC_HEADERS, value=documents_table(build.index), interactive=False,
                                     wrap=True, elem_id="documents", column_widths=["38%", "27%", "10%", "10%", "15%"])
                with gr.Row():
                    chosen = gr.Dropdown(label=label("en", "choose"), choices=doc_choices(), elem_id="remove-choice",
                                         allow_custom_value=True)  # programs name a document the list shows
                    open_btn = gr.Button(label("en", "open"), elem_id="open-file", interactive=False)
                    reindex_btn = gr.Button(label("en", "reindex"), elem_id="reindex", interactive=False)
                    remove = gr.Button(label("en", "remove"), variant="stop", elem_id="remove", interactive=False)
                with gr.Column(visible=False, elem_id="remove-confirm", variant="panel") as remove_box:
                    remove_text = gr.Markdown()
                    with gr.Row():
                        remove_yes = gr.Button(label("en", "remove_yes"), variant="stop", size="sm", elem_id="remove-yes")
                        remove_no = gr.Button(label("en", "cancel"), size="sm", elem_id="remove-no")
                with gr.Column(visible=False, elem_id="file-view", variant="panel") as file_box:
                    file_view = gr.HTML()
                    file_close = gr.Button(label("en", "close"), size="sm", elem_id="file-close")
        turns = gr.State([])  # one entry per answer in the chat: its language and its sources' HTML
        box.submit(talk.respond, [box, chat, turns, within, cur, mode], [chat, turns, sources, box, cur], api_name="chat").then(
            lambda c, lang: (c, talk.listing(c, lang)), [cur, ui], [conv, conv_list], api_name=False)  # kept for the next visit
        opened = [chat, turns, sources, cur, conv, conv_list]
        new.click(talk.fresh, ui, opened, api_name=False)
        chat.clear(talk.fresh, ui, opened, api_name=False)
        conv_list.input(talk.resume, [conv_list, ui], opened, api_name=False)
        title_box.submit(talk.rename, [cur, title_box, ui], [conv_list, title_box], api_name=False)
        forget_btn.click(talk.ask_forget, [cur, ui], [confirm_box, confirm_text], api_name=False)
        confirm_yes.click(talk.forget, [cur, ui], opened + [confirm_box], api_name=False)
        confirm_no.click(lambda: gr.update(visible=False), None, confirm_box, api_name=False)
        export_btn.click(talk.export, cur, exported, api_name=False)
        chat.like(talk.rate, [chat, turns, cur], None, api_name=False)
        sources.click(talk.open_document, [turns, ui], [doc_box, doc_view], api_name=False)
        doc_close.click(lambda: gr.update(visible=False), None, doc_box, api_name=False)
        gr.api(ask_json, api_name="ask")
        docs_out = [outcome, table, chosen, status_md, about]
        files.upload(upload, [files, ui], docs_out, api_name="upload", show_progress_on=outcome).then(
            lambda: None, None, files, api_name=False).then(choices, within, within, api_name=False)
        table.select(pick_row, None, [chosen, remove_box], api_name=False)
        remove.click(ask_remove, [chosen, ui], [chosen, remove_box, remove_text], api_name=False)
        chosen.change(lambda name: (gr.update(interactive=bool(name)),) * 3, chosen, [remove, reindex_btn, open_btn], api_name=False)
        open_btn.click(open_file, [chosen, ui], [file_box, file_view], api_name=False)
        file_close.click(lambda: gr.update(visible=False), None, file_box, api_name=False)
        reindex_btn.click(reindex, [chosen, ui], docs_out, api_name="reindex", show_progress_on=outcome)
        remove_yes.click(delete, [chosen, ui], docs_out, api_name="remove").then(
            lambda: gr.update(visible=False), None, remove_box, api_name=False).then(choices, within, within, api_name=False)
        remove_no.click(lambda: gr.update(visible=False), None, remove_box, api_name=False)
        switch.change(relabel, switch, [ui, heading, switch, tab_ask, tab_docs, chat, box, examples.dataset, new, within, sidebar, conv_list, title_box, forget_btn,
                                        export_btn, confirm_yes, confirm_no, remove_yes, remove_no, doc_close, exported,
                                        sources_md, files, remove, table, chosen, status_md, about, mode, reindex_btn,
                                        open_btn, file_close],
                      api_name=False)
        switch.change(None, switch, None, js=SET_LANG)
        switch.input(None, switch, None, js="(v) => { localStorage.setItem('qa-lang', v); }")  # a choice is kept
        demo.load(None, None, switch, js=INITIAL_LANG)
        demo.load(None, None, None, js=PHONE_SIDEBAR)
        demo.load(load, ui, status_md, api_name=False).then(refresh, ui, [table, chosen, status_md, about],
                                                            api_name=False).then(choices, within, within, api_name=False
                                                                                 ).then(talk.resume_visit, [conv, ui, chat, cur], opened,
                                                                                        api_name=False
                                                                                        ).then(talk.mode_choice, ui, mode, api_name=False)
        demo.load(lambda: gr.update(visible=_about_the_seeds(build)), None, examples.dataset, api_name=False)
        demo.load(lambda: "", None, cur, api_name=False)  # a page, not a program: its conversation is stored
    return demo


def _about_the_seeds(build: Build) -> bool:
    """Are the example questions (about the seeds) worth showing: are the seeds indexed?"""
    from qa.config import SEEDS_DIR

    try:
        paths = {Path(d.path) for d in build.wait().documents()}
    except QAError:
        return True
    return all(p in paths for p in SEEDS_DIR.resolve().iterdir() if p.is_file())


def status(build: Build, lang: str) -> str:
    """How far the index is, in the page's language."""
    if build.error:
        return label(lang, "failed", error=build.error)
    if build.index is None:
        return label(lang, "building", done=int(build.done), total=build.total or "?", what=build.what)
    docs = build.index.documents()
    langs = sorted({x for d in docs for x in (d.langs or "").split(",") if x})
    return label(lang, "ready", passages=len(build.index), docs=len(docs), langs=", ".join(langs))


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
