"""HTML for an answer and its citations: the web UI and Jupyter show exactly the same thing."""
from __future__ import annotations

import html
import re

from typing import TYPE_CHECKING

from index.loader import Sources

if TYPE_CHECKING:  # types.py imports this module lazily (Answer._repr_html_)
    from .types import Answer, Citation, Passage

# Colours come from the page's theme (Gradio's variables, light or dark) with light fallbacks for
# Jupyter; the highlighted quote keeps dark text on yellow in both themes.
CSS = """
<style>
.qa-answer { font-size: 1.05em; margin-bottom: .6em; }
.qa-note { color: var(--body-text-color-subdued, #6b4f1d); font-style: italic; margin-bottom: .4em; }
.qa-cite { border: 1px solid var(--border-color-primary, #ccd); border-radius: 8px; margin: .4em 0;
           padding: .2em .6em; background: var(--block-background-fill, #fafbff); color: var(--body-text-color, #1f2430); }
.qa-cite summary { cursor: pointer; font-weight: 600; }
.qa-meta { color: var(--body-text-color-subdued, #4a5160); font-weight: 400; font-size: .9em; }
.qa-context { white-space: pre-wrap; font-family: ui-serif, Georgia, serif; line-height: 1.45; padding: .4em 0; }
/* two classes and a tag: above Gradio's `.gradio-container .prose *` colour, which is light in dark mode */
.qa-cite .qa-context mark { background: #ffe58a; color: #1a1a1a; padding: 0 .1em; }
.qa-dim { color: var(--body-text-color-subdued, #595959); }
.qa-ref { font: inherit; color: var(--link-text-color, #1d4ed8); background: none; border: 0; padding: 0 .1em;
          cursor: pointer; text-decoration: underline; }
.qa-ref:focus-visible { outline: 2px solid var(--color-accent, #2563eb); border-radius: 3px; }
html[lang="fr"] .qa-empty [lang="en"], html:not([lang="fr"]) .qa-empty [lang="fr"],
html[lang="fr"] .qa-open [lang="en"], html:not([lang="fr"]) .qa-open [lang="fr"],
html[lang="fr"] .qa-bi > [lang="en"], html:not([lang="fr"]) .qa-bi > [lang="fr"] { display: none; }
#sources .qa-cite button.qa-open { display: block; margin: .3em 0 .2em; font: inherit; font-size: .9em; color: var(--link-text-color, #1d4ed8);
           background: none; border: 0; padding: 0; cursor: pointer; text-decoration: underline; font-weight: 400; }
.qa-doc { max-height: 70vh; overflow: auto; }
#lang-switch .wrap { flex-wrap: nowrap; }
#chat .qa-selected { outline: 2px solid var(--color-accent, #2563eb); outline-offset: 2px; }
</style>
"""
CONTEXT_CHARS = 300  # shown before and after the passage, from the same file


def citation_html(c: Citation, open_: bool = False, sources: Sources | None = None, key: str = "") -> str:
    """A citation card: the quote highlighted in its passage, with some of the file around it (the
    passage alone when the file moved or changed since indexing). Its id is ``cite-<key><n>``."""
    p = c.passage
    text = (sources or Sources()).text(p.source)
    if text is None or text[c.start : c.end] != c.quote:
        body = html.escape(p.text).replace(html.escape(c.quote), f"<mark>{html.escape(c.quote)}</mark>", 1)
    else:
        # a quote may run past its passage (the sentence after it, the items after a lead-in)
        lo, hi = min(p.start, c.start), max(p.end, c.end)
        a, b = _word_edge(text, max(0, lo - CONTEXT_CHARS), -1), _word_edge(text, min(len(text), hi + CONTEXT_CHARS), 1)
        e = lambda s: html.escape(_flow(s))  # noqa: E731
        body = (f'<span class="qa-dim">{"…" if a else ""}{e(text[a:lo])}</span>'
                f"{e(text[lo:c.start])}<mark>{e(c.quote)}</mark>{e(text[c.end:hi])}"
                f'<span class="qa-dim">{e(text[hi:b])}{"…" if b < len(text) else ""}</span>')
    quote = html.escape(_one_line(c.quote, 140))
    if key:  # on the page (qa/page.js): the whole document, at the quote
        body += (f'<button type="button" class="qa-open" data-n="{c.n}"><span lang="en">Open the whole document</span>'
                 '<span lang="fr">Ouvrir le document entier</span></button>')
    return (f'<details class="qa-cite" id="cite-{key}{c.n}"{" open" if open_ else ""}><summary>[{c.n}] {_named(p)} '
            f'<span class="qa-meta">· {p.lang.upper()} · {_place(c.location)}</span><br>'
            f'<span class="qa-meta">“{quote}”</span></summary><div class="qa-context">{body}</div></details>')


_LINE_BREAK = re.compile(r"(?<![\n])[ \t]*\n(?![\n]|[ \t]*(?:[-*•–]|\d+[.)])\s)[ \t]*")


def _flow(text: str) -> str:
    """A file hard-wrapped at 72 columns shown as flowing paragraphs: a single line break becomes a
    space; blank lines and the lines of a list are kept (display only: the quote is the file's text)."""
    return _LINE_BREAK.sub(" ", text)


_LINES = re.compile(r"\blines? (?=\d)")


def _place(en: str) -> str:
    """A place (a passage's or a quote's), in the page's language: "lines 4–9" / "lignes 4–9" (both
    written, CSS shows the one of <html lang>); "p. 3" and a heading path are the same in both."""
    fr = _LINES.sub(lambda m: "lignes " if m.group(0).startswith("lines") else "ligne ", en)
    if fr == en:
        return html.escape(en)
    return f'<span class="qa-bi"><span lang="en">{html.escape(en)}</span><span lang="fr">{html.escape(fr)}</span></span>'


def _word_edge(text: str, i: int, step: int) -> int:
    """Move i outwards (step -1: left, 1: right) to a space, so the context is not cut mid-word."""
    for _ in range(40):
        if i <= 0 or i >= len(text) or text[i - 1].isspace() or text[i].isspace():
            return max(0, min(len(text), i))
        i += step
    return max(0, min(len(text), i))


def _named(p: Passage) -> str:
    """The document's title, and its file name beside it (the name alone when it has no other title)."""
    if not p.title or p.title == p.name:
        return html.escape(p.name)
    return f'<span class="qa-title">{html.escape(p.title)}</span> <span class="qa-meta">· {html.escape(p.name)}</span>'


def document_html(c: Citation, sources: Sources | None = None, limit: int = 200_000) -> str:
    """A citation's whole document (up to `limit` characters around the quote), the quote highlighted
    (``#qa-doc-quote``); its title, file, language and place above it."""
    p = c.passage
    text = (sources or Sources()).text(p.source)
    head = f'<div class="qa-cite"><b>{_named(p)}</b> <span class="qa-meta">· {p.lang.upper()} · {_place(c.location)}</span>'
    if text is None or text[c.start : c.end] != c.quote:
        return head + f'<div class="qa-context qa-doc">{html.escape(p.text)}</div></div>'  # the file moved or changed
    a, b = max(0, c.start - limit // 2), min(len(text), c.end + limit // 2)
    e = lambda s: html.escape(_flow(s))  # noqa: E731
    return (head + f'<div class="qa-context qa-doc">{"…" if a else ""}{e(text[a:c.start])}'
            f'<mark id="qa-doc-quote">{e(c.quote)}</mark>{e(text[c.end:b])}{"…" if b < len(text) else ""}</div></div>')


def file_html(title: str, name: str, langs: str, text: str | None, limit: int = 200_000) -> str:
    """A whole indexed document as the Documents tab opens it: its title, file and languages, then its
    text (the first `limit` characters); `text` None: the file cannot be read any more."""
    named = html.escape(name) if not title or title == name else (
        f'<span class="qa-title">{html.escape(title)}</span> <span class="qa-meta">· {html.escape(name)}</span>')
    head = f'<div class="qa-cite"><b>{named}</b> <span class="qa-meta">· {html.escape(langs.upper())}</span>'
    if text is None:
        return head + '<div class="qa-context qa-doc">⚠️ the file cannot be read any more (moved, deleted or damaged).</div></div>'
    more = "…" if len(text) > limit else ""
    return head + f'<div class="qa-context qa-doc">{html.escape(_flow(text[:limit]))}{more}</div></div>'


def passage_html(p: Passage) -> str:
    return (f'<details class="qa-cite"><summary>{_named(p)} <span class="qa-meta">· {p.lang.upper()} · '
            f'{_place(p.location)}</span></summary><div class="qa-context">{html.escape(p.text)}</div></details>')


def answer_html(a: Answer, with_answer: bool = True, sources: Sources | None = None, key: str = "") -> str:
    """The answer (unless not `with_answer`) and its citation cards, ids ``cite-<key><n>``."""
    parts = [CSS]
    if a.note:
        parts.append(f'<div class="qa-note">{html.escape(a.note)}</div>')
    if with_answer:
        parts.append(f'<div class="qa-answer">{_linked(a.text)}</div>')
    sources = sources or Sources()
    parts += [citation_html(c, open_=(i == 0), sources=sources, key=key) for i, c in enumerate(a.citations)]
    if a.related:
        label = "Peut-être en rapport :" if a.lang == "fr" else "Maybe related:"
        parts.append(f"<div class='qa-meta'>{label}</div>")
        parts += [passage_html(p) for p in a.related]
    return "\n".join(parts)


def _linked(text: str) -> str:
    return re.sub(r"\[(\d+)\]", r'<a href="#cite-\1">[\1]</a>', html.escape(text))


def _one_line(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


_MD_SPECIAL = set("\\`*_[]<>#!|~&$")  # what Markdown reads anywhere; "1." or "-" only start a list, and
# without "[" no "(...)" becomes a link


def markdown_literal(text: str) -> str:
    """Text shown exactly as it is by a Markdown renderer (the chat bubble): every character Markdown
    or HTML could read as syntax is escaped, so a document's `<svg>`, `<img src=...>` or `![](...)`
    shows as those characters, loads nothing and hides nothing."""
    out = []
    for ch in text:
        if ch in "<>&":
            out.append(html.escape(ch))
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
