"""👍/👎 on the page's answers, kept in the data folder (``<home>/feedback.sqlite``) with the question,
the answer and its citations; ``qa feedback export`` turns them into an evaluation set that ``qa eval``
reads (the .jsonl format of ``qa.eval.sets.read_questions``).

    qa feedback export -o my-set.jsonl --home ~/my-qa
    qa eval my-set.jsonl --docs ~/Documents/notes

What a verdict says, and what the set keeps:
- 👍 on an answer: the question is answerable, its gold documents are the cited files and its gold
  answers the quotes (an answer is right when it contains one);
- 👍 on "the documents do not say": the question is unanswerable;
- 👎: the answer is wrong, but not what would be right, so it is not in the set (counted apart).
A verdict changed later replaces the earlier one (one per answer shown).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    key TEXT PRIMARY KEY, at REAL NOT NULL, liked INTEGER NOT NULL, question TEXT NOT NULL, lang TEXT,
    answer TEXT NOT NULL, conversation TEXT);
"""


class Feedback:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def record(self, question: str, answer: dict, liked: bool | None, conversation: str = "", turn: int = -1) -> None:
        """Keep (or with `liked` None, forget) the verdict on one answer shown: `answer` is
        ``Answer.to_dict()``; the same answer in the same conversation turn has one verdict."""
        key = hashlib.sha256(json.dumps([conversation or "", turn, question, answer.get("text", "")],
                                        ensure_ascii=False).encode()).hexdigest()
        with self._lock, self._db:
            if liked is None:
                self._db.execute("DELETE FROM feedback WHERE key = ?", (key,))
                return
            self._db.execute("INSERT OR REPLACE INTO feedback VALUES (?,?,?,?,?,?,?)",
                             (key, time.time(), int(bool(liked)), question, answer.get("lang", ""),
                              json.dumps(answer, ensure_ascii=False), conversation or ""))

    def all(self) -> list[tuple[bool, str, dict]]:
        """(liked, question, answer) of every verdict, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT liked, question, answer FROM feedback ORDER BY at").fetchall()
        return [(bool(r[0]), r[1], json.loads(r[2])) for r in rows]

    def export(self, out: Path) -> tuple[int, int]:
        """Write the evaluation set to `out` (.jsonl); returns (questions written, 👎 left out)."""
        lines, down = [], 0
        for n, (liked, question, a) in enumerate(self.all(), 1):
            if not liked:
                down += 1
                continue
            item = {"id": f"fb{n:04d}", "question": question, "lang": a.get("lang") or "en"}
            cites = a.get("citations") or []
            if a.get("answered") and cites:
                item |= {"answerable": True,
                         "gold_docs": list(dict.fromkeys(Path(c["passage"]["source"]).name for c in cites)),
                         "answers": list(dict.fromkeys(" ".join(c["quote"].split()) for c in cites))}
            else:
                item["answerable"] = False
            lines.append(json.dumps(item, ensure_ascii=False))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(line + "\n" for line in lines), "utf-8")
        return len(lines), down


def add_parser(sub) -> None:
    """`qa feedback export`, for qa.cli."""
    s = sub.add_parser("feedback", help="the page's 👍/👎 on answers: export them as an evaluation set")
    verbs = s.add_subparsers(dest="verb", required=True, metavar="VERB")
    e = verbs.add_parser("export", help="write the verdicts as a questions .jsonl that `qa eval FILE --docs ...` reads",
                         formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__.split("\n\n", 1)[1])
    e.add_argument("-o", "--output", default="feedback.jsonl", help="the .jsonl to write (default feedback.jsonl)")
    e.add_argument("--home", default=None, help="data folder (default: QA_HOME, else ~/.local/share/bilingual-qa)")
    e.set_defaults(fn=_cmd_export)


def _cmd_export(args) -> int:
    from .config import Settings
    from .errors import SourceError

    home = Settings.from_env(home=args.home).home
    path = home / "feedback.sqlite"
    if not path.exists():
        raise SourceError(f"no feedback in {home}: rate answers with 👍/👎 on the page first (qa serve)")
    written, down = Feedback(path).export(Path(args.output))
    print(f"{written} questions written to {args.output}" + (f"; {down} 👎 left out (they say an answer is "
                                                             "wrong, not what is right)" if down else ""))
    return 0
