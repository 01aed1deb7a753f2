"""Conversations that last: kept in the data folder, listed, resumed after a reload and a restart,
renamed, deleted (after a confirmation), exported as Markdown with their citations.

The store alone, then the page in a real Chromium over the seeds (one server per test that needs one
restarted; the rest share one)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import app
from qa.conversations import Conversations

from .test_ui import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, PREPCOM_EN, SEED_000, SEED_004, _ask_on_page, _free_port

FORMED_FR = "Quand le Groupe de travail a-t-il été constitué ?"


def test_the_store_keeps_renames_deletes_and_exports(tmp_path, seeds_index):
    store = Conversations(tmp_path / "conversations.sqlite")
    ans = seeds_index.ask(FORMED_FR)
    messages = [{"role": "user", "content": FORMED_FR}, {"role": "assistant", "content": ans.text}]
    turns = [{"lang": "fr", "html": "<p>…</p>", "question": FORMED_FR, "answer": ans.to_dict()}]
    cid = store.save(None, messages, turns)
    assert [c.title for c in store.list()] == [FORMED_FR]
    again = Conversations(tmp_path / "conversations.sqlite").get(cid)  # another process, a restart
    assert again.messages == messages and again.turns == json.loads(json.dumps(turns))  # tuples come back as lists
    assert store.rename(cid, "  Le groupe   de travail ") and store.get(cid).title == "Le groupe de travail"
    assert not store.rename(cid, "   ")  # a blank title changes nothing
    md = store.markdown(cid)
    c = ans.citations[0]
    assert md.startswith("# Le groupe de travail\n") and f"## {FORMED_FR}" in md and ans.text in md
    assert f"[1] {c.passage.title} ({SEED_004}), FR, {c.location}:" in md
    assert f"> {' '.join(c.quote.split())}" in md and "Nitin Desai" in md
    assert store.delete(cid) and store.list() == [] and store.get(cid) is None


def test_a_long_first_question_is_cut_for_the_title(tmp_path):
    store = Conversations(tmp_path / "c.sqlite")
    q = "Which expenses are not covered by the invitation to the Hammamet meeting of the two Bureaus?"
    cid = store.save(None, [], [{"question": q, "answer": None}])
    title = store.get(cid).title
    assert title.endswith("…") and len(title) <= 61 and q.startswith(title[:-1])


# -- the page --------------------------------------------------------------------------------------

pytestmark = [pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]


def _launch(idx, port):
    demo = app.create_app(lambda progress=None: idx)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def own_index(seeds_index, tmp_path):
    """The seeds in a data folder of this test's own (its conversations are its own); their vectors come
    from the session's embedding cache, so this takes seconds."""
    from qa import Index

    from .conftest import SEEDS

    idx = Index(tmp_path / "home", embedding_cache=seeds_index.settings.home / "cache")
    idx.add([SEEDS])
    return idx


def _open(context, url):
    from playwright.sync_api import expect

    pg = context.new_page()
    pg.goto(url)
    expect(pg.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
    return pg


@pytest.mark.slow
@pytest.mark.browser
def test_a_conversation_is_resumed_after_a_reload_and_a_restart(browser, own_index):
    from playwright.sync_api import expect

    port = _free_port()
    demo = _launch(own_index, port)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        pg = _open(context, demo.local_url)
        _ask_on_page(pg, PREPCOM_EN)
        _ask_on_page(pg, FORMED_FR)
        listed = pg.locator("#conversations")
        expect(listed).to_contain_text(PREPCOM_EN)  # titled by its first question
        pg.reload()
        expect(pg.locator('#chat [data-testid="bot"]')).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(pg.locator("#sources .qa-turn:visible")).to_contain_text(SEED_004)
        pg.locator('#chat [data-testid="bot"]').first.get_by_role("button", name="Source 1", exact=True).first.click()
        expect(pg.locator("#sources .qa-turn:visible")).to_contain_text(SEED_000)  # each answer's sources came back
        demo.close()
        demo = _launch(own_index, port)  # the server restarted: same data folder, same address
        pg.reload()
        expect(pg.locator('#chat [data-testid="bot"]')).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(pg.locator("#conversations")).to_contain_text(PREPCOM_EN)
        expect(pg.locator("#conversations input:checked")).to_have_count(1)
    finally:
        context.close()
        demo.close()


@pytest.mark.slow
@pytest.mark.browser
def test_conversations_are_listed_renamed_exported_and_deleted_after_a_confirmation(browser, own_index):
    from playwright.sync_api import expect

    demo = _launch(own_index, _free_port())
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    try:
        pg = _open(context, demo.local_url)
        _ask_on_page(pg, FORMED_FR)
        pg.get_by_role("button", name="New conversation").click()
        expect(pg.locator('#chat [data-testid="bot"]')).to_have_count(0)
        _ask_on_page(pg, PREPCOM_EN)
        listed = pg.locator("#conversations")
        expect(listed.get_by_role("radio")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)

        listed.get_by_text(FORMED_FR).click()  # the older one, resumed from the list
        expect(pg.locator('#chat [data-testid="bot"]')).to_have_count(1)
        expect(pg.locator('#chat [data-testid="bot"]')).to_contain_text("Nitin Desai")

        rename = pg.locator("#rename textarea, #rename input").first
        rename.fill("Le groupe de travail")
        rename.press("Enter")
        expect(listed).to_contain_text("Le groupe de travail")
        expect(listed).not_to_contain_text(FORMED_FR)

        pg.get_by_role("button", name="Export (Markdown)").click()
        link = pg.locator("#exported a[download]").first
        expect(link).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        with pg.expect_download() as got:
            link.click()
        text = Path(got.value.path()).read_text("utf-8")
        assert text.startswith("# Le groupe de travail\n") and f"## {FORMED_FR}" in text
        assert f"({SEED_004}), FR, " in text and "> " in text and "Nitin Desai" in text

        pg.get_by_role("button", name="Delete", exact=True).click()  # asked first; "Cancel" keeps it
        confirm = pg.locator("#delete-confirm")
        expect(confirm).to_contain_text("Delete the conversation “Le groupe de travail”?")
        pg.get_by_role("button", name="Cancel").click()
        expect(confirm).to_be_hidden()
        expect(listed.get_by_role("radio")).to_have_count(2)
        pg.get_by_role("button", name="Delete", exact=True).click()
        pg.get_by_role("button", name="Yes, delete").click()
        expect(listed.get_by_role("radio")).to_have_count(1)
        expect(confirm).to_be_hidden()
        expect(listed).not_to_contain_text("Le groupe de travail")
        expect(pg.locator('#chat [data-testid="bot"]')).to_have_count(0)
    finally:
        context.close()
        demo.close()


@pytest.mark.slow
@pytest.mark.browser
def test_thumbs_on_the_page_become_an_evaluation_set(browser, own_index, tmp_path):
    from playwright.sync_api import expect

    from qa.cli import main
    from qa.eval.sets import read_questions

    demo = _launch(own_index, _free_port())
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        pg = _open(context, demo.local_url)
        _ask_on_page(pg, FORMED_FR)
        pg.locator("#chat").get_by_role("button", name="Like", exact=True).last.click()  # under its answer
        box = pg.locator("#question textarea")
        box.fill("What is the capital of Australia?")
        box.press("Enter")
        bots = pg.locator('#chat [data-testid="bot"]')
        expect(bots).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(bots.nth(1)).to_contain_text("do not say")
        pg.locator("#chat").get_by_role("button", name="Like", exact=True).last.click()
        _ask_on_page(pg, PREPCOM_EN)
        pg.locator("#chat").get_by_role("button", name="Dislike", exact=True).last.click()
        from qa.feedback import Feedback

        out = tmp_path / "feedback.jsonl"
        home = own_index.settings.home
        for _ in range(300):  # the last click reaches the server a moment later
            if (home / "feedback.sqlite").exists() and len(Feedback(home / "feedback.sqlite").all()) == 3:
                break
            pg.wait_for_timeout(100)
        assert main(["feedback", "export", "-o", str(out), "--home", str(home)]) == 0
        qs = read_questions(out)
        assert [(q.text, q.answerable) for q in qs] == [(FORMED_FR, True), ("What is the capital of Australia?", False)]
        assert SEED_004 in qs[0].gold and any("Nitin Desai" in a for a in qs[0].answers)
        assert [liked for liked, _, _ in Feedback(own_index.settings.home / "feedback.sqlite").all()] == [True, True, False]
    finally:
        context.close()
        demo.close()
