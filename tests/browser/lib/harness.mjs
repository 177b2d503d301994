// The shared side of the browser specs: launching Debian's Chromium
// through playwright-core, signing people in, watching every page for
// things that must never happen (dialogs, requests leaving the machine,
// CSP violations), polling for conditions, screenshots, and the step
// protocol with tests/dashboard_browser.rs.
//
// A spec is a plain ES module run with `node`:
//
//     import { spec } from './lib/harness.mjs';
//     await spec('my-spec', async (t) => { ... });
//
// It exits 0 when the body returns and its pages stayed clean, and 1 with a
// `FAIL <spec>: <reason>` line (and a screenshot of every open page) when
// anything throws or times out.
//
// Environment (set by tests/dashboard_browser.rs; the defaults let a
// person run a spec by hand against `deploy/up.sh replay`):
//   PATROLCHAT_BASE_URL     the api, which serves the dashboard at `/`
//                           (default http://127.0.0.1:8080)
//   PATROLCHAT_CHROMIUM     the browser (default /usr/bin/chromium)
//   PATROLCHAT_SCREENSHOTS  where screenshots go (default <repo>/target/screenshots)
//   PATROLCHAT_HARNESS      `1` when a Rust test drives the spec over stdin/stdout
//   PATROLCHAT_SPEC_TIMEOUT_MS  the whole spec's time limit (default 120000)
//
// Step protocol (only with PATROLCHAT_HARNESS=1): `t.step(name, data)`
// prints one line `@@step {"step":name,"data":data}` on stdout and waits
// for one line `@@go {"step":name,"data":...}` on stdin, whose data it
// returns. `@@fail {"step":name,"error":"..."}` makes the spec fail with
// that reason. Every other stdout line is a log line for people.

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

export const env = {
  base: (process.env.PATROLCHAT_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
  chromium: process.env.PATROLCHAT_CHROMIUM || '/usr/bin/chromium',
  screenshots: resolve(process.env.PATROLCHAT_SCREENSHOTS || join(here, '../../../target/screenshots')),
  harness: process.env.PATROLCHAT_HARNESS === '1',
  timeoutMs: Number(process.env.PATROLCHAT_SPEC_TIMEOUT_MS || 120000),
};

/** How long a single UI condition may take by default. */
export const WAIT = 15000;

/** Sizes the specs look at. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** The dashboard's stable hooks. */
export const tid = (id) => `[data-testid="${id}"]`;

/** A spec failure with a message meant for people. */
export class Failure extends Error {}

/** Throws a Failure with `message` unless `ok`. */
export function check(ok, message) {
  if (!ok) throw new Failure(typeof message === 'function' ? message() : message);
}

export function log(...args) {
  console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
}

/**
 * Polls `fn` (sync or async) every `interval` ms until it returns a truthy
 * value, which it returns; throws a Failure naming `what` after `timeout`
 * ms. Errors thrown by `fn` count as "not yet" and the last one is
 * reported. `what` may be a function, called at the time of failure, so
 * the message can show the last observed state.
 */
export async function until(fn, { timeout = WAIT, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (e) {
      if (e instanceof Failure) throw e;
      last = e;
    }
    if (Date.now() >= deadline) {
      const w = typeof what === 'function' ? await what() : what;
      throw new Failure(`timed out after ${timeout} ms waiting for ${w}${last ? ` (last error: ${last.message.split('\n')[0]})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// --- step protocol ----------------------------------------------------------

let stdinLines;
const pendingLines = [];
const lineWaiters = [];

function nextLine() {
  if (!stdinLines) {
    stdinLines = createInterface({ input: process.stdin, terminal: false });
    stdinLines.on('line', (line) => {
      const w = lineWaiters.shift();
      if (w) w.resolve(line);
      else pendingLines.push(line);
    });
    stdinLines.on('close', () => {
      for (const w of lineWaiters.splice(0)) w.reject(new Failure('the harness closed stdin'));
    });
  }
  if (pendingLines.length) return Promise.resolve(pendingLines.shift());
  return new Promise((res, rej) => lineWaiters.push({ resolve: res, reject: rej }));
}

/**
 * Asks the Rust harness to do `name` (with `data`) and waits until it says
 * it is done; returns the data it answers with.
 */
export async function step(name, data = {}, { timeout = 90000 } = {}) {
  if (!env.harness) {
    throw new Failure(`step "${name}" needs the Rust harness (run it through cargo test --test dashboard_browser)`);
  }
  const started = Date.now();
  process.stdout.write(`@@step ${JSON.stringify({ step: name, data })}\n`);
  let timer;
  const line = await Promise.race([
    nextLine(),
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Failure(`the harness did not finish step "${name}" within ${timeout} ms`)), timeout);
    }),
  ]).finally(() => clearTimeout(timer));
  const m = /^@@(go|fail) (.*)$/.exec(line);
  check(m, `unexpected line from the harness during step "${name}": ${line}`);
  const msg = JSON.parse(m[2]);
  check(msg.step === name, `the harness answered step "${msg.step}" while "${name}" was asked`);
  if (m[1] === 'fail') throw new Failure(`harness step "${name}" failed: ${msg.error}`);
  log(`step ${name} done in ${Date.now() - started} ms`);
  return msg.data ?? {};
}

// --- watching pages -----------------------------------------------------------

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether a request URL stays on this machine (or never leaves the page). */
export function isLocal(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return true;
  return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && LOCAL_HOSTS.has(u.hostname);
}

/** CSP reports that parsing a hostile payload can cause. */
const PAYLOAD_KINDS = new Set(['inline-handler', 'inline-style']);

function cspKindOfMessage(text) {
  if (/inline event handler/i.test(text)) return 'inline-handler';
  if (/inline style/i.test(text)) return 'inline-style';
  if (/eval/i.test(text)) return 'eval';
  if (/inline script/i.test(text)) return 'inline-script';
  if (/Refused to (load|connect|frame|execute script)/i.test(text)) return 'load';
  return 'other';
}

function cspKindOfEvent(v) {
  if (v.directive === 'script-src-attr') return 'inline-handler';
  if (v.directive === 'style-src-attr') return 'inline-style';
  if (v.blocked === 'eval' || v.blocked === 'wasm-eval') return 'eval';
  if (v.blocked === 'inline') return v.directive.startsWith('style') ? 'inline-style' : 'inline-script';
  return 'load';
}

/** Installed in every page before the app's own scripts run. */
function cspProbe() {
  document.addEventListener('securitypolicyviolation', (e) => {
    // eslint-disable-next-line no-undef
    window.__patrolchatCsp?.({
      directive: e.violatedDirective,
      blocked: e.blockedURI,
      source: e.sourceFile,
      line: e.lineNumber,
      sample: e.sample,
    });
  });
}

/**
 * What a person's browser context saw. Failing every spec: dialogs,
 * requests to other machines, CSP violations (from the DOM event and from
 * the console) and 5xx answers to the page's requests. Reported: uncaught
 * page errors and console errors.
 */
class Watch {
  constructor(who) {
    this.who = who;
    this.dialogs = [];
    this.external = [];
    this.csp = [];
    this.payloadCsp = [];
    this.hostileSince = null;
    this.pageErrors = [];
    this.consoleErrors = [];
    this.serverErrors = [];
    this.documents = 0;
  }

  async attach(context) {
    await context.exposeBinding('__patrolchatCsp', ({ page }, v) => {
      this.violation(cspKindOfEvent(v), { ...v, url: page?.url() });
    });
    await context.addInitScript(cspProbe);
    context.on('request', (r) => {
      if (!isLocal(r.url())) this.external.push(`${r.method()} ${r.url()}`);
    });
    context.on('response', (r) => {
      if (r.status() >= 500) {
        const e = { what: `${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`, body: '' };
        this.serverErrors.push(e);
        r.text().then((body) => {
          e.body = body.slice(0, 160);
        }, () => {});
      }
    });
    context.on('page', (page) => this.page(page));
  }

  /**
   * From now on, hostile HTML may be parsed in this context (spec 2). A
   * sanitiser that parses it (template, DOMParser) makes Chromium report
   * the inline handlers and style attributes it meets as blocked, although
   * nothing would ever run; such reports are kept apart as payload-induced.
   * Whether hostile markup really reached the page is for the spec's DOM
   * checks to say. Everything else stays a failure, and before this call
   * every report is the app's own.
   */
  expectHostileHtml() {
    this.hostileSince ??= Date.now();
  }

  violation(kind, detail) {
    const v = { kind, ...detail };
    if (this.hostileSince !== null && PAYLOAD_KINDS.has(kind)) this.payloadCsp.push(v);
    else this.csp.push(v);
  }

  page(page) {
    page.on('dialog', (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('websocket', (ws) => {
      if (!isLocal(ws.url())) this.external.push(`WebSocket ${ws.url()}`);
    });
    page.on('pageerror', (e) => this.pageErrors.push(String(e?.stack || e).split('\n').slice(0, 3).join(' | ')));
    page.on('console', (m) => {
      const text = m.text();
      if (/Content Security Policy/i.test(text)) {
        this.violation(cspKindOfMessage(text), { console: text.split('. ')[0], at: m.location()?.url });
      } else if (m.type() === 'error') {
        this.consoleErrors.push(text);
      }
    });
    // A new document (not a client-side route change): reloads show here.
    page.on('domcontentloaded', () => {
      this.documents += 1;
    });
  }

  /** Problems that fail any spec. */
  problems() {
    const out = [];
    if (this.dialogs.length) out.push(`${this.who}: a dialog opened (${this.dialogs.join('; ')})`);
    if (this.external.length) out.push(`${this.who}: requests left the machine: ${[...new Set(this.external)].slice(0, 5).join(', ')}`);
    if (this.csp.length) out.push(`${this.who}: CSP violations: ${this.csp.slice(0, 5).map((v) => JSON.stringify(v)).join('; ')}`);
    if (this.serverErrors.length) {
      const seen = [...new Set(this.serverErrors.map((e) => `${e.what} ${e.body}`))];
      out.push(`${this.who}: the api answered the page with server errors: ${seen.join(', ')}`);
    }
    return out;
  }
}

// --- people -------------------------------------------------------------------

/**
 * Signs `name` in through dev login with the context's own request client,
 * so the session cookie lands in the context. Returns the session body.
 */
export async function devLogin(context, name, groups = ['rollbacker']) {
  const res = await context.request.post(`${env.base}/auth/dev-login`, {
    // Every wiki's code of conduct accepted, so that posting needs no prompt.
    data: { username: name, groups, conduct_accepted: true },
  });
  check(res.ok(), `dev login of ${name} answered ${res.status()}: ${await res.text()}`);
  const body = await res.json();
  const cookies = await context.cookies(env.base);
  check(cookies.length > 0, `dev login of ${name} set no cookie for ${env.base}`);
  return body;
}

/**
 * Signs the person the wiki stand-in consents as in through the api's
 * OAuth sign-in (/auth/login → the stand-in's authorize endpoint, over
 * https with the test CA → /auth/callback), with the context's own
 * request client, so the session cookie lands in the context: a session
 * with a wiki grant, for acting on the wiki.
 */
export async function oauthLogin(context, name) {
  const res = await context.request.get(`${env.base}/auth/login`, { ignoreHTTPSErrors: true, maxRedirects: 10 });
  check(res.ok(), `the OAuth sign-in of ${name} ended with ${res.status()} at ${res.url()}`);
  const cookies = await context.cookies(env.base);
  check(cookies.some((c) => c.name === 'patrolchat_session'), `the OAuth sign-in of ${name} set no session cookie`);
  const me = await context.request.get(`${env.base}/api/v1/me`);
  check(me.ok(), `/api/v1/me after the sign-in of ${name} answered ${me.status()}`);
  const body = await me.json();
  check(body.name === name, `the wiki signed in ${body.name}, not ${name}`);
  return body;
}

// --- the spec runner ------------------------------------------------------------

/**
 * Runs a spec body with a launched browser. The body gets `t`:
 *   t.person(name, {groups, viewport, locale, login})  a new signed-in context and page
 *                          (login: true for dev login, 'oauth' through the wiki, false for none)
 *   t.step(name, data)     the harness step protocol
 *   t.shot(page, name)     a full-page screenshot under the screenshot dir
 *   t.watches              each context's Watch
 *   t.browser              the playwright Browser
 */
export async function spec(name, body, { timeoutMs = env.timeoutMs } = {}) {
  const started = Date.now();
  mkdirSync(env.screenshots, { recursive: true });
  const people = [];
  let browser;
  const timer = setTimeout(() => {
    finish(new Failure(`the spec took longer than ${timeoutMs} ms`));
  }, timeoutMs);
  let finished = false;

  async function finish(err) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (err) {
      for (const p of people) {
        for (const [i, page] of p.context.pages().entries()) {
          const file = join(env.screenshots, `FAILED-${name}-${p.name.replace(/[^A-Za-z0-9]+/g, '_')}-${i}.png`);
          await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).catch(() => {});
          console.log(`failure screenshot: ${file}`);
        }
      }
      const why = err instanceof Failure ? err.message : String(err?.stack || err);
      console.log(`FAIL ${name}: ${why}`);
      for (const p of people) {
        if (p.watch.pageErrors.length) console.log(`  ${p.name} page errors: ${p.watch.pageErrors.join(' || ')}`);
        if (p.watch.consoleErrors.length) console.log(`  ${p.name} console errors: ${p.watch.consoleErrors.slice(0, 10).join(' || ')}`);
      }
    }
    await browser?.close().catch(() => {});
    if (!err) console.log(`PASS ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(err ? 1 : 0);
  }

  const t = {
    env,
    step,
    get watches() {
      return people.map((p) => p.watch);
    },
    async person(who, { groups = ['rollbacker'], viewport = DESKTOP, locale = 'en-US', login = true } = {}) {
      const context = await browser.newContext({ viewport, locale, baseURL: env.base });
      const watch = new Watch(who);
      await watch.attach(context);
      const p = { name: who, context, watch, session: null };
      people.push(p);
      if (login === 'oauth') p.session = await oauthLogin(context, who);
      else if (login) p.session = await devLogin(context, who, groups);
      p.page = await context.newPage();
      return p;
    },
    async shot(page, file) {
      const path = join(env.screenshots, `${file}.png`);
      // Finished animations: rows slide in as they arrive.
      await page.screenshot({ path, fullPage: false, animations: 'disabled' });
      log(`screenshot ${path}`);
      return path;
    },
  };

  try {
    browser = await chromium.launch({
      executablePath: env.chromium,
      headless: true,
      // Containers and CI run as root, where Chromium's sandbox cannot start.
      chromiumSandbox: false,
      args: ['--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
    });
    log(`${name}: Chromium ${browser.version()} against ${env.base}`);
    await body(t);
    const problems = people.flatMap((p) => p.watch.problems());
    check(problems.length === 0, () => problems.join('\n  '));
    for (const p of people) {
      if (p.watch.pageErrors.length) log(`WARN ${p.name}: uncaught errors in the page: ${p.watch.pageErrors.join(' || ')}`);
    }
    await finish();
  } catch (e) {
    await finish(e);
  }
}
