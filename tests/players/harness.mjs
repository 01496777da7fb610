// Real-player test harness: drives hls.js, dash.js and Shaka Player in
// headless Chromium (Debian's /usr/bin/chromium through playwright-core) and
// checks that a stream really plays, switches quality, switches audio
// language, shows subtitles and seeks.
//
// Exports:
//   checkPlayback({player, url, expect, breakSegments}) -> result
//   formatResult(result) -> multi-line string
//   startPageServer(), startCorsStaticServer(root), startEdgepack({...}),
//   freePort(), closeHarness()
//
// Every wait has a timeout, and "no playback progress for N seconds" is a
// failure of its own: hls.js, for one, retries 404s forever without ever
// raising a fatal error.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NM = path.join(HERE, 'node_modules');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STALL_S = Number(process.env.PLAYER_TEST_STALL_S || 10);

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--autoplay-policy=no-user-gesture-required',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--mute-audio',
  // The three "CDNs" of the steering tests (steering.test.mjs): nginx on 127.0.0.2-4, one
  // port, told apart by host name as real CDNs are. Other tests never use these names.
  '--host-resolver-rules=MAP cdn-a.test 127.0.0.2,MAP cdn-b.test 127.0.0.3,MAP cdn-c.test 127.0.0.4',
];

// ------------------------------------------------------------------ servers

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.m4v': 'video/mp4',
  '.ts': 'video/mp2t',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt; charset=utf-8',
};

function sendFile(req, res, file, extraHeaders = {}) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain', ...extraHeaders });
      res.end('not found\n');
      return;
    }
    const headers = {
      'content-type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
      ...extraHeaders,
    };
    let start = 0;
    let end = st.size - 1;
    let status = 200;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
    if (m && (m[1] || m[2])) {
      if (m[1]) {
        start = Number(m[1]);
        if (m[2]) end = Math.min(Number(m[2]), end);
      } else {
        start = Math.max(0, st.size - Number(m[2]));
      }
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${st.size}`, ...extraHeaders });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    }
    headers['content-length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file, { start, end }).pipe(res);
  });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

// The player page and the player libraries, from their npm dist files.
const PAGE_FILES = {
  '/player.html': path.join(HERE, 'player.html'),
  '/player.js': path.join(HERE, 'player.js'),
  '/lib/hls.js': path.join(NM, 'hls.js/dist/hls.min.js'),
  '/lib/dash.js': path.join(NM, 'dashjs/dist/modern/umd/dash.all.min.js'),
  '/lib/shaka.js': path.join(NM, 'shaka-player/dist/shaka-player.compiled.js'),
};

export function startPageServer() {
  for (const f of Object.values(PAGE_FILES)) {
    if (!fs.existsSync(f)) throw new Error(`missing ${f}: run "npm ci" in ${HERE}`);
  }
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/favicon.ico') { res.writeHead(204); return res.end(); }
    const file = PAGE_FILES[p];
    if (!file) { res.writeHead(404); return res.end(); }
    sendFile(req, res, file);
  });
  return listen(server);
}

// Static file server with CORS, for the reference streams. `prefix` mounts
// root under a path (e.g. '/vod/demo' to mimic edgepack's URLs);
// `virtualFiles` maps extra paths (under the prefix) to text content, for
// deliberately broken manifests in the harness self-tests.
export function startCorsStaticServer(root, { prefix = '', virtualFiles = {} } = {}) {
  const rootAbs = path.resolve(root);
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'range',
    'access-control-expose-headers': 'content-length, content-range',
  };
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-max-age': '600' });
      return res.end();
    }
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (prefix) {
      if (!p.startsWith(prefix + '/')) { res.writeHead(404, cors); return res.end(); }
      p = p.slice(prefix.length);
    }
    if (Object.hasOwn(virtualFiles, p)) {
      const body = Buffer.from(virtualFiles[p]);
      res.writeHead(200, { ...cors, 'content-type': TYPES[path.extname(p)] || 'text/plain', 'content-length': body.length, 'cache-control': 'no-cache' });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    const file = path.join(rootAbs, path.normalize(p));
    if (!file.startsWith(rootAbs)) { res.writeHead(403, cors); return res.end(); }
    sendFile(req, res, file, cors);
  });
  return listen(server);
}

// Start `edgepack serve` and wait for /healthz (20 s).
export async function startEdgepack({ bin, mediaRoot, port, extraArgs = [], healthTimeoutMs = 20000 }) {
  port = port || (await freePort());
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--media-root', mediaRoot, ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => { output = (output + d).slice(-20000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  child.on('error', (e) => { exited = { error: e.message }; });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await new Promise((r) => (exited ? r() : child.once('exit', r)));
    clearTimeout(t);
  };
  const deadline = Date.now() + healthTimeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`edgepack exited early (${JSON.stringify(exited)}): ${bin} ${args.join(' ')}\n${output}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return { baseUrl, stop, output: () => output, args };
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`edgepack /healthz did not answer 200 within ${healthTimeoutMs} ms (last: ${last})\n${output}`);
}

// ------------------------------------------------------------------ browser

// The browser and page server, shared by every checkPlayback() of the
// process. A promise, so that concurrent tests (describe/test concurrency)
// wait for the one launch instead of each launching a browser that
// closeHarness() would not know about.
let shared = null; // Promise<{ browser, pageServer }>

function getShared() {
  if (!shared) {
    shared = (async () => {
      const pageServer = await startPageServer();
      // playwright-core gives every launch() a fresh, temporary --user-data-dir
      // (and refuses one in args), so the profile is new for each run.
      const browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 30000,
      }).catch(async (e) => { await pageServer.close().catch(() => {}); throw e; });
      return { browser, pageServer };
    })();
    shared.catch(() => { shared = null; });
  }
  return shared;
}

export async function closeHarness() {
  if (!shared) return;
  const p = shared;
  shared = null;
  const s = await p.catch(() => null);
  if (!s) return;
  await s.browser.close().catch(() => {});
  await s.pageServer.close().catch(() => {});
}

// ------------------------------------------------------------------ helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

// page.evaluate with a timeout (a wedged renderer must not hang the test).
function ev(page, fn, arg, ms = 5000) {
  return withTimeout(page.evaluate(fn, arg), ms, 'page.evaluate');
}

const state = (page) => ev(page, () => window.H.state());
const fmtT = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : String(x));

// Poll the page until step() says done (returns {ok:true,...}) or fails.
// Fails on: a fatal player error, no currentTime progress for stallMs,
// overall timeout. "Real" playback excludes jumps (seeks, gap skips).
async function watch(page, { timeoutMs, stallMs = STALL_S * 1000, step, allowEnded = false, label }) {
  const t0 = Date.now();
  let s = await state(page);
  const first = s;
  let lastProgressAt = Date.now();
  let lastT = s.currentTime;
  let lastWall = Date.now();
  let played = 0; // seconds of real playback since the watch began
  for (;;) {
    const r = await step(s, { played, first, elapsedMs: Date.now() - t0 });
    if (r) return { ...r, played, state: s };
    if (s.fatal) return { ok: false, reason: `fatal player error: ${s.fatal.message}`, played, state: s };
    if (s.ended && !allowEnded) return { ok: false, reason: `media ended at ${fmtT(s.currentTime)} s before ${label} completed`, played, state: s };
    if (Date.now() - lastProgressAt > stallMs) {
      return { ok: false, reason: `no playback progress for ${stallMs / 1000} s (currentTime stuck at ${fmtT(s.currentTime)}, readyState ${s.readyState}, buffered ${JSON.stringify(s.buffered)}) during ${label}`, played, state: s };
    }
    if (Date.now() - t0 > timeoutMs) {
      return { ok: false, reason: `timed out after ${timeoutMs / 1000} s during ${label} (played ${played.toFixed(1)} s, currentTime ${fmtT(s.currentTime)})`, played, state: s };
    }
    await sleep(250);
    s = await state(page);
    const now = Date.now();
    const dt = s.currentTime - lastT;
    const wall = (now - lastWall) / 1000;
    if (dt > 0.02) {
      lastProgressAt = now;
      if (dt <= wall * 1.5 + 0.3) played += dt; // plausible rate-1 playback, not a jump
    }
    lastT = s.currentTime;
    lastWall = now;
  }
}

// Play for `seconds` more of real playback (used after switches).
function keepPlaying(page, seconds, label, timeoutMs = (seconds + 10) * 1000) {
  return watch(page, {
    timeoutMs,
    label,
    step: (s, { played }) => (played >= seconds ? { ok: true } : null),
  });
}

// ------------------------------------------------------------------ checks

const CHECKS = ['plays', 'switchesQuality', 'selectsSecondAudio', 'showsSubtitles', 'seeksToMiddle'];

/**
 * Load the player page, start `player` on `url` and run the checks.
 *
 * @param {object} o
 * @param {'hlsjs'|'dashjs'|'shaka'} o.player
 * @param {string} o.url  stream URL (another origin: needs CORS)
 * @param {object} [o.expect]
 *   playSeconds (10), subtitleText ('Subtitle cue'), subtitleLanguage ('en'),
 *   checks (list of check names to run; default all),
 *   requireActiveCue (true): a matching cue must be active at currentTime,
 *   subtitleCueStart (text => expected start in s, or undefined): where the
 *     source says the active cue starts; checked to +-subtitleTolerance (0.25),
 *   waitSeconds (20): how long a quality/audio/subtitle switch may take,
 *   audio (true: require decoded audio bytes)
 *   stallSeconds (PLAYER_TEST_STALL_S, 10): "no progress" limit of the
 *     initial playback check
 * @param {object} [o.breakSegments] negative control: answer 404 to media
 *   segment requests after the first `after` (default 3) of them;
 *   `pattern` (RegExp) says what a media segment URL is.
 * @param {object} [o.playerConfig] handed to the page's player adapter
 *   (player.js): hls.js config fields, Shaka configure() object, or
 *   `{protectionData}` for dash.js setProtectionData().
 * @param {{url, handler}[]} [o.routes] extra Playwright page.route(url,
 *   handler) interceptions, installed before the page loads (e.g. a license
 *   server answering a wrong key).
 * @param {function} [o.onPage] called as onPage(page, result) once the page
 *   exists and the harness' own listeners are on, before anything loads: for
 *   tests that watch responses themselves or act while the checks run (e.g.
 *   revoke a session mid-play). It may return an async function, which is
 *   awaited (at most 30 s) after the checks and before the page closes: to
 *   keep watching the video element after a check has ended (a fatal player
 *   error ends "plays" at once, while buffered media may still play on).
 * @returns {Promise<{player,url,ok,checks:{name,ok,reason,details}[],events,requests,requestLog,eme,ms}>}
 *   requestLog: {method, url} of every request the page made; eme: the key
 *   systems the player requested/was granted, license messages, key statuses.
 */
export async function checkPlayback({ player, url, expect = {}, breakSegments = null, hardTimeoutMs = 150000, playerConfig = null, routes = [], onPage = null }) {
  const t0 = Date.now();
  const result = { player, url, ok: false, checks: [], events: [], consoleErrors: [], httpErrors: [], ms: 0 };
  const wanted = expect.checks || CHECKS;
  const { browser, pageServer } = await getShared();
  const context = await browser.newContext({ viewport: { width: 800, height: 450 } });
  let page;
  let hardTimer;
  try {
    page = await context.newPage();
    const requests = []; // every request the page made, in order
    const requestLog = []; // the same with methods
    page.on('request', (r) => { requests.push(r.url()); requestLog.push({ method: r.method(), url: r.url() }); });
    page.on('response', (r) => {
      if (r.status() >= 400 && result.httpErrors.length < 30) result.httpErrors.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => {
      if (result.httpErrors.length < 30) result.httpErrors.push(`failed ${r.failure()?.errorText} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && result.consoleErrors.length < 30) result.consoleErrors.push(m.text().slice(0, 300));
    });
    page.on('pageerror', (e) => {
      if (result.consoleErrors.length < 30) result.consoleErrors.push('pageerror: ' + String(e.message).slice(0, 300));
    });
    result.requests = requests;
    result.requestLog = requestLog;
    for (const r of routes) await page.route(r.url, r.handler);
    const beforeClose = onPage ? await onPage(page, result) : null;

    if (breakSegments) {
      const after = breakSegments.after ?? 3;
      const pattern = breakSegments.pattern || /\.(m4s|mp4|m4v|m4a|ts|aac|cmf[vat])(\?|$)/i;
      let seen = 0;
      result.broken = [];
      await page.route((u) => pattern.test(u.href), async (route) => {
        seen += 1;
        if (seen <= after) return route.continue();
        result.broken.push(route.request().url());
        return route.fulfill({ status: 404, contentType: 'text/plain', headers: { 'access-control-allow-origin': '*' }, body: 'broken on purpose by the negative control\n' });
      });
    }

    // A hard stop for the whole run, on top of every wait's own timeout.
    const hard = new Promise((_, rej) => { hardTimer = setTimeout(() => rej(new Error(`hard timeout ${hardTimeoutMs} ms`)), hardTimeoutMs); });
    await Promise.race([runChecks(page, pageServer.origin, player, url, expect, wanted, requests, result, playerConfig), hard]).catch((e) => {
      result.checks.push({ name: 'harness', ok: false, reason: `harness error: ${e.message}` });
    });
    if (typeof beforeClose === 'function') {
      await withTimeout(Promise.resolve().then(beforeClose), 30000, 'onPage hook before close').catch((e) => {
        result.consoleErrors.push(`onPage hook: ${e.message}`);
      });
    }
    try {
      result.events = await ev(page, () => window.H && window.H.events.slice(-40), undefined, 3000);
      result.eme = await ev(page, () => window.H && window.H.eme, undefined, 3000);
    } catch { /* page gone */ }
  } finally {
    clearTimeout(hardTimer);
    await context.close().catch(() => {});
  }
  // Checks that were wanted but never reached count as failures.
  const playsFailed = result.checks.some((c) => c.name !== 'plays' ? false : !c.ok);
  for (const name of wanted) {
    if (!result.checks.some((c) => c.name === name)) result.checks.push({ name, ok: false, reason: playsFailed ? 'not run: plays failed' : 'not run' });
  }
  result.ok = result.checks.length > 0 && result.checks.every((c) => c.ok);
  result.ms = Date.now() - t0;
  return result;
}

async function runChecks(page, origin, player, url, expect, wanted, requests, result, playerConfig) {
  const add = (name, r, details) => {
    const c = { name, ok: !!r.ok, reason: r.ok ? (r.note || 'ok') : r.reason, details: details || r.details };
    result.checks.push(c);
    return c;
  };

  // --- load page and start the player
  await withTimeout(page.goto(`${origin}/player.html?player=${player}`), 15000, 'page load');
  await page.waitForFunction(() => window.H_LOAD_ERROR || (window.H && window.H.ready), undefined, { timeout: 15000 });
  const loadError = await ev(page, () => window.H_LOAD_ERROR);
  if (loadError) throw new Error(loadError);
  await ev(page, ([u, c]) => { window.H.start(u, c ? { config: c } : undefined); }, [url, playerConfig]);

  // --- 1. plays >= playSeconds of real playback, frames decoded, no fatal error
  const playSeconds = expect.playSeconds ?? 10;
  const waitMs = (expect.waitSeconds ?? 20) * 1000;
  const s0 = await state(page);
  const pr = await watch(page, {
    timeoutMs: (playSeconds + 25) * 1000,
    stallMs: (expect.stallSeconds ?? STALL_S) * 1000,
    label: 'initial playback',
    step: (s, { played }) => (played >= playSeconds ? { ok: true } : null),
  });
  {
    const s1 = pr.state;
    const frames = s1.frames - s0.frames;
    const audio = s1.audioBytes - s0.audioBytes;
    const details = { played: +pr.played.toFixed(2), currentTime: +s1.currentTime.toFixed(2), frames, droppedFrames: s1.droppedFrames - s0.droppedFrames, audioBytes: audio, videoBytes: s1.videoBytes - s0.videoBytes, size: `${s1.videoWidth}x${s1.videoHeight}`, duration: s1.duration, errors: s1.errorCount, decryptErrors: s1.decryptErrors };
    let r = pr;
    if (r.ok && frames < playSeconds * 5) r = { ok: false, reason: `only ${frames} video frames decoded in ${pr.played.toFixed(1)} s` };
    else if (r.ok && expect.audio !== false && audio <= 0) r = { ok: false, reason: 'no audio decoded (webkitAudioDecodedByteCount did not grow)' };
    else if (r.ok) r = { ok: true, note: `played ${pr.played.toFixed(1)} s, ${frames} frames, ${s1.videoWidth}x${s1.videoHeight}` };
    const c = add('plays', r, details);
    if (!c.ok) return; // everything else needs a playing stream
  }

  // --- 2. quality switch
  if (wanted.includes('switchesQuality')) {
    const qs = await ev(page, () => window.H.qualities());
    const cur = await state(page);
    const heights = [...new Set(qs.map((q) => q.height).filter(Boolean))];
    const details = { qualities: qs, fromHeight: cur.videoHeight };
    if (heights.length < 2) {
      add('switchesQuality', { ok: false, reason: `player lists ${qs.length} video qualities with heights [${heights}]: need 2 different heights` }, details);
    } else {
      const target = qs.filter((q) => q.height && q.height !== cur.videoHeight).sort((a, b) => Math.abs(b.height - cur.videoHeight) - Math.abs(a.height - cur.videoHeight))[0];
      details.target = target;
      await ev(page, (id) => window.H.setQuality(id), target.id);
      const sw = await watch(page, {
        timeoutMs: waitMs,
        label: `switch to ${target.height}p`,
        step: (s) => (s.videoHeight === target.height ? { ok: true } : null),
      });
      let r = sw;
      if (!sw.ok) r = { ok: false, reason: `videoHeight stayed ${sw.state.videoHeight} (wanted ${target.height}): ${sw.reason || ''}`.trim() };
      else {
        const after = await keepPlaying(page, 2, `playback after switch to ${target.height}p`);
        const qs2 = await ev(page, () => window.H.qualities());
        const active = qs2.find((q) => q.active);
        details.activeAfter = active;
        if (!after.ok) r = after;
        else if (after.state.videoHeight !== target.height) r = { ok: false, reason: `videoHeight went back to ${after.state.videoHeight} after switching to ${target.height}` };
        else if (active && active.height !== target.height) r = { ok: false, reason: `player reports ${active.height}p active, picture is ${target.height}p` };
        else r = { ok: true, note: `${cur.videoHeight}p -> ${target.height}p, played on` };
      }
      add('switchesQuality', r, details);
    }
  }

  // --- 3. second audio language
  if (wanted.includes('selectsSecondAudio')) {
    const tracks = await ev(page, () => window.H.audioTracks());
    const langs = [...new Set(tracks.map((t) => t.lang))];
    const details = { tracks };
    const cur = tracks.find((t) => t.active);
    if (langs.length < 2 || !cur) {
      add('selectsSecondAudio', { ok: false, reason: `player lists audio languages [${langs}] (active: ${cur ? cur.lang : 'none'}): need 2 languages and an active one` }, details);
    } else {
      const target = tracks.find((t) => t.lang !== cur.lang);
      details.from = cur.lang;
      details.to = target.lang;
      const before = await ev(page, () => ({ n: window.H.audioLoads.length, urls: window.H.audioLoads.map((l) => l.url) }));
      const oldUrls = new Set(before.urls);
      const reqMark = requests.length;
      const s0a = await state(page);
      await ev(page, (id) => window.H.setAudio(id), target.id);
      let newLoads = [];
      const sw = await watch(page, {
        timeoutMs: waitMs,
        label: `audio switch to ${target.lang}`,
        step: async (s, { played }) => {
          const [tr, loads] = await ev(page, (n) => [window.H.audioTracks(), window.H.audioLoads.slice(n)], before.n);
          const act = tr.find((t) => t.active);
          const seen = new Set(requests.slice(reqMark));
          // loads of the new language, seen on the wire, at URLs that the
          // old language did not use
          newLoads = loads.filter((l) => l.lang === target.lang && seen.has(l.url) && !oldUrls.has(l.url));
          if (act && act.lang === target.lang && newLoads.length >= 2 && played >= 2 && s.audioBytes > s0a.audioBytes) {
            return { ok: true, active: act };
          }
          details.lastActive = act && act.lang;
          details.wrongLangLoads = loads.filter((l) => l.lang !== target.lang).length;
          return null;
        },
      });
      details.newLanguageSegments = newLoads.slice(0, 4).map((l) => l.url);
      details.newLanguageSegmentCount = newLoads.length;
      let r = sw;
      if (!sw.ok) {
        r = { ok: false, reason: `${sw.reason}; player reports active audio ${details.lastActive}, ${newLoads.length} ${target.lang} segment(s) requested at new URLs` };
      } else r = { ok: true, note: `${cur.lang} -> ${target.lang}, ${newLoads.length} ${target.lang} segments fetched, played on` };
      add('selectsSecondAudio', r, details);
    }
  }

  // --- 4. subtitles
  if (wanted.includes('showsSubtitles')) {
    const needle = expect.subtitleText ?? 'Subtitle cue';
    const wantLang = expect.subtitleLanguage ?? 'en';
    const requireActive = expect.requireActiveCue !== false;
    const tracks = await ev(page, () => window.H.textTracks());
    const details = { tracks };
    const target = tracks.find((t) => t.lang === wantLang) || null;
    if (!target) {
      add('showsSubtitles', { ok: false, reason: `no ${wantLang} subtitle track among [${tracks.map((t) => t.lang)}]` }, details);
    } else {
      await ev(page, (id) => window.H.setText(id), target.id);
      const sw = await watch(page, {
        timeoutMs: waitMs,
        label: `subtitles (${wantLang})`,
        step: async (s) => {
          const [cues, tr] = await ev(page, (n) => [window.H.cues(n), window.H.textTracks()], needle);
          details.textTracks = cues.map(({ index, kind, lang, mode, cueCount, matchCount, sample, active }) => ({ index, kind, lang, mode, cueCount, matchCount, sample, active }));
          details.playerActive = (tr.find((t) => t.active) || {}).lang;
          const showing = cues.filter((c) => c.mode === 'showing' && c.matchCount > 0 && (!c.lang || c.lang === wantLang));
          if (!showing.length || details.playerActive !== wantLang) return null;
          if (!requireActive) return { ok: true };
          for (const c of showing) {
            const a = c.active.find((x) => x.text.includes(needle) && x.start <= s.currentTime + 0.3 && x.end >= s.currentTime - 0.3);
            if (!a) continue;
            const want = expect.subtitleCueStart ? expect.subtitleCueStart(a.text) : undefined;
            if (want !== undefined && Math.abs(a.start - want) > (expect.subtitleTolerance ?? 0.25)) {
              details.mistimed = `cue "${a.text}" shown from ${a.start} s, source says ${want} s`;
              continue;
            }
            details.activeCue = a;
            details.atTime = s.currentTime;
            return { ok: true };
          }
          return null;
        },
      });
      let r = sw;
      if (!sw.ok) {
        const t = details.textTracks || [];
        r = { ok: false, reason: `${sw.reason}; ${details.mistimed ? details.mistimed + '; ' : ''}player reports text ${details.playerActive}; tracks: ${t.map((x) => `${x.lang || '?'}/${x.mode}/${x.cueCount} cues/${x.matchCount} match/${x.active.length} active`).join(', ')}` };
      } else r = { ok: true, note: `"${needle}" cue ${requireActive ? `active at ${fmtT(details.atTime)} s: ${JSON.stringify(details.activeCue)}` : 'loaded'}` };
      add('showsSubtitles', r, details);
    }
  }

  // --- 5. seek to the middle and play again
  if (wanted.includes('seeksToMiddle')) {
    const s = await state(page);
    const details = { duration: s.duration, from: s.currentTime };
    if (!Number.isFinite(s.duration) || s.duration <= 0) {
      add('seeksToMiddle', { ok: false, reason: `duration is ${s.duration}` }, details);
    } else {
      const target = s.duration / 2;
      details.target = target;
      const seekedBefore = s.seekedCount;
      await ev(page, (t) => window.H.seek(t), target);
      // land near the target first, then 3 s of real playback from there
      const landed = await watch(page, {
        timeoutMs: 20000,
        label: `seek to ${fmtT(target)}`,
        step: (st) => (st.seekedCount > seekedBefore && !st.seeking ? { ok: true } : null),
      });
      let r = landed;
      if (landed.ok) {
        const at = await ev(page, (n) => window.H.seeked[n], seekedBefore);
        details.seekedAt = at && at.currentTime;
        if (!at || Math.abs(at.currentTime - target) > 2) {
          r = { ok: false, reason: `seek landed at ${fmtT(at && at.currentTime)}, target ${fmtT(target)}` };
        } else {
          const after = await keepPlaying(page, 3, 'playback after seek', 20000);
          details.currentTime = after.state.currentTime;
          if (!after.ok) r = after;
          else if (after.state.currentTime < target + 2.5) r = { ok: false, reason: `currentTime ${fmtT(after.state.currentTime)} after seek to ${fmtT(target)}` };
          else r = { ok: true, note: `seeked to ${fmtT(at.currentTime)}, played to ${fmtT(after.state.currentTime)}` };
        }
      }
      add('seeksToMiddle', r, details);
    }
  }
}

export function formatResult(r) {
  const lines = [`${r.ok ? 'PASS' : 'FAIL'} ${r.player} ${r.url} (${(r.ms / 1000).toFixed(1)} s)`];
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.reason}`);
  if (!r.ok) {
    if (r.httpErrors?.length) lines.push('  http errors:', ...r.httpErrors.slice(0, 8).map((x) => '    ' + x));
    if (r.consoleErrors?.length) lines.push('  console errors:', ...r.consoleErrors.slice(0, 8).map((x) => '    ' + x));
    if (r.events?.length) lines.push('  last player events:', ...r.events.slice(-12).map((e) => `    ${e.t} ${e.msg}`));
  }
  if (r.eme && (r.eme.requested.length || r.eme.granted.length)) lines.push(`  EME: requested [${r.eme.requested}], granted [${r.eme.granted}], ${r.eme.messages} message(s), ${r.eme.updates} update(s), key statuses [${r.eme.keyStatuses.join(' | ')}]`);
  return lines.join('\n');
}

export { CHECKS };
