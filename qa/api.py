"""The public entry points: an Index over a data folder, and ask()/retrieve() over the seeds.

    >>> from qa import Index
    >>> idx = Index("/tmp/my-qa")             # a data folder of its own
    >>> report = idx.add(["~/notes"])          # folders walked recursively
    >>> idx.retrieve("Qui a présidé le groupe de travail ?", k=3)
    [Passage(...), ...]
    >>> print(idx.ask("Who chaired the Working Group on Internet Governance?"))

A question's path: checked (`_question`), its language found, merged with the previous turn when it
is a short follow-up, searched in the collection (index.collection: dense + BM25, fused), answered by
the configured answerer (qa.answerers), and every quote verified against its file.
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import replace
from pathlib import Path

from index.collection import Collection
from index.lang import NAMES, SUPPORTED, detect
from index.loader import Sources
from index.report import Report
from index.retrieval import DEFAULT, RetrievalSettings
from index.types import Passage

from . import answerers
from .answerers.base import MESSAGES, Answerer, Query, verify
from .answerers.cues import unknown_names
from .answerers.extractive import DEFAULT as EXTRACTIVE
from .answerers.extractive import ExtractiveSettings
from .answerers.grain import rerank
from .config import SEEDS_DIR, Settings
from .errors import ConfigError, QuestionError
from .types import Answer

CANDIDATES = 10  # passages an answerer is given
FOLLOW_UP_WORDS = 6  # a question this short is searched together with the previous one


class Index:
    """A searchable collection of documents in a data folder (``home``; default ``QA_HOME``)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None, *,
                 embedding_cache: str | Path | None = None, retrieval: RetrievalSettings = DEFAULT,
                 answerer: Answerer | None = None, **overrides):
        """`embedding_cache`: a folder for the embedding cache shared with other indexes (default HOME/cache).
        `retrieval` / `answerer`: other fusion settings or another answerer than `settings` names
        (evaluation sweeps pass them)."""
        s = settings or Settings.from_env()
        if home is not None:
            overrides["home"] = Path(home)
        self.settings = s.with_(**{k: v for k, v in overrides.items() if v is not None})
        self.collection = Collection(self.settings.home, self.settings.embedder, self.settings.chroma_url,
                                     cache=embedding_cache)
        self.retrieval = retrieval
        self.answerer = answerer or answerers.make(self.settings.answerer, self.collection, self.settings)

    def warm(self) -> None:
        """Load now what questions would otherwise wait for: the language detector's models (1.4-1.7 s
        of CPU; a question loads the ones it needs, 0.3-0.5 s the first time), the embedding model and
        Chroma's vector index, and the reader (its graph built the first time, about 1 s, then opened
        from the cache). The web app calls it once the index is open, so its first user gets an answer
        as fast as the next ones."""
        self.collection.warm()
        if getattr(self.answerer, "settings", None) is not None and getattr(self.answerer.settings, "reader_depth", 0):
            from .answerers import extractive

            extractive.load_reader()  # loaded, or the fallback said once, now rather than at the first question

    # -- documents ---------------------------------------------------------------------------
    def add(self, paths, progress=None, prune: bool = True, follow_links: bool = False) -> Report:
        """Index files and folders (the formats of index.readers). Unchanged files are skipped, changed
        ones re-chunked; with `prune`, documents under a given folder whose files are gone are removed.

        Symbolic links inside a folder are skipped and reported, unless `follow_links`: then what they
        lead to (anywhere) is indexed under the link's path. FIFOs, devices and sockets are never read.
        `progress(done, total, what)` is called as files are indexed. Returns a Report.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.collection.add([Path(p).expanduser() for p in paths], chunk_chars=self.settings.chunk_chars,
                                   max_bytes=int(self.settings.max_file_mb * 1e6), progress=progress, prune=prune,
                                   follow_links=follow_links)

    def remove(self, path: str | Path) -> int:
        """Remove one document's chunks; returns how many. Unknown paths raise ConfigError."""
        p = Path(path).expanduser()
        as_given = os.path.abspath(p)  # a followed link is indexed under its own path, not its target's
        known = self.collection.catalog.document(as_given) is not None
        return self.collection.remove(as_given if known else str(p.resolve()))

    def documents(self):
        return self.collection.documents()

    def __len__(self) -> int:
        return len(self.collection)

    # -- questions ---------------------------------------------------------------------------
    def _question(self, question: str) -> str:
        """The question, checked: text, not empty, not too long, valid Unicode, with words in it."""
        if isinstance(question, bytes):
            try:
                question = question.decode("utf-8")
            except UnicodeDecodeError:
                raise QuestionError("the question is not valid UTF-8 text") from None
        if not isinstance(question, str):
            raise QuestionError(f"the question must be text, not {type(question).__name__}")
        if len(question) > 4 * self.settings.max_question_chars:  # before any work on a huge input
            raise QuestionError(self._too_long(len(question)))
        if _SURROGATE.search(question):
            raise QuestionError("the question holds invalid characters (lone UTF-16 surrogates): "
                                "type or paste it again as plain text")
        q = " ".join(question.split())
        if not q:
            raise QuestionError("the question is empty: type a question about your documents")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(self._too_long(len(q)))
        if not has_words(q):
            raise QuestionError("the question has no words in it (only symbols, markup or punctuation): "
                                "ask about your documents in English or French")
        return q

    def _too_long(self, n: int) -> str:
        return (f"the question is {n:,} characters long; the limit is {self.settings.max_question_chars:,} "
                "(QA_MAX_QUESTION_CHARS). Ask it more briefly.")

    def retrieve(self, question: str, k: int | None = None, documents=None, rerank: bool = True) -> list[Passage]:
        """The k passages that best match the question, best first, one language per passage.
        `documents`: search only in these (paths as indexed or as given; see `within`). `rerank`: the
        first passages reordered at answer grain, by their best sentence as the answerer scores and the
        reader reads it (README, "The reader"); False: the fused order alone, without embedding a sentence
        (the fastest: README, "Speed and scale")."""
        k = self.settings.k if k is None else k
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be greater than 0. Currently, k is {k!r}")
        only = self.within(documents)
        q = self._question(question)
        lang = detect(q)
        return self._search(q, lang if lang in SUPPORTED else "en", k, only, Sources(), rerank)[1]

    def _search(self, q: str, lang: str, n: int, only, sources: Sources, reordered: bool = True):
        """The question's vector and its n best passages: fused retrieval, its first passages reordered
        at answer grain (grain.rerank, with the extractive answerer's settings). For `retrieve`;
        an answerer gets the fused order, its own scoring weighing the passages' ranks."""
        cfg = getattr(self.answerer, "settings", None)
        cfg = cfg if isinstance(cfg, ExtractiveSettings) else EXTRACTIVE
        if not reordered:
            return self.collection.search(q, lang, n, self.retrieval, only)
        qvec, passages = self.collection.search(q, lang, max(n, cfg.rerank_depth), self.retrieval, only)
        return qvec, rerank(q, lang, qvec, passages, self.collection, sources, cfg)[:n]

    def within(self, documents) -> frozenset[str] | None:
        """The indexed paths of `documents` (None: every document). Each is a path as indexed or as
        given (relative, with ~); one that is not indexed raises ConfigError naming it."""
        if documents is None:
            return None
        if isinstance(documents, (str, Path)):
            documents = [documents]
        paths = set()
        for d in documents:
            p = Path(d).expanduser()
            found = next((c for c in (os.path.abspath(p), str(p.resolve())) if self.collection.catalog.document(c)), None)
            if found is None:
                raise ConfigError(f"{d} is not an indexed document (see `qa list`)")
            paths.add(found)
        if not paths:
            raise ConfigError("documents is empty: name at least one indexed document, or pass None for all")
        return frozenset(paths)

    def as_retriever(self, k: int | None = None):
        """This index's `retrieve` as a llama-index retriever (`qa.llamaindex.QARetriever`), for your own
        llama-index pipelines: nodes of our passages (verbatim text; metadata source, file_name, lang,
        start, end, line_start, line_end, where, title when known), scored, best first.

            >>> from llama_index.core.query_engine import RetrieverQueryEngine
            >>> engine = RetrieverQueryEngine.from_args(idx.as_retriever(k=3), llm=my_llm)
        """
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise ConfigError(f"k must be greater than 0. Currently, k is {k!r}")
        from .llamaindex import QARetriever  # llama-index is loaded only for this

        return QARetriever(self, k)

    def ask(self, question: str, history=None, documents=None) -> Answer:
        """A cited answer whose every quote is verbatim in its file, checked before it is returned.

        `history`: earlier turns (Gradio messages, (user, bot) pairs, or strings); a short follow-up
        question is searched together with the previous user question. `documents`: answer only
        from these (paths; see `within`).
        """
        only = self.within(documents)
        q = self._question(question)
        lang, note = _language(q)
        if self._rewrites(history):
            return self._answer(q, self._rewritten(q, history), lang, note, history, only)
        ans = self._answer(q, q, lang, note, history, only)
        prev = _last_user_turn(history, self.settings.max_question_chars)
        if not ans.answered and prev and len(q.split()) <= FOLLOW_UP_WORDS and not unknown_names(q, self.collection.knows):
            # a short question the documents do not answer alone may lean on the one before ("Et par
            # qui ?"): searched together with it. A standalone short question is answered as asked, and
            # one naming what no document names ("the capital of Australia?") is not the one before again.
            merged = self._answer(q, f"{prev} {q}", lang, note, history, only)
            ans = merged if merged.answered else ans
        return ans

    def stream(self, question: str, history=None, documents=None):
        """Like `ask`, for a page that shows the answer as it is written: text deltas (str, not yet
        verified) while the answerer writes, then the verified Answer, always the last item. An
        answerer without `stream` (extractive) yields its Answer alone."""
        only = self.within(documents)
        q = self._question(question)
        lang, note = _language(q)
        if not hasattr(self.answerer, "stream"):
            yield self.ask(question, history, documents)
            return
        search_q = self._rewritten(q, history) if self._rewrites(history) else q
        qvec, passages = self.collection.search(search_q, lang, CANDIDATES, self.retrieval, only)
        sources = Sources()
        for item in self.answerer.stream(Query(q, search_q, lang, note, qvec), passages, sources, history or ()):
            if isinstance(item, Answer):
                verify(item, sources)
            yield item

    def _rewrites(self, history) -> bool:
        """Does the answerer (the llm one) rewrite a follow-up into a standalone question to search?"""
        return bool(history) and hasattr(self.answerer, "rewrite")

    def _rewritten(self, q: str, history) -> str:
        """The answerer's standalone question, checked as a question is; `q` as asked if it fails the check."""
        try:
            return self._question(self.answerer.rewrite(q, history))
        except QuestionError:
            return q

    def _answer(self, q: str, search_q: str, lang: str, note: str, history, only=None) -> Answer:
        qvec, passages = self.collection.search(search_q, lang, CANDIDATES, self.retrieval, only)
        sources = Sources()
        ans = self.answerer.answer(Query(q, search_q, lang, note, qvec), passages, sources, history or ())
        verify(ans, sources)
        return replace(ans, searched=ans.searched or search_q)


def _language(q: str) -> tuple[str, str]:
    """The answer's language ("en" or "fr") and, for a question in another language, the note saying so."""
    lang = detect(q)
    if lang in SUPPORTED:
        return lang, ""
    return "en", MESSAGES["en"]["other"].format(lang=NAMES.get(lang, lang))


_SURROGATE = re.compile("[\ud800-\udfff]")
_MARKUP = re.compile(r"<[^>]{0,200}>|\{[^}]{0,50}\}|%[sdrif]|&\w+;")


def has_words(text: str) -> bool:
    """Is there something to search for: two letters in a row, or a number beside a letter, once
    markup (tags, {0}, %s, &amp;) and invisible characters are left out?"""
    bare = "".join(ch for ch in _MARKUP.sub(" ", text) if unicodedata.category(ch) not in ("Cf", "Cc"))
    return re.search(r"[^\W\d_]{2,}|[^\W\d_]\d|\d[^\W\d_]", bare) is not None or any(
        unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in bare)


def _last_user_turn(history, limit: int) -> str:
    """The text of the previous user turn, at most `limit` characters: only its text is ever used
    (Gradio sends a turn's content as a string or a list of {"type": "text", "text": ...} parts)."""
    for turn in reversed(list(history or [])[-50:]):
        if isinstance(turn, dict) and turn.get("role") == "user":
            text = _text_of(turn.get("content", ""))
        elif isinstance(turn, (list, tuple)) and turn:
            text = _text_of(turn[0])
        elif isinstance(turn, str):
            text = turn
        else:
            continue
        text = " ".join(text[: 4 * limit].split())[:limit]
        return "" if _SURROGATE.search(text) else text
    return ""


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text", "") if isinstance(content.get("text", ""), str) else ""
    if isinstance(content, (list, tuple)):
        return " ".join(_text_of(part) for part in content[:20])
    return ""


_default: Index | None = None
_default_lock = threading.Lock()


def default_index(progress=None) -> Index:
    """The index in QA_HOME; on first use, the seeds are indexed into it."""
    global _default
    with _default_lock:
        if _default is None:
            idx = Index()
            if len(idx) == 0:
                idx.add([SEEDS_DIR], progress=progress)
            _default = idx
        return _default


def retrieve(question: str, k: int = 5, rerank: bool = True) -> list[Passage]:
    """Passages of the default index (the seeds, built on first use) that match the question."""
    return default_index().retrieve(question, k, rerank=rerank)


def ask(question: str, history=None) -> Answer:
    """A cited answer from the default index (the seeds, built on first use)."""
    return default_index().ask(question, history)
