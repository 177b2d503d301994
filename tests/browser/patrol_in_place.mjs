// Spec 9: patrolling an item in place, with the keyboard only. A patroller
// finds the item in the list (j, k), opens it (Enter), reads its diff (the
// whole episode; n steps to each revision, l switches side by side and
// inline), reverts it as vandalism (q: the item is claimed, the rollback
// goes to the wiki with the claim's token, the answer's message shows and
// the item resolves) and warns the editor (w: the series select has the
// focus, Enter sends the next level's warning). Every focused control
// shows its focus; the shortcuts dialog lists the keys used.
//
// The patroller signs in through the wiki (OAuth), so the api acts with
// their own grant. It runs against the api's patrol routes (`/diff`,
// `/editor`, `GET` and `POST /actions`) and the MediaWiki stand-in of
// tests/common/wiki_standin.rs answering compare, users, usercontribs,
// rollback and edit. Steps the Rust harness answers:
//   `prepare`      the feed carries an edit by `user` to `title` that the
//                  stand-in knows (revision `rev` and its parent, whose
//                  compare body removes `removed` and adds `added`), and
//                  the router has put it into patrol as `item`:
//                  → {item, user, title, rev, removed, added}
//   `wiki-writes`  what the stand-in was asked to write, in order:
//                  → {writes: [{action: "rollback"|"edit", title, user?,
//                     summary?, appendtext?}]}

import { check, Failure, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

/** What has the focus, and how it shows; fails when it does not show. */
async function focused(page, what) {
  const f = page.locator(':focus').first();
  check(await f.count(), `${what}: nothing has the focus`);
  const how = await app.focusIndicator(page, f);
  check(how, `${what}: the focused element shows no focus (no outline, box shadow or colour change)`);
  return how;
}

/** Moves the list's keyboard cursor onto `id` with j and k. */
async function cursorTo(page, id) {
  for (let i = 0; i < 60; i++) {
    const cur = await app.currentRow(page);
    if (cur && cur.id === id) return;
    const ids = await app.rowIds(page);
    const want = ids.indexOf(id);
    check(want !== -1, `${id} is not among the rows (${ids.slice(0, 10).join(', ')})`);
    const at = cur ? ids.indexOf(cur.id) : -1;
    await page.keyboard.press(at === -1 || at < want ? 'j' : 'k');
  }
  throw new Failure(`j and k did not bring the cursor to ${id}`);
}

/** The POST the page sends to `/items/<id>/actions` for `action`. */
function actionCall(page, id, action) {
  return page.waitForResponse(
    (r) => new URL(r.url()).pathname === `/api/v1/items/${id}/actions` && r.request().method() === 'POST'
      && JSON.parse(r.request().postData() || '{}').action === action,
    { timeout: 30000 },
  );
}

/** The shown answer of the last action, once it is for `action`. */
async function answered(page, action) {
  const result = page.locator(`${tid('act-result')}[data-action="${action}"]`).first();
  await result.waitFor({ timeout: 30000 }).catch(() => {
    throw new Failure(`no answer shown for ${action} ([data-testid=act-result][data-action=${action}])`);
  });
  return {
    type: await result.getAttribute('data-type'),
    code: await result.getAttribute('data-code'),
    text: (await result.locator(tid('act-result-text')).innerText()).trim(),
  };
}

await spec('patrol-in-place', async (t) => {
  const p = await t.person('Patroller', { login: 'oauth' });
  const page = p.page;
  await app.open(page);
  await app.selectQueue(page, 'patrol');
  const { item: id, user, rev, removed, added } = await t.step('prepare');
  check(id && removed && added, 'the harness named no item to patrol');
  await page.locator(app.rowSel(id)).first().waitFor({ timeout: 30000 }).catch(() => {
    throw new Failure(`the row of ${id} did not show within 30 s`);
  });

  // From here on: keys only.
  await page.evaluate(() => document.activeElement?.blur?.());
  await page.keyboard.press('?');
  const help = page.locator(tid('shortcuts')).first();
  await help.waitFor({ state: 'visible', timeout: WAIT });
  const keys = await help.locator('kbd').allInnerTexts();
  for (const k of ['n', 'p', 'l', 'q', 'g', 'w', 'd', 'b', 'a', 't', 'm']) {
    check(keys.includes(k), `the shortcuts dialog does not list ${k} (it lists ${keys.join(' ')})`);
  }
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden', timeout: WAIT });

  await page.keyboard.press('j');
  await cursorTo(page, id);
  await page.keyboard.press('Enter');
  const view = page.locator(app.viewSel(id)).first();
  await view.waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`Enter on the row of ${id} did not open it`);
  });

  // Read the diff: the whole episode, side by side, then inline.
  const box = view.locator(tid('diff-content')).first();
  await box.waitFor({ timeout: 30000 }).catch(async () => {
    const err = await view.locator(tid('diff-error')).first().innerText().catch(() => '');
    throw new Failure(`${id} shows no diff within 30 s${err ? `: ${err}` : ''}`);
  });
  await until(async () => {
    const text = await box.innerText();
    return text.includes(removed) && text.includes(added);
  }, { what: async () => `the diff to show ${JSON.stringify(removed)} removed and ${JSON.stringify(added)} added (it shows ${JSON.stringify((await box.innerText()).slice(0, 200))})` });
  const removedLine = box.locator('td.diff-deletedline', { hasText: removed }).first();
  const addedLine = box.locator('td.diff-addedline', { hasText: added }).first();
  check(await removedLine.count() && await addedLine.count(), 'the removed and added text are not on removed and added lines');
  await t.shot(page, 'patrol-in-place-diff');
  const layout = () => box.getAttribute('data-layout');
  const before = await layout();
  await page.keyboard.press('l');
  await until(async () => (await layout()) !== before, { what: 'l to switch the diff\'s layout' });
  await page.keyboard.press('l');
  await until(async () => (await layout()) === before, { what: 'l to switch the diff back' });
  if (await view.locator(tid('diff-next')).count()) {
    await page.keyboard.press('n');
    await until(async () => (await view.locator(tid('diff-step')).getAttribute('data-rev')) !== 'all', { what: 'n to show a revision' });
    await page.keyboard.press('p');
    await until(async () => (await view.locator(tid('diff-step')).getAttribute('data-rev')) === 'all', { what: 'p to show the whole episode again' });
  } else {
    log(`${id} has one revision: nothing to step through`);
  }

  // The editor at a glance is there before acting.
  const editor = view.locator(tid('editor-name')).first();
  await editor.waitFor({ timeout: 30000 });
  check((await editor.innerText()).trim() === user, `the editor panel names ${await editor.innerText()}, not ${user}`);

  // Rollback as vandalism: q claims the item and reverts it.
  const revertButton = view.locator(tid('act-revert-vandalism')).first();
  await until(async () => (await revertButton.getAttribute('data-offered')) === 'true', { timeout: 30000, what: 'rollback to be offered' });
  const claimed = app.apiCall(page, id, 'claim');
  const reverted = actionCall(page, id, 'revert');
  await page.keyboard.press('q');
  const claim = await claimed.catch(() => null);
  check(claim?.status() === 200, `q did not claim ${id} first (${claim ? claim.status() : 'no request'})`);
  const { token } = await claim.json();
  const res = await reverted.catch(() => null);
  check(res, 'q sent no revert');
  const sent = JSON.parse(res.request().postData() || '{}');
  check(sent.kind === 'vandalism', `the revert was sent as ${JSON.stringify(sent.kind)}, not vandalism`);
  check(sent.token === token, `the revert carried token ${JSON.stringify(sent.token)}, not the claim's ${JSON.stringify(token)}`);
  check(res.status() === 200, `the revert answered ${res.status()}: ${await res.text().catch(() => '')}`);
  const answer = await res.json();
  check(answer.method === 'rollback' && answer.item_state === 'resolved', `the revert answered ${JSON.stringify(answer)}`);
  const shown = await answered(page, 'revert');
  // Said from the answer's fields in the interface language (here English),
  // not the api's English message.
  const revertSaid = `Reverted to revision ${answer.base_rev} with rollback.`;
  check(answer.detail === 'rollback' && Number.isSafeInteger(answer.base_rev), `the revert's answer lacks detail and base_rev: ${JSON.stringify(answer)}`);
  check(shown.type === 'success' && shown.text === revertSaid, `the page shows ${JSON.stringify(shown)}, not ${JSON.stringify(revertSaid)}`);
  await until(async () => (await view.getAttribute('data-state')) === 'resolved', { what: `${id} to show as resolved` });
  await t.shot(page, 'patrol-in-place-reverted');

  // Warn: w opens the warning with the series select focused; Enter sends it.
  const warned = actionCall(page, id, 'warn');
  await page.keyboard.press('w');
  const series = view.locator(tid('warn-series')).first();
  await series.waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure('w did not open the warning ([data-testid=warn-series])');
  });
  await until(() => series.evaluate((el) => el === document.activeElement), { timeout: 5000, what: 'the focus on the series select' });
  log(`w: series select focused (${await focused(page, 'the series select')}), next level: ${await view.locator(tid('warn-level')).getAttribute('data-next')}`);
  await t.shot(page, 'patrol-in-place-warn');
  const chosen = await series.inputValue();
  await page.keyboard.press('Enter');
  const w = await warned.catch(() => null);
  check(w, 'Enter on the series select sent no warning');
  const warnBody = JSON.parse(w.request().postData() || '{}');
  check(warnBody.series === chosen, `the warning went out as ${warnBody.series}, not ${chosen} as chosen`);
  check(warnBody.token === token, `the warning carried token ${JSON.stringify(warnBody.token)}, not the claim's`);
  check(w.status() === 200, `the warning answered ${w.status()}: ${await w.text().catch(() => '')}`);
  const warnAnswer = await w.json();
  const warnShown = await answered(page, 'warn');
  check(typeof warnAnswer.detail === 'string' && warnAnswer.detail.startsWith('uw-'), `the warning's answer names no template: ${JSON.stringify(warnAnswer)}`);
  check(warnShown.type === 'success' && warnShown.text.endsWith(` with ${warnAnswer.detail}.`) && warnShown.text.startsWith('Warned '), `the page shows ${JSON.stringify(warnShown)} for the warning with ${warnAnswer.detail}`);
  log(`warned at level ${warnAnswer.level}: ${warnAnswer.message}`);

  // What reached the wiki: the rollback of the editor's edits, then the warning on their talk page.
  const { writes } = await t.step('wiki-writes', { item: id, rev });
  check(Array.isArray(writes), 'the harness sent no writes');
  const rollback = writes.findIndex((x) => x.action === 'rollback' && x.user === user);
  const talk = writes.findIndex((x) => x.action === 'edit' && /^User talk:/.test(x.title || '') && x.appendtext);
  check(rollback !== -1, `the wiki saw no rollback of ${user}'s edits: ${JSON.stringify(writes)}`);
  check(talk > rollback, `the wiki saw no warning on a user talk page after the rollback: ${JSON.stringify(writes)}`);

  // The resolved item leaves the list.
  await app.showList(page, 'patrol');
  await until(async () => (await page.locator(app.rowSel(id)).count()) === 0, { what: `${id} to leave the list` });
});
