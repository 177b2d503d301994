// How the specs work the dashboard: only through its stable hooks
// (data-testid attributes), the keyboard and what a person sees. Layout
// choices (a queue as a tab or as a section, the item view beside the list
// or instead of it, native or Codex selects) are handled here, once.

import { check, env, Failure, log, tid, until, WAIT } from './harness.mjs';

/** CSS for the row of item `id`. */
export const rowSel = (id) => `${tid('item-row')}[data-item-id="${id}"]`;
/** CSS for the item view of item `id`. */
export const viewSel = (id) => `${tid('item-view')}[data-item-id="${id}"]`;
/** CSS for the queue of `workflow`. */
export const queueSel = (wf) => `${tid('queue')}[data-workflow="${wf}"]`;

/** Opens the dashboard and waits until it shows the feed status. */
export async function open(page, path = '/') {
  const res = await page.goto(`${env.base}${path}`);
  check(res && res.ok(), `GET ${path} answered ${res?.status()}`);
  await page.locator(tid('feed-status')).first().waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`the dashboard at ${path} shows no [data-testid=feed-status] within ${WAIT} ms`);
  });
  return res;
}

/** The feed status the page shows (`data-state`). */
export async function feedState(page) {
  return page.locator(tid('feed-status')).first().getAttribute('data-state');
}

/** Waits until the page's feed status is `state`. */
export async function feedStateIs(page, state, timeout = WAIT) {
  await until(async () => (await feedState(page)) === state, {
    timeout,
    what: async () => `feed-status data-state="${state}" (it is "${await feedState(page).catch(() => '?')}")`,
  });
}

/**
 * Makes the page show the items of `workflow`: a queue that holds its rows
 * is left as it is; a queue that is a link or tab (or holds one) is
 * followed.
 */
export async function selectQueue(page, wf) {
  const q = page.locator(queueSel(wf)).first();
  await q.waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`no queue [data-testid=queue][data-workflow=${wf}] within ${WAIT} ms`);
  });
  const kind = await q.evaluate((el) => {
    const role = el.getAttribute('role') || '';
    if (['A', 'BUTTON'].includes(el.tagName) || ['link', 'tab', 'button', 'option', 'menuitem'].includes(role)) {
      return 'clickable';
    }
    if (el.querySelector('[data-testid="item-row"]')) return 'container';
    return el.querySelector('a[href], button, [role="tab"], [role="link"]') ? 'holds-link' : 'container';
  });
  if (kind === 'clickable') await q.click();
  else if (kind === 'holds-link') await q.locator('a[href], button, [role="tab"], [role="link"]').first().click();
}

/** Ids of the visible rows, in page order. */
export async function rowIds(page) {
  return page.locator(tid('item-row')).evaluateAll((els) =>
    els.filter((e) => e.offsetParent !== null || e.getClientRects().length).map((e) => e.getAttribute('data-item-id')),
  );
}

/** Waits until at least `n` rows show; returns their ids. */
export async function waitRows(page, n = 1, timeout = WAIT) {
  return until(async () => {
    const ids = await rowIds(page);
    return ids.length >= n && ids;
  }, { timeout, what: `${n} item row(s)` });
}

/** Opens item `id` from its row (a click), waits for its item view. */
export async function openItem(page, id) {
  const row = page.locator(rowSel(id)).first();
  await row.waitFor({ timeout: WAIT });
  const link = row.locator('a[href]').first();
  if (await link.count()) await link.click();
  else await row.click();
  await page.locator(viewSel(id)).first().waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`clicking the row of ${id} did not show [data-testid=item-view][data-item-id=${id}]`);
  });
  return page.locator(viewSel(id)).first();
}

/**
 * Makes the list visible again when the item view took its place (a
 * phone layout, or a route of its own): back in history, without reload.
 */
export async function showList(page, wf) {
  if (await page.locator(queueSel(wf)).first().isVisible()) return;
  await page.goBack();
  await page.locator(queueSel(wf)).first().waitFor({ timeout: WAIT });
}

/**
 * Chooses `value` in a select hook: a native <select> (by value, then by
 * label) or a Codex/ARIA combobox (opened, then the option whose value or
 * text matches one of `labels`).
 */
export async function choose(locator, value, labels = [value]) {
  const native = await locator.evaluate((el) => el.tagName === 'SELECT' || !!el.querySelector('select'));
  if (native) {
    const sel = (await locator.evaluate((el) => el.tagName === 'SELECT')) ? locator : locator.locator('select').first();
    try {
      await sel.selectOption(value, { timeout: 2000 });
    } catch {
      await sel.selectOption({ label: labels.find(Boolean) }, { timeout: 2000 });
    }
    return;
  }
  await locator.click();
  const page = locator.page();
  const options = page.locator('[role="option"]');
  await options.first().waitFor({ timeout: WAIT });
  const texts = await options.evaluateAll((els) =>
    els.map((e) => ({ text: (e.textContent || '').trim().toLowerCase(), value: e.getAttribute('data-value') || e.getAttribute('value') || '' })),
  );
  const wanted = [value, ...labels].map((s) => s.toLowerCase());
  let i = texts.findIndex((o) => wanted.includes(o.value.toLowerCase()) || wanted.includes(o.text));
  if (i < 0) i = texts.findIndex((o) => wanted.some((w) => o.text.includes(w)));
  check(i >= 0, `no option ${JSON.stringify(wanted)} among ${JSON.stringify(texts.map((o) => o.text))}`);
  await options.nth(i).click();
}

/** The current value of a select hook (native value or shown text). */
export async function chosen(locator) {
  return locator.evaluate((el) => {
    const s = el.tagName === 'SELECT' ? el : el.querySelector('select');
    if (s) return s.value;
    return (el.getAttribute('data-value') || el.textContent || '').trim();
  });
}

/** Posts `text` in the open item's thread with the mouse; waits for the 201. */
export async function postMessage(page, text) {
  const input = page.locator(tid('message-input')).first();
  const field = (await input.evaluate((el) => ['TEXTAREA', 'INPUT'].includes(el.tagName))) ? input : input.locator('textarea, input').first();
  await field.fill(text);
  const posted = page.waitForResponse((r) => /\/messages$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST', { timeout: WAIT });
  await page.locator(tid('message-send')).first().click();
  const res = await posted;
  check(res.status() === 201, `posting a message answered ${res.status()}: ${await res.text().catch(() => '')}`);
  return res.json();
}

/**
 * Waits until a message whose text is exactly `text` shows; returns its
 * locator (by data-message-id).
 */
export async function waitMessage(page, text, timeout = WAIT) {
  const find = () =>
    page.evaluate((text) => {
      for (const m of document.querySelectorAll('[data-testid="message"]')) {
        const body = m.querySelector('[data-testid="message-text"]');
        if (body && body.textContent.trim() === text && m.getClientRects().length) return m.getAttribute('data-message-id');
      }
      return null;
    }, text);
  const id = await until(find, {
    timeout,
    what: async () =>
      `a message with the text ${JSON.stringify(text)} (messages shown: ${JSON.stringify(await page.locator(tid('message-text')).allTextContents().catch(() => []))})`,
  });
  const m = page.locator(`${tid('message')}[data-message-id="${id}"]`).first();
  await m.waitFor({ state: 'visible', timeout });
  return m;
}

/**
 * Whether the row of `id` is in the list, scrolling a virtualised list
 * (which renders only the rows in view) through its whole height to find
 * it, and back.
 */
export async function rowShown(page, id) {
  if (await page.locator(rowSel(id)).count()) return true;
  return page.evaluate(async (id) => {
    const sel = `[data-testid="item-row"][data-item-id="${CSS.escape(id)}"]`;
    let box = document.querySelector('[data-testid="item-row"]')?.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
    if (!box) return false;
    const start = box.scrollTop;
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    let found = false;
    for (let top = 0; top <= box.scrollHeight && !found; top += Math.max(40, box.clientHeight / 2)) {
      box.scrollTop = top;
      await frame();
      found = !!document.querySelector(sel);
    }
    box.scrollTop = start;
    await frame();
    return found;
  }, id);
}

/**
 * Shows the thread of the open item: on wide screens it is beside the
 * item; on phones it is a view of its own, reached with the "/" shortcut.
 */
export async function showThread(page) {
  const box = page.locator(tid('message-input')).first();
  if (await box.isVisible()) return;
  await page.evaluate(() => document.activeElement?.blur?.());
  await page.keyboard.press('/');
  await box.waitFor({ state: 'visible', timeout: WAIT }).catch(() => {
    throw new Failure('"/" did not show the thread with its message box');
  });
}

/** The notice text, once one shows. */
export async function noticeText(page, timeout = WAIT) {
  const n = page.locator(tid('notice')).filter({ hasText: /\S/ }).first();
  await n.waitFor({ timeout }).catch(() => {
    throw new Failure(`no [data-testid=notice] with text within ${timeout} ms`);
  });
  return (await n.innerText()).trim();
}

/** A button hook inside the item view of `id`. */
export function button(page, id, hook) {
  return page.locator(`${viewSel(id)} ${tid(hook)}`).first();
}

/** Resolves the open item `id` with `outcome` by mouse; waits for the 200. */
export async function resolve(page, id, outcome = 'ok') {
  await button(page, id, 'resolve').click();
  const sel = page.locator(tid('resolve-outcome')).first();
  await sel.waitFor({ timeout: WAIT });
  await choose(sel, outcome);
  const done = page.waitForResponse((r) => r.url().endsWith(`/items/${id}/resolve`) && r.request().method() === 'POST', { timeout: WAIT });
  await page.locator(tid('resolve-confirm')).first().click();
  const res = await done;
  check(res.status() === 200, `resolving ${id} answered ${res.status()}: ${await res.text().catch(() => '')}`);
}

/** Waits for the POST to `/items/<id>/<action>` and returns its response. */
export function apiCall(page, id, action) {
  return page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/items/${id}/${action}` && r.request().method() === 'POST',
    { timeout: WAIT },
  );
}

/**
 * Switches the page to `lang` (en, he): with the language select when the
 * page is not in it yet. Returns {lang, dir} of the document.
 */
export async function setLanguage(page, lang, labels) {
  const now = await page.evaluate(() => document.documentElement.lang);
  if (!now || !now.toLowerCase().startsWith(lang)) {
    const sel = page.locator(tid('language-select')).first();
    await sel.waitFor({ timeout: WAIT }).catch(() => {
      throw new Failure(`no [data-testid=language-select] to switch to ${lang}`);
    });
    await choose(sel, lang, labels);
    await until(async () => (await page.evaluate(() => document.documentElement.lang)).toLowerCase().startsWith(lang), {
      what: `<html lang="${lang}"> after choosing ${lang}`,
    });
  }
  return page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.dir }));
}

/**
 * How `locator`'s element shows that it has the focus (or, for an item
 * row, that it is the keyboard's current row), or null when nothing shows.
 *
 * Seen as shown: a non-transparent outline, or a style that differs from
 * the same element without focus (read after blurring it, then focused
 * again as by the keyboard), or, for a row, from the other rows. CSS
 * transitions are finished before each reading.
 */
export async function focusIndicator(page, locator) {
  return locator.evaluate(async (el) => {
    const PROPS = [
      'boxShadow', 'outlineStyle', 'outlineWidth', 'outlineColor', 'backgroundColor', 'color',
      'borderTopColor', 'borderRightColor', 'borderBottomColor', 'borderLeftColor',
      'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'textDecorationLine',
    ];
    const clear = (c) => c === 'transparent' || /^rgba\(.*,\s*0\)$/.test(c);
    const settle = async () => {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      for (const a of el.getAnimations({ subtree: true })) {
        try {
          a.finish();
        } catch {
          // infinite animations cannot finish; they are no focus sign anyway
        }
      }
    };
    const read = (node) => {
      const cs = getComputedStyle(node);
      return Object.fromEntries(PROPS.map((p) => [p, cs[p]]));
    };
    const diff = (a, b) => PROPS.filter((p) => a[p] !== b[p] && !(p.endsWith('Color') && clear(a[p]) && clear(b[p])));
    const describe = (now, then, props) => props.map((p) => `${p} ${then[p]} → ${now[p]}`).join('; ');

    if (el === document.activeElement) {
      await settle();
      const focused = read(el);
      if (focused.outlineStyle !== 'none' && parseFloat(focused.outlineWidth) > 0 && !clear(focused.outlineColor)) {
        return `outline ${focused.outlineWidth} ${focused.outlineStyle} ${focused.outlineColor}`;
      }
      el.blur();
      await settle();
      const blurred = read(el);
      el.focus({ focusVisible: true });
      await settle();
      // A transparent outline (kept for forced-colours modes) shows nothing.
      const changed = diff(focused, blurred).filter((p) => !(p.startsWith('outline') && clear(focused.outlineColor)));
      return changed.length ? describe(focused, blurred, changed.slice(0, 3)) : null;
    }
    const row = el.closest('[data-testid="item-row"]');
    if (!row) return null;
    await settle();
    const other = [...document.querySelectorAll('[data-testid="item-row"]')].find((r) => r !== row && r.getAttribute('data-current') !== 'true');
    if (!other) return null;
    const mine = read(row);
    const theirs = read(other);
    const changed = diff(mine, theirs).filter((p) => !['color'].includes(p));
    return changed.length ? describe(mine, theirs, changed.slice(0, 3)) : null;
  });
}

/**
 * The item row that is current for the keyboard: the row holding the
 * focus, else one marked aria-selected / aria-current / data-current.
 */
export async function currentRow(page) {
  return page.evaluate(() => {
    const active = document.activeElement;
    const focused = active && active.closest && active.closest('[data-testid="item-row"]');
    const row =
      focused ||
      document.querySelector(
        '[data-testid="item-row"][aria-selected="true"], [data-testid="item-row"][aria-current]:not([aria-current="false"]), [data-testid="item-row"][data-current="true"], [data-testid="item-row"] [aria-selected="true"]',
      );
    const r = row && (row.closest('[data-testid="item-row"]') || row);
    return r ? { id: r.getAttribute('data-item-id'), focused: !!focused } : null;
  });
}

/** Logs and returns `x`. */
export function note(what, x) {
  log(what, typeof x === 'string' ? x : JSON.stringify(x));
  return x;
}
