// Spec 1: two signed-in people in two browsers work one item together,
// live. An item arrives from the feed in both pages; Alice claims it and
// Bob sees it claimed by Alice within a second; Alice posts a message and
// Bob sees it; Bob sees Alice's name in place of Claim, and his claim
// ("c") is refused with a notice naming Alice; Alice
// resolves it and it leaves both lists. Nobody reloads.
//
// Steps: `start-feed` (the harness starts ingest once both pages show the
// patrol queue, so the items arrive under open pages).

import { check, Failure, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

await spec('two-people', async (t) => {
  const alice = await t.person('Alice');
  const bob = await t.person('Bob');
  const both = [alice, bob];
  await Promise.all(both.map((p) => app.open(p.page)));
  await Promise.all(both.map((p) => app.selectQueue(p.page, 'patrol')));
  const before = await app.rowIds(alice.page);
  log(`rows before the feed starts: ${before.length}`);

  await t.step('start-feed');
  // The first item that shows in both pages.
  const id = await until(
    async () => {
      const a = await app.rowIds(alice.page);
      const b = new Set(await app.rowIds(bob.page));
      return a.find((x) => b.has(x) && !before.includes(x));
    },
    { timeout: 45000, what: 'an item from the feed in both pages' },
  );
  log(`item ${id} arrived in both pages`);

  // Alice claims it; Bob's list shows Alice holding it within 1 s of the
  // api's acknowledgement.
  const aView = await app.openItem(alice.page, id);
  const claimed = app.apiCall(alice.page, id, 'claim');
  await app.button(alice.page, id, 'claim').click();
  const res = await claimed;
  check(res.status() === 200, `Alice's claim answered ${res.status()}: ${await res.text()}`);
  const acked = Date.now();
  const holder = bob.page.locator(`${app.rowSel(id)} ${tid('claim-holder')}`).filter({ hasText: 'Alice' });
  await holder
    .first()
    .waitFor({ timeout: 1000 })
    .catch(async () => {
      const shown = await bob.page.locator(app.rowSel(id)).first().innerText().catch(() => '(no row)');
      throw new Failure(`Bob's row of ${id} shows no claim-holder "Alice" within 1 s of the claim (row text: ${JSON.stringify(shown)})`);
    });
  log(`Bob saw Alice's claim ${Date.now() - acked} ms after the api acknowledged it`);
  await aView.locator(tid('release')).first().waitFor({ timeout: WAIT });

  // Bob opens the item; Alice writes; Bob reads it without reloading.
  await app.openItem(bob.page, id);
  const text = `Reverting this one, see the diff (${Date.now()})`;
  const posted = Date.now();
  await app.postMessage(alice.page, text);
  await app.waitMessage(alice.page, text);
  await app.waitMessage(bob.page, text);
  log(`Bob saw Alice's message after ${Date.now() - posted} ms`);

  // Bob sees Alice's name where Claim was; his claim with "c" is refused,
  // and the notice says who holds the item.
  const heldBy = app.button(bob.page, id, 'claim-held-by');
  await until(async () => (await heldBy.innerText().catch(() => '')).includes('Alice'), { what: `Bob's item view to show Alice in place of Claim on ${id}` });
  const bobClaim = app.button(bob.page, id, 'claim');
  const refused = app.apiCall(bob.page, id, 'claim');
  if ((await bobClaim.count()) && (await bobClaim.isEnabled())) {
    await bobClaim.click();
  } else {
    // No Claim button while someone else holds the item; the keyboard
    // shortcut is the other way to try.
    log('Bob sees no Claim button while Alice holds the item; trying the "c" shortcut');
    await bob.page.locator(app.viewSel(id)).first().focus().catch(() => {});
    await bob.page.keyboard.press('c');
  }
  const r2 = await refused.catch(() => null);
  check(r2, `Bob's claim attempt sent no claim request (button disabled and "c" did nothing?)`);
  check(r2.status() === 409, `Bob's claim answered ${r2.status()}, not 409`);
  const notice = await app.noticeText(bob.page);
  check(/Alice/.test(notice), `Bob's notice does not name Alice: ${JSON.stringify(notice)}`);
  log(`Bob's notice: ${JSON.stringify(notice)}`);

  // Alice resolves; the item leaves both lists.
  await app.resolve(alice.page, id, 'ok');
  for (const p of both) {
    await app.showList(p.page, 'patrol');
    await until(async () => (await p.page.locator(app.rowSel(id)).count()) === 0, {
      what: `${id} to leave ${p.name}'s list`,
    });
  }
  for (const p of both) {
    check(p.watch.documents === 1, `${p.name}'s page loaded ${p.watch.documents} documents: it reloaded`);
  }
  await t.shot(bob.page, 'two-people-after-resolve');
});
