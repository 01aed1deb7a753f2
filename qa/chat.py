"""The page's conversation side, without its layout (app.py lays it out and wires it): a question
answered into the chat and its turns (one per answer: its language, its sources' HTML, the question and
the Answer), conversations kept and resumed (qa.conversations), 👍/👎 kept (qa.feedback), a conversation
exported as Markdown. Each handler takes and returns what its Gradio event passes.
"""
from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from types import SimpleNamespace

from index import offline  # noqa: F401  (no telemetry: before gradio, as in app.py)

import gradio as gr  # noqa: E402,I001

from .build import Build
from .conversations import Conversations
from .errors import QAError
from .feedback import Feedback
from .labels import label
from .library import document_names, safe_name
from .render import answer_html, document_html, markdown_literal
from .types import Answer

SOURCES_EMPTY = ("<div class='qa-meta qa-empty'><span lang='en'>" + label("en", "sources_empty") + "</span>"
                 "<span lang='fr'>" + label("fr", "sources_empty") + "</span></div>")  # the page's language shows
NO_SOURCES = {"en": "<div class='qa-meta'>No passage of the documents answers this question.</div>",
              "fr": "<div class='qa-meta' lang='fr'>Aucun passage des documents ne répond à cette question.</div>"}


def handlers(build: Build) -> SimpleNamespace:
    """The chat's event handlers over the index `build` makes; its data folder holds the conversations
    and the feedback (opened at the first use, once the index is there)."""

    def respond(message: str, history: list, turns: list, within=None, cid=None, mode=None):
        """The answer, added to the chat and to its turns; on the page (`cid` not None: "" for a new
        conversation) the conversation is stored at once, so a reload right after finds it. A generator:
        with an answerer that writes (the llm one) the chat shows its words as they come, the sources
        and the stored conversation follow the verified answer, the last update; with the extractive
        answerer that is the only update. `mode`: "extractive" or "llm" (the page's choice; None: the
        configured answerer)."""
        for history, turns, shown, box in _respond(message, history, turns, within, mode):
            if turns is SAME:  # words of an answer still being written
                yield history, turns, shown, box, gr.update()
        if cid is not None and shown is not SAME:
            cid = store().save(cid or None, history, turns)
        yield history, turns, shown, box, cid

    def _respond(message: str, history: list, turns: list, within=None, mode=None):
        history = list(history or [])
        if not (message or "").strip():  # Enter on an empty box: nothing asked, nothing changes
            yield history, gr.update(), SAME, ""
            return
        turns = _aligned(turns, history)
        asked = history + [{"role": "user", "content": markdown_literal(message)}]
        try:
            idx = build.wait()
            names = document_names(idx)  # a name chosen before its document was removed is left out
            only = [names[n] for n in within or () if n in names] or None
            written, ans = "", None
            for item in answering(idx, mode).stream(message, history=history, documents=only):
                if isinstance(item, Answer):
                    ans = item
                elif item:
                    written += item
                    yield asked + [{"role": "assistant", "content": markdown_literal(written) + " …"}], SAME, SAME, ""
        except QAError as e:
            shown = _shorten(message or "", 300)  # a refused 100 KB question is not echoed whole
            history += [{"role": "user", "content": shown}, {"role": "assistant", "content": f"⚠️ {e}"}]
            turns = turns + [{"lang": "en", "html": SOURCES_EMPTY, "question": shown, "error": str(e)}]
            yield history, turns, sources_panel(turns), ""
            return
        text = (f"_{markdown_literal(ans.note)}_\n\n" if ans.note else "") + markdown_literal(ans.text)
        if not ans.answered and ans.related:
            text += "\n\n" + ("Passages peut-être en rapport : voir à droite." if ans.lang == "fr"
                             else "Maybe related passages are shown on the right.")
        if offers_choice(idx):  # which answerer wrote it, discreetly, when there is a choice
            text += "\n\n" + byline(ans, message)
        history = asked + [{"role": "assistant", "content": text}]
        if not ans.citations and not ans.related:
            shown = NO_SOURCES[ans.lang if ans.lang in NO_SOURCES else "en"]
        else:
            shown = answer_html(ans, with_answer=False, key=f"{len(turns)}-")
        turns = turns + [{"lang": ans.lang, "html": shown, "question": message, "answer": ans.to_dict()}]
        yield history, turns, sources_panel(turns), ""

    quotes_only: dict[int, object] = {}  # id(index) -> the same index answering with quotes only

    def answering(idx, mode):
        """The index that answers in `mode`: `idx`, or for "extractive" under a configured model, the
        same index with the model's own extractive answerer (the floor it falls back to)."""
        if mode != "extractive" or not offers_choice(idx):
            return idx
        if id(idx) not in quotes_only:
            view = copy.copy(idx)  # the same collection and settings; only the answerer differs
            view.answerer = idx.answerer.extractive
            quotes_only.clear()
            quotes_only[id(idx)] = view
        return quotes_only[id(idx)]

    def mode_choice(lang="en", keep=False):
        """The answerer choice as the page shows it: enabled, on the model, when one is configured
        (`keep`: the choice made stays, only the words change)."""
        idx = build.index
        llm = idx is not None and offers_choice(idx)
        value = {} if keep else {"value": "llm" if llm else "extractive"}
        return gr.update(interactive=llm, **value, choices=[(label(lang, "mode_extractive"), "extractive"), (label(lang, "mode_llm"), "llm")],
                         label=label(lang, "mode"), info=label(lang, "mode_info" if llm else "mode_none"))

    kept: list[Conversations] = []

    def store() -> Conversations:
        if not kept:
            kept.append(Conversations(build.wait().settings.home / "conversations.sqlite"))
        return kept[0]

    def listing(cid, lang="en"):
        try:
            found = store().list()
        except QAError:
            found = []
        return gr.update(choices=[(c.title, c.id) for c in found], value=cid or None,
                         label=label(lang, "conversations"))

    def resume(cid, lang):
        """The stored conversation `cid` (one chosen in the list), or a fresh page."""
        try:
            c = store().get(cid)
        except QAError:
            c = None
        if c is None:
            return fresh(lang)
        return c.messages, c.turns, sources_panel(c.turns), c.id, c.id, listing(c.id, lang)

    def resume_visit(kept_id, lang, history, cid):
        """At a visit: the conversation this browser kept, unless a question was asked meanwhile (the
        page is usable before this runs: it waits for the index). With none kept, nothing changes."""
        try:
            kept_conv = store().get(kept_id) if kept_id else None
        except QAError:
            kept_conv = None
        if history or kept_conv is None:
            same = gr.update()
            return same, same, same, same, same, listing(cid, lang)
        return resume(kept_id, lang)

    def fresh(lang):
        return [], [], SOURCES_EMPTY, "", "", listing(None, lang)

    def rename(cid, title, lang):
        if cid:
            store().rename(cid, title)
        return listing(cid, lang), ""

    def ask_forget(cid, lang):
        """Deleting asks first: the conversation named, with "Delete" and "Cancel"."""
        c = store().get(cid) if cid else None
        if c is None:
            return gr.update(visible=False), ""
        return gr.update(visible=True), label(lang, "delete_ask", title=markdown_literal(c.title))

    def forget(cid, lang):
        if cid:
            store().delete(cid)
        return *fresh(lang), gr.update(visible=False)

    def rate(history, turns, cid, evt: gr.LikeData):
        """👍/👎 on an answer: kept with its question, answer and citations (qa.feedback)."""
        i = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        k = sum(1 for m in (history or [])[: i + 1] if isinstance(m, dict) and m.get("role") == "assistant") - 1
        turn = (turns or [])[k] if 0 <= k < len(turns or []) else None
        if turn and turn.get("answer"):
            liked = evt.liked if isinstance(evt.liked, bool) else {"like": True, "dislike": False}.get(
                str(evt.liked).lower())
            feedback().record(turn["question"], turn["answer"], liked, cid or "", k)

    kept_fb: list[Feedback] = []

    def feedback() -> Feedback:
        if not kept_fb:
            kept_fb.append(Feedback(build.wait().settings.home / "feedback.sqlite"))
        return kept_fb[0]

    def export(cid):
        text = store().markdown(cid) if cid else ""
        if not text:
            return gr.update(value=None, visible=False)
        folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
        path = folder / (safe_name(store().get(cid).title.rstrip("…")) + ".md")
        path.write_text(text, "utf-8")
        return gr.update(value=str(path), visible=True)

    def open_document(turns, lang, evt: gr.EventData):
        """The whole document of citation n of answer `turn` (sent by the page's card), at the quote;
        looked up in this session's turns: no path comes from the browser."""
        from .types import Citation

        data = getattr(evt, "_data", None) or {}
        try:
            k, n = int(data.get("turn", -1)), int(data.get("n", 0))
            answer = (turns or [])[k]["answer"] if k >= 0 else None
            c = next(c for c in (answer or {}).get("citations", []) if c["n"] == n)
        except (IndexError, KeyError, TypeError, ValueError, StopIteration):
            return gr.update(), gr.update()
        return gr.update(visible=True), document_html(Citation.from_dict(c))

    return SimpleNamespace(open_document=open_document, respond=respond, mode_choice=mode_choice, listing=listing, resume=resume, resume_visit=resume_visit, fresh=fresh, rename=rename, ask_forget=ask_forget, forget=forget, rate=rate, export=export)


SAME = gr.update()  # the sources panel as it is (Enter on an empty box)


def sources_panel(turns: list[dict]) -> str:
    """Every answer's sources, each in its own section (the page shows one: the last answer's, or the
    one whose answer or [n] was clicked; qa/page.js)."""
    if not turns:
        return SOURCES_EMPTY
    last = len(turns) - 1
    return "".join(f'<section class="qa-turn" data-turn="{i}" data-lang="{t["lang"]}" lang="{t["lang"]}"'
                   f'{"" if i == last else " hidden"}>{t["html"]}</section>' for i, t in enumerate(turns))


def offers_choice(idx) -> bool:
    """Is a language model configured (the llm answerer, over its extractive floor)?"""
    return getattr(idx.answerer, "name", "") == "llm" and hasattr(idx.answerer, "extractive")


def byline(ans: Answer, question: str = "") -> str:
    """Who wrote the answer, in its language, as a discreet last line of its bubble ("written by the
    model · 2 claims dropped: quote not in passage 2"), and what was searched when the model rewrote a
    follow-up `question`. An llm answer that fell back to the documents' sentences (its note says so)
    is the extractive one's."""
    from .answerers.llm import NOTES  # only with a model configured

    lang = ans.lang if ans.lang in ("en", "fr") else "en"
    fell_back = any(n.split("{why}")[-1] in ans.note for n in NOTES[lang].values())
    by = label(lang, "by_llm" if ans.answerer == "llm" and not fell_back else "by_extractive")
    if ans.dropped:
        why = "; ".join(dict.fromkeys(ans.dropped_why)) or "?"
        by += " · " + label(lang, "dropped_one" if ans.dropped == 1 else "dropped", n=ans.dropped, why=why)
    if ans.searched and question and " ".join(ans.searched.split()) != " ".join(question.split()):
        by += " · " + label(lang, "searched", q=_shorten(ans.searched, 200))
    return f"<small class='qa-by'>{markdown_literal(by)}</small>"


def _aligned(turns, history) -> list[dict]:
    """One turn per assistant message of `history` (a program calling /chat sends its history only)."""
    turns = list(turns or [])
    answers = sum(1 for m in history if isinstance(m, dict) and m.get("role") == "assistant")
    missing = answers - len(turns)
    return [{"lang": "en", "html": SOURCES_EMPTY}] * missing + turns if missing > 0 else turns[-answers:] if answers else []


def _shorten(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
