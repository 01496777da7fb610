// Server-side ad insertion with real players (hls.js, dash.js, Shaka in
// headless Chromium), against edgepack with an `[ads]` policy and a test ad
// server (ads-setup.mjs: the VAST documents of testdata/vast).
//
//   EDGEPACK_BIN=target/debug/edgepack node --test tests/players/ads.test.mjs
//
// One node for the suite, a pre-roll (avail 1: two VAST wrappers in front of
// the first ad of a pod) and a mid-roll at 12 s of content (avail 2: a pod of
// two 8 s ads) on the demo title (30 s): the presentation is pre-roll 0-8 s,
// content 8-20 s, pod 20-36 s, content 36-54 s. A warm-up session has the node
// condition the two creatives (the first session of a fresh node plays no
// ads), then every case is a session of its own: the player opens
// /vod/{asset}/{manifest}, is redirected into /vod/{asset}/s/{id}/..., and
// the ad server's beacon log is counted for that session alone.
// Needs EDGEPACK_BIN (the node needs this config): skipped otherwise.
//
// Cases (see the README for what each asserts):
//  - play-through: hls.js (HLS CMAF, HLS TS), Shaka (HLS CMAF, DASH), dash.js
//    (DASH) and Shaka on cbcs + ClearKey HLS play from 0 s past the pod into
//    the content after it (39 s of real playback): no stall over 2.5 s, no
//    jump over 1 s, video frames and decoded audio growing in every stretch
//    (ad or content); HLS: English subtitles shown after the break, the cue
//    where the stitched timeline puts it; then the session's beacons: each
//    of the pre-roll, its wrappers and the pod's ads, nothing else, and
//    (a `todo` while the node's beacon race is open) each exactly once;
//  - seek past a break: play 3 s of the pre-roll, seek to 41 s (past the
//    pod), land within 5 s and play 4 s more from there;
//  - negative controls: the same play-through on a broken splice must fail:
//    hls.js with #EXT-X-DISCONTINUITY removed from the session's media
//    playlists; dash.js with the content Period after the break given a
//    wrong presentationTimeOffset.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag, SUBTITLE_TEXT, cueStartsFromVtt } from './matrix.mjs';
import { longestStall } from './cdn-setup.mjs';
import * as A from './ads-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN ? path.resolve(process.env.EDGEPACK_BIN) : null;
const SOURCE = path.join(process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media'), process.env.PLAYER_TEST_ASSET || 'demo');
const harness = () => import('./harness.mjs');

const LAYOUT = ['ad', 'content', 'ad', 'ad', 'content']; // pre-roll | content | pod (2 ads) | content
const PLAY_S = 39; // s of real playback from 0: past the pod's end (36 s) and into the content after it
const MAX_STALL_MS = 2500; // the longest currentTime stall allowed once playback has started
const SEEK_AFTER_S = 3; // s played (in the pre-roll) before the seek
const SEEK_TO_S = 41; // past the pod
const PLAY_AFTER_SEEK_S = 4;
const MAX_SEEK_MS = 5000; // from the seek to currentTime at the target, not seeking
const MAX_SKIP_S = 1; // s of the presentation currentTime may jump over in all (holes skipped by the player)
const MIN_FPS = 17; // video frames decoded per second of a stretch at least (the title and the ads are 25 fps)
const SUBTITLE_TOLERANCE_S = 0.5; // see the README: hls.js' timeline runs up to 0.41 s behind the playlist's after the pod
const EDGE = 0.5; // s left out at each end of a stretch when checking that audio and video grew in it

const skip = BIN ? false : 'set EDGEPACK_BIN to run the ad insertion playback tests (they start edgepack with their own config)';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f2 = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : String(x));

// An open defect of the node (see the README): the exact-once beacon
// assertions run as `todo` subtests while it is open, so that its
// intermittent duplicates are reported without failing the suite.
const BEACON_RACE = 'edgepack defect: the beacon queue\'s once-per-key check (edge/src/ads/beacons.rs, fire_once) takes a key as new when moka\'s entry_by_ref(key).or_insert(()) says it is fresh, which is not atomic (moka 0.12 coalesces concurrent callers only in or_insert_with): two requests for the first segment of an ad at once (video and audio) can both fire its beacons (seen: an impression, start or firstQuartile twice, within 1 ms, on two connections, retried 0)';

// Players through the stitched streams from 0 s past the mid-roll.
const PLAY_THROUGH = [
  { id: 'hlsjs-cmaf', player: 'hlsjs', manifest: 'master.m3u8', subtitles: true, title: 'hls.js plays stitched HLS (CMAF) through the pre-roll and the mid-roll pod' },
  { id: 'hlsjs-ts', player: 'hlsjs', manifest: 'ts/master.m3u8', subtitles: true, title: 'hls.js plays stitched HLS (MPEG-TS) through the pre-roll and the mid-roll pod' },
  { id: 'shaka-hls', player: 'shaka', manifest: 'master.m3u8', subtitles: true, title: 'Shaka plays stitched HLS (CMAF) through the pre-roll and the mid-roll pod' },
  // The stitched MPD has no text AdaptationSets (ssai/src/dash.rs: sidecar
  // WebVTT files cannot be offset per Period), so no subtitle check on DASH.
  { id: 'dashjs-dash', player: 'dashjs', manifest: 'manifest.mpd', subtitles: false, title: 'dash.js plays the multi-period DASH through the pre-roll and the mid-roll pod' },
  { id: 'shaka-dash', player: 'shaka', manifest: 'manifest.mpd', subtitles: false, title: 'Shaka plays the multi-period DASH through the pre-roll and the mid-roll pod' },
  { id: 'shaka-hls-cbcs', player: 'shaka', asset: A.ENCRYPTED_ASSET, manifest: 'master.m3u8', subtitles: true, encrypted: true, title: 'Shaka plays stitched cbcs + ClearKey HLS (CMAF) through the pre-roll and the mid-roll pod, the ads encrypted with the content key' },
];

const SEEKS = [
  { player: 'hlsjs', manifest: 'master.m3u8' },
  { player: 'hlsjs', manifest: 'ts/master.m3u8' },
  { player: 'shaka', manifest: 'master.m3u8' },
  { player: 'dashjs', manifest: 'manifest.mpd' },
  { player: 'shaka', manifest: 'manifest.mpd' },
];

// Broken splices: the player gets the session's manifests rewritten on
// their way (Playwright route), and the play-through check must fail.
const NEGATIVE = [
  {
    title: 'hls.js on stitched HLS (CMAF) with the #EXT-X-DISCONTINUITY lines removed',
    player: 'hlsjs',
    manifest: 'master.m3u8',
    url: (u) => /\/s\/[0-9a-f]{32}\/(.+\/)?media\.m3u8$/.test(u.pathname),
    rewrite: (text) => text.split('\n').filter((l) => !/^#EXT-X-DISCONTINUITY\s*$/.test(l)).join('\n'),
  },
  {
    // The content after the break resumes with presentationTimeOffset 0:
    // its segments land 12 s into its Period (a hole, then the content late).
    title: 'dash.js on the multi-period DASH with the content Period after the break given the wrong presentationTimeOffset',
    player: 'dashjs',
    manifest: 'manifest.mpd',
    url: (u) => /\/s\/[0-9a-f]{32}\/manifest\.mpd$/.test(u.pathname),
    rewrite: (text) => text.replace(/(<Period id="content-1"[\s\S]*?<\/Period>)/, (p) => p.replace(/presentationTimeOffset="\d+"/g, 'presentationTimeOffset="0"')),
  },
];

/**
 * An onPage hook that samples the video element every 250 ms ({at,
 * currentTime, audioBytes, frames, seeking, ended}); `then(page, w)`, if
 * given, runs after the harness' checks (before the page closes, 30 s at
 * most), while sampling goes on.
 */
function sampler(then = null) {
  const w = { samples: [], stopped: false, error: null };
  w.hook = async (page) => {
    let busy = false;
    const sample = async () => {
      if (busy || w.stopped) return;
      busy = true;
      try {
        const s = await page.evaluate(() => {
          const v = window.H && window.H.video;
          if (!v) return null;
          const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
          return { currentTime: v.currentTime, audioBytes: v.webkitAudioDecodedByteCount || 0, frames: q.totalVideoFrames || 0, seeking: v.seeking, ended: v.ended };
        });
        if (s) w.samples.push({ at: Date.now(), ...s });
      } catch (e) {
        if (!w.stopped) w.error = e.message;
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(sample, 250);
    return async () => {
      try {
        if (then) await then(page, w);
      } finally {
        w.stopped = true;
        clearInterval(timer);
      }
    };
  };
  return w;
}

/**
 * What is wrong with a playback of `layout` sampled in `samples` from
 * `fromAt` (ms), from the first sample past `fromT` on: the longest stall,
 * forward jumps, currentTime short of `reach`, and every stretch (or the part
 * of it after `fromT`) crossed without video frames (MIN_FPS) or decoded
 * audio growing. Also {stall, maxT, skipped, grew} for the diagnostics.
 */
function judge(samples, layout, { fromAt, fromT = 0, reach }) {
  const problems = [];
  const run = samples.filter((s) => s.at >= fromAt);
  const started = run.find((s) => s.currentTime > fromT + 0.1 && !s.seeking);
  if (!started) return { problems: [`playback never started (no currentTime past ${f2(fromT + 0.1)} s)`], stall: NaN, maxT: NaN, skipped: NaN, grew: [] };
  const played = run.slice(run.indexOf(started));
  const stall = longestStall(played);
  const maxT = Math.max(...played.map((s) => s.currentTime));
  // Forward jumps: currentTime moving more than 0.5 s further than the wall
  // clock between two samples (a player skipping a hole in its buffer).
  let skipped = 0;
  for (let i = 1; i < played.length; i++) {
    const jump = played[i].currentTime - played[i - 1].currentTime - (played[i].at - played[i - 1].at) / 1000;
    if (jump > 0.5) skipped += jump;
  }
  if (stall > MAX_STALL_MS) problems.push(`currentTime stood still for ${(stall / 1000).toFixed(2)} s (bound ${MAX_STALL_MS / 1000} s)`);
  if (skipped > MAX_SKIP_S) problems.push(`currentTime jumped over ${f2(skipped)} s of the presentation (bound ${MAX_SKIP_S} s)`);
  if (maxT < reach) problems.push(`currentTime got to ${f2(maxT)} s, not ${f2(reach)} s`);
  const grew = [];
  for (const [i, st] of layout.entries()) {
    const lo = Math.max(st.start, fromT) + EDGE;
    const hi = Math.min(st.end - EDGE, maxT - EDGE);
    if (hi - lo < 1) continue; // not played (or only a sliver of it)
    const a = played.find((s) => s.currentTime >= lo);
    const b = played.find((s) => s.currentTime >= hi);
    if (!a || !b) continue;
    if (a.currentTime > hi) {
      problems.push(`stretch ${i} ${st.kind} ${f2(st.start)}-${f2(st.end)} was jumped over (to ${f2(a.currentTime)} s)`);
      continue;
    }
    const span = b.currentTime - a.currentTime;
    const g = { stretch: `${i} ${st.kind} ${f2(st.start)}-${f2(st.end)}`, from: f2(a.currentTime), to: f2(b.currentTime), frames: b.frames - a.frames, audioBytes: b.audioBytes - a.audioBytes };
    grew.push(g);
    if (g.frames < MIN_FPS * span) problems.push(`${g.frames} video frames decoded from ${g.from} to ${g.to} s (stretch ${g.stretch}; ${MIN_FPS} a second at least)`);
    if (g.audioBytes <= 0) problems.push(`no audio decoded from ${g.from} to ${g.to} s (stretch ${g.stretch})`);
  }
  return { problems, stall, maxT, skipped, grew };
}

/** Content time (s) -> time of the stitched presentation, from the content stretches of `layout`. */
function presentationTime(layout, c) {
  let offset = 0;
  for (const st of layout) {
    if (st.kind !== 'content') continue;
    const d = st.end - st.start;
    if (c < offset + d) return st.start + (c - offset);
    offset += d;
  }
  return undefined;
}

if (skip || skipSource) test('server-side ad insertion with real players', { skip: skip || skipSource }, () => {});
else describe('server-side ad insertion with real players (pre-roll behind wrappers, mid-roll pod)', () => {
  let ads = null;
  let env = null;
  let edge = null;
  let probe = null; // a clear session with ads, made after the warm-up
  let ready = null; // why the node is not ready, or true

  before(async () => {
    try {
      const { startEdgepack } = await harness();
      ads = await A.startAdServer();
      env = A.makeAdsEnv(SOURCE, ads.base);
      edge = await startEdgepack({ bin: BIN, mediaRoot: env.mediaRoot, extraArgs: ['--config', env.configPath] });
      const warm = await A.warmUp(edge.baseUrl);
      // Every later session of both assets gets both breaks.
      for (const asset of ['demo', A.ENCRYPTED_ASSET]) {
        const s = await A.openSession(edge.baseUrl, asset);
        const layout = await A.sessionLayout(edge.baseUrl, asset, s.id, 'master.m3u8');
        assert.deepEqual(layout.stretches.map((x) => x.kind), LAYOUT, `a ${asset} session after the warm-up:\n${layout.text}`);
        if (asset === 'demo') probe = s;
      }
      ready = { warmMs: warm.ms };
    } catch (e) {
      ready = e;
      throw e;
    }
  });

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (edge) await edge.stop();
    if (ads) await ads.close();
    if (env) env.cleanup();
  });

  const base = () => {
    if (!edge || !ready || ready instanceof Error) throw new Error(`the node is not ready: ${ready instanceof Error ? ready.message.split('\n')[0] : 'not started'}`);
    return edge.baseUrl;
  };
  const withLog = (msg) => `${msg}\n--- edgepack log (tail) ---\n${edge ? String(edge.output()).slice(-2500) : ''}`;

  /** The session of a run: the one session id in the player's requests to the node, which must all be the entry URL or below the session. */
  function sessionOfRun(r, asset, entry) {
    const toNode = r.requestLog.filter((x) => x.url.startsWith(edge.baseUrl + '/'));
    const ids = [...new Set(toNode.map((x) => A.sessionOf(x.url)).filter(Boolean))];
    assert.equal(ids.length, 1, `session ids in the player's requests: ${JSON.stringify(ids)}`);
    const id = ids[0];
    assert.equal(toNode[0]?.url, entry, 'the player\'s first request to the node');
    const outside = toNode.slice(1).filter((x) => !x.url.startsWith(`${edge.baseUrl}/vod/${asset}/s/${id}/`) && !x.url.startsWith(`${edge.baseUrl}/vod/${asset}/license/`));
    assert.deepEqual(outside.map((x) => `${x.method} ${x.url}`), [], `requests outside the session /vod/${asset}/s/${id}/ after the entry`);
    return id;
  }

  /** The beacons of session `id` once each of `want` has fired as often as it says (8 s at most), and 700 ms more (the edge fires them from a queue). */
  async function settledBeacons(id, want) {
    const deadline = Date.now() + 8000;
    const short = () => { const got = ads.beacons(id); return Object.entries(want).some(([k, n]) => (got[k] || 0) < n); };
    while (Date.now() < deadline && short()) await sleep(100);
    await sleep(700); // anything more (a duplicate) would come now
    return ads.beacons(id);
  }
  /** The beacon requests of session `id` (ms since the first, client port, URL) and the node's beacon counters: evidence for a count that is off. */
  async function beaconEvidence(id) {
    const log = ads.log.filter((x) => x.path.startsWith('/t/') && new URLSearchParams(x.query).get('s') === id);
    const t0 = log[0]?.at ?? 0;
    const m = await (await fetch(`${edge.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    return [
      ...log.map((x) => `+${x.at - t0} ms port ${x.port} ${x.pathAndQuery}`),
      ...m.split('\n').filter((l) => l.startsWith('edgepack_ad_beacons_total')),
    ].join('\n');
  }
  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

  /**
   * One play-through: from 0 s past the pod (PLAY_S of real playback), then
   * (HLS) English subtitles. @returns {{r, w, id, layout, verdict}}
   */
  async function playThrough(t, c, { routes = [], entry = null } = {}) {
    const b = base();
    const asset = c.asset || 'demo';
    entry ??= `${b}/vod/${asset}/${c.manifest}`;
    const { checkPlayback, formatResult } = await harness();
    const vttStarts = cueStartsFromVtt(path.join(SOURCE, 'demo.en.vtt'));
    // The node's layout of this session, read as soon as the player's first
    // request into the session shows its id (the subtitle check needs it).
    let layout = null;
    const w = sampler();
    const r = await checkPlayback({
      player: c.player,
      url: entry,
      routes,
      onPage: (page, result) => {
        let asked = false;
        page.on('request', (q) => {
          const sid = A.sessionOf(q.url());
          if (asked || !sid || !q.url().startsWith(b)) return;
          asked = true;
          A.sessionLayout(b, asset, sid, c.manifest).then((l) => { layout = l; }, () => {});
        });
        return w.hook(page, result);
      },
      hardTimeoutMs: 120000,
      expect: {
        checks: c.subtitles ? ['plays', 'showsSubtitles'] : ['plays'],
        playSeconds: PLAY_S,
        subtitleText: SUBTITLE_TEXT,
        subtitleTolerance: SUBTITLE_TOLERANCE_S,
        // A cue is shown where the stitched timeline puts its content time.
        subtitleCueStart: (text) => {
          const ct = vttStarts(text);
          return ct === undefined || !layout ? undefined : presentationTime(layout.stretches, ct);
        },
      },
    });
    diag(t, r, formatResult);
    const id = sessionOfRun(r, asset, entry);
    layout = await A.sessionLayout(b, asset, id, c.manifest);
    assert.deepEqual(layout.stretches.map((x) => x.kind), LAYOUT, `the session's layout:\n${layout.text}`);
    const podEnd = layout.stretches[3].end;
    const verdict = judge(w.samples, layout.stretches, { fromAt: 0, reach: podEnd + 2 });
    if (!r.ok) verdict.problems.unshift(`harness: ${r.checks.filter((x) => !x.ok).map((x) => `${x.name}: ${x.reason}`).join('; ')}`);
    t.diagnostic(`session ${id}; layout ${layout.stretches.map((s) => `${s.kind} ${f2(s.start)}-${f2(s.end)}`).join(' | ')}; currentTime reached ${f2(verdict.maxT)} s; longest stall ${(verdict.stall / 1000).toFixed(2)} s; jumped over ${f2(verdict.skipped)} s`);
    for (const g of verdict.grew) t.diagnostic(`  ${g.stretch}: ${g.from}-${g.to} s, ${g.frames} frames, ${g.audioBytes} audio bytes decoded`);
    return { r, w, id, layout, verdict, formatResult };
  }

  describe('cases', { concurrency: 4 }, () => {
    for (const c of PLAY_THROUGH) {
      test(c.title, { timeout: 180000 }, async (t) => {
        const { r, id, layout, verdict, formatResult } = await playThrough(t, c);
        assert.deepEqual(verdict.problems, [], withLog(formatResult(r)));
        if (c.subtitles) {
          const cue = r.checks.find((x) => x.name === 'showsSubtitles').details.activeCue;
          assert.ok(cue && cue.start >= layout.stretches[3].end, `the subtitle cue checked is not after the break: ${JSON.stringify(cue)}`);
        }
        if (c.encrypted) {
          assert.ok(r.eme && r.eme.granted.includes('org.w3.clearkey'), `ClearKey was not the key system used: ${JSON.stringify(r.eme)}`);
          assert.ok(r.eme.keyStatuses.some((s) => s.split(',').includes('usable')), `no usable key status: ${JSON.stringify(r.eme)}`);
        }
        // Every beacon of the pre-roll (the ad's and both wrappers') and of
        // the pod's two ads fired, nothing else (no error) for the session...
        const want = A.expectedBeacons();
        const got = await settledBeacons(id, want);
        t.diagnostic(`beacons of ${id}: ${JSON.stringify(sorted(got))}`);
        const evidence = JSON.stringify(sorted(got)) === JSON.stringify(sorted(want)) ? '' : await beaconEvidence(id);
        if (evidence) t.diagnostic(evidence);
        assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `beacons (event and ad) of session ${id}`);
        // ... and each exactly once per ad and event.
        await t.test(`each beacon of the session exactly once per ad and event`, { todo: BEACON_RACE }, () => {
          assert.deepEqual(sorted(got), sorted(want), `beacons of session ${id}:\n${evidence}`);
        });
        if (c.encrypted) {
          // The player's ad segments are not the clear session's bytes: the
          // node encrypted the ads (with the content key the player used).
          const adSeg = r.requestLog.map((x) => x.url).find((u) => /\/ad\/0-0\/[^/]+\/v\d+\/1\.m4s$/.test(u));
          assert.ok(adSeg, 'the player fetched no video segment of the pre-roll');
          const clearUrl = adSeg.replace(`/vod/${A.ENCRYPTED_ASSET}/s/${id}/`, `/vod/demo/s/${probe.id}/`);
          const [enc, clear] = await Promise.all([adSeg, clearUrl].map(async (u) => {
            const x = await fetch(u, { signal: AbortSignal.timeout(10000) });
            assert.equal(x.status, 200, `${u}: HTTP ${x.status}`);
            return Buffer.from(await x.arrayBuffer());
          }));
          t.diagnostic(`pre-roll segment ${adSeg}: ${enc.length} bytes, clear session's ${clear.length} bytes`);
          assert.ok(!enc.equals(clear), `the cbcs session's pre-roll segment is byte-identical to the clear session's: ${adSeg}`);
        }
      });
    }

    for (const c of SEEKS) {
      test(`${c.player} (${c.manifest}) seeks from the pre-roll past the mid-roll to ${SEEK_TO_S} s and plays on`, { timeout: 120000 }, async (t) => {
        const b = base();
        const entry = `${b}/vod/demo/${c.manifest}`;
        const { checkPlayback, formatResult } = await harness();
        let seek = null;
        const w = sampler(async (page, w2) => {
          if (!w2.samples.length) return;
          seek = { at: Date.now(), from: w2.samples.at(-1).currentTime };
          await page.evaluate((x) => window.H.seek(x), SEEK_TO_S);
          const deadline = Date.now() + 25000;
          while (Date.now() < deadline) {
            const s = w2.samples.at(-1);
            if (s && s.at > seek.at && !s.seeking && s.currentTime >= SEEK_TO_S + PLAY_AFTER_SEEK_S) break;
            await sleep(250);
          }
        });
        const r = await checkPlayback({ player: c.player, url: entry, onPage: w.hook, hardTimeoutMs: 60000, expect: { checks: ['plays'], playSeconds: SEEK_AFTER_S } });
        diag(t, r, formatResult);
        assert.ok(r.ok, withLog(formatResult(r)));
        const id = sessionOfRun(r, 'demo', entry);
        const layout = await A.sessionLayout(b, 'demo', id, c.manifest);
        assert.deepEqual(layout.stretches.map((x) => x.kind), LAYOUT, `the session's layout:\n${layout.text}`);
        assert.ok(seek, 'the seek was never made');
        assert.ok(seek.from < layout.stretches[0].end, `the seek was made at ${f2(seek.from)} s, not in the pre-roll`);
        assert.ok(SEEK_TO_S > layout.stretches[3].end, `${SEEK_TO_S} s is not past the pod (ends at ${f2(layout.stretches[3].end)} s)`);
        // Landed: the first sample after the seek, no longer seeking, at the target.
        const landed = w.samples.find((s) => s.at > seek.at && !s.seeking && s.currentTime >= SEEK_TO_S - 0.5);
        assert.ok(landed, `the seek to ${SEEK_TO_S} s never landed:\n${formatResult(r)}`);
        const verdict = judge(w.samples, layout.stretches, { fromAt: landed.at, fromT: landed.currentTime - 0.15, reach: SEEK_TO_S + PLAY_AFTER_SEEK_S });
        t.diagnostic(`session ${id}; seek at ${f2(seek.from)} s to ${SEEK_TO_S} s, landed at ${f2(landed.currentTime)} s, ${((landed.at - seek.at) / 1000).toFixed(2)} s later; reached ${f2(verdict.maxT)} s; longest stall after landing ${(verdict.stall / 1000).toFixed(2)} s; jumped over ${f2(verdict.skipped)} s`);
        for (const g of verdict.grew) t.diagnostic(`  ${g.stretch}: ${g.from}-${g.to} s, ${g.frames} frames, ${g.audioBytes} audio bytes decoded`);
        assert.ok(landed.currentTime < SEEK_TO_S + 2, `the seek to ${SEEK_TO_S} s landed at ${f2(landed.currentTime)}`);
        assert.ok(landed.at - seek.at <= MAX_SEEK_MS, `the seek took ${landed.at - seek.at} ms (bound ${MAX_SEEK_MS} ms)`);
        assert.deepEqual(verdict.problems, [], `after the seek:\n${formatResult(r)}`);
        // No beacon fired twice, whatever of the breaks the player fetched.
        // The pre-roll's first segment fired its impressions; nothing but the
        // breaks' own beacons (no error); none more than once.
        const want = A.expectedBeacons();
        const got = await settledBeacons(id, { 'impression ad=1': 1, 'impression wrapper=outer': 1, 'impression wrapper=inner': 1 });
        const ads0 = r.requestLog.map((x) => x.url).filter((u) => u.includes(`/s/${id}/ad/`)).map((u) => u.slice(u.indexOf('/ad/') + 1).replace(/\/ad-[^/]+\//, '/…/'));
        t.diagnostic(`beacons of ${id}: ${JSON.stringify(sorted(got))}; ad segments the player fetched: ${[...new Set(ads0)].join(' ')}`);
        const over = Object.entries(got).filter(([k, n]) => n > (want[k] ?? 0));
        const evidence = over.length ? await beaconEvidence(id) : '';
        if (evidence) t.diagnostic(evidence);
        for (const k of ['impression ad=1', 'impression wrapper=outer', 'impression wrapper=inner']) assert.ok(got[k] >= 1, `${k} did not fire for ${id}`);
        assert.deepEqual(Object.keys(got).filter((k) => !(k in want)), [], `beacons of ${id} that no break has`);
        await t.test('no beacon of the session more than once per ad and event', { todo: BEACON_RACE }, () => {
          assert.deepEqual(over, [], `beacons fired more than once per ad and event:\n${evidence}`);
        });
      });
    }

    for (const n of NEGATIVE) {
      test(`negative control: ${n.title} fails the play-through check`, { timeout: 180000 }, async (t) => {
        const broken = [];
        const route = {
          url: n.url,
          handler: async (rt) => {
            const resp = await rt.fetch();
            const body = n.rewrite(await resp.text());
            broken.push(rt.request().url());
            return rt.fulfill({ response: resp, body });
          },
        };
        const t0 = Date.now();
        // Playwright routes do not see the request a redirect makes: the
        // player is given a session's URL (opened here) to start with.
        const session = await A.openSession(base(), 'demo', n.manifest);
        const { r, verdict, formatResult } = await playThrough(t, { player: n.player, manifest: n.manifest, subtitles: false }, { routes: [route], entry: `${base()}${session.location}` });
        const s = (Date.now() - t0) / 1000;
        t.diagnostic(`${broken.length} responses rewritten; the check failed in ${s.toFixed(1)} s with: ${verdict.problems.join(' | ')}`);
        assert.ok(broken.length >= 1, 'the route rewrote nothing');
        assert.notDeepEqual(verdict.problems, [], `the play-through check passed on a broken splice:\n${formatResult(r)}`);
      });
    }
  });
});
