// Spec: what an admin needs reaches the admin. A patroller escalates an
// item to the block queue with a reason; the admin's row and item show the
// reason and who escalated, the wiki's Special:Block page is one click away
// (a link with rel=noopener), the resolve form offers the block queue's
// outcomes and the admin resolves it as "blocked"; the patroller's item
// then links to the escalation and says how it ended. Then the patroller
// reports one of the admin's messages: the admin's reports count rises
// live, the report shows the message's text with its neighbours, the admin
// hides it from the report, resolves it as "action taken", and the
// patroller's My reports says so. The items' diff and editor, which the
// api reads from the wiki, are answered here: the spec is about what
// reaches the admin, not about the wiki being reachable.

import { check, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

/** The open count of a queue as shown in the queue list. */
async function openCount(page, wf) {
  const text = await page.locator(`${app.queueSel(wf)} .pc-count`).first().innerText().catch(() => '');
  return Number.parseInt(text.replace(/[^0-9]/g, ''), 10) || 0;
}

/** Answers the item's diff and editor as the api would for a small edit. */
async function stubWikiReads(context) {
  const now = Date.now();
  const answers = {
    diff: (id) => ({
      item: id, wiki: 'enwiki', lang: 'en', dir: 'ltr', kind: 'diff', from_rev: 100, to_rev: 105, rev: null, revisions: [105], cached: false,
      html: '<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>Unchanged.</div></td><td class="diff-marker"></td><td class="diff-context diff-side-added"><div>Unchanged.</div></td></tr>',
    }),
    editor: () => ({
      user: 'Example', wiki: 'enwiki', anonymous: true, registered_at: null, edit_count: 0, groups: [], block: null,
      recent: [], last_edit_at: now - 20000, contributions: [], warnings: { level: 0, series: null, window_days: 30, recent: [] },
      talk_url: 'https://en.wikipedia.org/wiki/User_talk:Example',
    }),
  };
  await context.route((url) => /^\/api\/v1\/items\/[^/]+\/(diff|editor)$/.test(url.pathname), (route) => {
    const [, id, what] = /^\/api\/v1\/items\/([^/]+)\/(\w+)$/.exec(new URL(route.request().url()).pathname);
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answers[what](decodeURIComponent(id))) });
  });
}

await spec('escalation_and_report', async (t) => {
  const pat = await t.person('Pat', { groups: ['rollbacker'] });
  const ada = await t.person('Ada', { groups: ['sysop'] });
  await Promise.all([pat, ada].map((p) => stubWikiReads(p.context)));
  await Promise.all([pat, ada].map((p) => app.open(p.page)));
  await Promise.all([pat, ada].map((p) => app.selectQueue(p.page, 'patrol')));
  const [id] = await app.waitRows(pat.page, 1);
  log(`escalating ${id}`);

  // The patroller escalates with a reason.
  const reason = `Mass vandalism from this IP, please block ${Date.now()}`;
  await app.openItem(pat.page, id);
  await app.button(pat.page, id, 'escalate').click();
  const target = pat.page.locator(tid('escalate-workflow')).first();
  await target.waitFor({ timeout: WAIT });
  await app.choose(target, 'admin-block', ['Block requests']);
  await pat.page.locator(tid('escalate-reason')).first().fill(reason);
  const escalated = app.apiCall(pat.page, id, 'escalate');
  await pat.page.locator(tid('escalate-confirm')).first().click();
  const er = await escalated;
  const body = await er.json().catch(() => ({}));
  check(er.status() === 201, `escalating answered ${er.status()}: ${JSON.stringify(body)}`);
  const esc = body.linked;
  check(typeof esc === 'string' && esc.length > 0, `no linked item in ${JSON.stringify(body)}`);
  // Sending the escalation moved the patroller on to the next item; they go
  // back to the original, and keep it open while the admin works.
  await app.open(pat.page, `/item/${encodeURIComponent(id)}`);
  await pat.page.locator(app.viewSel(id)).first().waitFor({ timeout: WAIT });

  // The admin's block queue shows it with the reason and who asked.
  await app.selectQueue(ada.page, 'admin-block');
  const row = ada.page.locator(app.rowSel(esc)).first();
  await row.waitFor({ timeout: WAIT });
  await until(async () => (await row.innerText()).includes(reason), {
    what: async () => `the admin's row of ${esc} to show the reason (it shows ${JSON.stringify(await row.innerText().catch(() => ''))})`,
  });
  check((await row.innerText()).includes('Pat'), 'the row names who escalated');
  const view = await app.openItem(ada.page, esc);
  const shownReason = (await view.locator(tid('item-reason')).first().innerText()).trim();
  check(shownReason === reason, `the item's reason is ${JSON.stringify(shownReason)}`);
  const by = (await view.locator(tid('item-requested-by')).first().innerText()).trim();
  check(by === 'Pat', `the item says it was escalated by ${JSON.stringify(by)}`);
  log('the admin sees the reason and the author');

  // The wiki's block page, one click away, as a plain link.
  const link = view.locator(tid('action-page')).first();
  const href = await link.getAttribute('href');
  const rel = (await link.getAttribute('rel')) || '';
  const user = await ada.page.evaluate(async (item) => {
    const r = await fetch(`/api/v1/items/${item}`, { credentials: 'same-origin' });
    return (await r.json()).item.user;
  }, esc);
  check(
    /^https:\/\/[^/]+\/wiki\/Special:Block\//.test(href || '') && decodeURIComponent(href.split('/Special:Block/')[1]).replace(/_/g, ' ') === user,
    `the block link is ${JSON.stringify(href)} for ${JSON.stringify(user)}`,
  );
  check(rel.split(/\s+/).includes('noopener'), `the block link's rel is ${JSON.stringify(rel)}`);

  // The resolve form offers the block queue's outcomes; "blocked" it is.
  await app.button(ada.page, esc, 'resolve').click();
  const sel = ada.page.locator(tid('resolve-outcome')).first();
  await sel.waitFor({ timeout: WAIT });
  const offered = await sel.evaluate((el) => [...el.querySelectorAll('option')].map((o) => o.value));
  check(
    JSON.stringify(offered) === JSON.stringify(['blocked', 'declined', 'not_needed']),
    `the block queue's resolve offers ${JSON.stringify(offered)}`,
  );
  await app.choose(sel, 'blocked');
  const resolved = app.apiCall(ada.page, esc, 'resolve');
  await ada.page.locator(tid('resolve-confirm')).first().click();
  const rr = await resolved;
  check(rr.status() === 200, `resolving ${esc} answered ${rr.status()}: ${await rr.text().catch(() => '')}`);
  await t.shot(ada.page, 'escalation-admin-item');

  // The patroller's original item links to the escalation and tells how
  // it ended, live; and so after a reload.
  const linkBack = pat.page.locator(`${app.viewSel(id)} ${tid('item-escalation')}`).first();
  await linkBack.waitFor({ timeout: WAIT });
  await until(async () => (await linkBack.getAttribute('data-outcome')) === 'blocked', {
    what: async () => `the original's escalation to show outcome blocked live (it shows ${JSON.stringify(await linkBack.getAttribute('data-outcome'))})`,
  });
  await app.open(pat.page, `/item/${encodeURIComponent(id)}`);
  await linkBack.waitFor({ timeout: WAIT });
  const st = await linkBack.getAttribute('data-outcome');
  check(st === 'blocked', `the original's escalation shows outcome ${JSON.stringify(st)} after a reload`);
  check((await linkBack.locator('a').getAttribute('href')).endsWith(`/item/${esc}`), 'the original links to the escalation');
  log(`the original links to ${esc}: ${JSON.stringify(await linkBack.innerText())}`);

  // A report: the admin writes, the patroller reports it.
  const stamp = Date.now();
  const words = `An uncalled-for remark ${stamp}`;
  await app.postMessage(pat.page, `Context before ${stamp}`);
  await app.open(ada.page, `/item/${encodeURIComponent(id)}`);
  await ada.page.locator(app.viewSel(id)).first().waitFor({ timeout: WAIT });
  const msg = await app.postMessage(ada.page, words);
  // The admin's page, freshly loaded, with the reports queue's count.
  await app.open(ada.page, '/');
  await ada.page.locator(app.queueSel('reports')).first().waitFor({ timeout: WAIT });
  const before = await openCount(ada.page, 'reports');
  await app.waitMessage(pat.page, words);
  await pat.page.locator(`${tid('message')}[data-message-id="${msg.id}"] ${tid('message-report')}`).first().click();
  const why = pat.page.locator(tid('report-reason')).first();
  await why.waitFor({ timeout: WAIT });
  await why.fill('Rude to a newcomer');
  const filed = pat.page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/messages/${msg.id}/report` && r.request().method() === 'POST',
    { timeout: WAIT },
  );
  await pat.page.locator(tid('report-submit')).first().click();
  const fr = await filed;
  const report = await fr.json().catch(() => ({}));
  check(fr.status() === 201, `the report answered ${fr.status()}: ${JSON.stringify(report)}`);

  // The admin's reports count rises live, without a reload.
  await until(async () => (await openCount(ada.page, 'reports')) === before + 1, {
    timeout: 3000,
    what: async () => `the reports count to go from ${before} to ${before + 1} live (it shows ${await openCount(ada.page, 'reports')})`,
  });
  log('the reports count rose live');

  // The report shows the message's text and its neighbours; hide it there.
  await app.selectQueue(ada.page, 'reports');
  const rview = await app.openItem(ada.page, report.id);
  const target2 = rview.locator(tid('reported-message')).first();
  await target2.waitFor({ timeout: WAIT });
  check((await target2.innerText()).includes(words), `the report shows ${JSON.stringify(await target2.innerText())}`);
  const context = await rview.locator(tid('reported-context')).allInnerTexts();
  check(context.some((c) => c.includes(`Context before ${stamp}`)), `the report's context is ${JSON.stringify(context)}`);
  check((await rview.locator(tid('item-reason')).first().innerText()).includes('Rude to a newcomer'), 'the report shows its reason');
  check((await rview.locator(tid('item-requested-by')).first().innerText()).trim() === 'Pat', 'the report names its reporter to the admin');
  await rview.locator(tid('reported-reason')).first().fill('Personal remark');
  const hid = ada.page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/messages/${msg.id}/hide` && r.request().method() === 'POST',
    { timeout: WAIT },
  );
  await rview.locator(tid('reported-hide')).first().click();
  const hr = await hid;
  check(hr.status() === 200, `hiding from the report answered ${hr.status()}: ${await hr.text().catch(() => '')}`);
  await rview.locator(`${tid('reported-message')} ${tid('reported-hidden')}`).first().waitFor({ timeout: WAIT });
  const placeholder = pat.page.locator(`${tid('message')}[data-message-id="${msg.id}"] ${tid('message-hidden')}`).first();
  await placeholder.waitFor({ timeout: WAIT });
  await until(async () => !(await pat.page.content()).includes(words), { what: 'the hidden text to leave the reporter\'s page' });
  log('hidden from the report; the reporter\'s page shows it hidden');
  await t.shot(ada.page, 'report-admin-item');

  // A report is answered, not escalated, and takes the report outcomes;
  // the reporter sees which.
  check(await rview.locator(tid('escalate')).count() === 0, 'the report offers to escalate it');
  await app.button(ada.page, report.id, 'resolve').click();
  const rsel = ada.page.locator(tid('resolve-outcome')).first();
  await rsel.waitFor({ timeout: WAIT });
  const roffered = await rsel.evaluate((el) => [...el.querySelectorAll('option')].map((o) => o.value));
  check(JSON.stringify(roffered) === JSON.stringify(['action_taken', 'no_action']), `the report's resolve offers ${JSON.stringify(roffered)}`);
  await app.choose(rsel, 'action_taken');
  const rdone = app.apiCall(ada.page, report.id, 'resolve');
  await ada.page.locator(tid('resolve-confirm')).first().click();
  const rres = await rdone;
  check(rres.status() === 200, `resolving the report answered ${rres.status()}: ${await rres.text().catch(() => '')}`);
  await app.open(pat.page, '/me/reports');
  const mine = pat.page.locator(tid('my-report')).first();
  await mine.waitFor({ timeout: WAIT });
  await until(async () => (await mine.innerText()).includes('action taken'), {
    what: async () => `My reports to say "action taken" (it says ${JSON.stringify(await mine.innerText().catch(() => ''))})`,
  });
});
