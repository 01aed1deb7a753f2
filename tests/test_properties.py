"""Property-based: generated questions, file names and file contents thrown at the API, the CLI and the
HTTP endpoint. Whatever comes in: no traceback, either a QAError (a clear message) or an answer whose
every citation is verbatim at its offsets, and the documents indexed before are all still there."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import Index, QAError

from .conftest import SEED_004, SEEDS

WHEN = "Quand le Groupe de travail a-t-il été constitué ?"
RUN = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
           derandomize=True)  # the same cases every run: CI never meets a new one by chance

words = st.sampled_from(["Qui", "Quand", "groupe", "travail", "Who", "chaired", "Working", "Group", "Nitin", "2004",
                         "gouvernance", "Internet", "?", "¿", "—", "l'", "’", "<b>", "{0}", "%s", "\u200b", "🙂"])
questions = st.one_of(
    st.text(max_size=300),  # anything, surrogates and controls included
    st.lists(words, min_size=1, max_size=12).map(" ".join),
    st.binary(max_size=80),
)
history = st.lists(st.one_of(st.text(max_size=500), st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant"]), "content": st.one_of(
        st.text(max_size=500), st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=200)}),
                                        max_size=3))})), max_size=4)


@pytest.fixture(scope="module")
def idx(tmp_path_factory):
    index = Index(tmp_path_factory.mktemp("prop-home"))
    index.add([SEEDS / SEED_004])
    return index


def _check(ans) -> None:
    for c in ans.citations:
        text = Path(c.passage.source).read_bytes().decode("utf-8-sig")
        assert text[c.start : c.end] == c.quote


COUNT = {"api": 0, "files": 0, "cli": 0, "http": 0}


@settings(max_examples=150, **RUN)
@given(q=questions, h=history)
def test_any_question_gets_an_answer_or_a_clear_error(idx, q, h):
    COUNT["api"] += 1
    try:
        ans = idx.ask(q, history=h)
    except QAError as e:
        assert str(e)
        return
    _check(ans)


names = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=40)
contents = st.one_of(st.binary(max_size=600), st.text(max_size=600).map(lambda t: t.encode("utf-8", "surrogatepass")))


@settings(max_examples=40, **RUN)
@given(files=st.lists(st.tuples(names, st.sampled_from([".txt", ".md", ".html", ".docx", ".pdf", ""]), contents),
                      min_size=1, max_size=4))
def test_any_files_are_indexed_or_reported_and_nothing_indexed_is_lost(idx, tmp_path_factory, files):
    COUNT["files"] += 1
    folder = tmp_path_factory.mktemp("gen")
    for i, (name, suffix, data) in enumerate(files):
        name = name.strip(". ") or "x"
        try:
            (folder / f"{i}-{name}{suffix}"[:200]).write_bytes(data)
        except OSError:
            pass  # a name the file system refuses is not the index's to judge
    before = {d.path for d in idx.documents()}
    report = idx.add([folder])
    seen = set(report.added) | set(report.updated) | set(report.unchanged) | {p for p, _ in report.failed} | {
        p for p, _ in report.skipped}
    on_disk = {str(p) for p in folder.rglob("*") if p.is_file()}
    assert len(on_disk - seen) == 0, on_disk - seen  # every file is indexed or reported, none dropped
    assert before <= {d.path for d in idx.documents()}
    assert idx.ask(WHEN).answered


@settings(max_examples=12, **RUN)
@given(q=questions.filter(lambda q: not isinstance(q, bytes)))
def test_the_cli_answers_or_exits_2_never_a_traceback(idx, q):
    COUNT["cli"] += 1
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--home", str(idx.settings.home), "--", q or " "],
                         capture_output=True, timeout=120, env=env)
    assert b"Traceback" not in out.stderr, out.stderr.decode("utf-8", "replace")
    assert out.returncode in (0, 2), (out.returncode, out.stderr)


@pytest.fixture(scope="module")
def client(idx):
    import app
    from gradio_client import Client

    demo = app.create_app(lambda progress=None: idx)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    c = Client(demo.local_url, verbose=False, analytics_enabled=False)
    yield c
    c.close()
    demo.close()


@settings(max_examples=25, **RUN)
@given(q=st.one_of(st.text(max_size=200), st.lists(words, min_size=1, max_size=10).map(" ".join)))
def test_the_http_endpoint_answers_or_says_why(client, q):
    COUNT["http"] += 1
    got = client.predict(q, api_name="/ask")
    assert set(got) == {"error"} or {"answered", "citations"} <= set(got), got
    if "error" not in got:
        for c in got["citations"]:
            text = Path(c["passage"]["source"]).read_bytes().decode("utf-8-sig")
            assert text[c["start"] : c["end"]] == c["quote"]


def test_zz_report_how_many_cases_ran(capsys):
    with capsys.disabled():
        print(f"\ngenerated cases: {COUNT}")
