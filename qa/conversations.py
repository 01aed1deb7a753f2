"""Conversations kept in the data folder (``<home>/conversations.sqlite``): listed, resumed after a
reload or a restart, renamed, deleted, exported as Markdown with their citations.

    >>> store = Conversations(Path("~/my-qa/conversations.sqlite").expanduser())
    >>> cid = store.save(None, messages, turns)          # a new conversation, titled by its first question
    >>> [c.title for c in store.list()]
    >>> print(store.markdown(cid))

A conversation is what the page shows: its chat messages (Gradio's role/content dicts) and one turn
per answer (its language, its sources' HTML, the question and the answer as ``Answer.to_dict()``).
The data folder is one person's (the server listens on loopback by default), so every conversation
in it is listed; nothing is shared with anyone else.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .types import Citation

TITLE_CHARS = 60  # a conversation is titled by its first question, cut to this

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    messages TEXT NOT NULL, turns TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated);
"""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: float
    updated: float
    messages: list  # the chat's messages: {"role": "user" | "assistant", "content": str}
    turns: list  # one per answer: {"lang", "html", "question", "answer" (Answer.to_dict() or None)}


class Conversations:
    """The conversations of one data folder, newest first."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def list(self) -> list[Conversation]:
        with self._lock:
            rows = self._db.execute("SELECT id, title, created, updated, messages, turns FROM conversations "
                                    "ORDER BY updated DESC").fetchall()
        return [_conversation(r) for r in rows]

    def get(self, cid: str | None) -> Conversation | None:
        if not cid:
            return None
        with self._lock:
            r = self._db.execute("SELECT id, title, created, updated, messages, turns FROM conversations WHERE id = ?",
                                 (cid,)).fetchone()
        return _conversation(r) if r else None

    def save(self, cid: str | None, messages: list, turns: list) -> str:
        """Store a conversation's messages and turns; a new one (no `cid`, or one deleted meanwhile) is
        titled by its first question. Returns its id."""
        now = time.time()
        blob = (json.dumps(list(messages), ensure_ascii=False), json.dumps(list(turns), ensure_ascii=False))
        with self._lock, self._db:
            if cid and self._db.execute("UPDATE conversations SET messages = ?, turns = ?, updated = ? WHERE id = ?",
                                        (*blob, now, cid)).rowcount:
                return cid
            cid = cid or uuid.uuid4().hex
            first = next((t.get("question", "") for t in turns if t.get("question")), "") or "…"
            self._db.execute("INSERT INTO conversations VALUES (?,?,?,?,?,?)",
                             (cid, _cut(first), now, now, *blob))
            return cid

    def rename(self, cid: str, title: str) -> bool:
        title = " ".join((title or "").split())
        if not title:
            return False
        with self._lock, self._db:
            return bool(self._db.execute("UPDATE conversations SET title = ? WHERE id = ?",
                                         (title[:200], cid)).rowcount)

    def delete(self, cid: str) -> bool:
        with self._lock, self._db:
            return bool(self._db.execute("DELETE FROM conversations WHERE id = ?", (cid,)).rowcount)

    def markdown(self, cid: str) -> str:
        """The conversation as Markdown: each question, its answer, and the answer's citations (title,
        file, language, where, and the verbatim quote)."""
        c = self.get(cid)
        if c is None:
            return ""
        out = [f"# {c.title}", "", time.strftime("%Y-%m-%d %H:%M", time.localtime(c.created)), ""]
        for t in c.turns:
            a = t.get("answer")
            out += [f"## {t.get('question', '')}", ""]
            if not a:
                out += [_plain(t.get("error", "")) or "(no answer)", ""]
                continue
            out += ([f"*{a['note']}*", ""] if a.get("note") else []) + [a["text"], ""]
            for c in map(Citation.from_dict, a.get("citations", [])):
                p = c.passage
                title = p.title or p.name
                quote = " ".join(c.quote.split())
                out.append(f"[{c.n}] {title}" + (f" ({p.name})" if title != p.name else "")
                           + f", {p.lang.upper()}, {c.location}:")
                out += [f"> {quote}", ""]
        return "\n".join(out).rstrip() + "\n"


def _conversation(r) -> Conversation:
    return Conversation(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]))


def _cut(s: str) -> str:
    s = " ".join(s.split())
    if len(s) <= TITLE_CHARS:
        return s
    cut = s.rfind(" ", TITLE_CHARS // 2, TITLE_CHARS)
    return s[: cut if cut > 0 else TITLE_CHARS - 1] + "…"


def _plain(s: str) -> str:
    return " ".join(str(s).split())
