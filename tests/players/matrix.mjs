// The player matrix, shared by players.test.mjs (edgepack) and
// reference.test.mjs (ffmpeg-made reference streams served the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

// harness.mjs (and so playwright-core) is loaded only when a test runs, so
// skipped suites need no node_modules.
const harness = () => import('./harness.mjs');

export function diag(t, r, formatResult) {
  for (const line of formatResult(r).split('\n')) t.diagnostic(line);
}

export const SUBTITLE_TEXT = process.env.PLAYER_TEST_SUBTITLE_TEXT || 'Subtitle cue';

// Cue text -> start time (s) from a source WebVTT file (without
// X-TIMESTAMP-MAP), for expect.subtitleCueStart: the subtitle check then also
// requires the active cue to be shown when the source says.
export function cueStartsFromVtt(file) {
  const starts = new Map();
  const blocks = fs.readFileSync(file, 'utf8').replace(/\r/g, '').split(/\n\n+/);
  for (const b of blocks) {
    const lines = b.split('\n');
    const i = lines.findIndex((l) => l.includes('-->'));
    if (i < 0) continue;
    const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})/.exec(lines[i].trim());
    if (!m) continue;
    const t = Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
    const text = lines.slice(i + 1).join('\n').trim();
    if (!starts.has(text)) starts.set(text, t);
  }
  return (text) => starts.get(text.trim());
}

// Stream URLs of one asset, relative to the server's base URL.
export function streamUrls(baseUrl, asset = process.env.PLAYER_TEST_ASSET || 'demo') {
  const b = `${baseUrl.replace(/\/$/, '')}/vod/${asset}`;
  return {
    hlsCmaf: `${b}/master.m3u8`,
    hlsTs: `${b}/ts/master.m3u8`,
    dash: `${b}/manifest.mpd`,
  };
}

export const MATRIX = [
  { player: 'hlsjs', stream: 'hlsCmaf', title: 'hls.js plays HLS (fMP4/CMAF segments)' },
  { player: 'hlsjs', stream: 'hlsTs', title: 'hls.js plays HLS (MPEG-TS segments)' },
  { player: 'dashjs', stream: 'dash', title: 'dash.js plays DASH' },
  { player: 'shaka', stream: 'dash', title: 'Shaka plays DASH' },
  { player: 'shaka', stream: 'hlsCmaf', title: 'Shaka plays HLS (fMP4/CMAF segments)' },
];

// What a media segment URL looks like, for the negative controls.
const SEGMENT_PATTERN = process.env.PLAYER_TEST_SEGMENT_PATTERN ? new RegExp(process.env.PLAYER_TEST_SEGMENT_PATTERN) : undefined;

// Negative controls: media segments answer 404 after the first 4 requests.
// The playback check must then FAIL, within a bounded time.
export const NEGATIVE = [
  { player: 'hlsjs', stream: 'hlsCmaf', title: 'negative control: hls.js on HLS with segments 404ing after the first few fails' },
  { player: 'dashjs', stream: 'dash', title: 'negative control: dash.js on DASH with segments 404ing after the first few fails' },
];

// Register the matrix and the negative controls as node:test tests.
// getBaseUrl() is called when the tests run (after before() hooks).
// serverLog(), if given, is appended to failure messages.
export function registerMatrix(getBaseUrl, { expect = {}, serverLog = null } = {}) {
  const withLog = (msg) => (serverLog ? `${msg}\n--- server log (tail) ---\n${String(serverLog()).slice(-3000)}` : msg);
  for (const c of MATRIX) {
    test(c.title, { timeout: 180000 }, async (t) => {
      const { checkPlayback, formatResult } = await harness();
      const url = streamUrls(getBaseUrl())[c.stream];
      const r = await checkPlayback({ player: c.player, url, expect: { subtitleText: SUBTITLE_TEXT, ...expect } });
      diag(t, r, formatResult);
      assert.ok(r.ok, withLog(formatResult(r)));
    });
  }
  for (const c of NEGATIVE) {
    test(c.title, { timeout: 120000 }, async (t) => {
      const { checkPlayback, formatResult } = await harness();
      const url = streamUrls(getBaseUrl())[c.stream];
      const t0 = Date.now();
      const r = await checkPlayback({ player: c.player, url, breakSegments: { after: 4, pattern: SEGMENT_PATTERN }, expect: { checks: ['plays'] } });
      const s = (Date.now() - t0) / 1000;
      diag(t, r, formatResult);
      const plays = r.checks.find((x) => x.name === 'plays');
      assert.ok(r.broken && r.broken.length > 0, 'the negative control did not break any segment request: its URL pattern matches nothing');
      assert.equal(plays.ok, false, `playback check passed although segments were 404ing:\n${formatResult(r)}`);
      assert.ok(s < 60, `negative control took ${s} s to fail (bound: 60 s)`);
    });
  }
}
