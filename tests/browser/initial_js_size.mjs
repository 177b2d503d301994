// Spec 5: the JavaScript a signed-in person's browser loads on the first
// load of the dashboard (every script response until the page is idle,
// lazy chunks it asks for at start included), gzipped one file at a time
// as a server would send it, is at most 300 KB.

import { gzipSync } from 'node:zlib';
import { check, log, spec, tid, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

const LIMIT_KB = 300;

await spec('initial-js-size', async (t) => {
  const p = await t.person('Sizer');
  const scripts = [];
  p.page.on('response', (res) => {
    const type = res.request().resourceType();
    const ctype = res.headers()['content-type'] || '';
    if (type === 'script' || /javascript|ecmascript/.test(ctype)) {
      scripts.push(res.body().then((body) => ({ url: res.url(), status: res.status(), body })));
    }
  });
  await app.open(p.page);
  await p.page.waitForLoadState('networkidle', { timeout: WAIT });
  await p.page.locator(tid('queue')).first().waitFor({ timeout: WAIT });
  await p.page.waitForLoadState('networkidle', { timeout: WAIT });

  const files = await Promise.all(scripts);
  check(files.length > 0, 'the first load fetched no JavaScript at all');
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const z = gzipSync(f.body).length;
    raw += f.body.length;
    gz += z;
    log(`${new URL(f.url).pathname}: ${f.status}, ${f.body.length} bytes, ${z} gzipped`);
  }
  const kb = gz / 1024;
  console.log(`initial JS gzipped: ${kb.toFixed(1)} KB (${files.length} files, ${(raw / 1024).toFixed(1)} KB raw)`);
  check(kb <= LIMIT_KB, `the first load needs ${kb.toFixed(1)} KB of gzipped JavaScript, over ${LIMIT_KB} KB`);
});
