"""Hardening of the question side, the CLI and the writer: what a careless user or an attacker sends
gets a clear message, never a traceback, a hang or a frozen service."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa import Index, QuestionError
from qa.errors import BusyError
from qa.render import markdown_literal

from .conftest import SEED_004, SEEDS

WHEN = "Quand le Groupe de travail a-t-il été constitué ?"
QA = [sys.executable, "-m", "qa.cli"]


def run_qa(*args, home: Path, timeout: int = 180, **kw):
    env = {**os.environ, "QA_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(QA + list(args), capture_output=True, timeout=timeout, env=env, **kw)


@pytest.fixture()
def small_index(tmp_path):
    idx = Index(tmp_path / "home")
    idx.add([SEEDS / SEED_004])
    return idx


# -- questions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["???", "🙂🙂🙂", "\u200b\u200b", "{0} %s", "<b></b>", "<img src=x>", "&nbsp;"])
def test_content_free_questions_are_refused(small_index, question):
    with pytest.raises(QuestionError, match="no words"):
        small_index.ask(question)


@pytest.mark.parametrize("question", ["Qui \ud800 a présidé ?", "\udcff\udcfe", b"Qui a pr\xe9sid\xe9 ?"])
def test_invalid_unicode_in_a_question_is_a_question_error(small_index, question):
    with pytest.raises(QuestionError, match="invalid|UTF-8"):
        small_index.ask(question)
    with pytest.raises(QuestionError):
        small_index.retrieve(question)


def test_a_standalone_short_question_after_an_unrelated_one_is_answered_as_if_asked_alone(small_index):
    alone = small_index.ask(WHEN)
    after = small_index.ask(WHEN, history=[{"role": "user", "content": "Recette du gâteau au chocolat ?"},
                                           {"role": "assistant", "content": "Les documents ne le disent pas."}])
    assert alone.answered and after.text == alone.text


def test_a_follow_up_uses_the_text_of_the_previous_turn_even_as_gradio_content_parts(small_index):
    history = [{"role": "user", "content": [{"type": "text", "text": WHEN}]},
               {"role": "assistant", "content": "…"}]
    follow = small_index.ask("Et par qui ?", history=history)
    assert follow.answered and "[{" not in follow.text


def test_the_history_searched_is_bounded_like_a_question(small_index, monkeypatch):
    searched = []
    search = small_index.collection.search
    monkeypatch.setattr(small_index.collection, "search", lambda q, *a, **k: searched.append(q) or search(q, *a, **k))
    small_index.ask("Et par qui ?", history=[{"role": "user", "content": "gouvernance " * 200_000}])
    limit = small_index.settings.max_question_chars
    assert searched and max(map(len, searched)) <= limit + 20


# -- indexing beside answering --------------------------------------------------------------------
def test_questions_are_answered_while_a_document_is_being_embedded(small_index, tmp_path):
    """The index's read lock is not held while embedding: a question asked during a (held) ingest is
    answered from what was committed before, and the new document appears when the ingest ends."""
    inner = small_index.collection.embedder.inner
    entered, release = threading.Event(), threading.Event()
    real = inner.embed_batch

    def held(texts, kind):
        if kind == "passage" and any("Montréal" in t for t in texts):
            entered.set()
            release.wait(60)
        return real(texts, kind)

    inner.embed_batch = held
    doc = tmp_path / "nouveau.md"
    doc.write_text("La réunion du comité aura lieu à Montréal le 3 mars 2005, au siège de l'OACI.\n", "utf-8")
    worker = threading.Thread(target=small_index.add, args=([doc],))
    try:
        worker.start()
        assert entered.wait(60)
        t = time.perf_counter()
        ans = small_index.ask(WHEN)  # would wait for the whole ingest if add held the lock
        assert ans.answered and time.perf_counter() - t < 30
        assert all("nouveau.md" not in p.source for p in small_index.retrieve("réunion du comité à Montréal", 3))
    finally:
        release.set()
        worker.join(120)
        inner.embed_batch = real
    assert any(p.source.endswith("nouveau.md") for p in small_index.retrieve("réunion du comité à Montréal", 3))


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.pwrite(fd, str(os.getpid()).encode(), 0)
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_writer_on_the_same_data_folder_is_told_at_once(small_index, tmp_path):
    home = small_index.settings.home
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(home / "writer.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        doc = tmp_path / "x.md"
        doc.write_text("Une note sur la gouvernance de l'Internet et ses acteurs.\n", "utf-8")
        with pytest.raises(BusyError, match=f"pid {holder.pid}"):
            small_index.add([doc])
        out = run_qa("index", str(doc), "--home", str(home), home=home)
        assert out.returncode == 3 and b"is indexing into" in out.stderr and b"Traceback" not in out.stderr
    finally:
        holder.kill()
        holder.wait()
    assert small_index.ask(WHEN).answered  # nothing indexed was lost


def test_an_open_index_sees_documents_another_process_indexed(small_index, tmp_path):
    doc = tmp_path / "ailleurs.md"
    doc.write_text("Le forum sur la gouvernance de l'Internet se réunira à Athènes en 2006.\n", "utf-8")
    out = run_qa("index", str(doc), "--home", str(small_index.settings.home), home=small_index.settings.home)
    assert out.returncode == 0, out.stderr.decode()
    assert small_index.retrieve("Où se réunira le forum ?", 1)[0].source.endswith("ailleurs.md")


# -- the command line -----------------------------------------------------------------------------
def test_terminal_escapes_in_a_document_are_shown_not_executed(tmp_path):
    home, doc = tmp_path / "home", tmp_path / "esc.txt"
    doc.write_text("Le comité \x1b[31mrouge\x1b[0m s'est réuni à Genève le 4 mai 2005 pour la gouvernance.\n", "utf-8")
    assert run_qa("index", str(doc), "--home", str(home), home=home).returncode == 0
    for args in (["ask", "--home", str(home), "Quand le comité s'est-il réuni ?"],
                 ["retrieve", "--home", str(home), "comité rouge Genève"], ["list", "--home", str(home)]):
        out = run_qa(*args, home=home)
        assert out.returncode == 0 and b"\x1b" not in out.stdout, (args, out.stdout)
    assert b"\\x1b[31m" in run_qa("retrieve", "--home", str(home), "comité rouge", home=home).stdout


def test_cli_small_things(tmp_path, small_index):
    missing = tmp_path / "nowhere"
    out = run_qa("ask", "--home", str(missing), "Qui ?", home=tmp_path / "h")
    assert out.returncode == 2 and b"does not exist" in out.stderr and not missing.exists()
    out = run_qa("ask", "--home", str(small_index.settings.home), "\udcff\udcfe", home=tmp_path / "h")
    assert out.returncode == 2 and b"Traceback" not in out.stderr
    piped = subprocess.run(" ".join(QA + ["retrieve", "-k", "5", "--home", str(small_index.settings.home),
                                          "'Quand le Groupe de travail a-t-il été constitué ?'"]) + " | head -c 10",
                           shell=True, capture_output=True, timeout=180)
    assert b"BrokenPipeError" not in piped.stderr and b"Traceback" not in piped.stderr
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_qa("serve", "--port", str(port), "--home", str(small_index.settings.home), home=tmp_path / "h")
    assert out.returncode == 2 and b"cannot listen" in out.stderr and b"Traceback" not in out.stderr


# -- the page ---------------------------------------------------------------------------------------
def test_document_text_in_the_chat_bubble_is_literal():
    hostile = 'Voir <svg onload=x>ici</svg> et ![](http://203.0.113.9/p.png) <img src="http://203.0.113.9/q"> [1]'
    shown = markdown_literal(hostile)
    assert "<" not in shown and "![" not in shown
    import markdown_it  # what Gradio's Markdown renders with in the browser is marked; this is close enough

    rendered = markdown_it.MarkdownIt().render(shown)
    assert "<img" not in rendered and "<svg" not in rendered and "<a " not in rendered and "&lt;svg onload=x&gt;" in rendered
