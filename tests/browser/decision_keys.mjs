// Spec 10: one key per decision, and the next item at once. A patroller
// decides on items of the live patrol list with one key each: f (fine:
// resolved as ok), s (skip: nothing resolved), q (rollback as vandalism),
// g (in good faith), v (rollback as vandalism and warn), each opening the
// next item of the list; then the same keys as a Hebrew layout sends them
// (keydown with the physical key's `code`, "KeyJ", and the Hebrew letter
// as `key`, "ח"). The keys and clicks of "judge and dismiss" and "revert
// and warn" are counted and printed. The wiki's answers to the actions are
// the spec's (page.route); resolving, claiming and escalating are the
// api's.
//
// Then claims between two people: while a patroller holds an item the
// admin sees the holder in place of Claim and takes it over after a
// confirmation; an admin resolving another item the patroller holds is
// asked first and it is done as a take-over, then a resolve. A mention
// notice names the item by its title, links to the message (which the
// link opens and marks) and counts in the tab's title until read. At
// 390×844 the item's Resolve and the resolve form's confirmation are on
// the screen without scrolling, and Esc leaves the form.

import { check, Failure, log, PHONE, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

/** The Hebrew layout's letters on the keys used. */
const HEBREW = { KeyJ: 'ח', KeyK: 'ל', KeyF: 'כ', KeyS: 'ד', KeyQ: '/', KeyG: 'ע', KeyV: 'ה', KeyE: 'ק', KeyR: 'ר', KeyC: 'ב' };
const US = { KeyJ: 'j', KeyK: 'k', KeyF: 'f', KeyS: 's', KeyQ: 'q', KeyG: 'g', KeyV: 'v', KeyE: 'e', KeyR: 'r', KeyC: 'c' };

/**
 * Answers the page's requests for an item's diff, editor and actions as a
 * wiki that reverts and warns would (the machine reaches no wiki); records
 * the actions POSTed.
 */
async function answerWiki(page) {
  const posted = [];
  const json = (route, body) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route((url) => /^\/api\/v1\/items\/[^/]+\/(actions|diff|editor)$/.test(url.pathname), async (route) => {
    const req = route.request();
    const [, raw, what] = /^\/api\/v1\/items\/([^/]+)\/(\w+)$/.exec(new URL(req.url()).pathname);
    const id = decodeURIComponent(raw);
    if (what === 'diff') {
      return json(route, {
        item: id, wiki: 'enwiki', lang: 'en', dir: 'ltr', kind: 'diff', from_rev: 1, to_rev: 2, rev: null, revisions: [2], text: null, cached: false,
        html: '<tr><td class="diff-marker"></td><td class="diff-deletedline"><div>A fine sentence.</div></td><td class="diff-marker"></td><td class="diff-addedline"><div>BUY CHEAP PILLS</div></td></tr>',
      });
    }
    if (what === 'editor') {
      return json(route, {
        user: '192.0.2.1', wiki: 'enwiki', anonymous: true, block: null, recent: [], contributions: [],
        warnings: { level: 0, series: null, window_days: 30, recent: [] }, last_edit_at: Date.now() - 60000,
      });
    }
    if (req.method() === 'GET') {
      return json(route, {
        item: id, wiki: 'enwiki', actions: {
          revert: { offered: true, method: 'rollback', why_not: null },
          warn: { offered: true, series: ['vandalism', 'spam'], level: 0, next_level: 1, report_instead: false, why_not: null },
          tag: { offered: false, why_not: 'only for new pages', criteria: [] },
          ask: { offered: true, why_not: null }, report: { offered: true, board: 'AIV', why_not: null },
          thank: { offered: true, why_not: null }, patrol: { offered: true, why_not: null },
        },
      });
    }
    const body = JSON.parse(req.postData() || '{}');
    posted.push({ id, ...body });
    if (body.action === 'revert') {
      return json(route, { action: 'revert', method: 'rollback', item_state: 'resolved', message: `Rolled back the edits (${body.kind})` });
    }
    if (body.action === 'warn') return json(route, { action: 'warn', level: 1, message: 'Warned at level 1' });
    return json(route, { action: body.action, message: 'Done' });
  });
  return posted;
}

/** Counts the person's keys (not modifiers) and clicks from now on. */
async function countInput(page) {
  await page.evaluate(() => {
    if (!window.__input) {
      window.__input = { keys: 0, clicks: 0 };
      addEventListener('keydown', (e) => { if (!['Shift', 'Control', 'Alt', 'Meta'].includes(e.key)) window.__input.keys++; }, true);
      addEventListener('click', () => { window.__input.clicks++; }, true);
    }
    window.__input.keys = 0;
    window.__input.clicks = 0;
  });
}
const counted = (page) => page.evaluate(() => ({ ...window.__input }));

/**
 * Presses the key at `code`: as the US layout types it (Playwright's
 * keyboard), or as a Hebrew layout does (a keydown with that `code` and
 * the Hebrew letter as `key`, as Chromium sends it there).
 */
async function press(page, code, layout) {
  if (layout === 'us') {
    await page.keyboard.press(US[code]);
    return;
  }
  await page.evaluate(([code, key]) => {
    const target = document.activeElement || document.body;
    const init = { code, key, bubbles: true, cancelable: true, composed: true };
    target.dispatchEvent(new KeyboardEvent('keydown', init));
    target.dispatchEvent(new KeyboardEvent('keyup', init));
  }, [code, HEBREW[code]]);
}

/** The open item's id. */
const openId = (page) => page.locator(tid('item-view')).first().getAttribute('data-item-id').catch(() => null);

/** Waits until the open item is another than `id`, with its details; returns its id. */
async function nextOpened(page, id, what) {
  return until(async () => {
    const now = await openId(page);
    if (!now || now === id) return null;
    const view = page.locator(`${app.viewSel(now)}[data-state="open"]`).first();
    return (await view.count()) ? now : null;
  }, { what: `${what}: the next item to open after ${id} (the open item is ${await openId(page)})` });
}

/** Checks that `next` followed `id` in the list's order (as it was, or as it is now). */
async function followed(page, before, id, next, what) {
  const now = await app.rowIds(page).catch(() => []);
  const after = (order) => order.indexOf(id) !== -1 && order.indexOf(next) > order.indexOf(id);
  check(after(before) || after(now) || !now.includes(id), `${what}: ${next} opened after ${id}, not a later row of the list (${before.slice(0, 8).join(', ')})`);
  const cur = await app.currentRow(page);
  if (cur && cur.id !== next) log(`${what}: the list's keyboard row is ${cur.id}, the opened item ${next} (a row arrived live above it)`);
}

/** Rows nobody holds, in page order. */
function freeRows(page) {
  return page.locator(tid('item-row')).evaluateAll((els) => els
    .filter((e) => e.getClientRects().length && !e.querySelector('[data-testid="claim-holder"]'))
    .map((e) => e.getAttribute('data-item-id')));
}

/** Makes sure the focus is on the page (not in a field), so keys are shortcuts. */
async function unfocus(page) {
  await page.evaluate(() => document.activeElement?.blur?.());
}

async function decisions(t, layout) {
  const p = await t.person(`Decider-${layout}`);
  const page = p.page;
  const posted = await answerWiki(page);
  await app.open(page);
  await app.selectQueue(page, 'patrol');
  await app.waitRows(page, 8, 60000);
  await unfocus(page);

  // Open the first row nobody holds, with the keyboard.
  await press(page, 'KeyJ', layout);
  let first = await until(() => app.currentRow(page), { timeout: 5000, what: `${layout}: KeyJ to make a row current` });
  for (let i = 0; i < 40 && !(await freeRows(page)).includes(first.id); i++) {
    const was = first.id;
    await press(page, 'KeyJ', layout);
    first = await until(async () => { const c = await app.currentRow(page); return c && c.id !== was && c; }, { timeout: 5000, what: `${layout}: KeyJ to move on from ${was}` });
  }
  await page.keyboard.press('Enter');
  await page.locator(`${app.viewSel(first.id)}[data-state="open"]`).first().waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`${layout}: Enter did not open ${first.id}`);
  });
  let id = first.id;
  const measures = {};

  const decide = async (name, code, checkIt) => {
    // The item's actions have answered, so a revert is offered.
    await page.locator(`${app.viewSel(id)} ${tid('act-revert-vandalism')}[data-offered="true"]`).first().waitFor({ timeout: 30000 }).catch(() => {
      throw new Failure(`${layout} ${name}: the actions on ${id} did not load`);
    });
    await unfocus(page);
    const before = await app.rowIds(page);
    await countInput(page);
    const waits = checkIt.before(id);
    await press(page, code, layout);
    await checkIt.after(id, waits);
    const next = await nextOpened(page, id, `${layout} ${name}`);
    await followed(page, before, id, next, `${layout} ${name}`);
    const n = await counted(page);
    measures[name] = n;
    log(`${layout} ${name} (${code}, key ${JSON.stringify(layout === 'us' ? US[code] : HEBREW[code])}): ${id} → ${next}; ${n.keys} key(s), ${n.clicks} click(s)`);
    id = next;
  };

  // f: resolved as fine (ok) by the api.
  await decide('fine', 'KeyF', {
    before: (id) => app.apiCall(page, id, 'resolve'),
    after: async (id, res) => {
      const r = await res.catch(() => null);
      check(r && r.status() === 200, `${layout} f: ${id} was not resolved (${r ? r.status() : 'no request'})`);
      const body = JSON.parse(r.request().postData() || '{}');
      check(body.outcome === 'ok', `${layout} f: resolved as ${body.outcome}, not ok`);
    },
  });
  // s: nothing resolved, the next item opens.
  let resolvedOnSkip = false;
  const onResolve = (r) => { if (/\/resolve$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST') resolvedOnSkip = true; };
  await decide('skip', 'KeyS', {
    before: () => { page.on('response', onResolve); return null; },
    after: () => null,
  });
  page.off('response', onResolve);
  check(!resolvedOnSkip, `${layout} s: skipping resolved an item`);
  // q, g: rolled back (vandalism, good faith).
  for (const [name, code, kind] of [['revert-vandalism', 'KeyQ', 'vandalism'], ['revert-good-faith', 'KeyG', 'good_faith']]) {
    const from = posted.length;
    await decide(name, code, {
      before: () => null,
      after: async (id) => {
        await until(() => posted.slice(from).find((x) => x.id === id && x.action === 'revert'), { what: `${layout} ${code}: a revert of ${id}` });
        const sent = posted.slice(from).find((x) => x.id === id && x.action === 'revert');
        check(sent.kind === kind, `${layout} ${code}: the revert went as ${sent.kind}, not ${kind}`);
        check(typeof sent.token === 'number', `${layout} ${code}: the revert carried no claim token`);
      },
    });
  }
  // v: rolled back as vandalism and warned, then the next item.
  const from = posted.length;
  await decide('revert-and-warn', 'KeyV', {
    before: () => null,
    after: async (id) => {
      await until(() => posted.slice(from).some((x) => x.id === id && x.action === 'warn'), { what: `${layout} v: a revert and a warning of ${id}` });
      const mine = posted.slice(from).filter((x) => x.id === id).map((x) => `${x.action}${x.kind ? `:${x.kind}` : ''}`);
      check(mine.join(' ') === 'revert:vandalism warn', `${layout} v: sent ${mine.join(' ')}, not a revert as vandalism then a warning`);
      check(posted.slice(from).find((x) => x.action === 'warn').series === 'vandalism', `${layout} v: the warning was not in the vandalism series`);
    },
  });

  for (const [name, what] of [['fine', 'judge and dismiss'], ['revert-and-warn', 'revert and warn']]) {
    const m = measures[name];
    console.log(`MEASURE ${layout} "${what}": ${m.keys} key(s), ${m.clicks} click(s)`);
    check(m.keys === 1 && m.clicks === 0, `${layout} "${what}" took ${m.keys} key(s) and ${m.clicks} click(s), not one key`);
  }
  await t.shot(page, `decision-keys-${layout}`);
  await p.context.close();
}

/** Claims between a patroller and an admin; a mention of the admin. */
async function claimsAndMentions(t) {
  const pat = await t.person('Holder');
  const adm = await t.person('Ada', { groups: ['sysop'] });
  for (const p of [pat, adm]) {
    await answerWiki(p.page);
    await app.open(p.page);
    await app.selectQueue(p.page, 'patrol');
  }
  const ids = await until(async () => { const f = await freeRows(pat.page); return f.length >= 3 && f; }, { timeout: 60000, what: 'three rows nobody holds' });
  const [x, y, z] = ids;

  // The patroller holds x; the admin sees the holder where Claim was.
  await app.openItem(pat.page, x);
  const held = app.apiCall(pat.page, x, 'claim');
  await app.button(pat.page, x, 'claim').click();
  check((await held).status() === 200, `Holder could not claim ${x}`);
  await app.showList(adm.page, 'patrol');
  await app.openItem(adm.page, x);
  const holder = app.button(adm.page, x, 'claim-held-by');
  await until(async () => (await holder.isVisible()) && (await holder.innerText()).includes('Holder'), { what: `Ada to see Holder in place of Claim on ${x}` });
  check(!(await app.button(adm.page, x, 'claim').count()), `Ada still sees an active Claim on ${x} while Holder holds it`);
  const takeOver = app.button(adm.page, x, 'take-over');
  await takeOver.click();
  const ask = app.button(adm.page, x, 'take-over-confirm');
  await ask.waitFor({ timeout: WAIT });
  check((await ask.innerText()).includes('Holder'), `the take-over confirmation does not name Holder: ${await ask.innerText()}`);
  const took = app.apiCall(adm.page, x, 'claim');
  await app.button(adm.page, x, 'take-over-yes').click();
  const r = await took;
  check(r.status() === 200, `the take-over answered ${r.status()}: ${await r.text().catch(() => '')}`);
  check(JSON.parse(r.request().postData() || '{}').take_over === true, 'the take-over was not sent with take_over');
  await app.button(adm.page, x, 'release').waitFor({ timeout: WAIT });
  await until(async () => (await app.button(pat.page, x, 'claim-held-by').innerText().catch(() => '')).includes('Ada'), { what: `Holder to see Ada holding ${x}` });
  log(`Ada took ${x} over from Holder after confirming`);

  // The patroller holds y; the admin's f asks first, then takes over and resolves.
  await app.showList(pat.page, 'patrol');
  await app.openItem(pat.page, y);
  const heldY = app.apiCall(pat.page, y, 'claim');
  await app.button(pat.page, y, 'claim').click();
  check((await heldY).status() === 200, `Holder could not claim ${y}`);
  await app.showList(adm.page, 'patrol');
  await app.openItem(adm.page, y);
  await until(async () => (await app.button(adm.page, y, 'claim-held-by').innerText().catch(() => '')).includes('Holder'), { what: `Ada to see Holder holding ${y}` });
  await unfocus(adm.page);
  let resolvedEarly = false;
  const early = (res) => { if (new URL(res.url()).pathname === `/api/v1/items/${y}/resolve`) resolvedEarly = true; };
  adm.page.on('response', early);
  await adm.page.keyboard.press('f');
  const askY = app.button(adm.page, y, 'take-over-confirm');
  await askY.waitFor({ timeout: WAIT });
  adm.page.off('response', early);
  check(!resolvedEarly, `Ada's f resolved ${y} before she confirmed`);
  const claimY = app.apiCall(adm.page, y, 'claim');
  const resolveY = app.apiCall(adm.page, y, 'resolve');
  // The confirmation has the focus: Enter confirms.
  await until(() => askY.evaluate((el) => el.contains(document.activeElement)), { what: 'the focus in the confirmation' });
  await adm.page.keyboard.press('Enter');
  const c = await claimY;
  check(c.status() === 200 && JSON.parse(c.request().postData() || '{}').take_over === true, `the resolve's take-over answered ${c.status()}`);
  const rs = await resolveY;
  check(rs.status() === 200, `the resolve after the take-over answered ${rs.status()}: ${await rs.text().catch(() => '')}`);
  const sent = JSON.parse(rs.request().postData() || '{}');
  const lease = await c.json();
  check(sent.token === lease.token, `the resolve carried token ${sent.token}, not the take-over's ${lease.token}`);
  log(`Ada resolved ${y}, held by Holder, as a take-over then a resolve`);

  // Holder mentions Ada in z's thread; Ada's notice names z's title and links the message.
  await app.showList(pat.page, 'patrol');
  await app.openItem(pat.page, z);
  const title = (await pat.page.locator(`${app.viewSel(z)} ${tid('item-title')}`).first().innerText()).trim();
  await app.showList(adm.page, 'patrol');
  const text = `@Ada have a look (${Date.now()})`;
  const msg = await app.postMessage(pat.page, text);
  const notice = adm.page.locator(`${tid('notice')}[data-kind="mention"]`).first();
  await notice.waitFor({ timeout: WAIT }).catch(() => { throw new Failure('Ada got no mention notice'); });
  const said = (await notice.innerText()).trim();
  check(said.includes(title), `the mention notice does not name ${JSON.stringify(title)}: ${JSON.stringify(said)}`);
  check(!said.includes(z) || title.includes(z), `the mention notice names the item by its id: ${JSON.stringify(said)}`);
  await until(async () => /^\(1\) /.test(await adm.page.title()), { what: async () => `the tab's title to count the unread mention (it is ${JSON.stringify(await adm.page.title())})` });
  const link = notice.locator(tid('notice-link'));
  const href = await link.getAttribute('href');
  check(href.includes(encodeURIComponent(z)) && href.endsWith(`#message-${encodeURIComponent(msg.id)}`), `the notice links ${href}, not the message ${msg.id} of ${z}`);
  await link.click();
  const target = adm.page.locator(`${tid('message')}[data-message-id="${msg.id}"][data-highlighted="true"]`).first();
  await target.waitFor({ state: 'visible', timeout: WAIT }).catch(() => { throw new Failure(`the link did not show message ${msg.id} marked in ${z}`); });
  await until(async () => !/^\(\d+\) /.test(await adm.page.title()), { what: 'the tab title to drop the count once the mention is read' });
  check(!(await adm.page.locator(`${tid('notice')}[data-kind="mention"]`).count()), 'the mention notice stayed after it was read');
  log(`mention: ${JSON.stringify(said)} → ${href}`);
  await t.shot(adm.page, 'decision-keys-mention');
  await pat.context.close();
  await adm.context.close();
}

/** On a phone, the item's actions and the resolve confirmation are on the screen. */
async function phone(t) {
  const p = await t.person('Phone', { viewport: PHONE });
  const page = p.page;
  await answerWiki(page);
  await app.open(page);
  await app.selectQueue(page, 'patrol');
  const [id] = await app.waitRows(page, 1, 60000);
  await app.openItem(page, id);
  const onScreen = async (hook) => {
    const box = await app.button(page, id, hook).boundingBox();
    return box && box.y >= 0 && box.y + box.height <= PHONE.height && box.x >= 0 && box.x + box.width <= PHONE.width ? box : null;
  };
  await until(() => onScreen('resolve'), { what: 'Resolve on the screen of a phone, without scrolling' });
  const scrolled = await page.evaluate(() => document.scrollingElement.scrollTop);
  await app.button(page, id, 'resolve').click();
  await app.button(page, id, 'resolve-confirm').waitFor({ timeout: WAIT });
  const box = await until(() => onScreen('resolve-confirm'), {
    what: async () => `the resolve confirmation inside the 390×844 screen (it is at ${JSON.stringify(await app.button(page, id, 'resolve-confirm').boundingBox())})`,
  });
  log(`phone: the resolve confirmation at y=${Math.round(box.y)}..${Math.round(box.y + box.height)} of ${PHONE.height} (page scrolled ${scrolled}px before)`);
  check(!(await page.locator(`${app.viewSel(id)} .pc-item__thread`).first().isVisible()), 'the phone item shows the thread inline beside its Discussion button');
  await t.shot(page, 'decision-keys-phone-resolve');
  await page.keyboard.press('Escape');
  await until(async () => !(await app.button(page, id, 'resolve-confirm').count()), { what: 'Esc to leave the resolve form' });
  await p.context.close();
}

await spec('decision-keys', async (t) => {
  await decisions(t, 'us');
  await decisions(t, 'hebrew');
  await claimsAndMentions(t);
  await phone(t);
});
