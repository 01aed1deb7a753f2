// The page's behaviour in the browser (run once, by the Sources panel's js_on_load): every [n] in an
// answer becomes a button that shows that answer's sources and opens card n; clicking an answer shows
// its own sources again; each answer gets the lang attribute of its language.
if (!window.__qaPage) {
  window.__qaPage = true;
  const FRENCH = {'Copy message': 'Copier le message', 'Copy conversation': 'Copier la conversation',
                  'Toggle Sidebar': 'Afficher ou masquer les conversations'};
  const bots = () => [...document.querySelectorAll('#chat [data-testid="bot"]')];
  const groups = () => [...document.querySelectorAll('#sources .qa-turn')];

  function show(k, n) {
    const all = groups();
    if (!all.some(g => +g.dataset.turn === k)) return;
    all.forEach(g => { g.hidden = +g.dataset.turn !== k; });
    bots().forEach((b, i) => b.classList.toggle('qa-selected', i === k));
    if (!n) return;
    const card = document.getElementById(`cite-${k}-${n}`);
    if (!card) return;
    card.open = true;
    const top = card.getBoundingClientRect().top;  // already in sight (a wide screen): the page stays put
    if (top < 0 || top > window.innerHeight - 80) card.scrollIntoView({block: 'start', behavior: 'smooth'});
    card.querySelector('summary').focus({preventScroll: true});
  }

  function decorate() {
    const fr = document.documentElement.lang === 'fr';
    const send = fr ? 'Envoyer la question' : 'Send the question';  // Gradio's send button has no name
    document.querySelectorAll('#question button').forEach(b => {
      if (!b.textContent.trim() && b.getAttribute('aria-label') !== send) b.setAttribute('aria-label', send);
    });
    // Gradio's own names it does not translate
    document.querySelectorAll('button[aria-label]').forEach(b => {
      const en = b.dataset.qaEn || b.getAttribute('aria-label');
      if (!(en in FRENCH)) return;
      b.dataset.qaEn = en;
      const want = fr ? FRENCH[en] : en;
      if (b.getAttribute('aria-label') !== want) { b.setAttribute('aria-label', want); if (b.title) b.title = want; }
    });
    const byTurn = new Map(groups().map(g => [+g.dataset.turn, g]));
    bots().forEach((b, i) => {
      const g = byTurn.get(i);
      if (g && g.dataset.lang && b.getAttribute('lang') !== g.dataset.lang) b.setAttribute('lang', g.dataset.lang);
      if (!g || !g.querySelector('.qa-cite[id]')) return;  // nothing to link to
      const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
      const hits = [];
      while (walker.nextNode()) {
        const t = walker.currentNode;
        if (/\[\d+\]/.test(t.nodeValue) && !t.parentElement.closest('.qa-ref, button, code')) hits.push(t);
      }
      for (const t of hits) {
        const frag = document.createDocumentFragment();
        let last = 0;
        for (const m of t.nodeValue.matchAll(/\[(\d+)\]/g)) {
          if (!document.getElementById(`cite-${i}-${m[1]}`)) continue;
          frag.append(t.nodeValue.slice(last, m.index));
          const btn = document.createElement('button');
          btn.type = 'button';
          btn.className = 'qa-ref';
          btn.dataset.n = m[1];
          btn.textContent = m[0];
          btn.setAttribute('aria-label', `${g.dataset.sourceLabel || 'Source'} ${m[1]}`);
          frag.append(btn);
          last = m.index + m[0].length;
        }
        if (last === 0) continue;
        frag.append(t.nodeValue.slice(last));
        t.replaceWith(frag);
      }
    });
  }

  let shownQuote = null;  // the document view's quote, scrolled to once when it appears
  function toQuote() {
    const q = document.getElementById('qa-doc-quote');
    if (!q || q === shownQuote) return;
    shownQuote = q;
    q.scrollIntoView({block: 'center'});
  }

  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; decorate(); toQuote(); });
  }).observe(document.body, {subtree: true, childList: true, characterData: true});

  document.addEventListener('click', e => {
    const open = e.target.closest('#sources .qa-open');
    if (open) {  // the server renders the document of this answer's citation n (app.py, qa.chat.open_document)
      e.preventDefault();
      trigger('click', {turn: +open.closest('.qa-turn').dataset.turn, n: +open.dataset.n});
      return;
    }
    const ref = e.target.closest('.qa-ref');
    const bot = e.target.closest('#chat [data-testid="bot"]');
    if (!bot) return;
    const k = bots().indexOf(bot);
    if (ref) { e.preventDefault(); e.stopPropagation(); show(k, ref.dataset.n); }
    else if (!e.target.closest('button, a')) show(k);
  }, true);
}
