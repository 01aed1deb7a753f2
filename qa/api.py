"""The public entry points: an Index over a data folder, and ask()/retrieve() over the seeds.

    >>> from qa import Index
    >>> idx = Index("/tmp/my-qa")             # a data folder of its own
    >>> report = idx.add(["~/notes"])          # .txt / .md files, folders walked recursively
    >>> idx.retrieve("Qui a présidé le groupe de travail ?", k=3)
    [Passage(...), ...]
    >>> print(idx.ask("Who chaired the Working Group on Internet Governance?"))
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from index import ingest
from index import lang as langid
from index.catalog import Catalog
from index.chunker import clean
from index.embedders import CachedEmbedder, get_embedder
from index.lang import NAMES, SUPPORTED, detect
from index.loader import read_current
from index.store import VectorStore, embedder_slug

from . import answer as answering
from .config import SEEDS_DIR, Settings
from .errors import ConfigError, QuestionError, StaleSourceError
from .retrieval import Candidate, search
from .types import Answer, Passage


class Index:
    """A searchable collection of documents in a data folder (``home``; default ``QA_HOME``)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None, **overrides):
        s = settings or Settings.from_env()
        if home is not None:
            overrides["home"] = Path(home)
        self.settings = s.with_(**{k: v for k, v in overrides.items() if v is not None})
        home = self.settings.home
        home.mkdir(parents=True, exist_ok=True)
        self.embedder = CachedEmbedder(get_embedder(self.settings.embedder), home / "cache" / "embeddings.sqlite")
        self.catalog = Catalog(home / f"catalog-{embedder_slug(self.embedder.name)}.sqlite")
        self.store = VectorStore(home / "chroma", self.embedder.name, self.settings.chroma_url)
        self._lock = threading.RLock()
        # Chroma loads its vector index in the background while BM25 is built (cold start, README).
        # Not a daemon: a process that exits while Chroma's native code runs in a daemon thread is
        # killed by a segmentation fault at shutdown (`qa list` did, every time); Python joins it first.
        threading.Thread(target=self.store.warm, name="chroma-warm").start()
        self._reload()

    def _reload(self) -> None:
        with self._lock:
            self._read_rows()
            self.bm25 = ingest.load_bm25(self.rows.values())  # from the rows just read, not a second read

    def _read_rows(self) -> None:
        """The catalog's chunk rows, and the documents with a translation indexed (retrieval.fuse)."""
        self.rows = {r.id: r for r in self.catalog.chunks()}
        self.translated = frozenset(r.path for r in self.rows.values() if r.twin)

    def warm(self) -> None:
        """Load now what questions would otherwise wait for: the language detector's models (1.4-1.7 s
        of CPU; a question loads the ones it needs, 0.3-0.5 s the first time), the embedding model and
        Chroma's vector index. The web app calls it once the index is open, so its first user gets an
        answer as fast as the next ones."""
        langid.warm()
        self.embedder.inner.embed_batch(["warm up"], "query")
        self.store.warm()

    # -- documents ---------------------------------------------------------------------------
    def add(self, paths, progress=None, prune: bool = True) -> ingest.Report:
        """Index files and folders (.txt .md .html .pdf .docx). Unchanged files are skipped, changed ones
        re-chunked; with `prune`, documents under a given folder whose files are gone are removed.

        `progress(done, total, what)` is called as files are indexed. Returns a Report.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = [Path(p).expanduser() for p in paths]
        with self._lock:
            report = ingest.add(paths, self.catalog, self.store, self.embedder, self.bm25,
                                chunk_chars=self.settings.chunk_chars,
                                max_bytes=int(self.settings.max_file_mb * 1e6), progress=progress, prune=prune)
            self._read_rows()
        return report

    def remove(self, path: str | Path) -> int:
        """Remove one document's chunks; returns how many. Unknown paths raise ConfigError."""
        p = str(Path(path).expanduser().resolve())
        with self._lock:
            if self.catalog.document(p) is None:
                raise ConfigError(f"{path} is not in the index (see `qa list`)")
            n = ingest.remove(p, self.catalog, self.store, self.bm25)
            self._read_rows()
        return n

    def documents(self):
        return self.catalog.documents()

    def __len__(self) -> int:
        return len(self.rows)

    # -- questions ---------------------------------------------------------------------------
    def _question(self, question: str) -> str:
        if not isinstance(question, str):
            raise QuestionError(f"the question must be text, not {type(question).__name__}")
        q = " ".join(question.split())
        if not q:
            raise QuestionError("the question is empty: type a question about your documents")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(f"the question is {len(q):,} characters long; the limit is "
                                f"{self.settings.max_question_chars:,} (QA_MAX_QUESTION_CHARS). Ask it more briefly.")
        return q

    def _dense_of(self, qvec: np.ndarray):
        def dense(cid: str) -> float:
            return float(self.embedder.embed([clean(self.rows[cid].text)], "passage")[0] @ qvec)
        return dense

    def _candidates(self, q: str, qlang: str, n: int) -> tuple[np.ndarray, list[Candidate]]:
        qvec = self.embedder.embed([clean(q)], "query")[0]
        with self._lock:
            cands = search(q, qvec, qlang, self.store, self.bm25, self.rows, n=n, translated=self.translated)
            cands = [Candidate(c.row, c.score, c.dense or self._dense_of(qvec)(c.row.id), c.lexical) for c in cands]
        return qvec, cands

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The k passages that best match the question, best first, one language per passage."""
        k = self.settings.k if k is None else k
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be greater than 0. Currently, k is {k!r}")
        q = self._question(question)
        lang = detect(q)
        _, cands = self._candidates(q, lang if lang in SUPPORTED else "en", k)
        return [c.passage() for c in cands]

    def ask(self, question: str, history=None) -> Answer:
        """A short extractive answer whose every claim is a verbatim, checked quote.

        `history`: earlier turns (Gradio messages, (user, bot) pairs, or strings); a short follow-up
        question is searched together with the previous user question.
        """
        q = self._question(question)
        lang = detect(q)
        note = ""
        if lang not in SUPPORTED:
            note = answering.MESSAGES["en"]["other"].format(lang=NAMES.get(lang, lang))
            lang = "en"
        search_q = q
        prev = _last_user_turn(history)
        if prev and len(q.split()) <= 6:
            search_q = f"{prev} {q}"
        qvec, cands = self._candidates(search_q, lang, 10)
        threshold = self.settings.abstain_below
        if threshold < 0:
            threshold = answering.ABSTAIN_BELOW.get(self.embedder.name, answering.ABSTAIN_DEFAULT)
        ans, _ = answering.compose(search_q, lang, qvec, cands, self.embedder, threshold=threshold,
                                   knows=self.bm25.knows, note=note)
        verify(ans)
        return ans


def verify(ans: Answer) -> None:
    """Check every quote against its source file at its offsets, so no quote is shown unverified.

    Raises StaleSourceError (naming the file) when a file changed or vanished since it was indexed.
    A file is decoded again only when its size or modification time changed (a PDF takes long to read).
    """
    for c in ans.citations:
        src = c.passage.source
        try:
            text = read_current(src).text
        except Exception as e:
            raise StaleSourceError(f"{src} cannot be read any more ({e}); run `qa index` again or `qa remove` it") from e
        if text[c.start : c.end] != c.quote:
            raise StaleSourceError(f"{src} changed since it was indexed, so its quote [{c.n}] cannot be verified; "
                                   "run `qa index` on it again")


def _last_user_turn(history) -> str:
    for turn in reversed(history or []):
        if isinstance(turn, dict) and turn.get("role") == "user":
            return str(turn.get("content", ""))
        if isinstance(turn, (list, tuple)) and turn:
            return str(turn[0])
        if isinstance(turn, str):
            return turn
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


def retrieve(question: str, k: int = 5) -> list[Passage]:
    """Passages of the default index (the seeds, built on first use) that match the question."""
    return default_index().retrieve(question, k)


def ask(question: str, history=None) -> Answer:
    """A cited answer from the default index (the seeds, built on first use)."""
    return default_index().ask(question, history)
