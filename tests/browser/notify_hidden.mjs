// Spec: a desktop notification for a mention while the page is hidden.
// Nora grants the page notifications (the browser context's permission),
// opts in to mentions in the inbox's settings, and the dashboard's page is
// hidden: its window minimised through Chromium's DevTools protocol, or
// else another tab brought to the front (`document.visibilityState` is
// "hidden"; if this headless Chromium keeps it "visible" either way, an
// init script makes it report "hidden" from then on, and the spec logs
// which way it went). Bob
// mentions her in an item's thread: a Notification is made (recorded by a
// wrapper of window.Notification installed by an init script) with "Bob
// mentioned you" and the message's text; the inbox badge counts it; the
// notification's click brings the dashboard forward with the message
// highlighted in its item.

import { check, log, spec, tid, until, WAIT } from './lib/harness.mjs';
import * as app from './lib/dashboard.mjs';

/** Records every Notification made; can make the page report itself hidden. */
function recorder() {
  const Real = window.Notification;
  window.__made = [];
  if (Real) {
    window.Notification = class extends Real {
      constructor(title, opts = {}) {
        window.__made.push({ title, body: opts.body, tag: opts.tag, at: Date.now(), visibility: document.visibilityState });
        super(title, opts);
        window.__made[window.__made.length - 1].n = this;
      }
    };
  }
  const real = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get() {
      return window.__forceHidden ? 'hidden' : real.get.call(this);
    },
  });
}

await spec('notify-hidden', async (t) => {
  const nora = await t.person('Nora');
  const bob = await t.person('Bob');
  await nora.context.grantPermissions(['notifications'], { origin: t.env.base });
  await nora.context.addInitScript(recorder);
  const page = nora.page;

  // Opt in to mentions (the permission is already granted: no prompt).
  await app.open(page, '/inbox');
  const box = page.locator(tid('notify-mention')).first();
  await box.waitFor({ timeout: WAIT });
  await box.check();
  check(await box.isChecked(), 'the mention setting did not stay on');
  const saved = await page.evaluate(() => localStorage.getItem('patrolchat.notify.Nora'));
  check(/"mention":true/.test(saved || ''), `the choice was not kept: ${saved}`);

  // Back to the list, so that an item is known to open later.
  await app.open(page, '/');
  await app.selectQueue(page, 'patrol');
  const [id] = await app.waitRows(page, 1);

  // Hide the page: its window minimised (Chromium's DevTools protocol),
  // else another tab in front.
  const isHidden = () => until(async () => (await page.evaluate(() => document.visibilityState)) === 'hidden', { timeout: 3000 }).then(() => true, () => false);
  let how = 'its window minimised';
  const cdp = await nora.context.newCDPSession(page);
  let hidden = false;
  try {
    const { windowId } = await cdp.send('Browser.getWindowForTarget');
    await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: 'minimized' } });
    hidden = await isHidden();
  } catch (e) {
    log(`minimising the window: ${e.message}`);
  }
  if (!hidden) {
    how = 'another tab brought to the front';
    const other = await nora.context.newPage();
    await other.goto('about:blank');
    await other.bringToFront();
    hidden = await isHidden();
  }
  if (!hidden) {
    how = 'visibilityState overridden by the init script (this headless Chromium keeps the page "visible" with its window minimised and with another tab in front)';
    await page.evaluate(() => {
      window.__forceHidden = true;
      document.dispatchEvent(new Event('visibilitychange'));
    });
  }
  log(`page hidden: ${how}`);

  // Bob mentions her.
  await app.open(bob.page);
  await app.selectQueue(bob.page, 'patrol');
  await app.openItem(bob.page, id);
  const text = `@Nora could you look at this one? ${Date.now()}`;
  const posted = await app.postMessage(bob.page, text);

  const notifications = () => page.evaluate(() => window.__made.map(({ title, body, tag, visibility }) => ({ title, body, tag, visibility })));
  await until(async () => (await notifications()).length > 0, { what: 'a Notification for the mention' });
  // Then a later sign of the mention, the inbox badge counting it, before
  // the notifications are counted: reading them as soon as the first
  // shows would miss a second one made for the same mention.
  const badge = page.locator(tid('inbox-badge')).first();
  const count = () => badge.getAttribute('data-count', { timeout: 1000 }).catch(() => null);
  await until(async () => (await count()) === '1', {
    what: async () => `the inbox badge to count 1 (it counts ${await count()})`,
  });
  log(`inbox badge: ${await badge.innerText()}`);
  const made = await notifications();
  log(`notifications: ${JSON.stringify(made)}`);
  check(made[0].title === 'Bob mentioned you', `its title is ${JSON.stringify(made[0].title)}`);
  check((made[0].body || '').includes('could you look at this one'), `its body is ${JSON.stringify(made[0].body)}`);
  check(made[0].visibility === 'hidden', `it was made while the page was ${made[0].visibility}`);
  check(made.length === 1, `${made.length} notifications for one mention`);

  // Its click: the dashboard in front, the message highlighted.
  await page.evaluate(() => {
    window.__forceHidden = false;
    window.__made[0].n.onclick();
  });
  try {
    const { windowId } = await cdp.send('Browser.getWindowForTarget');
    await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: 'normal' } });
  } catch {
    // not minimised
  }
  await page.bringToFront();
  const msg = page.locator(`${tid('message')}[data-message-id="${posted.id}"]`).first();
  await msg.waitFor({ state: 'visible', timeout: WAIT });
  await until(async () => (await msg.getAttribute('data-highlighted')) === 'true', { what: `${posted.id} highlighted` });
  log(`the notification opened ${new URL(page.url()).pathname} with ${posted.id} highlighted`);
});
