"""The web UI, launched for real on a free port over a real index of the seeds.

Two ways in, as users come: `gradio_client` over HTTP (the /ask and /chat endpoints other programs
call) and a headless Debian Chromium driven by Playwright (the page a person types into).
The whole module is slow: the seeds are embedded with the real e5 model (about 20 s with a cold cache).
"""
from __future__ import annotations

import html
import re

import socket
from pathlib import Path

import pytest

import app
import qa.build
from qa import Index

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_000 = "000_44176cd855f9542d.txt"  # English then French
SEED_002 = "002_57f22efca7e2138a.txt"  # French: the caucus statement
SEED_004 = "004_48194a700c52b088.txt"  # French: Kofi Annan's letter naming Nitin Desai chair
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `playwright install` is never run here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ANSWER_TIMEOUT_MS = 30_000  # one question through the real embedder, on a busy machine

CHAIR_EN = "Who chaired the Working Group on Internet Governance?"
CONDITIONS_FR = "Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?"
# The chat and page tests use a plainly worded question, so that they test the UI, not answer quality
PREPCOM_EN = "When will the first Prepcom of Phase II take place?"

pytestmark = [
    pytest.mark.slow,
    # gradio 6.31's queue calls pandas options that pandas 3 deprecates; not ours to fix
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _text(message: dict) -> str:
    """The text a chat message shows, whether its content came back as a string or as Gradio parts
    (the page escapes Markdown and HTML so that a document's text is shown literally: undone here)."""
    content = message["content"]
    if not isinstance(content, str):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return html.unescape(re.sub(r"\\(.)", r"\1", content))


@pytest.fixture(scope="module")
def seeds_idx(seeds_index) -> Index:
    assert len(seeds_index.documents()) == 3
    return seeds_index


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where the browser tests keep their screenshots: QA_SCREENSHOTS (``QA_SCREENSHOTS=docs`` refreshes
    the README's), else a temporary folder (tests never write into the working tree by themselves)."""
    import os

    folder = Path(os.environ.get("QA_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def app_url(seeds_idx):
    """The app, launched on 127.0.0.1 with the index above; closed after the module."""
    demo = app.create_app(lambda progress=None: seeds_idx)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory):
    from gradio_client import Client

    c = Client(app_url, verbose=False, analytics_enabled=False,
               download_files=str(tmp_path_factory.mktemp("gradio-client")))
    yield c
    c.close()


def test_a_question_asked_while_the_documents_are_indexed_is_told_so_then_answered(seeds_idx, monkeypatch):
    """A build that takes long (here: held until released) does not hang the question: it is told
    how far the indexing is, and answered once the index is ready."""
    import threading

    from gradio_client import Client

    release = threading.Event()

    def slow_factory(progress=None):
        progress(1, 3, "000_44176cd855f9542d.txt")
        release.wait(60)
        return seeds_idx

    monkeypatch.setattr(qa.build, "WAIT_FOR_BUILD", 0.5)
    demo = app.create_app(slow_factory)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        c = Client(demo.local_url, verbose=False, analytics_enabled=False)
        early = c.predict(PREPCOM_EN, api_name="/ask")
        assert set(early) == {"error"}
        assert "still being indexed (1/3 files" in early["error"], early
        release.set()
        monkeypatch.setattr(qa.build, "WAIT_FOR_BUILD", 30.0)
        late = c.predict(PREPCOM_EN, api_name="/ask")
        assert late.get("answered") and late["citations"], late
        c.close()
    finally:
        release.set()
        demo.close()


# -- gradio_client ---------------------------------------------------------------------------------

@pytest.mark.parametrize("question, lang, source, lead, quoted", [
    ("When did Kofi Annan speak at the opening of the Global Forum on Internet Governance?", "en", SEED_002,
     "According to the documents", "25 Mars"),
    ("Quand le Groupe de travail a-t-il été constitué ?", "fr", SEED_004, "D’après les documents", "Nitin Desai"),
    (CONDITIONS_FR, "fr", SEED_000, "D’après les documents", "société civile"),
], ids=["en-from-french-seed", "fr-formed", "fr-conditions"])
def test_ask_endpoint_answers_with_a_verbatim_citation(client, question, lang, source, lead, quoted):
    ans = client.predict(question, api_name="/ask")
    assert "error" not in ans, ans
    assert ans["answered"], ans["text"]
    assert ans["lang"] == lang
    assert lead in ans["text"] and "[1]" in ans["text"], ans["text"]
    cited = [c for c in ans["citations"] if Path(c["passage"]["source"]).name == source]
    assert cited, f"expected a citation of {source}, got {[c['passage']['source'] for c in ans['citations']]}"
    assert any(quoted in " ".join(c["quote"].split()) for c in cited), [c["quote"] for c in cited]
    if source == SEED_000 and lang == "fr":  # seed 000 is bilingual: the French question gets its French half
        assert all(c["passage"]["lang"] == "fr" for c in cited)


def test_ask_endpoint_says_the_documents_do_not_say(client):
    ans = client.predict("What is the capital of Australia?", api_name="/ask")
    assert ans["answered"] is False
    assert ans["citations"] == []
    assert "do not say" in ans["text"]


def test_ask_endpoint_refuses_a_huge_question_with_a_message(client):
    ans = client.predict("Who chaired the group? " * 5000, api_name="/ask")
    assert set(ans) == {"error"}
    assert "limit" in ans["error"] and "Traceback" not in ans["error"]


def test_chat_endpoint_returns_the_answer_and_highlighted_sources(client):
    history, sources, box = client.predict(PREPCOM_EN, [], api_name="/chat")
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert _text(history[0]) == PREPCOM_EN
    assert "[1]" in _text(history[1])
    assert "<mark>" in sources and "[1] <span class=\"qa-title\">Dear Members of the Bureau,</span>" in sources
    assert SEED_000 in sources  # the file name beside its title
    assert box == ""  # the textbox is cleared for the next question


def test_chat_endpoint_keeps_the_conversation(client):
    history, _, _ = client.predict(PREPCOM_EN, [], api_name="/chat")
    history, sources, _ = client.predict("Quand le Groupe de travail a-t-il été constitué ?", history,
                                         api_name="/chat")
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    assert "[1]" in _text(history[-1]) and "<mark>" in sources


@pytest.mark.parametrize("question", ["", "   \n\t "], ids=["empty", "blank"])
def test_enter_on_an_empty_box_changes_nothing(client, question):
    """No warning glued to the answer still shown, its sources kept (the page keeps them: no update)."""
    earlier = [{"role": role, "content": [{"type": "text", "text": text}]}
               for role, text in (("user", PREPCOM_EN), ("assistant", "“…” [1]"))]
    history, _, box = client.predict(question, earlier, api_name="/chat")
    assert [(m["role"], _text(m)) for m in history] == [("user", PREPCOM_EN), ("assistant", "“…” [1]")] and box == ""


@pytest.mark.parametrize("question, says", [
    ("Who chaired the Working Group on Internet Governance? " * 1900, "the limit is"),  # ~100 KB
    ("🙂 ??? <b></b>", "no words"),
], ids=["100KB", "no-words"])
def test_chat_endpoint_explains_a_bad_question(client, question, says):
    history, sources, box = client.predict(question, [], api_name="/chat")
    reply = _text(history[-1])
    assert history[-1]["role"] == "assistant"
    assert reply.startswith("⚠️") and says in reply, reply
    assert "Traceback" not in reply
    assert app.SOURCES_EMPTY in sources and box == ""
    assert all(_text(m).strip() for m in history), "no empty chat bubble for an empty question"
    assert max(len(_text(m)) for m in history) <= 1_000, "a refused 100 KB question is not echoed whole"


# -- a real browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """The app's page, loaded, with the index reported ready; fails on any JavaScript error."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(app_url)
    expect(pg.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _ask_on_page(pg, question: str | None = None):
    """Type (or keep) a question, press Enter; returns the last bot message once it has a citation."""
    from playwright.sync_api import expect

    box = pg.locator("#question textarea")
    if question is not None:
        box.fill(question)
    box.press("Enter")
    bot = pg.locator('#chat [data-testid="bot"]').last
    expect(bot).to_contain_text("[1]", timeout=ANSWER_TIMEOUT_MS)
    return bot


@pytest.mark.browser
def test_page_status_names_the_documents_and_their_languages(page):
    from playwright.sync_api import expect

    expect(page.locator("#status")).to_contain_text("from 3 documents (en, fr)")


@pytest.mark.browser
def test_page_answers_a_typed_question_with_a_highlighted_citation(page, seeds_idx):
    from playwright.sync_api import expect

    expected = seeds_idx.ask(PREPCOM_EN)  # what a notebook gets is what the page shows
    bot = _ask_on_page(page, PREPCOM_EN)
    expect(bot).to_contain_text(" ".join(expected.text.split())[:60])
    expect(page.locator("#question textarea")).to_have_value("")
    card = page.locator("#sources details.qa-cite").first
    expect(card).to_contain_text(expected.citations[0].passage.name)
    mark = card.locator("mark").first
    expect(mark).to_be_visible()  # the first card is open, its quote highlighted
    assert " ".join(mark.inner_text().split()) == " ".join(expected.citations[0].quote.split())


@pytest.mark.browser
def test_page_answers_an_example_question(page):
    from playwright.sync_api import expect

    example = "Quand le Groupe de travail a-t-il été constitué ?"
    page.locator("button.gallery-item", has_text=example).click()
    # the click fills the box asynchronously; Enter before it lands would send an empty question
    expect(page.locator("#question textarea")).to_have_value(example)
    bot = _ask_on_page(page)
    expect(bot).to_contain_text("D’après les documents")
    card = page.locator("#sources details.qa-cite").first
    expect(card).to_contain_text(SEED_004)
    expect(card.locator("mark").first).to_contain_text("Nitin Desai")


# Questions the extractive answerer answers with two quotes (the first one that still does is used)
TWO_QUOTES = [
    "Which two working groups was Kofi Annan expected to set up?",
    "Which expenses are not covered by the invitation to the Hammamet meeting?",
    "How did the Tunisian authorities respond to the civil society conditions?",
    "Quel rôle l'UIT attribue-t-elle à la Phase II du SMSI ?",
    "Par quel moyen la consultation du groupe de travail devrait-elle se faire ?",
    "Quand le Groupe de travail a-t-il été constitué ?",  # since the reader (the date, then the request)
    "Comment la représentation au sein du groupe de travail devrait-elle être assurée ?",
    "What does the caucus want launched once the working group's secretariat exists?",
]


@pytest.mark.browser
def test_page_a_citation_marker_opens_its_card(page, seeds_idx):
    from playwright.sync_api import expect

    question = next((q for q in TWO_QUOTES if len(seeds_idx.ask(q).citations) >= 2), None)
    assert question, "no question of TWO_QUOTES is answered with two quotes any more: pick another"
    expected = seeds_idx.ask(question)
    bot = _ask_on_page(page, question)
    card = page.locator("#sources .qa-turn:visible details.qa-cite").nth(1)
    expect(card).not_to_have_attribute("open", "")  # the first card is open, the second closed
    marker = bot.get_by_role("button", name="Source 2", exact=True).first  # [2] is a button with an accessible name
    expect(marker).to_have_text("[2]")
    marker.click()
    expect(card).to_have_attribute("open", "")
    expect(card).to_be_in_viewport()
    mark = card.locator("mark").first
    expect(mark).to_be_visible()
    assert " ".join(mark.inner_text().split()) == " ".join(expected.citations[1].quote.split())


@pytest.mark.browser
def test_page_each_answer_keeps_its_own_sources(page):
    from playwright.sync_api import expect

    _ask_on_page(page, PREPCOM_EN)
    _ask_on_page(page, "Quand le Groupe de travail a-t-il été constitué ?")
    first, second = (page.locator('#chat [data-testid="bot"]').nth(i) for i in (0, 1))
    shown = page.locator("#sources .qa-turn:visible")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text(SEED_004)  # the latest answer's sources
    expect(first).to_have_attribute("lang", "en")
    expect(second).to_have_attribute("lang", "fr")
    first.click()  # an earlier answer shows its sources again
    expect(shown).to_contain_text(SEED_000)
    expect(shown).not_to_contain_text(SEED_004)
    expect(shown.locator("mark").first).to_contain_text("1st Prepcom of Phase II")
    second.get_by_role("button", name="Source 1", exact=True).first.click()  # and its [1] brings back the second's
    expect(shown).to_contain_text(SEED_004)
    expect(shown.locator("details.qa-cite").first).to_have_attribute("open", "")


def _page_words(pg) -> str:
    """What a reader meets on the page: its visible text, and the names and hints of its controls."""
    return pg.locator("gradio-app").inner_text() + "\n" + "\n".join(pg.evaluate(
        "() => [...document.querySelectorAll('[aria-label], [placeholder], [title]')]"
        ".filter(e => e.checkVisibility()).flatMap(e => ['aria-label', 'placeholder', 'title']"
        ".map(a => e.getAttribute(a)).filter(Boolean))"))


def _english_labels() -> list[str]:
    """The app's English words that French says otherwise, each cut before its placeholders."""
    from qa.labels import LABELS

    out = []
    for key, en in LABELS["en"].items():
        fr = LABELS["fr"][key]
        for e, f in zip(en, fr) if isinstance(en, list) else [(en, fr)]:
            if e != f:
                out.append(e.split("{")[0].strip("#… \n")[:40])
    return [w for w in out if w] + ["Drop File Here", "Click to Upload", "Built with Gradio", "Use via API",
                                    "Copy message", "Copy conversation", "Toggle Sidebar", "Open the whole document"]


@pytest.mark.browser
def test_page_switched_to_french_shows_no_english_label(page, shots):
    from playwright.sync_api import expect

    page.get_by_role("radio", name="Français").check()
    expect(page.locator("#heading")).to_contain_text("Interrogez vos documents")
    expect(page.locator("#status")).to_contain_text("Prêt : ")
    assert page.evaluate("document.documentElement.lang") == "fr"
    expect(page.locator("#question textarea")).to_have_attribute("placeholder", "Posez une question sur vos documents…")
    bot = _ask_on_page(page, PREPCOM_EN)  # an English question is still answered in English
    expect(bot).to_have_attribute("lang", "en")
    expect(bot).to_contain_text("According to the documents")
    expect(page.locator("#chat").get_by_role("button", name="Copier le message").first).to_be_attached()
    seen = _page_words(page)  # with an answer, its sources and its buttons on the page
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#documents")).to_contain_text("Titre")
    seen += _page_words(page)
    left = [w for w in _english_labels() if w in seen]
    assert not left, f"English labels on the French page: {left}"
    page.get_by_role("tab", name="Questions").click()
    page.screenshot(path=str(shots / "page-fr.png"))


@pytest.mark.browser
def test_page_follows_a_french_browser_and_keeps_the_choice(browser, app_url):
    from playwright.sync_api import expect

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(app_url)
        expect(pg.locator("#heading")).to_contain_text("Interrogez vos documents", timeout=ANSWER_TIMEOUT_MS)
        expect(pg.get_by_role("button", name="Nouvelle conversation")).to_be_visible()
        pg.get_by_role("radio", name="English").check()  # the reader's choice overrules the browser's
        expect(pg.locator("#heading")).to_contain_text("Ask your documents")
        pg.reload()
        expect(pg.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
        expect(pg.locator("#heading")).to_contain_text("Ask your documents")
    finally:
        context.close()


@pytest.mark.browser
def test_page_searches_only_in_the_chosen_documents(page):
    from playwright.sync_api import expect

    page.locator("#search-in input").click()
    page.get_by_role("option", name=SEED_004).click()
    page.keyboard.press("Escape")
    expect(page.locator("#search-in")).to_contain_text(SEED_004)
    box = page.locator("#question textarea")
    box.fill(PREPCOM_EN)  # answered from seed 000 when every document is searched
    box.press("Enter")
    shown = page.locator("#sources .qa-turn:visible")
    expect(shown).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(shown).not_to_contain_text(SEED_000)
    assert SEED_004 in shown.inner_text() or "No passage" in shown.inner_text()


# Every text in the citation cards, its colour and the colour behind it, as the browser renders them
CARD_COLOURS = """() => {
  const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                     return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat([1]);
  const behind = el => {  // the first opaque background up the tree, with translucent ones laid over it
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const out = [];
  for (const el of document.querySelectorAll('#sources .qa-turn:not([hidden]) .qa-cite, #sources .qa-turn:not([hidden]) .qa-cite *')) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.nodeValue).join('').trim();
    if (!text || !el.checkVisibility()) continue;
    const bg = behind(el), fg = over(rgba(getComputedStyle(el).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({cls: el.className || el.tagName, text: text.slice(0, 30), ratio: (a + 0.05) / (b + 0.05)});
  }
  return out;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_page_cards_read_well_in_light_and_dark(browser, app_url, theme, shots):
    """WCAG AA: every text in the citation cards at 4.5:1 or more against what is behind it."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900}, color_scheme=theme)
    try:
        pg = context.new_page()
        pg.goto(f"{app_url}?__theme={theme}")
        expect(pg.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
        _ask_on_page(pg, PREPCOM_EN)
        expect(pg.locator("#sources .qa-turn:visible mark").first).to_be_visible()
        pg.wait_for_timeout(300)  # the panel's fade-in after an update
        found = pg.evaluate(CARD_COLOURS)
        kinds = {f["cls"] for f in found}
        assert {"qa-meta", "qa-dim", "MARK"} <= kinds, kinds  # the file line, the context around, the quote
        low = [f for f in found if f["ratio"] < 4.5]
        assert not low, f"{theme}: text under 4.5:1 in the cards: {low}"
        pg.screenshot(path=str(shots / f"page-{theme}.png"))
    finally:
        context.close()


@pytest.mark.browser
def test_page_on_a_phone_has_the_sources_one_tap_away(browser, app_url, shots):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        pg = context.new_page()
        pg.goto(app_url)
        expect(pg.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
        expect(pg.locator("#sidebar")).not_to_have_class(re.compile(r"\bopen\b"))  # the panel does not cover the page
        bot = _ask_on_page(pg, PREPCOM_EN)
        card = pg.locator("#sources .qa-turn:visible details.qa-cite").first
        expect(card).not_to_be_in_viewport()  # below the chat, the box and the examples
        bot.get_by_role("button", name="Source 1", exact=True).first.tap()
        expect(card).to_be_in_viewport()
        expect(card.locator("mark").first).to_be_in_viewport()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide)"
        pg.screenshot(path=str(shots / "page-phone.png"))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["English", "Français"])
def test_page_every_control_has_an_accessible_name(page, lang):
    from playwright.sync_api import expect

    page.get_by_role("radio", name=lang).check()
    expect(page.locator("html")).to_have_attribute("lang", "fr" if lang == "Français" else "en")
    _ask_on_page(page, PREPCOM_EN)
    tree = page.locator("body").aria_snapshot()
    nameless = [line.strip() for line in tree.splitlines()
                if re.match(r"\s*- (button|textbox|combobox|radio|checkbox|link|slider)\s*(:|$)", line)]
    assert not nameless, f"controls without a name: {nameless}"
    send = "Envoyer la question" if lang == "Français" else "Send the question"
    expect(page.get_by_role("button", name=send)).to_be_visible()


@pytest.mark.browser
def test_page_a_card_opens_its_whole_document_at_the_quote(page, seeds_idx):
    from playwright.sync_api import expect

    expected = seeds_idx.ask(PREPCOM_EN).citations[0]
    _ask_on_page(page, PREPCOM_EN)
    page.locator("#sources .qa-turn:visible").get_by_role("button", name="Open the whole document").first.click()
    view = page.locator("#document-view")
    expect(view).to_be_visible()
    expect(view).to_contain_text(expected.passage.title)
    expect(view).to_contain_text("Following our latest note to the CS Bureau")  # the document from its start
    quote = page.locator("#qa-doc-quote")
    expect(quote).to_be_in_viewport()
    assert " ".join(quote.inner_text().split()) == " ".join(expected.quote.split())
    page.get_by_role("button", name="Close the document").click()
    expect(view).to_be_hidden()
