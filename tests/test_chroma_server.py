"""The same Index over a real `chroma run` server (QA_CHROMA_URL) instead of the embedded store.

One server and one data folder for the module: the seeds are embedded once (the embedding cache is
per data folder) and every test reuses them. Tests run in file order; the last ones stop and restart
the server.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from qa.api import Index  # first: the index side imports nothing from qa, in any order
from qa.config import SEEDS_DIR
from qa.errors import StoreError

from index.store import VectorStore  # noqa: E402,I001

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
WGIG = "Who chaired the Working Group on Internet Governance?"
WGIG_SOURCE = "004_48194a700c52b088.txt"


def free_port() -> int:
    """A port nothing listens on (bound then released: good enough on a test machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A `chroma run` subprocess on 127.0.0.1; start() waits for its heartbeat, stop() ends it."""

    def __init__(self, path: Path, port: int, log: Path):
        self.path, self.port, self.log = path, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "chroma"), "run", "--path", str(self.path), "--port", str(self.port),
                 "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}:\n{self.tail()}")
            if self.alive():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run gave no heartbeat at {self.url} within {timeout:.0f} s:\n{self.tail()}")

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(root / "data", free_port(), root / "chroma.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("qa-home")


@pytest.fixture(scope="module")
def idx(server, home) -> Index:
    index = Index(home, chroma_url=server.url)
    report = index.add([SEEDS_DIR])
    assert not report.failed, report.summary()
    return index


@pytest.fixture(scope="module")
def local(idx, home, tmp_path_factory) -> Index:
    """The same seeds in the embedded store (the default), for comparison."""
    folder = tmp_path_factory.mktemp("qa-local")
    shutil.copytree(home / "cache", folder / "cache")  # the embedding cache: no re-embedding
    index = Index(folder, chroma_url="")
    index.add([SEEDS_DIR])
    return index


QUESTIONS = [WGIG, "Qui a présidé le groupe de travail sur la gouvernance de l'Internet ?",
             "How does the ITU see the second phase of the WSIS?"]


def answer_shape(ans) -> tuple:
    return ans.answered, ans.text, [(c.passage.id, c.quote) for c in ans.citations], [p.id for p in ans.related]


def test_seeds_are_indexed_on_the_server(idx, server):
    assert len(idx) > 0
    assert idx.collection.store.count() == len(idx)
    assert not (idx.settings.home / "chroma").exists(), "vectors belong on the server, not in the data folder"
    # a connection of its own sees the same vectors: they live in the server
    assert VectorStore(Path("unused"), idx.collection.embedder.name, server.url).count() == len(idx)


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_server_answers_as_the_embedded_store_does(idx, local, question):
    assert [p.id for p in idx.retrieve(question, k=5)] == [p.id for p in local.retrieve(question, k=5)]
    assert answer_shape(idx.ask(question)) == answer_shape(local.ask(question))


def test_retrieve_finds_the_chair_over_the_server(idx):
    passages = idx.retrieve(WGIG, k=5)
    assert any(p.name == WGIG_SOURCE and "Nitin Desai" in p.text for p in passages), passages


def test_ask_cites_the_date_the_group_was_formed_over_the_server(idx):
    ans = idx.ask("Quand le Groupe de travail a-t-il été constitué ?")
    assert ans.answered, str(ans)
    assert ans.citations[0].passage.name == WGIG_SOURCE, str(ans)
    assert "11 novembre 2004" in ans.citations[0].quote, str(ans)


def test_reindexing_keeps_the_chunk_count(idx, server, home, tmp_path):
    n = len(idx)
    again = idx.add([SEEDS_DIR])
    assert again.added == again.updated == [] and len(again.unchanged) == len(idx.documents())
    assert (len(idx), idx.collection.store.count()) == (n, n)

    # A data folder with a fresh catalog writes every chunk again: same ids, so no new vectors.
    fresh = tmp_path / "fresh"
    shutil.copytree(home / "cache", fresh / "cache")
    other = Index(fresh, chroma_url=server.url)
    report = other.add([SEEDS_DIR])
    assert report.chunks == n
    assert (len(other), other.collection.store.count(), idx.collection.store.count()) == (n, n, n)


def test_remove_deletes_the_vectors_on_the_server(idx, server):
    answer = answer_shape(idx.ask(WGIG))
    doc = next(d for d in idx.documents() if d.path.endswith(WGIG_SOURCE))
    ids = [cid for cid, row in idx.collection.rows.items() if row.path == doc.path]
    assert ids and idx.collection.store.existing(ids) == set(ids)
    before = idx.collection.store.count()

    assert idx.remove(doc.path) == len(ids)
    check = VectorStore(Path("unused"), idx.collection.embedder.name, server.url)
    assert check.existing(ids) == set()
    assert check.count() == idx.collection.store.count() == len(idx) == before - len(ids)
    assert all(p.name != WGIG_SOURCE for p in idx.retrieve(WGIG, k=5))

    idx.add([doc.path])  # put it back for the tests that follow
    assert check.existing(ids) == set(ids)
    assert answer_shape(idx.ask(WGIG)) == answer


@pytest.mark.parametrize("where", ["server", "embedded"])
def test_a_query_for_more_than_there_is_returns_what_there_is(server, tmp_path, where):
    """VectorStore.query asks Chroma for n without counting first: an empty collection gives [], a
    small one all it has, on the server as in the embedded store."""
    store = VectorStore(tmp_path / "chroma", f"empty-{where}", server.url if where == "server" else "")
    v = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    assert store.query(v, 5) == [] and store.query(v, 5, not_lang="en") == []
    assert store.query_many([v, v], 5) == [[], []] and store.query_many([], 5) == []
    store.upsert(["a", "b"], np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), [{"lang": "en"}, {"lang": "fr"}])
    assert [cid for cid, _ in store.query(v, 5)] == ["a", "b"]
    assert store.query(v, 5, not_lang="en") == [("b", pytest.approx(0.0, abs=1e-6))]
    many = store.query_many([v] * 300, 1)  # more than one request's worth (QUERY_BATCH)
    assert len(many) == 300 and all(hits[0][0] == "a" for hits in many)
    assert store.query(v, 0) == []


def test_an_index_on_a_dead_port_fails_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match=f"Chroma server at {url}.*does not answer"):
        Index(tmp_path / "h", chroma_url=url)


def test_cli_exits_3_naming_the_url_when_the_server_is_down(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ, QA_CHROMA_URL=url, QA_HOME=str(tmp_path / "default-home"))
    (tmp_path / "h").mkdir()  # a data folder that exists (a missing one is exit 2: test_hardening_api)
    r = subprocess.run([str(BIN / "qa"), "ask", "--home", str(tmp_path / "h"), WGIG],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("qa: error: ") and url in r.stderr and "chroma run" in r.stderr
    assert "Traceback" not in r.stderr and "httpx" not in r.stderr
    assert r.stdout == ""


def test_the_same_index_answers_again_after_a_server_restart(idx, server):
    answer = answer_shape(idx.ask(WGIG))
    server.stop()
    try:
        for call in (lambda: idx.ask(WGIG), lambda: idx.retrieve(WGIG), idx.collection.store.count):
            with pytest.raises(StoreError, match=f"Chroma server at {server.url}.*does not answer"):
                call()
    finally:
        server.start()  # same port, same data folder
    assert answer_shape(idx.ask(WGIG)) == answer
    assert idx.collection.store.count() == len(idx)
