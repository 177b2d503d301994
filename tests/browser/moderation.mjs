// Spec 6: moderation in the thread. A writer posts two messages about an
// item; a reader reports the first and the admin sees the report, with the
// reporter's name, in the Admin tab; the admin hides that message and the
// reader's page shows "Hidden by a moderator" live, with the text nowhere
// in its DOM; the reader ignores the writer and the writer's messages
// collapse.

import { check, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const inMessage = (id, hook) => `${tid('message')}[data-message-id="${id}"] ${tid(hook)}`;

await spec('moderation', async (t) => {
  const writer = await t.person('Writer');
  const reader = await t.person('Reader');
  const admin = await t.person('Boss', { groups: ['sysop'] });
  const people = [writer, reader, admin];
  await Promise.all(people.map((p) => app.open(p.page)));
  await Promise.all(people.map((p) => app.selectQueue(p.page, 'patrol')));
  const [id] = await app.waitRows(writer.page, 1);
  log(`working on ${id}`);

  await Promise.all(people.map((p) => app.openItem(p.page, id)));
  const stamp = Date.now();
  const bad = `This is a rude message ${stamp}`;
  const other = `Another message by the writer ${stamp}`;
  const m1 = await app.postMessage(writer.page, bad);
  await app.postMessage(writer.page, other);
  await app.waitMessage(reader.page, bad);
  await app.waitMessage(reader.page, other);
  await app.waitMessage(admin.page, bad);

  // The reader reports the first message.
  await reader.page.locator(inMessage(m1.id, 'message-report')).first().click();
  const reason = reader.page.locator(tid('report-reason')).first();
  await reason.waitFor({ timeout: WAIT });
  await reason.fill('Insulting another patroller');
  const reported = reader.page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/messages/${m1.id}/report` && r.request().method() === 'POST',
    { timeout: WAIT },
  );
  await reader.page.locator(tid('report-submit')).first().click();
  const rr = await reported;
  check(rr.status() === 201, `the report answered ${rr.status()}: ${await rr.text().catch(() => '')}`);
  const notice = await app.noticeText(reader.page);
  log(`reader's notice: ${JSON.stringify(notice)}`);

  // The admin sees it in the Reports tab, with the reporter's name.
  // (In a second tab, so the admin's item page stays open.)
  const ap = await admin.context.newPage();
  await app.open(ap, '/admin');
  const reports = ap.locator(tid('admin-reports')).first();
  await reports.waitFor({ timeout: WAIT });
  await until(async () => /Reader/.test(await reports.innerText()) && (await reports.innerText()).includes('Insulting another patroller'), {
    what: async () => `the admin's Reports tab naming Reader (it shows ${JSON.stringify(await reports.innerText().catch(() => ''))})`,
  });
  log('the admin sees the report with the reporter\'s name');
  await t.shot(ap, 'moderation-admin-reports');
  await ap.close();

  // The admin hides the message; the reader's page shows the placeholder
  // live and has the text nowhere.
  await admin.page.locator(inMessage(m1.id, 'message-hide')).first().click();
  const hideReason = admin.page.locator(tid('report-reason')).first();
  await hideReason.waitFor({ timeout: WAIT });
  await hideReason.fill('Personal attack');
  const hidden = admin.page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/messages/${m1.id}/hide` && r.request().method() === 'POST',
    { timeout: WAIT },
  );
  await admin.page.locator(tid('report-submit')).first().click();
  const hr = await hidden;
  check(hr.status() === 200, `hiding answered ${hr.status()}: ${await hr.text().catch(() => '')}`);
  const placeholder = reader.page.locator(inMessage(m1.id, 'message-hidden')).first();
  await placeholder.waitFor({ timeout: WAIT });
  const shown = (await placeholder.innerText()).trim();
  check(shown === 'Hidden by a moderator', `the placeholder says ${JSON.stringify(shown)}`);
  await until(async () => !(await reader.page.content()).includes(bad), {
    what: 'the hidden text to leave the reader\'s DOM',
  });
  // The admin still reads it, marked.
  await admin.page.locator(inMessage(m1.id, 'message-hidden-by')).first().waitFor({ timeout: WAIT });
  log('the reader sees "Hidden by a moderator" and the text is gone from the DOM');

  // The reader ignores the writer; the writer's messages collapse.
  await reader.page.locator(`${tid('message')}:has-text("${other}") ${tid('message-ignore')}`).first().click();
  await until(
    async () =>
      reader.page.evaluate((text) => ![...document.querySelectorAll('[data-testid="message-text"]')].some((e) => e.textContent.includes(text)), other),
    { what: 'the writer\'s messages to collapse' },
  );
  const collapsed = await reader.page.locator(tid('message-ignored')).allInnerTexts();
  check(collapsed.some((s) => /Writer \(ignored\)/.test(s)), `no collapsed "Message from Writer (ignored)": ${JSON.stringify(collapsed)}`);
  log(`collapsed: ${JSON.stringify(collapsed)}`);
  await t.shot(reader.page, 'moderation-reader');
  for (const p of [writer, reader]) {
    check(p.watch.documents === 1, `${p.name}'s page loaded ${p.watch.documents} documents: it reloaded`);
  }
});
