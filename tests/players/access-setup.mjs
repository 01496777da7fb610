// Setup for access.test.mjs: a temporary media root and config for a node in
// `[access] mode = "token"`, tokens minted with `edgepack token mint`, the
// revocation call, and a watcher that records what a page's player fetched
// (times and statuses) and how its video element's currentTime moved.
//
// Nothing here needs playwright-core: the watcher only uses the Page object
// the harness hands to its onPage hook.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { KEY_HEX, POLICIES } from './encrypted-setup.mjs';

// Assets of the media root:
//   demo       the demo title (symlinks to its files): clear, 30 s
//   demo_long  the demo title's MP4s looped three times (ffmpeg -stream_loop 2
//              -c copy): 90 s, so that 60 s of playback with a short player
//              buffer keeps fetching segments long after a 20 s token ends
//   demo_cbcs  the demo title with an asset.toml asking for cbcs with
//              ClearKey (and Widevine, PlayReady, FairPlay) signalled
export const ASSETS = { clear: 'demo', long: 'demo_long', cbcs: 'demo_cbcs' };
export const LOOPS = 3;

/**
 * The MP4s of the title directory `src` looped `loops` times into `dest`
 * (ffmpeg -stream_loop, stream copy): a longer title with the same ladder.
 */
export function loopTitle(src, dest, loops) {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(src).filter((x) => x.endsWith('.mp4'))) {
    execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-stream_loop', String(loops - 1), '-i', path.join(src, f), '-map', '0', '-c', 'copy', '-movflags', '+faststart', path.join(dest, f)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
  }
}

/**
 * Make the media root and the config. The config sets no `listen` (the
 * harness passes --listen); `media_root` is there so that `token mint`
 * reads a whole, valid file (the command line wins for serve).
 * @returns {{dir, mediaRoot, configPath, adminKey, secretHex, cleanup()}}
 */
export function makeAccessEnv(sourceTitle) {
  const src = path.resolve(sourceTitle);
  const files = fs.readdirSync(src).filter((f) => fs.statSync(path.join(src, f)).isFile() && f !== 'asset.toml');
  const mp4s = files.filter((f) => f.endsWith('.mp4'));
  if (!mp4s.length) throw new Error(`no .mp4 files in ${src}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-access-'));
  try {
    const mediaRoot = path.join(dir, 'media');
    const link = (asset) => {
      const d = path.join(mediaRoot, asset);
      fs.mkdirSync(d, { recursive: true });
      for (const f of files) fs.symlinkSync(path.join(src, f), path.join(d, f));
      return d;
    };
    link(ASSETS.clear);
    const cbcs = link(ASSETS.cbcs);
    const p = POLICIES.demo_cbcs;
    fs.writeFileSync(path.join(cbcs, 'asset.toml'), `[encryption]\nmethod = ${JSON.stringify(p.method)}\ndrm = [${p.drm.map((x) => JSON.stringify(x)).join(', ')}]\n`);
    loopTitle(src, path.join(mediaRoot, ASSETS.long), LOOPS);
    const secretHex = crypto.randomBytes(32).toString('hex');
    const adminKey = `admin-${crypto.randomBytes(12).toString('hex')}`;
    const configPath = path.join(dir, 'edgepack.toml');
    fs.writeFileSync(configPath, [
      `media_root = ${JSON.stringify(mediaRoot)}`,
      '',
      '[access]',
      'mode = "token"',
      `admin_key = "${adminKey}"`,
      '',
      '[[access.keys]]',
      'kid = "k1"',
      'alg = "HS256"',
      `secret_hex = "${secretHex}"`,
      '',
      '[[keys.static]]',
      'content_id = "*"',
      `key = "${KEY_HEX}"`,
      '',
    ].join('\n'));
    return { dir, mediaRoot, configPath, adminKey, secretHex, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * `edgepack token mint --config <file> --asset A --ttl N [--sub S]
 * [--session X] [--renew R --renew-expadd E --renew-deadline D]`.
 * @returns {{token, mintedAt: number (ms), args: string[]}}
 */
export function mint(bin, configPath, { asset, ttl, sub, session, renew, renewExpadd = 30, renewDeadline = 10 }) {
  const args = ['token', 'mint', '--config', configPath, '--asset', asset, '--ttl', String(ttl)];
  if (sub) args.push('--sub', sub);
  if (session) args.push('--session', session);
  if (renew) args.push('--renew', renew, '--renew-expadd', String(renewExpadd), '--renew-deadline', String(renewDeadline));
  const mintedAt = Date.now();
  const token = execFileSync(bin, args, { encoding: 'utf8', timeout: 10000 }).trim();
  if (!/^[A-Za-z0-9_-]{20,}$/.test(token)) throw new Error(`token mint printed ${JSON.stringify(token.slice(0, 200))}`);
  return { token, mintedAt, args };
}

/** `edgepack token inspect <token>`: {exp (Unix s), sid, iss, text}. */
export function inspect(bin, token) {
  const text = execFileSync(bin, ['token', 'inspect', token], { encoding: 'utf8', timeout: 10000 });
  const exp = Number((/^expires: (\d+)/m.exec(text) || [])[1]);
  const sid = (/"sid": "([^"]*)"/.exec(text) || [])[1];
  const iss = (/"iss \(1\)": "([^"]*)"/.exec(text) || [])[1];
  return { exp, sid, iss, text };
}

/** POST /admin/v1/revocations. @returns {{status, body, sentAt, answeredAt}} (ms) */
export async function revoke(baseUrl, adminKey, subject) {
  const sentAt = Date.now();
  const r = await fetch(`${baseUrl}/admin/v1/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(subject),
    signal: AbortSignal.timeout(10000),
  });
  const body = await r.text();
  return { status: r.status, body, sentAt, answeredAt: Date.now() };
}

/** The token a URL carries in `cat`. */
export const catOf = (u) => new URL(u).searchParams.get('cat');

/** A numbered media segment (`.../<n>.m4s`) of `asset`. */
export const isMediaSegment = (u, asset) => new RegExp(`/vod/${asset}/[^?]*/\\d+\\.m4s(\\?|$)`).test(u);

/** Largest EXT-X-TARGETDURATION of the first variant of an HLS multivariant playlist (s). */
export async function targetDuration(masterUrl) {
  const get = async (u) => {
    const r = await fetch(u, { signal: AbortSignal.timeout(10000) });
    if (!r.ok) throw new Error(`GET ${u}: HTTP ${r.status}`);
    return r.text();
  };
  const master = await get(masterUrl);
  const variant = master.split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#'));
  const media = await get(new URL(variant, masterUrl).href);
  return Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(media)[1]);
}

/**
 * An onPage hook for checkPlayback that records every response under
 * `/vod/<asset>/` ({url, status, startedAt, at}: ms since the epoch, the
 * request's start as Chromium reports it and the response's arrival here)
 * and samples the video element every 250 ms ({at, currentTime, ahead}:
 * seconds buffered ahead of currentTime). `onSample(sample, w)` is called
 * for each sample (e.g. to revoke at some point). With `settleMs`, the
 * function the hook returns keeps sampling after the checks until
 * currentTime has not moved for that long (at most 25 s), so the moment
 * playback stopped is observed even when a fatal player error ended the
 * harness' check first.
 */
export function watcher(asset, { onSample = null, settleMs = 0 } = {}) {
  const w = { responses: [], failed: [], samples: [], problems: [], stopped: false, error: null };
  w.hook = async (page) => {
    page.on('response', (r) => {
      const url = r.url();
      if (!url.includes(`/vod/${asset}/`)) return;
      const at = Date.now();
      let startedAt = NaN;
      try { startedAt = r.request().timing().startTime; } catch { /* no timing */ }
      const e = { url, status: r.status(), method: r.request().method(), startedAt, at };
      w.responses.push(e);
      if (e.status >= 400 && w.problems.length < 5) {
        r.text().then((t) => { w.problems.push({ status: e.status, url, body: t.slice(0, 300) }); }).catch(() => {});
      }
    });
    page.on('requestfailed', (r) => {
      if (r.url().includes(`/vod/${asset}/`)) w.failed.push({ url: r.url(), at: Date.now(), error: r.failure()?.errorText });
    });
    let busy = false;
    const sample = async () => {
      if (busy || w.stopped) return;
      busy = true;
      try {
        const s = await page.evaluate(() => {
          const H = window.H;
          if (!H || !H.video) return null;
          const v = H.video;
          let ahead = 0;
          for (let i = 0; i < v.buffered.length; i++) {
            if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) > v.currentTime) ahead = v.buffered.end(i) - v.currentTime;
          }
          return { currentTime: v.currentTime, ahead, ended: v.ended, fatal: H.fatal ? H.fatal.message : null };
        });
        if (s) {
          const smp = { at: Date.now(), ...s };
          w.samples.push(smp);
          if (onSample) await onSample(smp, w);
        }
      } catch (e) {
        if (!w.stopped) w.error = e.message;
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(sample, 250);
    return async () => {
      const deadline = Date.now() + (settleMs ? 25000 : 0);
      while (Date.now() < deadline) {
        const last = lastProgressAt(w.samples);
        const end = w.samples.at(-1);
        if (end && (end.ended || (last !== null && end.at - last >= settleMs))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      w.stopped = true;
      clearInterval(timer);
    };
  };
  return w;
}

/** Time (ms) of the last sample at which currentTime had moved on from the one before. */
export function lastProgressAt(samples) {
  let last = null;
  for (let i = 1; i < samples.length; i++) if (samples[i].currentTime - samples[i - 1].currentTime > 0.02) last = samples[i].at;
  return last;
}

/** The sample closest to (at or before) `t` ms. */
export function sampleAt(samples, t) {
  let best = null;
  for (const s of samples) if (s.at <= t) best = s;
  return best;
}

const ok2xx = (s) => s >= 200 && s < 300;
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
// Sampling (250 ms) and event delivery.
const SLACK_MS = 500;

/**
 * The timed cases compare Chromium's request start times with this process'
 * clock: they must be there and plausible (epoch ms, before the response).
 */
export function assertTimings(w) {
  const bad = w.responses.filter((x) => !Number.isFinite(x.startedAt) || x.startedAt > x.at + 100 || x.startedAt < x.at - 30000);
  assert.deepEqual(bad.map((x) => `${x.startedAt} vs ${x.at} ${x.url}`), [], 'responses without a plausible request start time');
  assert.ok(w.samples.length >= 40, `the page watcher took ${w.samples.length} samples (last error: ${w.error})`);
}

/**
 * A session revoked mid-play was cut off: nothing issued after the
 * revocation (answered at `revocation.answeredAt`) was served, media
 * segments stopped within a segment duration + 1 s, the refusals are 403
 * session-revoked, and playback stopped within what the player had
 * buffered + a segment + 1 s. `w` is the watcher, `r` the checkPlayback
 * result, `atRevoke` the sample at which the revocation was sent.
 */
export function assertCutOff(t, { w, r, asset, atRevoke, revocation, segDur, formatResult, what }) {
  const T = revocation.answeredAt;
  const segMs = (segDur + 1) * 1000;
  const plays = r.checks.find((x) => x.name === 'plays');
  const segs = w.responses.filter((x) => isMediaSegment(x.url, asset));
  const servedBefore = segs.filter((x) => x.at < revocation.sentAt && ok2xx(x.status));
  const issuedAfter = w.responses.filter((x) => x.startedAt >= T);
  const forbidden = segs.filter((x) => x.status === 403);
  const first403 = forbidden.length ? Math.min(...forbidden.map((x) => x.at)) : null;
  const asked = segs.filter((x) => x.startedAt >= T && x.startedAt <= T + segMs);
  const lateOk = segs.filter((x) => ok2xx(x.status) && x.at > T + segMs);
  const stop = lastProgressAt(w.samples);
  const finalT = w.samples.length ? w.samples.at(-1).currentTime : 0;
  const bound = (atRevoke.ahead + segDur + 1) * 1000 + SLACK_MS;
  t.diagnostic(`revoked ${what} at currentTime ${atRevoke.currentTime.toFixed(2)} with ${atRevoke.ahead.toFixed(2)} s buffered ahead; the call took ${revocation.answeredAt - revocation.sentAt} ms: ${String(revocation.body).slice(0, 300)}`);
  t.diagnostic(`${servedBefore.length} segments served before; after: ${issuedAfter.length} requests issued (${issuedAfter.filter((x) => ok2xx(x.status)).length} 2xx), first 403 ${first403 ? fmt(first403 - T) : 'never'} after the revocation (${asked.length} segment request(s) issued within ${segDur + 1} s of it); playback stopped ${stop ? fmt(stop - T) : '?'} after it at currentTime ${finalT.toFixed(2)} (bound ${fmt(bound)}); problems: ${JSON.stringify(w.problems.slice(0, 1))}`);
  assert.equal(plays.ok, false, `playback went on after the revocation:\n${formatResult(r)}`);
  assertTimings(w);
  assert.ok(servedBefore.length >= 3, `only ${servedBefore.length} segments were served before the revocation`);
  assert.deepEqual(issuedAfter.filter((x) => ok2xx(x.status)).map((x) => `${x.status} ${x.url}`), [], 'requests issued after the revocation that were served');
  assert.deepEqual(lateOk.map((x) => `${fmt(x.at - T)} ${x.url}`), [], `media segments served more than ${segDur + 1} s after the revocation`);
  assert.ok(first403 !== null, `no request was refused with 403 after the revocation:\n${formatResult(r)}`);
  if (asked.length) assert.ok(first403 - T <= segMs, `first 403 ${fmt(first403 - T)} after the revocation (bound ${segDur + 1} s)`);
  else t.diagnostic(`the player asked for no segment within ${segDur + 1} s of the revocation (it had them buffered); its first request after it was refused`);
  assert.ok(w.problems.some((p) => p.status === 403 && p.body.includes('session-revoked')), `403s are not session-revoked: ${JSON.stringify(w.problems)}`);
  assert.ok(stop !== null && stop - T <= bound, `playback stopped ${fmt(stop - T)} after the revocation (bound: buffered ${atRevoke.ahead.toFixed(2)} s + segment ${segDur} s + 1 s)`);
  assert.ok(finalT <= atRevoke.currentTime + atRevoke.ahead + segDur + 1, `currentTime went from ${atRevoke.currentTime} to ${finalT} after the revocation`);
}
