// Spec 4: how the dashboard looks and how it works without a mouse.
//
// Screenshots (under the screenshot dir) of the patrol queue and of an item
// with its thread, on a desktop (1280×800) and a phone (390×844), in
// English and in Hebrew; Hebrew must turn the document right to left.
//
// Then a keyboard-only walkthrough on the desktop: ? shows the shortcuts,
// j/k move through the queue, Enter opens, c claims, / goes to the message
// box, typing and Enter (or Ctrl+Enter) send, r resolves, the outcome is
// chosen and confirmed with keys; every step shows where the focus is.

import { check, DESKTOP, Failure, log, PHONE, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const LANGS = {
  en: { dir: 'ltr', labels: ['en', 'English'] },
  he: { dir: 'rtl', labels: ['he', 'עברית', 'Hebrew'] },
};
const SIZES = { desktop: DESKTOP, phone: PHONE };
const THREAD = 'Looks like vandalism, reverting. / נראה כמו השחתה, משחזר.';

async function screens(t) {
  let item = null;
  for (const lang of Object.keys(LANGS)) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      const p = await t.person(`Viewer-${lang}-${size}`, { viewport });
      const page = p.page;
      await app.open(page);
      const { dir } = await app.setLanguage(page, lang, LANGS[lang].labels);
      check(dir === LANGS[lang].dir, `${lang}: document.dir is ${JSON.stringify(dir)}, not ${LANGS[lang].dir}`);
      await app.selectQueue(page, 'patrol');
      await app.waitRows(page, 3, 30000);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 1) log(`WARN ${size} ${lang}: the queue is ${overflow}px wider than the screen`);
      await t.shot(page, `${size}-${lang}-queue`);

      item ??= (await app.rowIds(page))[0];
      await app.openItem(page, item);
      await t.shot(page, `${size}-${lang}-item`);
      // On phones the thread is a view of its own.
      await app.showThread(page);
      if (lang === 'en' && size === 'desktop') await app.postMessage(page, THREAD);
      await app.waitMessage(page, THREAD);
      const dirNow = await page.evaluate(() => document.dir);
      check(dirNow === LANGS[lang].dir, `${lang}: the item view turned document.dir to ${dirNow}`);
      if (size === 'phone') await t.shot(page, `${size}-${lang}-thread`);
      else await t.shot(page, `${size}-${lang}-item-with-thread`);
      await p.context.close();
    }
  }
}

/**
 * A Large removals item at 1280×800: its message box is wholly on screen
 * once scrolled to (nothing of it cut off by the pane or the window).
 */
async function largeRemovalFits(t) {
  const p = await t.person('Viewer-blanking', { viewport: SIZES.desktop });
  const page = p.page;
  await app.open(page);
  await app.selectQueue(page, 'blanking');
  await app.waitRows(page, 1, 60000);
  const id = (await app.rowIds(page))[0];
  await app.openItem(page, id);
  await app.showThread(page);
  const input = page.locator(`${app.viewSel(id)} ${tid('message-input')}`).first();
  await input.waitFor({ timeout: WAIT });
  await input.scrollIntoViewIfNeeded();
  const box = await input.boundingBox();
  const vp = page.viewportSize();
  check(
    box && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width + 0.5 && box.y + box.height <= vp.height + 0.5,
    `the message box of ${id} is cut off at ${vp.width}×${vp.height}: ${JSON.stringify(box)}`,
  );
  await t.shot(page, 'desktop-en-large-removal');
  await p.context.close();
}

/** The focused element, as a locator, and how it shows focus. */
async function focused(page, what) {
  const f = page.locator(':focus').first();
  check(await f.count(), `${what}: nothing has the focus`);
  const how = await app.focusIndicator(page, f);
  check(how, `${what}: the focused element shows no focus (no outline, box shadow or colour change)`);
  return how;
}

/** Presses Tab until `hook` (or something inside it) has the focus. */
async function tabTo(page, hook, max = 12) {
  const target = page.locator(tid(hook)).first();
  for (let i = 0; i <= max; i++) {
    if (await target.evaluate((el) => el.contains(document.activeElement))) return;
    await page.keyboard.press('Tab');
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Failure(`${max} presses of Tab did not reach [data-testid=${hook}] (focus is on ${at})`);
}

/** Picks `value` in the focused outcome select with arrow keys. */
async function chooseOutcome(page, value) {
  const outcome = page.locator(tid('resolve-outcome')).first();
  const native = await outcome.evaluate((el) => el.tagName === 'SELECT' || !!el.querySelector('select'));
  if (native) {
    for (let i = 0; i < 6 && (await app.chosen(outcome)) !== value; i++) await page.keyboard.press('ArrowDown');
    for (let i = 0; i < 6 && (await app.chosen(outcome)) !== value; i++) await page.keyboard.press('ArrowUp');
  } else {
    // An ARIA combobox (Codex select): open it, walk the options, Enter.
    await page.keyboard.press('Enter');
    for (let i = 0; i < 8; i++) {
      const active = await page.evaluate(() => {
        const id = document.activeElement?.getAttribute('aria-activedescendant');
        return id ? document.getElementById(id)?.textContent.trim().toLowerCase() : '';
      });
      if (active && active.includes(value)) break;
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
  }
  const now = (await app.chosen(outcome)).toLowerCase();
  check(now.includes(value), `the keyboard did not choose the outcome ${value} (it shows ${JSON.stringify(now)})`);
}

async function keyboardWalkthrough(t) {
  const k = await t.person('Keys', { viewport: DESKTOP });
  const page = k.page;
  await app.open(page);
  await app.selectQueue(page, 'patrol');
  const ids = await app.waitRows(page, 3, 30000);
  // From here on: keys only.
  await page.evaluate(() => document.activeElement?.blur?.());

  await page.keyboard.press('?');
  const help = page.locator(tid('shortcuts')).first();
  await help.waitFor({ state: 'visible', timeout: WAIT }).catch(() => {
    throw new Failure('? did not show [data-testid=shortcuts]');
  });
  await t.shot(page, 'keyboard-shortcuts');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden', timeout: WAIT }).catch(() => {
    throw new Failure('Escape did not close the shortcuts dialog');
  });

  const current = (what) =>
    until(() => app.currentRow(page), { timeout: 5000, what: `a current row after ${what}` });
  const rowFocus = async (what) => {
    const cur = await app.currentRow(page);
    const row = page.locator(app.rowSel(cur.id)).first();
    const target = cur.focused ? page.locator(':focus').first() : row;
    const how = await app.focusIndicator(page, target);
    check(how, `${what}: the current row ${cur.id} does not show it is current`);
    return how;
  };
  await page.keyboard.press('j');
  const first = await current('j');
  log(`j: ${first.id} is current (${await rowFocus('j')})`);
  await page.keyboard.press('j');
  const second = await until(async () => {
    const c = await app.currentRow(page);
    return c && c.id !== first.id && c;
  }, { timeout: 5000, what: 'j to move to another row' });
  // The list is live: items may arrive between reads, so the move must be
  // to the next row in the order as it was before or as it is now.
  const now = await app.rowIds(page);
  const next = (order) => order.indexOf(first.id) !== -1 && order.indexOf(second.id) === order.indexOf(first.id) + 1;
  check(next(ids) || next(now), `j moved from ${first.id} to ${second.id}, not to the next row`);
  await t.shot(page, 'keyboard-row-focus');
  await page.keyboard.press('k');
  await until(async () => (await app.currentRow(page))?.id === first.id, { timeout: 5000, what: `k to move back to ${first.id}` });
  await rowFocus('k');

  const id = first.id;
  // The item's details are held back until c has been pressed: c while
  // the item is still loading claims it once it has loaded.
  let letLoad;
  const held = new Promise((resolve) => { letLoad = resolve; });
  const detail = `**/api/v1/items/${id}`;
  await page.route(detail, async (r) => { await held; await r.continue(); });
  await page.keyboard.press('Enter');
  await page.locator(`${app.viewSel(id)}[aria-busy="true"]`).first().waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`Enter on the current row did not open ${id}`);
  });
  const claim = app.apiCall(page, id, 'claim');
  await page.keyboard.press('c');
  letLoad();
  const claimed = await claim.catch(() => null);
  await page.unroute(detail);
  check(claimed?.status() === 200, `c while ${id} was loading did not claim it (${claimed ? claimed.status() : 'no request'})`);
  await app.button(page, id, 'release').waitFor({ timeout: WAIT });

  await page.keyboard.press('/');
  await until(() => page.locator(tid('message-input')).first().evaluate((el) => el.contains(document.activeElement)), {
    timeout: 5000,
    what: '/ to put the focus in the message box',
  });
  log(`/: message box focused (${await focused(page, 'the message box')})`);
  const text = `Reverted with the keyboard only (${Date.now()})`;
  await page.keyboard.type(text);
  const sent = app.waitMessage(page, text, 3000).then(() => 'Enter', () => null);
  await page.keyboard.press('Enter');
  let how = await sent;
  if (!how) {
    await page.keyboard.press('Control+Enter');
    await app.waitMessage(page, text, 5000);
    how = 'Ctrl+Enter';
  }
  log(`message sent with ${how}`);

  // Leave the message box (Escape, else Tab) so that r is a shortcut.
  await page.keyboard.press('Escape');
  const inField = () => page.evaluate(() => !!document.activeElement?.closest('input, textarea, select, [contenteditable="true"]'));
  if (await inField()) {
    log('Escape left the focus in the message box; using Tab');
    for (let i = 0; i < 5 && (await inField()); i++) await page.keyboard.press('Tab');
  }
  await page.keyboard.press('r');
  const outcome = page.locator(tid('resolve-outcome')).first();
  await outcome.waitFor({ state: 'visible', timeout: WAIT }).catch(() => {
    throw new Failure('r did not show the resolve outcome [data-testid=resolve-outcome]');
  });
  await tabTo(page, 'resolve-outcome');
  log(`r: outcome focused (${await focused(page, 'the outcome select')})`);
  await chooseOutcome(page, 'reverted');
  await t.shot(page, 'keyboard-resolve');
  await tabTo(page, 'resolve-confirm');
  log(`confirm focused (${await focused(page, 'the confirm button')})`);
  const resolved = app.apiCall(page, id, 'resolve');
  await page.keyboard.press('Enter');
  const r = await resolved.catch(() => null);
  check(r?.status() === 200, `Enter on confirm did not resolve ${id} (${r ? r.status() : 'no request'})`);
  const body = JSON.parse(r.request().postData() || '{}');
  check(body.outcome === 'reverted', `the resolution sent outcome ${body.outcome}, not reverted`);
  await app.showList(page, 'patrol');
  await until(async () => (await page.locator(app.rowSel(id)).count()) === 0, { what: `${id} to leave the list` });
}

await spec('screens-and-keyboard', async (t) => {
  await screens(t);
  await largeRemovalFits(t);
  await keyboardWalkthrough(t);
});
