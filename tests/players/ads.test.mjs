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
//    (ad or content); English subtitles shown after the break (HLS, and
//    Shaka on the multi-period DASH), the cue where the stitched timeline
//    puts it; then
//    the session's beacons: each
//    of the pre-roll, its wrappers and the pod's ads, nothing else, each
//    exactly once;
//  - seek past a break: play 3 s of the pre-roll, seek to 41 s (past the
//    pod), land within 5 s and play 4 s more from there; no beacon twice;
//  - negative controls: the same play-through on a broken splice must fail:
//    hls.js with #EXT-X-DISCONTINUITY removed from the session's media
//    playlists; dash.js with the content Period after the break given a
//    wrong presentationTimeOffset; Shaka with each content Period's
//    subtitles the whole WebVTT file (cues 12 s early after the break);
//  - guided mode (HLS Interstitials, asset `demo_guided`, whose asset.toml
//    asks for `mode = "guided"`): hls.js plays the content with the breaks
//    as interstitials, pre-roll → content → pod → content past 14.5 s;
//    hls.js' interstitial events exactly those of both breaks in order, each
//    ad played whole, the content resumed where it paused, no stall, every
//    asset list and ad segment fetched below the session, the beacons
//    exactly once. Its negative control (the EXT-X-DATERANGE lines
//    removed: no interstitial, no ad fetched, no beacon, the check fails).
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
const GUIDED_PLAY_S = 16; // s of real playback the harness' `plays` sees in the guided case: the pre-roll and 8 s of content
const GUIDED_REACH_S = 14.5; // s of content (hls.js' primary playhead) the guided case must get to: past the mid-roll at 12 s
const GUIDED_WAIT_MS = 28000; // after the harness' checks, how long the guided case waits for GUIDED_REACH_S (its hook has 30 s)

const skip = BIN ? false : 'set EDGEPACK_BIN to run the ad insertion playback tests (they start edgepack with their own config)';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f2 = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : String(x));

// Players through the stitched streams from 0 s past the mid-roll.
const PLAY_THROUGH = [
  { id: 'hlsjs-cmaf', player: 'hlsjs', manifest: 'master.m3u8', subtitles: true, title: 'hls.js plays stitched HLS (CMAF) through the pre-roll and the mid-roll pod' },
  { id: 'hlsjs-ts', player: 'hlsjs', manifest: 'ts/master.m3u8', subtitles: true, title: 'hls.js plays stitched HLS (MPEG-TS) through the pre-roll and the mid-roll pod' },
  { id: 'shaka-hls', player: 'shaka', manifest: 'master.m3u8', subtitles: true, title: 'Shaka plays stitched HLS (CMAF) through the pre-roll and the mid-roll pod' },
  // Each content Period of the stitched MPD carries its slice of the WebVTT
  // file (cue times from the Period's start), each ad Period an empty one.
  // Shaka shows the cues after the break. dash.js adds a sidecar file's cues
  // at offset 0 (TextSourceBuffer _appendText: addCaptions(idx, 0, ...)), not
  // at its Period's start, so after the break they are not where the
  // timeline is: its case checks playback only (fragmented WebVTT, which
  // dash.js offsets, is the way to subtitles in its later Periods).
  { id: 'dashjs-dash', player: 'dashjs', manifest: 'manifest.mpd', subtitles: false, title: 'dash.js plays the multi-period DASH through the pre-roll and the mid-roll pod' },
  { id: 'shaka-dash', player: 'shaka', manifest: 'manifest.mpd', subtitles: true, title: 'Shaka plays the multi-period DASH through the pre-roll and the mid-roll pod, subtitles back after it' },
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
  {
    // Each content Period's subtitles the whole WebVTT file instead of its
    // slice: after the break the cues show 12 s early (the subtitle check).
    title: 'Shaka on the multi-period DASH with each content Period given the whole WebVTT file',
    player: 'shaka',
    manifest: 'manifest.mpd',
    subtitles: true,
    url: (u) => /\/s\/[0-9a-f]{32}\/manifest\.mpd$/.test(u.pathname),
    rewrite: (text) => text.replace(/sub\/(\w+)\/period-\d+-\d+\.vtt/g, 'sub/$1.vtt'),
  },
];

/** What the sampler reads in the page by default: the video element. */
const VIDEO_PROBE = () => {
  const v = window.H && window.H.video;
  if (!v) return null;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
  return { currentTime: v.currentTime, audioBytes: v.webkitAudioDecodedByteCount || 0, frames: q.totalVideoFrames || 0, seeking: v.seeking, ended: v.ended };
};

/**
 * An onPage hook that samples the page every 250 ms with `probe` (by
 * default the video element: {at, currentTime, audioBytes, frames, seeking,
 * ended}); `then(page, w)`, if given, runs after the harness' checks (before
 * the page closes, 30 s at most), while sampling goes on.
 */
function sampler(then = null, probe = VIDEO_PROBE) {
  const w = { samples: [], stopped: false, error: null };
  w.hook = async (page) => {
    let busy = false;
    const sample = async () => {
      if (busy || w.stopped) return;
      busy = true;
      try {
        const s = await page.evaluate(probe);
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

/**
 * What the guided case samples: the video element (hls.js gives the primary
 * content and each interstitial asset a MediaSource of its own, `source`:
 * currentTime, frames and decoded audio are those of whichever is attached,
 * so an ad's currentTime runs from 0), what hls.js plays (`item`: an
 * interstitial's ID or 'primary'; `assetIndex` in its asset list) and the
 * primary playhead (`primaryTime`: hls.interstitialsManager.primary, which
 * stands still during a break; the video element's when no interstitial is
 * scheduled).
 */
const GUIDED_PROBE = () => {
  const v = window.H && window.H.video;
  if (!v) return null;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
  const m = window.H.player && window.H.player.interstitialsManager;
  const scheduled = !!(m && m.events.length);
  const item = m && m.playingItem;
  const event = item && item.event;
  const asset = m && m.playingAsset;
  return {
    currentTime: v.currentTime,
    audioBytes: v.webkitAudioDecodedByteCount || 0,
    frames: q.totalVideoFrames || 0,
    seeking: v.seeking,
    ended: v.ended,
    source: v.src,
    item: item ? (event ? event.identifier : 'primary') : scheduled ? null : 'primary',
    assetIndex: event && asset ? event.assetList.indexOf(asset) : -1,
    primaryTime: scheduled ? m.primary.currentTime : v.currentTime,
  };
};

/**
 * An init script for the page: when hls.js defines window.Hls, the primary
 * player (not the asset players hls.js makes for interstitials) gets
 * listeners, before it loads anything, that log its interstitial events to
 * window.H_INTERSTITIALS.events ({t, name, id: the interstitial's ID, asset:
 * the asset list index, error}) and the schedule as hls.js last saw it to
 * .schedule (e.g. `["break-1" 0.00-0.00]`).
 */
const HLS_INTERSTITIAL_LOG = () => {
  const log = (window.H_INTERSTITIALS = { events: [], schedule: [] });
  const NAMES = ['ASSET_LIST_LOADED', 'INTERSTITIAL_STARTED', 'INTERSTITIAL_ASSET_STARTED', 'INTERSTITIAL_ASSET_ENDED', 'INTERSTITIAL_ASSET_ERROR', 'INTERSTITIAL_ENDED', 'INTERSTITIALS_PRIMARY_RESUMED', 'ERROR'];
  let lib;
  Object.defineProperty(window, 'Hls', {
    configurable: true,
    get: () => lib,
    set: (Hls) => {
      lib = Hls;
      const load = Hls.prototype.loadSource;
      Hls.prototype.loadSource = function (url) {
        if (!this.config.assetPlayerId && !log.hooked) {
          log.hooked = true;
          for (const name of NAMES) {
            this.on(Hls.Events[name], (e, d) => {
              if (name === 'ERROR' && !d.fatal && !d.interstitial) return;
              const err = d.error ? String(d.error.message || d.error) : d.details;
              const url = d.url || (d.context && d.context.url) || (d.asset && d.asset.uri) || '';
              log.events.push({ t: Math.round(performance.now()), name, id: (d.event || d.interstitial || {}).identifier || null, asset: typeof d.assetListIndex === 'number' ? d.assetListIndex : null, error: name.endsWith('ERROR') ? `${d.details || ''} ${err || ''} ${url}`.trim().slice(0, 400) : undefined });
            });
          }
          this.on(Hls.Events.INTERSTITIALS_UPDATED, (e, d) => { log.schedule = d.events.map(String); });
        }
        return load.call(this, url);
      };
    },
  });
};

/** The interstitial events hls.js must emit for `breaks`, in order (as guidedEvents() writes them). */
function expectedGuidedEvents(breaks) {
  const out = [];
  for (const b of breaks) {
    out.push(`INTERSTITIAL_STARTED ${b.id}`);
    for (const i of b.assets.keys()) out.push(`INTERSTITIAL_ASSET_STARTED ${b.id} #${i}`, `INTERSTITIAL_ASSET_ENDED ${b.id} #${i}`);
    out.push(`INTERSTITIAL_ENDED ${b.id}`, 'INTERSTITIALS_PRIMARY_RESUMED');
  }
  return out;
}
const GUIDED_SEQUENCE = new Set(['INTERSTITIAL_STARTED', 'INTERSTITIAL_ASSET_STARTED', 'INTERSTITIAL_ASSET_ENDED', 'INTERSTITIAL_ENDED', 'INTERSTITIALS_PRIMARY_RESUMED']);
const guidedEvents = (events) => events.filter((e) => GUIDED_SEQUENCE.has(e.name)).map((e) => [e.name, e.id, e.asset === null ? null : `#${e.asset}`].filter(Boolean).join(' '));

/**
 * What is wrong with a guided playback of `layout` (A.guidedLayout):
 * hls.js' interstitial events not exactly expectedGuidedEvents() or any
 * interstitial error; the stretches it played (runs of samples with one
 * `item`/`assetIndex` in which currentTime moved 0.5 s or more) not each ad
 * of each break in turn with the content before, between and after them;
 * an ad not played from its start (currentTime under 1 s) to its end (its
 * DURATION less 0.5 s), the content not resumed where it paused (±1 s), not
 * played up to the next break (less 0.5 s) or, at the end, GUIDED_REACH_S;
 * in any stretch fewer than MIN_FPS video frames a second or no decoded
 * audio; a stall over MAX_STALL_MS (no sample moving currentTime on,
 * across media sources), forward jumps over MAX_SKIP_S; an asset list, ad
 * multivariant playlist or ad media segment (each segment of the ad, video
 * and audio) not fetched from the session (`sessionBase`).
 * Also {stall, skipped, runs, events} for the diagnostics.
 */
function judgeGuided(samples, ix, layout, requests, sessionBase) {
  const problems = [];
  const events = guidedEvents(ix.events);
  const want = expectedGuidedEvents(layout.breaks);
  if (JSON.stringify(events) !== JSON.stringify(want)) problems.push(`hls.js' interstitial events were [${events.join(', ')}], not [${want.join(', ')}] (schedule: ${ix.schedule.join(' ')})`);
  for (const e of ix.events.filter((x) => x.name.endsWith('ERROR'))) problems.push(`hls.js ${e.name}${e.id ? ` (${e.id}${e.asset === null ? '' : ` #${e.asset}`})` : ''}: ${e.error}`);

  // Stalls and jumps, across media sources. A media source just attached
  // (the primary's again after a break) may report 0 before hls.js seeks it to
  // the resume point: no jump is counted in its first half second (where the
  // content resumed is checked below, run by run).
  let stall = 0;
  let skipped = 0;
  let lastProgress = null;
  let attachedAt = samples.length ? samples[0].at : 0;
  for (let i = 1; i < samples.length; i++) {
    const [p, s] = [samples[i - 1], samples[i]];
    const same = s.source === p.source;
    if (!same) attachedAt = s.at;
    const moved = same ? s.currentTime > p.currentTime + 0.02 : s.currentTime > 0.02;
    if (same && p.at - attachedAt >= 500) {
      const jump = s.currentTime - p.currentTime - (s.at - p.at) / 1000;
      if (jump > 0.5) skipped += jump;
    }
    if (!moved) continue;
    if (lastProgress !== null) stall = Math.max(stall, s.at - lastProgress);
    lastProgress = s.at;
  }
  if (lastProgress === null) problems.push('playback never started');
  if (stall > MAX_STALL_MS) problems.push(`playback stood still for ${(stall / 1000).toFixed(2)} s (bound ${MAX_STALL_MS / 1000} s)`);
  if (skipped > MAX_SKIP_S) problems.push(`currentTime jumped over ${f2(skipped)} s (bound ${MAX_SKIP_S} s)`);

  // The stretches played, in order: runs of samples of one item and asset
  // on one media source (a sample taken while hls.js moves from one to the
  // next makes a run of its own, in which currentTime does not move).
  const runs = [];
  for (const s of samples) {
    if (!s.item) continue;
    const key = s.item === 'primary' ? 'content' : `${s.item} #${s.assetIndex}`;
    const last = runs.at(-1);
    if (last && last.key === key && last.source === s.source) last.samples.push(s);
    else runs.push({ key, source: s.source, samples: [s] });
  }
  const played = runs.filter((r) => {
    const t = r.samples.map((s) => s.currentTime);
    return Math.max(...t) - Math.min(...t) >= 0.5;
  });
  const plan = [];
  for (const b of layout.breaks) {
    if (b.start > 0.5 && plan.at(-1)?.key !== 'content') plan.push({ key: 'content', until: b.start });
    else if (plan.at(-1)?.key === 'content') plan.at(-1).until = b.start;
    for (const [i, a] of b.assets.entries()) plan.push({ key: `${b.id} #${i}`, duration: a.duration });
    plan.push({ key: 'content', from: b.start + (b.resumeOffset || 0) });
  }
  plan.at(-1).until = GUIDED_REACH_S;
  const keys = played.map((r) => r.key);
  if (JSON.stringify(keys) !== JSON.stringify(plan.map((x) => x.key))) problems.push(`stretches played: [${keys.join(', ')}], not [${plan.map((x) => x.key).join(', ')}]`);
  const summary = [];
  for (const [i, r] of played.entries()) {
    const p = plan[i]?.key === r.key ? plan[i] : null;
    const moving = r.samples.filter((s) => s.currentTime > 0.02);
    const first = moving[0] || r.samples[0];
    const last = r.samples.at(-1);
    const maxT = Math.max(...r.samples.map((s) => s.currentTime));
    const primary = r.samples.map((s) => s.primaryTime);
    const a = r.samples.find((s) => s.currentTime >= first.currentTime + EDGE) || first;
    const g = { stretch: r.key, from: f2(first.currentTime), to: f2(maxT), primary: `${f2(Math.min(...primary))}-${f2(Math.max(...primary))}`, frames: last.frames - a.frames, audioBytes: last.audioBytes - a.audioBytes };
    summary.push(g);
    if (!p) continue;
    const span = last.currentTime - a.currentTime;
    if (g.frames < MIN_FPS * span) problems.push(`${r.key}: ${g.frames} video frames decoded from ${f2(a.currentTime)} to ${f2(last.currentTime)} s (${MIN_FPS} a second at least)`);
    if (g.audioBytes <= 0) problems.push(`${r.key}: no audio decoded from ${f2(a.currentTime)} to ${f2(last.currentTime)} s`);
    if (p.duration !== undefined) {
      if (first.currentTime > 1) problems.push(`${r.key}: the ad started at ${f2(first.currentTime)} s, not at its start`);
      if (maxT < p.duration - 0.5) problems.push(`${r.key}: the ad played to ${f2(maxT)} s of ${f2(p.duration)} s`);
    } else {
      const from = moving[0]?.primaryTime;
      if (p.from !== undefined && !(Math.abs(from - p.from) <= 1)) problems.push(`${r.key}: the content resumed at ${f2(from)} s, not where the break paused it (${f2(p.from)} s)`);
      if (!(Math.max(...primary) >= p.until - 0.5)) problems.push(`${r.key}: the content played to ${f2(Math.max(...primary))} s, not ${f2(p.until)} s`);
    }
  }

  // What the player fetched from the session.
  const paths = new Set(requests.filter((u) => u.startsWith(sessionBase)).map((u) => new URL(u).pathname));
  const fetched = [];
  for (const b of layout.breaks) {
    const list = new URL(b.assetListUrl).pathname;
    if (!paths.has(list)) problems.push(`${b.id}: its asset list ${list} was not fetched`);
    for (const [i, ad] of b.assets.entries()) {
      const master = new URL(ad.url).pathname;
      const dir = master.replace(/master\.m3u8$/, '');
      const missing = paths.has(master) ? [] : ['master.m3u8'];
      for (const [kind, dirs] of [['video', ad.videoDirs], ['audio', ad.audioDirs]]) {
        for (let n = 1; n <= ad.segments; n++) if (!dirs.some((d) => paths.has(`${dir}${d}/${n}.m4s`))) missing.push(`${kind} ${n}.m4s ({${dirs}}/)`);
      }
      if (missing.length) problems.push(`${b.id} #${i}: not fetched from the session's ad/${ad.slot}/: ${missing.join(', ')}`);
      fetched.push(`ad/${ad.slot}/: ${[...paths].filter((x) => x.startsWith(dir)).length}`);
    }
  }
  return { problems, stall, skipped, runs: summary, events, fetched };
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
   * English subtitles. @returns {{r, w, id, layout, verdict}}
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

  /**
   * One guided playback (hls.js, HLS Interstitials) of a session of
   * A.GUIDED_ASSET: the harness' `plays` (GUIDED_PLAY_S of real playback,
   * the pre-roll and content: its frame count is that of the media source
   * then attached), then GUIDED_WAIT_MS at most until the content
   * (primaryTime) is past GUIDED_REACH_S; judged by judgeGuided().
   * @returns {{r, id, layout, verdict, ix, formatResult}}
   */
  async function playGuided(t, { routes = [], entry = null } = {}) {
    const b = base();
    const asset = A.GUIDED_ASSET;
    entry ??= `${b}/vod/${asset}/master.m3u8`;
    const { checkPlayback, formatResult } = await harness();
    let ix = { events: [], schedule: [] };
    const read = async (page) => { ix = (await page.evaluate(() => window.H_INTERSTITIALS).catch(() => null)) || ix; };
    const w = sampler(async (page, w2) => {
      const deadline = Date.now() + GUIDED_WAIT_MS;
      while (Date.now() < deadline) {
        const s = w2.samples.at(-1);
        if (s && s.item === 'primary' && s.primaryTime >= GUIDED_REACH_S) break;
        await sleep(250);
      }
      await read(page);
    }, GUIDED_PROBE);
    const r = await checkPlayback({
      player: 'hlsjs',
      url: entry,
      routes,
      onPage: async (page, result) => {
        await page.addInitScript(HLS_INTERSTITIAL_LOG);
        return w.hook(page, result);
      },
      hardTimeoutMs: 120000,
      expect: { checks: ['plays'], playSeconds: GUIDED_PLAY_S },
    });
    diag(t, r, formatResult);
    const id = sessionOfRun(r, asset, entry);
    const layout = await A.guidedLayout(b, asset, id);
    // The node's interstitials for this session: a pre-roll of one ad at 0 s
    // and a pod of two at 12 s, each behind its session's asset list.
    const shape = layout.breaks.map((x) => ({ cls: x.cls, start: Math.round(x.start), slots: x.assets.map((a) => a.slot) }));
    assert.deepEqual(shape, [
      { cls: 'com.apple.hls.interstitial', start: 0, slots: ['0-0'] },
      { cls: 'com.apple.hls.interstitial', start: 12, slots: ['1-0', '1-1'] },
    ], `the session's interstitials:\n${layout.text.split('\n').filter((l) => /DATERANGE|DATE-TIME/.test(l)).join('\n')}\n${layout.breaks.map((x) => x.assetListText).join('\n')}`);
    const verdict = judgeGuided(w.samples, ix, layout, r.requests, `${b}/vod/${asset}/s/${id}/`);
    if (!r.ok) verdict.problems.unshift(`harness: ${r.checks.filter((x) => !x.ok).map((x) => `${x.name}: ${x.reason}`).join('; ')}`);
    t.diagnostic(`session ${id}; hls.js' schedule: ${ix.schedule.join(' ')}; longest stall ${(verdict.stall / 1000).toFixed(2)} s; jumped over ${f2(verdict.skipped)} s`);
    t.diagnostic(`interstitial events: ${verdict.events.join(', ')}`);
    for (const g of verdict.runs) t.diagnostic(`  ${g.stretch}: currentTime ${g.from}-${g.to} s, content ${g.primary} s, ${g.frames} frames, ${g.audioBytes} audio bytes decoded`);
    t.diagnostic(`the player's requests for each ad below the session: ${verdict.fetched.join('; ')}`);
    return { r, id, layout, verdict, ix, formatResult };
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
        assert.deepEqual(sorted(got), sorted(want), `beacons of session ${id} (each exactly once per ad and event):\n${evidence}`);
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
        assert.deepEqual(over, [], `beacons of ${id} fired more than once per ad and event:\n${evidence}`);
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
        const { r, verdict, formatResult } = await playThrough(t, { player: n.player, manifest: n.manifest, subtitles: !!n.subtitles }, { routes: [route], entry: `${base()}${session.location}` });
        const s = (Date.now() - t0) / 1000;
        t.diagnostic(`${broken.length} responses rewritten; the check failed in ${s.toFixed(1)} s with: ${verdict.problems.join(' | ')}`);
        assert.ok(broken.length >= 1, 'the route rewrote nothing');
        assert.notDeepEqual(verdict.problems, [], `the play-through check passed on a broken splice:\n${formatResult(r)}`);
      });
    }

    test('hls.js plays the Interstitials form: pre-roll → content → mid-roll pod → content', { timeout: 180000 }, async (t) => {
      const { r, id, verdict, formatResult } = await playGuided(t);
      assert.deepEqual(verdict.problems, [], withLog(formatResult(r)));
      // The ads' segments fired the same beacons as the stitched mode's, once each.
      const want = A.expectedBeacons();
      const got = await settledBeacons(id, want);
      t.diagnostic(`beacons of ${id}: ${JSON.stringify(sorted(got))}`);
      const evidence = JSON.stringify(sorted(got)) === JSON.stringify(sorted(want)) ? '' : await beaconEvidence(id);
      if (evidence) t.diagnostic(evidence);
      assert.deepEqual(sorted(got), sorted(want), `beacons of session ${id} (each exactly once per ad and event):\n${evidence}`);
    });

    test('negative control: hls.js on the Interstitials form with the EXT-X-DATERANGE lines removed plays no break and fails the check', { timeout: 180000 }, async (t) => {
      const broken = [];
      const route = {
        url: (u) => /\/s\/[0-9a-f]{32}\/.+\/media\.m3u8$/.test(u.pathname),
        handler: async (rt) => {
          const resp = await rt.fetch();
          const body = (await resp.text()).split('\n').filter((l) => !l.startsWith('#EXT-X-DATERANGE:')).join('\n');
          broken.push(rt.request().url());
          return rt.fulfill({ response: resp, body });
        },
      };
      // (Playwright routes do not see the request a redirect makes.)
      const session = await A.openSession(base(), A.GUIDED_ASSET);
      const { r, id, verdict, ix } = await playGuided(t, { routes: [route], entry: `${base()}${session.location}` });
      await sleep(700); // a beacon would be fired by now
      const beacons = ads.beacons(id);
      const breakRequests = r.requests.filter((u) => /\/(assets|ad)\//.test(new URL(u).pathname));
      t.diagnostic(`${broken.length} responses rewritten; the check failed with: ${verdict.problems.join(' | ')}`);
      assert.ok(broken.length >= 1, 'the route rewrote nothing');
      assert.deepEqual(ix.events.filter((e) => e.name.startsWith('INTERSTITIAL')), [], 'hls.js played interstitials');
      assert.deepEqual(breakRequests, [], 'the player fetched asset lists or ads');
      assert.deepEqual(beacons, {}, `beacons of session ${id}`);
      assert.notDeepEqual(verdict.problems, [], 'the guided check passed without a break');
    });
  });
});
