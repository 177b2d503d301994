// Spec 2: hostile text. Feed events derived from the recorded corpus carry
// script payloads in their titles, user names, summaries and parsed
// summaries (the Rust harness makes them; the `start-feed` step answers
// with what each item carries), and people post chat messages with such
// payloads, one of them under a hostile user name. Asserted, for the live
// path (items over the WebSocket) and after a reload (items over HTTP):
//   - no dialog opens (every payload calls alert),
//   - no request leaves for another machine,
//   - the payloads show as literal text,
//   - nothing executable reaches the DOM (no on* attributes, no
//     javascript: links, no injected img/script/iframe/svg),
//   - links from parsedcomment keep only href (http or https) and rel,
//   - the CSP header is present and strict, and the app's own code causes
//     no CSP violation (reports that parsing a payload causes, an inline
//     handler or style attribute met by a sanitiser, are counted apart:
//     see Watch.expectHostileHtml in lib/harness.mjs).

import { check, Failure, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const CHAT = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '[click](javascript:alert(1)) javascript:alert(1)',
  '<a href="https://evil.example/x" onclick="alert(1)">evil chat link</a>',
  '{{constructor.constructor(\'alert(1)\')()}} ${alert(1)}',
];
const HOSTILE_NAME = 'Mallory <img src=x onerror=alert(1)>';

/** Everything in the document that could run or load something. */
async function inert(page, where) {
  const found = await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) bad.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value}">`);
      }
    }
    for (const a of document.querySelectorAll('a[href], area[href]')) {
      const p = new URL(a.href, location.href).protocol;
      if (!['http:', 'https:'].includes(p)) bad.push(`link to ${a.getAttribute('href')}`);
    }
    for (const el of document.querySelectorAll('iframe, object, embed, frame, base, form[action^="javascript" i], svg script, math')) {
      bad.push(`<${el.tagName.toLowerCase()}>`);
    }
    for (const img of document.querySelectorAll('img')) {
      if (img.getAttribute('src') === 'x') bad.push('<img src=x>');
    }
    for (const s of document.querySelectorAll('script')) {
      if (!s.src || new URL(s.src).origin !== location.origin) bad.push(`<script>${s.textContent.slice(0, 40)}`);
    }
    return bad;
  });
  check(found.length === 0, () => `${where}: executable markup reached the DOM: ${[...new Set(found)].slice(0, 8).join(', ')}`);
}

/** Whether `text` shows literally inside `locator`. */
async function showsLiterally(locator, text, what) {
  await until(async () => (await locator.innerText()).includes(text), {
    timeout: 5000,
    what: async () => `${what} to show ${JSON.stringify(text)} as text (it shows ${JSON.stringify((await locator.innerText().catch(() => '')).slice(0, 300))})`,
  });
}

/** The links made from an item's parsedcomment. */
async function checkParsedLinks(view, item) {
  const links = await view.locator('a').evaluateAll((els) =>
    els.map((a) => ({ text: a.textContent.trim(), attrs: [...a.attributes].map((x) => [x.name, x.value]) })),
  );
  const names = ['evil link', 'js link', 'wiki link', 'click me'];
  const fromComment = links.filter((l) => names.includes(l.text));
  for (const l of fromComment) {
    const extra = l.attrs.filter(([n]) => !['href', 'rel'].includes(n));
    check(extra.length === 0, `${item.id}: the parsedcomment link "${l.text}" keeps attributes besides href and rel: ${JSON.stringify(extra)}`);
    const href = l.attrs.find(([n]) => n === 'href')?.[1];
    if (href !== undefined) {
      check(/^https?:\/\//i.test(href), `${item.id}: the parsedcomment link "${l.text}" has href ${JSON.stringify(href)}, not an absolute http(s) URL`);
    }
  }
  if ((item.parsedcomment || '').includes('evil link')) {
    const evil = fromComment.find((l) => l.text === 'evil link');
    check(evil, `${item.id}: the parsedcomment link "evil link" is not shown as a link (links shown: ${JSON.stringify(links.map((l) => l.text))})`);
    const href = evil.attrs.find(([n]) => n === 'href')?.[1];
    check(href === 'https://evil.example/x', `${item.id}: "evil link" points to ${href}, not https://evil.example/x`);
    const wiki = fromComment.find((l) => l.text === 'wiki link');
    if (wiki) log(`${item.id}: relative wiki link became ${JSON.stringify(wiki.attrs)}`);
  }
  // The text of dropped or neutralised markup still reads.
  for (const n of names.filter((n) => (item.parsedcomment || '').includes(`>${n}<`))) {
    await showsLiterally(view, n, `${item.id}'s parsed summary`);
  }
}

async function checkItems(page, items, where) {
  for (const item of items) {
    const row = page.locator(app.rowSel(item.id)).first();
    await row.waitFor({ timeout: 30000 }).catch(() => {
      throw new Failure(`${where}: no row for ${item.id} within 30 s`);
    });
    await showsLiterally(row, item.title, `${where}: the row of ${item.id}`);
    const view = await app.openItem(page, item.id);
    await showsLiterally(view, item.title, `${where}: the view of ${item.id}`);
    await showsLiterally(view, item.user, `${where}: the view of ${item.id}`);
    if (!item.parsedcomment) await showsLiterally(view, item.comment, `${where}: the summary of ${item.id}`);
    else await checkParsedLinks(view, item);
    await inert(page, `${where}, ${item.id}`);
    await app.showList(page, 'patrol');
  }
}

await spec('hostile-text', async (t) => {
  const eve = await t.person('Eve');
  const mallory = await t.person(HOSTILE_NAME);

  // The policy comes with the page itself.
  const res = await app.open(eve.page);
  const csp = res.headers()['content-security-policy'] || '';
  log(`CSP: ${csp}`);
  check(csp, 'the dashboard page has no Content-Security-Policy header');
  const scriptSrc = (/(?:^|;)\s*script-src ([^;]*)/.exec(csp) || /(?:^|;)\s*default-src ([^;]*)/.exec(csp) || [])[1] || '';
  check(scriptSrc && !/unsafe-inline|unsafe-eval|\*|data:/.test(scriptSrc), `the CSP lets scripts run from anywhere or inline: script-src ${scriptSrc}`);
  check(/object-src 'none'/.test(csp), 'the CSP does not say object-src \'none\'');
  await app.open(mallory.page);
  await Promise.all([eve, mallory].map((p) => app.selectQueue(p.page, 'patrol')));

  // Up to here the pages showed no hostile HTML: any CSP report so far is
  // the app's own. From here a sanitiser may parse payloads (see
  // Watch.expectHostileHtml); the DOM checks say whether any got through.
  for (const p of [eve, mallory]) p.watch.expectHostileHtml();
  const { items } = await t.step('start-feed');
  check(items?.length, 'the harness sent no hostile items');
  // Live: the items arrive over the WebSocket into open pages.
  await checkItems(eve.page, items, 'live');

  // Chat: Eve posts every payload; Mallory, whose name is hostile, too.
  const target = items[0].id;
  await app.openItem(eve.page, target);
  await app.openItem(mallory.page, target);
  for (const text of CHAT) {
    await app.postMessage(eve.page, text);
    for (const p of [eve, mallory]) {
      const m = await app.waitMessage(p.page, text);
      await showsLiterally(m.locator(tid('message-text')).first(), text, `${p.name}'s message`);
    }
  }
  const fromMallory = `hi from ${HOSTILE_NAME}`;
  await app.postMessage(mallory.page, fromMallory);
  const m = await app.waitMessage(eve.page, fromMallory);
  await showsLiterally(m, HOSTILE_NAME, 'the author of Mallory\'s message');
  // Who is looking names Mallory literally too, where the page shows names.
  const presence = eve.page.locator(tid('presence')).first();
  if (await presence.count()) {
    const names = await presence.innerText();
    log(`presence shows ${JSON.stringify(names)}`);
  }
  await inert(eve.page, 'chat (Eve)');
  await inert(mallory.page, 'chat (Mallory)');
  await t.shot(eve.page, 'hostile-text-thread');

  // Over HTTP: a fresh load renders the same items and thread.
  await eve.page.reload();
  await eve.page.locator(tid('feed-status')).first().waitFor({ timeout: WAIT });
  await app.selectQueue(eve.page, 'patrol');
  await checkItems(eve.page, items, 'after reload');
  await app.openItem(eve.page, target);
  for (const text of CHAT) await app.waitMessage(eve.page, text);
  await inert(eve.page, 'thread after reload');

  // The harness fails the spec on any dialog, request to another machine
  // or CSP violation; report what was checked.
  for (const w of t.watches) {
    const kinds = [...new Set(w.payloadCsp.map((v) => v.kind))].join(', ') || 'none';
    log(`${w.who}: ${w.dialogs.length} dialogs, ${w.external.length} external requests, ${w.csp.length} CSP violations by the app, ${w.payloadCsp.length} blocked while parsing payloads (${kinds})`);
  }
});
