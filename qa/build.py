"""The index being built in the background while the page is already up, with progress to show."""
from __future__ import annotations

import threading

from .api import Index
from .errors import QAError

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
