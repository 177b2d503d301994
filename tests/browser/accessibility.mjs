// Spec 7: accessibility, checked by axe-core. Every view (sign-in, queue
// list, item, thread, room, admin, my reports) at 1280×800 and 390×844 is
// run through axe, the item view once its patrol panels (actions on the
// wiki, diff, editor) have answered, and once more with those panels
// showing content (the page's requests to `/diff`, `/editor` and
// `/actions` answered here with a diff, an editor and a mix of offered
// and refused actions) and with the warning form open; the spec fails on
// any serious or critical violation,
// and on a page without a first-level heading or with a skip link that
// leads nowhere (rules axe rates moderate), printing each with the
// elements it found. Other findings are printed, not failed.
//
// axe is evaluated in the page through the DevTools protocol, as
// page.evaluate does, so the page's CSP stays as the api sends it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { check, DESKTOP, Failure, log, PHONE, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const FAILING_IMPACTS = new Set(['serious', 'critical']);
/** Rules that fail the spec whatever axe rates them. */
const ALWAYS_FAILING = new Set(['page-has-heading-one', 'skip-link']);
const SIZES = { desktop: DESKTOP, phone: PHONE };

/** Runs axe on the page as it is; returns the violations that fail. */
async function audit(page, where) {
  // Rows that arrive live slide in (600 ms) and flash (1.5 s); people
  // read them while they move, so the page is audited mid-animation: each
  // running animation is held at its midpoint, where a row that faded in
  // would be half transparent and below contrast.
  const result = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    for (const a of document.getAnimations()) {
      const end = a.effect?.getComputedTiming?.().endTime;
      // An endless animation (a spinner) has no midpoint: it runs on.
      if (Number.isFinite(end)) {
        a.pause();
        a.currentTime = end / 2;
      }
    }
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary })),
    }));
  }, AXE);
  const failing = result.filter((v) => FAILING_IMPACTS.has(v.impact) || ALWAYS_FAILING.has(v.id));
  for (const v of result) {
    const mark = failing.includes(v) ? 'VIOLATION' : 'note';
    log(`${where}: ${mark} ${v.impact} ${v.id}: ${v.help}`);
    for (const n of v.nodes.slice(0, 5)) log(`    ${n.target}  ${n.html}`);
  }
  log(`${where}: ${result.length} findings, ${failing.length} failing`);
  return failing.map((v) => `${where}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target).slice(0, 3).join(', ')}`);
}

/** Waits until the item view's patrol panels have answered (content or error). */
async function panelsSettled(page) {
  for (const hook of ['wiki-actions', 'diff', 'editor']) {
    await page.locator(`${tid(hook)}[aria-busy="false"]`).first().waitFor({ timeout: WAIT }).catch(() => {
      throw new Failure(`the item view's [data-testid=${hook}] did not settle within ${WAIT} ms`);
    });
  }
}

const ROW = (o, n) => `<tr><td class="diff-marker" data-marker="−"></td><td class="diff-deletedline diff-side-deleted"><div>${o} <del class="diffchange diffchange-inline">old</del></div></td>` +
  `<td class="diff-marker" data-marker="+"></td><td class="diff-addedline diff-side-added"><div>${n} <ins class="diffchange diffchange-inline">new</ins></div></td></tr>`;

/** Answers the item's patrol routes with content, as the api would. */
async function stubPatrol(page) {
  const now = Date.now();
  const answers = {
    diff: (id) => ({
      item: id, wiki: 'enwiki', lang: 'en', dir: 'ltr', kind: 'diff', from_rev: 100, to_rev: 105, rev: null, revisions: [105, 103], cached: false,
      html: '<tr><td colspan="2" class="diff-lineno">Line 1:</td><td colspan="2" class="diff-lineno">Line 1:</td></tr>' + ROW('The river is', 'The river was') +
        '<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>Unchanged paragraph.</div></td><td class="diff-marker"></td><td class="diff-context diff-side-added"><div>Unchanged paragraph.</div></td></tr>' +
        '<tr><td colspan="2" class="diff-empty diff-side-deleted"></td><td class="diff-marker" data-marker="+"></td><td class="diff-addedline diff-side-added"><div>An added line.</div></td></tr>',
    }),
    editor: () => ({
      user: 'Example', wiki: 'enwiki', anonymous: false, registered_at: now - 200 * 86400000, edit_count: 12, groups: ['user'],
      block: { by: 'Admin', reason: 'Vandalism', expires_at: now + 86400000, partial: false },
      recent: [{ wiki: 'dewiki', title: 'Berlin', rev_id: 7, at: now - 60000, item: 'dewiki-1' }], last_edit_at: now - 20000,
      contributions: [{ rev_id: 6, title: 'River', at: now - 120000, comment: 'copy edit', size_diff: -5, top: true, new: false }],
      warnings: { level: 2, series: 'vandalism', window_days: 30, recent: [{ template: 'uw-vandalism2', series: 'vandalism', level: 2, at: now - 3600000 }] },
      talk_url: 'https://en.wikipedia.org/wiki/User_talk:Example',
    }),
    actions: (id) => ({
      item: id, wiki: 'enwiki', actions: {
        revert: { offered: true, method: 'rollback', why_not: null },
        tag: { offered: false, why_not: 'Only for new pages.', criteria: [] },
        warn: { offered: true, series: ['vandalism', 'spam'], level: 2, next_level: 3, report_instead: false, why_not: null },
        ask: { offered: true, why_not: null },
        report: { offered: true, board: 'Wikipedia:Administrator intervention against vandalism', why_not: null },
        thank: { offered: false, why_not: 'You cannot thank for this edit.' },
        patrol: { offered: true, why_not: null },
      },
    }),
  };
  await page.route((url) => /^\/api\/v1\/items\/[^/]+\/(diff|editor|actions)$/.test(url.pathname), (route) => {
    const [, id, what] = /^\/api\/v1\/items\/([^/]+)\/(\w+)$/.exec(new URL(route.request().url()).pathname);
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answers[what](decodeURIComponent(id))) });
  });
}

/** Goes to `path` and waits for `hook` to show. */
async function visit(page, path, hook) {
  await app.open(page, path);
  await page.locator(tid(hook)).first().waitFor({ timeout: WAIT }).catch(() => {
    throw new Failure(`${path} shows no [data-testid=${hook}] within ${WAIT} ms`);
  });
}

await spec('accessibility', async (t) => {
  const failures = [];
  let item = null;

  // A message from someone else, so that the thread shows its actions.
  const writer = await t.person('Writer');
  await app.open(writer.page);
  await app.selectQueue(writer.page, 'patrol');
  [item] = await app.waitRows(writer.page, 1, 30000);
  await app.openItem(writer.page, item);
  await app.postMessage(writer.page, 'Checking this one for accessibility.');
  log(`item ${item}`);

  for (const [size, viewport] of Object.entries(SIZES)) {
    const guest = await t.person(`Guest-${size}`, { viewport, login: false });
    const res = await guest.page.goto(`${t.env.base}/`);
    check(res && res.ok(), `GET / answered ${res?.status()}`);
    await guest.page.locator(tid('dev-login-submit')).first().waitFor({ timeout: WAIT });
    failures.push(...(await audit(guest.page, `${size} sign-in`)));
    await t.shot(guest.page, `a11y-${size}-sign-in`);
    await guest.context.close();

    const admin = await t.person(`Admin-${size}`, { viewport, groups: ['sysop'] });
    const page = admin.page;
    const views = [
      ['queue list', '/queue/patrol', 'item-row'],
      ['item', `/queue/patrol/item/${item}`, 'item-view'],
      ['thread', `/queue/patrol/item/${item}/thread`, 'message'],
      ['room', '/queue/patrol/room', 'message-input'],
      ['admin', '/admin', 'admin-reports'],
      ['my reports', '/me/reports', 'my-reports'],
    ];
    for (const [name, path, hook] of views) {
      await visit(page, path, hook);
      if (name === 'queue list' && size === 'desktop') {
        // Audit the list while a row that arrived live is still entering
        // (once: the feed's patrol items are minutes apart at times).
        await until(() => page.evaluate(() => document.getAnimations()
          .some((a) => a.playState === 'running' && a.effect?.target?.closest?.('[data-testid="item-row"]'))), {
          timeout: 30000,
          interval: 25,
          what: 'a row arriving live (an entrance animation running in the list)',
        });
      }
      if (name === 'item') await panelsSettled(page);
      failures.push(...(await audit(page, `${size} ${name}`)));
      if (name === 'item' || name === 'thread') await t.shot(page, `a11y-${size}-${name}`);
    }

    // The patrol panels with content, and the warning form open.
    await stubPatrol(page);
    await visit(page, `/queue/patrol/item/${item}`, 'diff-content');
    await panelsSettled(page);
    failures.push(...(await audit(page, `${size} item, patrol panels`)));
    await page.locator(tid('diff')).first().scrollIntoViewIfNeeded();
    await t.shot(page, `a11y-${size}-patrol-panels`);
    await page.evaluate(() => document.activeElement?.blur?.());
    await page.keyboard.press('w');
    await page.locator(tid('warn-series')).first().waitFor({ timeout: WAIT });
    failures.push(...(await audit(page, `${size} item, warning form`)));
    await admin.context.close();
  }

  check(failures.length === 0, () => `${failures.length} accessibility violations:\n  ${failures.join('\n  ')}`);
});
