// Spec: search finds a message and opens it. A patroller posts a message
// with a word no other message has; another person types that word into
// the header's search box (after `/` put the focus there), the result shows
// it marked (<mark>, as text) and the query language's operators are
// listed; opening the result opens the item with that message scrolled
// to and highlighted. A malformed query shows the server's reason.

import { check, Failure, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

await spec('search-and-open', async (t) => {
  const writer = await t.person('Scribe');
  const finder = await t.person('Finder');
  await app.open(writer.page);
  await app.selectQueue(writer.page, 'patrol');
  const [id] = await app.waitRows(writer.page, 1);
  await app.openItem(writer.page, id);
  const word = `zephyr${Date.now().toString(36)}`;
  const text = `Looks like ${word} vandalism to me`;
  const posted = await app.postMessage(writer.page, text);
  log(`posted ${posted.id} in ${id} with the word ${word}`);

  await app.open(finder.page);
  await app.selectQueue(finder.page, 'patrol');
  await app.waitRows(finder.page, 1);
  // `/` on the list (no message box there) goes to the search box.
  await finder.page.locator('body').click({ position: { x: 5, y: 300 } }).catch(() => {});
  await finder.page.keyboard.press('/');
  await until(() => finder.page.locator(tid('search-input')).first().evaluate((el) => el === document.activeElement), {
    timeout: 5000,
    what: '/ to put the focus in the search box',
  });

  // The index commits on a timer: ask the api (as Finder) until it finds
  // the message, then search once in the page.
  const query = `/api/v1/search?${new URLSearchParams({ q: word })}`;
  let lastAnswer = '';
  await until(async () => {
    const res = await finder.page.request.get(query);
    const text = await res.text();
    lastAnswer = `${res.status()} ${text.slice(0, 300)}`;
    return res.ok() && (JSON.parse(text).results || []).some((r) => r.id === posted.id);
  }, { timeout: WAIT * 2, interval: 250, what: () => `the api to find ${posted.id} for ${word} (last answer: ${lastAnswer})` });
  const result = finder.page.locator(`${tid('search-result')}[data-id="${posted.id}"]`).first();
  const searchBox = finder.page.locator(tid('search-input')).first();
  await searchBox.fill(word);
  const searched = finder.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/search', { timeout: WAIT });
  await searchBox.press('Enter');
  const answered = await searched;
  check(answered.ok(), `the page's search answered ${answered.status()}`);
  await result.waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`the page's search for ${word} does not show ${posted.id}`);
  });
  check(new URL(finder.page.url()).searchParams.get('q') === word, `the results' URL is ${finder.page.url()}`);
  const marks = await result.locator(`${tid('search-snippet')} mark`).allTextContents();
  check(marks.some((m) => m.toLowerCase() === word), `the snippet marks ${JSON.stringify(marks)}, not ${word}`);
  const hint = await finder.page.locator(tid('search-hint')).first().innerText().catch(() => '');
  await finder.page.locator(`${tid('search-hint')} summary`).first().click();
  const ops = await finder.page.locator(`${tid('search-hint')} dt`).allTextContents();
  check(ops.includes('from:Name') && ops.includes('has:link'), `the operators listed: ${JSON.stringify(ops)} (${hint})`);
  await t.shot(finder.page, 'search-results');

  // Opening it: the item, the message marked and on screen.
  await result.locator(tid('search-result-open')).first().click();
  const msg = finder.page.locator(`${tid('message')}[data-message-id="${posted.id}"]`).first();
  await msg.waitFor({ state: 'visible', timeout: WAIT });
  await until(async () => (await msg.getAttribute('data-highlighted')) === 'true', { what: `${posted.id} highlighted` });
  check(new URL(finder.page.url()).pathname.endsWith(`/item/${id}`), `the result opened ${finder.page.url()}`);
  const inView = () => msg.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });
  await until(inView, { timeout: 5000, what: 'the highlighted message on screen' });
  // And is there once the item's panels (above the thread) have answered.
  await finder.page.waitForLoadState('networkidle', { timeout: WAIT }).catch(() => {});
  await until(inView, { timeout: 5000, what: 'the highlighted message on screen once the item\'s panels answered' });
  log(`the result opened ${id} with ${posted.id} highlighted`);

  // A malformed query: the reason.
  const box = finder.page.locator(tid('search-input')).first();
  await box.fill('"unclosed');
  const bad = finder.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/search', { timeout: WAIT });
  await box.press('Enter');
  const res = await bad;
  check(res.status() === 400, `a malformed query answered ${res.status()}`);
  const err = finder.page.locator(`${tid('search-error')}[data-code="bad_query"]`).first();
  await err.waitFor({ timeout: WAIT });
  log(`bad query: ${JSON.stringify(await err.innerText())}`);
});
