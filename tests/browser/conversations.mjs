// Spec: private conversations. Ana starts one with Ben (his name in the
// form, a first message); Ben's open conversations page shows it live,
// with its unread count, and its thread has Ana's message, which he can
// report; Ben answers and Ana sees it live. Cy, not in it, opening its URL
// is told there is no such conversation (the api's 404), and its text is
// nowhere on his page.

import { check, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

await spec('conversations', async (t) => {
  const ana = await t.person('Ana');
  const ben = await t.person('Ben');
  const cy = await t.person('Cy');
  await app.open(ben.page, '/conversations');
  await ben.page.locator(tid('conversation-start')).first().waitFor({ timeout: WAIT });

  await app.open(ana.page, '/conversations');
  const first = `Private word about the sockpuppets ${Date.now()}`;
  await ana.page.locator(tid('conversation-with')).first().fill('Ben');
  await ana.page.locator(tid('conversation-text')).first().fill(first);
  const started = ana.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/conversations' && r.request().method() === 'POST', { timeout: WAIT });
  await ana.page.locator(tid('conversation-start-submit')).first().click();
  const res = await started;
  check(res.status() === 201, `starting answered ${res.status()}: ${await res.text().catch(() => '')}`);
  const conv = await res.json();
  log(`conversation ${conv.id} with ${JSON.stringify(conv.participants)}`);
  await until(() => new URL(ana.page.url()).pathname === `/conversations/${conv.id}`, { what: 'Ana in the new conversation' });
  await app.waitMessage(ana.page, first);

  // Ben's page: the conversation arrives without a reload.
  const row = ben.page.locator(`${tid('conversation-row')}[data-conversation="${conv.id}"]`).first();
  await row.waitFor({ timeout: WAIT });
  log(`Ben sees it live: ${JSON.stringify(await row.innerText())}`);
  // Unread until he opens it: Ana's one message.
  const unread = row.locator(tid('conversation-unread')).first();
  const unreadText = () => unread.innerText({ timeout: 1000 }).catch(() => '');
  await until(async () => (await unreadText()).replace(/\D/g, '') === '1', {
    what: async () => `the conversation's unread count 1 on Ben's page (it shows ${JSON.stringify(await unreadText())})`,
  });
  log(`Ben's unread count before he opens it: ${JSON.stringify(await unreadText())}`);
  await row.locator('a').first().click();
  await app.waitMessage(ben.page, first);
  const title = await ben.page.locator(tid('conversation-title')).first().innerText();
  check(title.includes('Ana'), `Ben's conversation is titled ${JSON.stringify(title)}`);
  check(await ben.page.locator(tid('follow-button')).count() > 0, 'no follow button on the conversation');

  // Ben reports Ana's message (to the admins, the message alone).
  const anaMsg = await app.waitMessage(ben.page, first);
  await anaMsg.locator(tid('message-report')).first().click();
  const reason = ben.page.locator(tid('report-reason')).first();
  await reason.waitFor({ timeout: WAIT });
  await reason.fill('Sharing private information');
  const reported = ben.page.waitForResponse((r) => /\/api\/v1\/messages\/[^/]+\/report$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST', { timeout: WAIT });
  await ben.page.locator(tid('report-submit')).first().click();
  const rr = await reported;
  check(rr.status() === 201, `reporting a conversation's message answered ${rr.status()}: ${await rr.text().catch(() => '')}`);
  log('Ben reported Ana\'s message');

  const answer = `Agreed, same IP range ${Date.now()}`;
  await app.postMessage(ben.page, answer);
  await app.waitMessage(ana.page, answer);
  log('Ana sees Ben\'s answer live');

  // Cy is not in it: 404, and nothing of it on his page.
  await app.open(cy.page, `/conversations/${conv.id}`);
  await cy.page.locator(tid('conversation-not-found')).first().waitFor({ timeout: WAIT });
  const html = await cy.page.content();
  check(!html.includes(first) && !html.includes(answer), 'the conversation\'s text is on Cy\'s page');
  const direct = await cy.context.request.get(`${t.env.base}/api/v1/conversations/${conv.id}/messages`);
  check(direct.status() === 404, `Cy's own request for its messages answered ${direct.status()}`);
  await t.shot(cy.page, 'conversation-not-found');
  log('Cy is told there is no such conversation');
});
