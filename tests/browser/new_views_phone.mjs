// Spec: search, the inbox and conversations at 390×844, in English and in
// Hebrew (right to left): no element of the page is wider than the screen
// or sticks out of it on either side (visually hidden text aside), the
// header keeps its search box and inbox link on screen, and Hebrew turns the
// page right to left. Screenshots of each.

import { check, log, PHONE, spec, tid, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const VIEWS = [
  ['search', '/search?q=vandal'],
  ['inbox', '/inbox'],
  ['conversations', '/conversations'],
];

/** Elements that stick out of the screen: `[{tag, cls, left, right}]`. */
function outside() {
  const w = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const s = getComputedStyle(el);
    if (s.position === 'absolute' && (s.clipPath.includes('inset') || s.clip !== 'auto')) continue;
    if (el.closest('.pc-visually-hidden, .pc-skip')) continue;
    if (r.right > w + 1 || r.left < -1) {
      out.push({ tag: el.tagName, cls: String(el.className).slice(0, 60), testid: el.getAttribute('data-testid'), left: Math.round(r.left), right: Math.round(r.right) });
    }
  }
  return { width: w, scroll: document.documentElement.scrollWidth, out: out.slice(0, 8) };
}

await spec('new-views-phone', async (t) => {
  for (const lang of ['en', 'he']) {
    const p = await t.person(`Phone${lang}`, { viewport: PHONE, locale: lang === 'he' ? 'he-IL' : 'en-US' });
    for (const [name, path] of VIEWS) {
      await app.open(p.page, `${path}${path.includes('?') ? '&' : '?'}uselang=${lang}`);
      await p.page.locator(tid('search-input')).first().waitFor({ timeout: WAIT });
      await p.page.locator(tid(name === 'search' ? 'search-hint' : name === 'inbox' ? 'notify-settings' : 'conversation-start')).first().waitFor({ timeout: WAIT });
      const dir = await p.page.evaluate(() => document.documentElement.dir);
      check(dir === (lang === 'he' ? 'rtl' : 'ltr'), `${name} in ${lang}: the page's direction is ${dir}`);
      const o = await p.page.evaluate(outside);
      check(o.scroll <= o.width + 1 && o.out.length === 0, `${name} in ${lang} at 390 px: the page is ${o.scroll}px wide for ${o.width}px; outside: ${JSON.stringify(o.out)}`);
      for (const hook of ['search-input', 'inbox-link']) {
        const box = await p.page.locator(tid(hook)).first().boundingBox();
        check(box && box.x >= 0 && box.x + box.width <= o.width + 1, `${name} in ${lang}: ${hook} is off the screen (${JSON.stringify(box)})`);
      }
      await t.shot(p.page, `phone-${name}-${lang}`);
      log(`${name} in ${lang}: fits in ${o.width}px`);
    }
  }
});
