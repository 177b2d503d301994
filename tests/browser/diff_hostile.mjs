// Spec 8: hostile compare output. The item view shows MediaWiki's diff
// rows (`GET /api/v1/items/{id}/diff`, the `html` of action=compare), the
// editor at a glance (`/editor`) and the actions on the wiki (`/actions`),
// all untrusted text from a wiki. The page's requests to those routes are
// answered here (page.route) with script payloads: <script>, <img onerror>,
// javascript: links, <style>, <iframe>, <svg onload>, <object>, <embed>,
// <template>, <noscript>, style= and on* attributes on the cells, the
// lines and the inline changes. Asserted, side by side and inline (and for
// one revision of the episode, and for a page creation):
//   - no dialog opens (every payload calls alert) and no CSP violation is
//     reported (the harness fails the spec on either),
//   - no request leaves for another machine, nor to the payloads' own
//     local URLs (an <img src> that loaded would ask for one),
//   - inside the diff: no element but table, tbody, tr, td, ins, del, div
//     and span; no attribute but class (diff classes) and colspan; so no
//     script, style, iframe, img, a or svg, and no style or on* attribute,
//   - the text of the cells still shows, in the wiki's language and
//     direction (the answer's lang and dir),
//   - the editor's and the actions' texts show literally, and nothing
//     anywhere in the document could run or load something.

import { check, log, PHONE, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

/** Local URLs the payloads point at: the page must never ask for them. */
const TRAPS = ['/trap-img.png', '/trap-frame.html', '/trap-object', '/trap-style.css', '/trap-svg.png', '/trap-embed'];
/** Whether a request asks for what a payload points at. */
function trapped(url) {
  const u = new URL(url);
  return /^\/trap-/.test(u.pathname) || /\/x$/.test(u.pathname) || /evil\.example$/.test(u.hostname);
}

/** A cell's payloads around text that must still show. */
function payload(tag) {
  return [
    `${tag}-A<script>alert(1)</script>`,
    `<img src="${TRAPS[0]}" onerror="alert(1)">${tag}-B`,
    `<img src=x onerror=alert(1)>`,
    `<a href="javascript:alert(1)" onclick="alert(1)">${tag}-C</a>`,
    `<style>@import url(${TRAPS[3]}); body{display:none}</style>`,
    `<iframe src="${TRAPS[1]}" srcdoc="<script>alert(1)</script>">frame</iframe>`,
    `<svg onload="alert(1)"><image href="${TRAPS[4]}"/><text>svgtext</text></svg>`,
    `<object data="${TRAPS[2]}">obj</object><embed src="${TRAPS[5]}">`,
    `<template><img src=x onerror=alert(1)></template><noscript><img src=x onerror=alert(1)>nos</noscript>`,
    `<b onmouseover="alert(1)" style="color:red">${tag}-D</b>`,
  ].join('');
}

/** Diff rows with payloads in every kind of cell and line. */
function hostileRows(tag) {
  const on = ' style="background:url(https://evil.example/bg.png)" onmouseover="alert(1)" onclick="alert(1)"';
  return [
    `<tr><td colspan="2" class="diff-lineno"${on}>Line 1:<img src=x onerror=alert(1)></td><td colspan="2" class="diff-lineno">Line 1:</td></tr>`,
    `<tr><td class="diff-marker" data-marker="<img src=x onerror=alert(1)>"${on}></td>`,
    `<td class="diff-deletedline diff-side-deleted"${on}><div style="position:fixed;inset:0" onclick="alert(1)">${tag}-old ${payload(`${tag}-del`)}`,
    `<del class="diffchange diffchange-inline" onfocus="alert(1)" style="x" tabindex="1">${tag}-removed</del></div></td>`,
    `<td class="diff-marker" data-marker="+"></td>`,
    `<td class="diff-addedline diff-side-added evil-class"${on}><div onclick="alert(1)">${tag}-new ${payload(`${tag}-add`)}`,
    `<ins class="diffchange diffchange-inline" onmouseover="alert(1)" style="x">${tag}-inserted</ins></div></td></tr>`,
    `<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>${tag}-same<img src="${TRAPS[0]}" onerror="alert(1)"></div></td>`,
    `<td class="diff-marker"></td><td class="diff-context diff-side-added"><div>${tag}-same</div></td></tr>`,
    `<tr><td colspan="2" class="diff-empty diff-side-deleted" onclick="alert(1)"></td><td class="diff-marker" data-marker="+"></td>`,
    `<td class="diff-addedline diff-side-added"><div><span class="mw-diff-inline-added" onclick="alert(1)" style="x">${tag}-only-new</span></div></td></tr>`,
    // Namespace confusion last: an unclosed <math> may take what follows.
    `<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>${tag}-math<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
    `</tbody></table><img src="${TRAPS[0]}" onerror="alert(1)"><script>alert(1)</script><table><tbody>`,
  ].join('');
}

const TEXTS = (tag) => [
  `${tag}-old`, `${tag}-removed`, `${tag}-new`, `${tag}-inserted`, `${tag}-same`, `${tag}-only-new`,
  `${tag}-del-A`, `${tag}-del-B`, `${tag}-del-C`, `${tag}-del-D`, `${tag}-add-A`, `${tag}-add-B`, `${tag}-add-C`, `${tag}-add-D`,
  `${tag}-math`,
];
/** Texts of dropped elements: they go with the element. */
const GONE = ['alert', 'svgtext', 'frame', 'obj', 'nos', 'display:none'];

const CREATION = `== <script>alert(1)</script> ==\n<img src="${TRAPS[0]}" onerror="alert(1)">\n{{Hostile|<svg onload=alert(1)>}}`;

const HOSTILE_NAME = 'Mallory<img src=x onerror=alert(1)>';
const HOSTILE_TITLE = '<script>alert(1)</script>Page';
const HOSTILE_COMMENT = '<img src=x onerror=alert(1)> summary';
const HOSTILE_REASON = '<svg onload=alert(1)>reason';
const HOSTILE_WHY = '<a href="javascript:alert(1)">why not</a>';

function editorAnswer() {
  const now = Date.now();
  return {
    user: HOSTILE_NAME, wiki: 'enwiki', anonymous: false, registered_at: now - 400 * 86400000, edit_count: 3,
    groups: ['user', '<b onclick=alert(1)>group</b>'],
    block: { by: HOSTILE_NAME, reason: HOSTILE_REASON, expires_at: null, partial: false },
    recent: [{ wiki: 'enwiki', title: HOSTILE_TITLE, rev_id: 1, at: now - 5000, item: null }],
    last_edit_at: now - 5000,
    contributions: [{ rev_id: 1, title: HOSTILE_TITLE, at: now - 5000, comment: HOSTILE_COMMENT, size_diff: 4, top: true, new: false }],
    warnings: { level: 1, series: '<i>vandalism</i>', window_days: 30, recent: [{ template: '<script>uw</script>', series: 'vandalism', level: 1, at: now - 60000 }] },
    talk_url: 'javascript:alert(1)',
  };
}

function actionsAnswer(id) {
  const no = { offered: false, why_not: HOSTILE_WHY };
  return {
    item: id, wiki: 'enwiki', actions: {
      revert: { ...no, method: 'rollback' }, tag: { ...no, criteria: [] }, warn: { ...no, series: [] },
      ask: no, report: { ...no, board: '<script>alert(1)</script>' }, thank: no, patrol: no,
    },
  };
}

/** Answers the page's requests to the item routes under test for `ids`. */
async function answerHostile(page, diffOf) {
  const json = (route, body) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route((url) => /^\/api\/v1\/items\/[^/]+\/(diff|editor|actions)$/.test(url.pathname), async (route) => {
    const url = new URL(route.request().url());
    const [, id, what] = /^\/api\/v1\/items\/([^/]+)\/(\w+)$/.exec(url.pathname);
    if (what === 'editor') return json(route, editorAnswer());
    if (what === 'actions') return json(route, actionsAnswer(id));
    const rev = url.searchParams.get('rev');
    return json(route, diffOf(decodeURIComponent(id), rev === null ? null : Number(rev)));
  });
}

/** What in the diff container is outside the allow-list, and what shows. */
async function audit(page, where) {
  const box = page.locator(tid('diff-content')).first();
  await box.waitFor({ timeout: WAIT });
  const found = await box.evaluate((root) => {
    const ELEMENTS = new Set(['table', 'tbody', 'tr', 'td', 'ins', 'del', 'div', 'span']);
    const bad = [];
    for (const el of root.querySelectorAll('*')) {
      const tag = el.localName;
      if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml' || !ELEMENTS.has(tag)) bad.push(`<${tag}>`);
      for (const a of el.attributes) {
        if (a.name === 'class' || (a.name === 'colspan' && tag === 'td')) continue;
        bad.push(`<${tag} ${a.name}="${a.value.slice(0, 40)}">`);
      }
      if (el.className && /evil/.test(el.className)) bad.push(`<${tag} class="${el.className}">`);
    }
    for (const sel of ['script', 'style', 'iframe', 'img', 'a', 'svg', 'object', 'embed', 'math', 'template', 'noscript', '[style]']) {
      if (root.querySelector(sel)) bad.push(`${sel} inside the diff`);
    }
    return {
      bad,
      text: root.innerText,
      lang: root.getAttribute('lang'),
      dir: root.getAttribute('dir'),
      layout: root.getAttribute('data-layout'),
      rows: root.querySelectorAll('tr').length,
    };
  });
  check(found.bad.length === 0, `${where}: the diff holds what the allow-list does not: ${[...new Set(found.bad)].slice(0, 10).join(', ')}`);
  check(found.lang === 'he' && found.dir === 'rtl', `${where}: the diff is not in the answer's language and direction (lang=${found.lang}, dir=${found.dir})`);
  check(found.rows > 0, `${where}: the diff shows no rows`);
  log(`${where}: ${found.layout}, ${found.rows} rows, nothing outside the allow-list`);
  return found;
}

/** Everything in the document that could run or load something. */
async function inert(page, where) {
  const found = await page.evaluate((traps) => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(`<${el.tagName.toLowerCase()} ${a.name}>`);
    }
    for (const a of document.querySelectorAll('a[href]')) {
      const p = new URL(a.href, location.href).protocol;
      if (!['http:', 'https:'].includes(p)) bad.push(`link to ${a.getAttribute('href')}`);
    }
    for (const el of document.querySelectorAll('iframe, object, embed, frame, base, math, svg script, svg image')) bad.push(`<${el.tagName.toLowerCase()}>`);
    for (const img of document.querySelectorAll('img')) {
      const src = img.getAttribute('src') || '';
      if (src === 'x' || traps.some((t) => src.includes(t))) bad.push(`<img src=${src}>`);
    }
    for (const s of document.querySelectorAll('script')) {
      if (!s.src || new URL(s.src).origin !== location.origin) bad.push(`<script>${s.textContent.slice(0, 40)}`);
    }
    for (const s of document.querySelectorAll('style')) {
      if (/trap|display:none/.test(s.textContent)) bad.push('<style> from a payload');
    }
    return bad;
  }, TRAPS);
  check(found.length === 0, `${where}: executable markup reached the DOM: ${[...new Set(found)].slice(0, 8).join(', ')}`);
}

async function showsAll(page, texts, where) {
  const box = page.locator(tid('diff-content')).first();
  await until(async () => {
    const shown = await box.innerText();
    return texts.every((x) => shown.includes(x));
  }, {
    timeout: 5000,
    what: async () => {
      const shown = await box.innerText().catch(() => '');
      return `${where}: the cells' text (${JSON.stringify(texts.filter((x) => !shown.includes(x)))} missing)`;
    },
  });
  const shown = await box.innerText();
  const leaked = GONE.filter((x) => shown.includes(x));
  check(leaked.length === 0, `${where}: the text of dropped elements shows: ${JSON.stringify(leaked)}`);
}

/** Whether `text` shows literally inside `locator`. */
async function literally(locator, text, what) {
  await until(async () => (await locator.innerText()).includes(text), {
    timeout: 5000,
    what: async () => `${what} to show ${JSON.stringify(text)} as text (it shows ${JSON.stringify((await locator.innerText().catch(() => '')).slice(0, 300))})`,
  });
}

await spec('diff-hostile', async (t) => {
  const p = await t.person('Differ');
  const page = p.page;
  const asked = [];
  page.on('request', (r) => asked.push(r.url()));

  await app.open(page);
  await app.selectQueue(page, 'patrol');
  const [first, second] = await app.waitRows(page, 2, 30000);
  const diffOf = (id, rev) => {
    const base = { item: id, wiki: 'enwiki', lang: 'he', dir: 'rtl', rev, revisions: [702, 701], cached: false };
    if (id === second) {
      return { ...base, kind: 'creation', from_rev: null, to_rev: 701, revisions: [701], html: null, text: CREATION };
    }
    const tag = rev === null ? 'whole' : `rev${rev}`;
    return { ...base, kind: 'diff', from_rev: rev === null ? 700 : rev - 1, to_rev: rev ?? 702, html: hostileRows(tag), text: null };
  };
  await answerHostile(page, diffOf);

  // Side by side, as the wiki lays the diff out.
  await app.openItem(page, first);
  await audit(page, 'side by side');
  await showsAll(page, TEXTS('whole'), 'side by side');
  check((await page.locator(tid('diff-content')).getAttribute('data-layout')) === 'side', 'a desktop page does not start side by side');
  await page.locator(tid('diff')).first().scrollIntoViewIfNeeded();
  await t.shot(page, 'diff-hostile-side');

  // Inline, with the keyboard: the same rows, each line marked.
  await page.evaluate(() => document.activeElement?.blur?.());
  await page.keyboard.press('l');
  await until(async () => (await page.locator(tid('diff-content')).getAttribute('data-layout')) === 'inline', { what: 'l to show the diff inline' });
  const inline = await audit(page, 'inline');
  await showsAll(page, TEXTS('whole'), 'inline');
  check(inline.text.includes('\u2212') && inline.text.includes('+'), 'the inline diff does not mark removed and added lines');
  await page.locator(tid('diff')).first().scrollIntoViewIfNeeded();
  await t.shot(page, 'diff-hostile-inline');

  // One revision of the episode (n), inline and side by side.
  await page.keyboard.press('n');
  await until(async () => (await page.locator(tid('diff-step')).getAttribute('data-rev')) === '702', { what: 'n to show revision 702' });
  await showsAll(page, TEXTS('rev702'), 'revision 702, inline');
  await audit(page, 'revision 702, inline');
  await page.locator(`${tid('diff-layout')} button`).first().click();
  await until(async () => (await page.locator(tid('diff-content')).getAttribute('data-layout')) === 'side', { what: 'the toggle to show the diff side by side' });
  await audit(page, 'revision 702, side by side');
  await showsAll(page, TEXTS('rev702'), 'revision 702, side by side');

  // The editor and the actions: the wiki's texts, literally.
  const editor = page.locator(tid('editor')).first();
  for (const s of [HOSTILE_NAME, HOSTILE_TITLE, HOSTILE_COMMENT, HOSTILE_REASON, '<script>uw</script>']) {
    await literally(editor, s, 'the editor panel');
  }
  check(!(await editor.locator('a[href^="javascript"]').count()), 'the editor panel links a javascript: talk page');
  const actions = page.locator(tid('wiki-actions')).first();
  await literally(actions, HOSTILE_WHY, 'the reasons under the actions');
  await inert(page, `item ${first}`);

  // A page creation: its wikitext, as text.
  await app.showList(page, 'patrol');
  await app.openItem(page, second);
  const created = page.locator(tid('diff-creation')).first();
  await created.waitFor({ timeout: WAIT });
  check((await created.textContent()) === CREATION, `the new page's text does not show literally: ${JSON.stringify(await created.textContent())}`);
  check(!(await created.locator('*').count()), 'the new page\'s text holds elements');
  check((await created.getAttribute('lang')) === 'he' && (await created.getAttribute('dir')) === 'rtl', 'the new page\'s text is not in the answer\'s language and direction');
  await inert(page, `item ${second}`);

  // A phone, inline by default.
  const phone = await t.person('Differ-phone', { viewport: PHONE });
  const phoneAsked = [];
  phone.page.on('request', (r) => phoneAsked.push(r.url()));
  await answerHostile(phone.page, diffOf);
  await app.open(phone.page, `/queue/patrol/item/${first}`);
  await phone.page.locator(app.viewSel(first)).first().waitFor({ timeout: WAIT });
  const onPhone = await audit(phone.page, 'phone');
  check(onPhone.layout === 'inline', `a phone does not start inline (${onPhone.layout})`);
  await showsAll(phone.page, TEXTS('whole'), 'phone');
  await inert(phone.page, 'phone');
  await phone.page.locator(tid('diff')).first().scrollIntoViewIfNeeded();
  await t.shot(phone.page, 'diff-hostile-phone');

  const traps = [...asked, ...phoneAsked].filter(trapped);
  check(traps.length === 0, `the page asked for what the payloads point at: ${[...new Set(traps)].slice(0, 5).join(', ')}`);
  for (const w of t.watches) {
    log(`${w.who}: ${w.dialogs.length} dialogs, ${w.external.length} external requests, ${w.csp.length} CSP violations`);
  }
});
