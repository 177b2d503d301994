// Frame times while the dashboard's item list is scrolled from its first
// row to its last, in headless Debian Chromium. Run by `patrolchat-bench
// scroll` (tests/bench/src/scroll.rs), which starts the servers, seeds the
// queue and reads the one JSON line per profile this prints.
//
// Each profile is a fresh signed-in context at one screen size (a desktop
// at 1280×800; a phone at 390×844 with the CPU slowed down, as a phone's
// is). The page opens the queue and waits until the list holds every item
// (its listbox's `aria-setsize`). Then one requestAnimationFrame loop
// moves the list down by a fixed number of pixels per frame, as a fast
// fling does, until the last row is in view, and records:
//   - each frame's interval (rAF timestamp minus the one before): at 60 Hz
//     16.7 ms is a frame on time, 33.3 ms one frame dropped;
//   - the long animation frames Chromium reports (over 50 ms of work);
//   - blank frames: frames whose viewport showed no row at its middle
//     (the virtual list had not rendered the rows scrolled into view);
//   - the main thread's work over the scroll (Chromium's Performance
//     metrics: script, style recalculation, layout, all tasks), per frame.
//     These depend far less on what else the machine is doing than the
//     intervals do, so they compare two builds best.
//
// Environment:
//   PATROLCHAT_BASE_URL   the api serving the dashboard (required)
//   PATROLCHAT_CHROMIUM   the browser (default /usr/bin/chromium)
//   SCROLL_WORKFLOW       the queue to open (default patrol)
//   SCROLL_ITEMS          rows the list must hold before scrolling starts
//   SCROLL_PX_PER_FRAME   pixels moved per frame (default 160, 9,600 px/s at 60 Hz)
//   SCROLL_PROFILES       comma-separated profile names (default desktop,phone)

import { chromium } from 'playwright-core';

const base = (process.env.PATROLCHAT_BASE_URL || '').replace(/\/+$/, '');
if (!base) {
  console.error('scroll_frames: set PATROLCHAT_BASE_URL');
  process.exit(2);
}
const workflow = process.env.SCROLL_WORKFLOW || 'patrol';
const items = Number(process.env.SCROLL_ITEMS || 5000);
const step = Number(process.env.SCROLL_PX_PER_FRAME || 160);
const PROFILES = {
  desktop: { viewport: { width: 1280, height: 800 }, cpuSlowdown: 1 },
  // One device pixel per CSS pixel: headless Chromium rasterises on the
  // CPU, which a phone's GPU does not; at 3× that raster, not the page's
  // own work, would be most of every frame.
  phone: { viewport: { width: 390, height: 844 }, cpuSlowdown: 4, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
};
const wanted = (process.env.SCROLL_PROFILES || 'desktop,phone').split(',').map((s) => s.trim()).filter(Boolean);

/** Runs in the page: scrolls `list` to its end, one step per frame. */
function scrollThrough({ step }) {
  const list = document.querySelector('[role="listbox"]');
  const long = [];
  const observer = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
  try {
    observer.observe({ type: 'long-animation-frame' });
  } catch {
    // An older browser: long frames are not reported, intervals still are.
  }
  return new Promise((done) => {
    const intervals = [];
    let blank = 0;
    let last = null;
    const frame = (ts) => {
      if (last !== null) {
        intervals.push(ts - last);
        // The previous step has been rendered: is there a row at the
        // middle of the viewport?
        const r = list.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || !hit.closest('[role="option"]')) blank += 1;
      }
      last = ts;
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) {
        observer.disconnect();
        done({ intervals, long, blank, height: list.scrollHeight });
        return;
      }
      list.scrollTop += step;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const browser = await chromium.launch({
  executablePath: process.env.PATROLCHAT_CHROMIUM || '/usr/bin/chromium',
  headless: true,
});
let failed = false;
try {
  for (const name of wanted) {
    const p = PROFILES[name];
    if (!p) throw new Error(`unknown profile ${name} (desktop, phone)`);
    const { cpuSlowdown, ...options } = p;
    const context = await browser.newContext(options);
    const login = await context.request.post(`${base}/auth/dev-login`, {
      data: { username: `Scroller-${name}`, groups: ['rollbacker'] },
    });
    if (!login.ok()) throw new Error(`dev login answered ${login.status()}: ${await login.text()}`);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const res = await page.goto(`${base}/queue/${encodeURIComponent(workflow)}`);
    if (!res || !res.ok()) throw new Error(`GET /queue/${workflow} answered ${res?.status()}`);
    const started = Date.now();
    await page.waitForFunction(
      (n) => {
        const row = document.querySelector('[role="listbox"] [role="option"]');
        return Number(row?.getAttribute('aria-setsize') || 0) >= n;
      },
      items,
      { timeout: 120000, polling: 100 },
    );
    const loadedMs = Date.now() - started;
    // Let the rows' entrance animations end; they are not what is measured.
    await page.evaluate(() => Promise.all(document.getAnimations().map((a) => {
      a.finish?.();
      return a.finished.catch(() => {});
    })));
    await cdp.send('Performance.enable');
    const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
    const m0 = await metrics();
    const r = await page.evaluate(scrollThrough, { step });
    const m1 = await metrics();
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    // Seconds of main-thread work in the scroll, as ms per frame.
    const work = (name) => ((m1[name] - m0[name]) * 1000) / Math.max(1, r.intervals.length);
    const sorted = [...r.intervals].sort((a, b) => a - b);
    const over = (ms) => r.intervals.filter((v) => v > ms).length;
    console.log(JSON.stringify({
      profile: name,
      viewport: `${p.viewport.width}x${p.viewport.height}`,
      cpu_slowdown: cpuSlowdown,
      rows: items,
      list_px: r.height,
      px_per_frame: step,
      loaded_ms: loadedMs,
      frames: r.intervals.length,
      p50_ms: quantile(sorted, 0.5),
      p95_ms: quantile(sorted, 0.95),
      p99_ms: quantile(sorted, 0.99),
      max_ms: quantile(sorted, 1),
      mean_ms: r.intervals.reduce((a, b) => a + b, 0) / Math.max(1, r.intervals.length),
      late_frames: over(20),
      long_frames: r.long.length,
      long_frame_ms: r.long.reduce((a, b) => a + b, 0),
      blank_frames: r.blank,
      script_ms_per_frame: work('ScriptDuration'),
      style_ms_per_frame: work('RecalcStyleDuration'),
      layout_ms_per_frame: work('LayoutDuration'),
      task_ms_per_frame: work('TaskDuration'),
    }));
    await context.close();
  }
} catch (e) {
  console.error(`scroll_frames: ${e?.stack || e}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
