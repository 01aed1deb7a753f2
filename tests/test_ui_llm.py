"""The page with a language model: its words shown as they are written, the citations resolved from
the verified answer at the end, the choice between quotes only and the model, who wrote each answer;
and the page when the model's server dies mid-answer. A real llama.cpp server (xllamacpp, SmolLM2-135M,
1 thread; tests/test_llm.py's) and a real Chromium.
"""
from __future__ import annotations

import re

import pytest

import app
from qa import Index
from qa.answerers.llm import LLMAnswerer, LLMSettings
from qa.answerers.llm_client import ChatClient
from qa.build import Build
from qa.chat import handlers

from .test_llm import llama_server
from .test_ui import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, _free_port

FORMED_FR = "Quand le Groupe de travail a-t-il été constitué ?"  # short, answered by the seeds
SMALL = LLMSettings(max_tokens=200)  # SmolLM2 writes its quote first (~100 tokens), then the claim streams

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]


def _with_model(seeds_index, url: str, client=ChatClient) -> Index:
    idx = Index(seeds_index.settings.home, settings=seeds_index.settings)
    idx.answerer = LLMAnswerer(idx.collection, client(url, timeout=120), settings=SMALL)
    return idx


@pytest.fixture(scope="module")
def model_url():
    with llama_server() as (url, _):
        yield url


@pytest.fixture(scope="module")
def llm_url(seeds_index, model_url):
    """The page over the seeds, its answers written by SmolLM2."""
    demo = app.create_app(lambda progress=None: _with_model(seeds_index, model_url))
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    import os
    from pathlib import Path

    folder = Path(os.environ.get("QA_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, url, **context):
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, color_scheme="light", **context)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    expect(pg.locator("#status")).to_contain_text(re.compile("Ready|Prêt"), timeout=ANSWER_TIMEOUT_MS)
    return ctx, pg, errors


# Every text the last bot bubble shows, in order (the page's own updates, as a person sees them)
WATCH = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    const bots = document.querySelectorAll('#chat [data-testid="bot"]');
    const t = bots.length ? bots[bots.length - 1].innerText.trim() : '';
    if (t && t !== window.__seen[window.__seen.length - 1]) window.__seen.push(t);
  }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true});
}"""


def _ask(pg, question: str, writing_shot=None):
    """Ask, and wait for the verified answer: its sources in the panel. Returns the bubble's texts.
    `writing_shot`: a screenshot taken there while the model writes."""
    from playwright.sync_api import expect

    pg.evaluate(WATCH)
    pg.locator("#question textarea").fill(question)
    pg.locator("#question textarea").press("Enter")
    if writing_shot:
        pg.wait_for_function("() => (window.__seen || []).some(t => t.endsWith('…'))", timeout=120_000)
        pg.screenshot(path=str(writing_shot))
    expect(pg.locator("#sources .qa-turn:visible details.qa-cite").first).to_be_visible(timeout=120_000)
    expect(pg.locator('#chat [data-testid="bot"]').last.locator(".qa-by")).to_be_visible()
    return pg.evaluate("window.__seen")


@pytest.mark.browser
def test_the_models_words_appear_as_written_and_the_citations_at_the_end(browser, llm_url, shots):
    from playwright.sync_api import expect

    ctx, pg, errors = _open(browser, llm_url)
    choice = pg.locator("#answerer")
    expect(choice.get_by_label("Written by the model")).to_be_checked()
    expect(choice.get_by_label("Quotes only (extractive)")).to_be_enabled()
    seen = _ask(pg, FORMED_FR, writing_shot=shots / "page-llm-writing.png")
    bot = pg.locator('#chat [data-testid="bot"]').last
    final = bot.inner_text().strip()
    writing = [t for t in seen if t.endswith("…") and t != final]
    assert len(writing) >= 2, seen  # the words came in more than one update before the answer
    assert all(b.startswith(a[:-1].rstrip()) for a, b in zip(writing, writing[1:])), writing  # growing
    by = bot.locator(".qa-by").inner_text()
    assert by.startswith(("rédigée par le modèle", "citations seules (extractif)")), by  # the answer's language
    if "écartée" in by:  # SmolLM2 invents most quotes: how many were left out, and why
        assert "citation absente du passage" in by or "passage" in by, by
    ref = bot.locator("button.qa-ref").first
    expect(ref).to_be_visible()
    pg.locator("#sources .qa-turn:visible details.qa-cite").first.evaluate("d => d.open = false")
    ref.click()
    card = pg.locator(f"#cite-0-{ref.get_attribute('data-n')}")
    expect(card).to_have_attribute("open", "")
    pg.screenshot(path=str(shots / "page-llm.png"))
    ctx.close()
    assert not errors, errors


@pytest.mark.browser
def test_quotes_only_is_a_choice_and_answers_at_once(browser, llm_url):
    from playwright.sync_api import expect

    ctx, pg, errors = _open(browser, llm_url, locale="fr-FR")
    choice = pg.locator("#answerer")
    expect(choice.get_by_label("Rédigées par le modèle")).to_be_checked()  # the page found the model
    choice.get_by_label("Citations seules (extractif)").check()
    seen = _ask(pg, FORMED_FR)
    bot = pg.locator('#chat [data-testid="bot"]').last
    assert not [t for t in seen if t.endswith("…")], seen  # no words written before the answer
    expect(bot.locator(".qa-by")).to_have_text("citations seules (extractif)")
    expect(choice.get_by_label("Rédigées par le modèle")).not_to_be_checked()
    place = pg.locator("#sources .qa-turn:visible details.qa-cite").first.locator("summary")
    expect(place).to_contain_text(re.compile(r"· FR · lignes? \d"), use_inner_text=True)  # the French page's word (the quote's lines)
    assert not re.search(r"\blines? \d", place.inner_text())
    ctx.close()
    assert not errors, errors


@pytest.mark.browser
def test_without_a_model_the_choice_is_disabled_and_says_how_to_have_one(browser, seeds_index):
    from playwright.sync_api import expect

    demo = app.create_app(lambda progress=None: seeds_index)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        ctx, pg, errors = _open(browser, demo.local_url)
        choice = pg.locator("#answerer")
        expect(choice).to_contain_text("QA_LLM_URL, QA_LLM_GGUF or --llm-url")
        expect(choice.get_by_label("Written by the model")).to_be_disabled()
        expect(choice.get_by_label("Quotes only (extractive)")).to_be_checked()
        ctx.close()
        assert not errors, errors
    finally:
        demo.close()


def test_a_server_killed_mid_answer_shows_the_extractive_answer_with_the_note(seeds_index):
    """The chat handler the page calls: the model's words, then, its server killed after the first
    one, the documents' own sentences with the note naming the URL; no error."""
    with llama_server() as (url, proc):
        class KilledAfterTheFirstToken(ChatClient):
            def stream(self, *args, **kwargs):
                for i, delta in enumerate(super().stream(*args, **kwargs)):
                    if i == 0:
                        proc.kill()
                    yield delta

        idx = _with_model(seeds_index, url, KilledAfterTheFirstToken)
        talk = handlers(Build(lambda progress=None: idx))
        updates = list(talk.respond(FORMED_FR, [], [], None, None, "llm"))
    history, turns, sources, box, _ = updates[-1]
    text = history[-1]["content"]
    assert "⚠️" not in text and f"{url}" in text.replace("\\", "") and "a fermé la connexion" in text, text
    assert "citations seules (extractif)" in text  # not "written by the model": it fell back
    assert turns[-1]["answer"]["answered"] and turns[-1]["answer"]["citations"] and "<mark>" in sources
    expected = seeds_index.ask(FORMED_FR)
    assert [c["quote"] for c in turns[-1]["answer"]["citations"]] == [c.quote for c in expected.citations]
