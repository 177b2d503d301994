// The person's interface language is kept with them, the same on every
// device: Lena chooses French in the header on her first device (the page
// stores it with `PUT /api/v1/me/preferences`); she signs out there and the
// page stays French; on a second device whose browser asks for German she
// signs in and the page turns French, with the api's error texts said in
// French from their code.

import { readFileSync } from 'node:fs';

import { check, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const lang = (page) => page.evaluate(() => document.documentElement.lang);

await spec('language_kept', async (t) => {
  // First device: an English browser.
  const a = await t.person('Lena', { locale: 'en-US' });
  await app.open(a.page);
  check((await lang(a.page)) === 'en', `the first device starts in ${await lang(a.page)}, not en`);
  const stored = a.page.waitForResponse(
    (r) => r.url().endsWith('/api/v1/me/preferences') && r.request().method() === 'PUT',
    { timeout: WAIT },
  );
  const { dir } = await app.setLanguage(a.page, 'fr', ['fr', 'français']);
  check(dir === 'ltr', `French turned the page ${dir}`);
  const res = await stored;
  check(res.ok(), `storing the language answered ${res.status()}`);
  check(JSON.parse(res.request().postData() || '{}').language === 'fr', 'the page stored another language than fr');
  const signOut = a.page.locator(tid('sign-out')).first();
  await signOut.waitFor({ timeout: WAIT });
  await signOut.click();
  await until(async () => (await a.page.request.get('/api/v1/me')).status() === 401, { what: 'the session to end' });
  check((await lang(a.page)) === 'fr', `signed out, the page is in ${await lang(a.page)}`);
  // Opened again signed out, on the same device: still French.
  await a.page.goto(`${t.env.base}/`);
  await until(async () => (await lang(a.page)) === 'fr', { what: 'French after sign-out and reload' });

  // Second device: a German browser, nothing stored in it.
  const b = await t.person('Lena', { locale: 'de-DE' });
  await app.open(b.page);
  await until(async () => (await lang(b.page)) === 'fr', {
    what: async () => `the second device in French once signed in (it is ${await lang(b.page)})`,
  });
  const select = b.page.locator(tid('language-select')).first();
  check((await app.chosen(select)) === 'fr' || (await app.chosen(select)) === 'français', 'the language menu does not show French');
  // An error from the api is said in French from its code: a search the
  // api cannot read (a month 13).
  const typed = 'before:2026-13-01';
  await b.page.goto(`${t.env.base}/search?q=${encodeURIComponent(typed)}`);
  const err = b.page.locator(tid('search-error')).first();
  await err.waitFor({ timeout: WAIT });
  const text = (await err.textContent()) || '';
  check(!/not a day/.test(text), `the search error is the api's English: ${text}`);
  check(text.includes(typed), `the search error does not name what was typed: ${text}`);
  // The French messages for a query that cannot be read and for its
  // reason (`not_a_day`, naming what was typed).
  const fr = JSON.parse(readFileSync(new URL('../../dashboard/i18n/fr.json', import.meta.url), 'utf8'));
  const want = fr['patrolchat-search-bad-query'].replace('$1', fr['patrolchat-search-bad-not-a-day'].replace('$1', typed));
  const squash = (s) => s.replace(/\s+/g, ' ').trim();
  check(squash(text) === squash(want), `the search error is not the French text ${JSON.stringify(want)}: ${JSON.stringify(text)}`);
  const errLang = await err.evaluate((el) => el.closest('[lang]')?.getAttribute('lang'));
  check(errLang === 'fr', `the search error is marked lang=${errLang}`);
  log(`the search error, in French: ${text.trim()}`);
  await t.shot(b.page, 'language-kept-second-device');
});
