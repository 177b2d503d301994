// Spec 3: the api restarts under an open page. While the page shows the
// patrol queue, the harness stops the api (SIGTERM), lets items arrive
// meanwhile (ingest and the router keep running) and starts the api again
// on the same port. The page must show that it lost the live feed, then
// show the feed connected again and the items that arrived meanwhile, by
// itself: no reload.
//
// Steps: `stop-api` (answers once the api has exited), `start-api`
// (answers {arrived: [ids routed to patrol while the api was down]} once
// the new api listens).

import { check, log, spec, until } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

await spec('api-restart', async (t) => {
  const pat = await t.person('Pat');
  const page = pat.page;
  await app.open(page);
  await app.selectQueue(page, 'patrol');
  await app.waitRows(page, 1, 30000);
  await app.feedStateIs(page, 'connected', 30000);
  // Survives only if the page is never reloaded.
  await page.evaluate(() => {
    window.__patrolchatMarker = 'still here';
  });
  const documents = pat.watch.documents;

  const { items_before: itemsBefore } = await t.step('stop-api');
  log(`api stopped with ${itemsBefore} patrol items routed`);
  await app.feedStateIs(page, 'disconnected', 20000);
  await t.shot(page, 'api-restart-disconnected');

  const { arrived } = await t.step('start-api');
  check(arrived?.length >= 1, 'the harness reports no items routed while the api was down');
  log(`routed while the api was down: ${arrived.join(', ')}`);
  const down = Date.now();
  await app.feedStateIs(page, 'connected', 45000);
  log(`feed-status connected again ${Date.now() - down} ms after the api listened`);
  for (const id of arrived) {
    await until(() => app.rowShown(page, id), {
      timeout: 20000,
      what: async () => `the row of ${id}, routed while the api was down (rows shown: ${(await app.rowIds(page)).length})`,
    });
  }
  log(`all ${arrived.length} items that arrived meanwhile show, ${Date.now() - down} ms after the api listened`);
  const marker = await page.evaluate(() => window.__patrolchatMarker);
  check(marker === 'still here' && pat.watch.documents === documents, 'the page reloaded to recover');
  await t.shot(page, 'api-restart-reconnected');
});
