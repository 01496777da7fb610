// Playback access control with real players (hls.js, dash.js, Shaka in
// headless Chromium), against edgepack in `[access] mode = "token"`.
//
//   EDGEPACK_BIN=target/release/edgepack node --test tests/players/access.test.mjs
//
// access-setup.mjs makes a media root (demo: the demo title; demo_long: its
// MP4s looped to 90 s; demo_cbcs: cbcs + ClearKey) and a config with one
// HS256 key, an admin key and the static content key encrypted-setup.mjs
// uses, then `edgepack serve --config` starts. Tokens come from
// `edgepack token mint --config <file> --asset A --ttl N ...`. Players are
// given the token only in the query of the multivariant playlist / MPD URL
// (`?cat=<token>`); the node writes a token into every URL of its manifests.
// Needs EDGEPACK_BIN (the node needs this config): skipped otherwise.
//
// Cases (the slow ones run concurrently; see the README for what each asserts):
//  - hls.js (HLS fMP4), dash.js (DASH), Shaka (DASH, HLS) play and switch quality;
//  - dash.js and Shaka play cbcs with ClearKey, the license POSTed to the
//    MPD's dashif:Laurl, which carries a token too;
//  - renewal: a 20 s token with catr (automatic) plays 60 s of wall time and
//    past 40 s of media; negative control: the same token without catr stalls
//    once it expires (segments answer 401);
//  - revocation: a session revoked mid-play is cut off within a segment
//    duration (plus 1 s, plus what the player had buffered);
//  - negative control: a token for another asset gets 403 on the master.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from './matrix.mjs';
import { mpdLicenseUrls } from './encrypted-setup.mjs';
import * as A from './access-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN ? path.resolve(process.env.EDGEPACK_BIN) : null;
const SOURCE = path.join(process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media'), process.env.PLAYER_TEST_ASSET || 'demo');
const harness = () => import('./harness.mjs');

// A short forward buffer for the timed cases, so the player keeps fetching
// segments as it plays (hls.js' default of 30 s would have most of a short
// title in memory before any token ends). hls.js then holds 8 to 8 + one
// segment seconds ahead.
const HLS_SHORT_BUFFER = { maxBufferLength: 8, maxMaxBufferLength: 8 };

const SHORT_TTL = 20; // s, the token of the renewal cases
const LONG_PLAY_S = 60; // s of real playback the renewal case must reach (so > 60 s of wall time)
const MEDIA_PAST_S = 40; // s of media it must get past
const REVOKE_AT_S = 8; // currentTime at which the session is revoked

const skip = BIN ? false : 'set EDGEPACK_BIN to run the access-control playback tests (they start edgepack with their own config)';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;

const ok2xx = (s) => s >= 200 && s < 300;
const SLACK_MS = 500; // sampling (250 ms) and event delivery

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

if (skip || skipSource) test('playback access control with real players', { skip: skip || skipSource }, () => {});
else describe('playback access control with real players (tokens in manifest URLs, renewal, revocation)', () => {
  let env = null;
  let server = null;
  let startError = null;
  let segDur = null; // s: EXT-X-TARGETDURATION of the demo

  test('edgepack serve starts in token mode; no token 401, admin API needs its key', { timeout: 60000 }, async () => {
    try {
      const { startEdgepack } = await harness();
      env = A.makeAccessEnv(SOURCE);
      server = await startEdgepack({ bin: BIN, mediaRoot: env.mediaRoot, extraArgs: ['--config', env.configPath] });
      const b = server.baseUrl;
      for (const asset of Object.values(A.ASSETS)) {
        const none = await fetch(`${b}/vod/${asset}/master.m3u8`, { signal: AbortSignal.timeout(10000) });
        assert.equal(none.status, 401, `/vod/${asset}/master.m3u8 without a token: HTTP ${none.status}`);
        const { token } = A.mint(BIN, env.configPath, { asset, ttl: 60 });
        const r = await fetch(`${b}/vod/${asset}/master.m3u8?cat=${token}`, { signal: AbortSignal.timeout(10000) });
        assert.equal(r.status, 200, `/vod/${asset}/master.m3u8 with a token: HTTP ${r.status}`);
      }
      const noKey = await fetch(`${b}/admin/v1/revocations`, { method: 'POST', body: '{"session":"x"}', signal: AbortSignal.timeout(10000) });
      assert.equal(noKey.status, 401, `revocation without the admin key: HTTP ${noKey.status}`);
      const { token } = A.mint(BIN, env.configPath, { asset: A.ASSETS.clear, ttl: 60 });
      segDur = await A.targetDuration(`${b}/vod/${A.ASSETS.clear}/master.m3u8?cat=${token}`);
      assert.ok(segDur > 0 && segDur <= 10, `target duration ${segDur}`);
    } catch (e) {
      startError = e;
      throw e;
    }
  });

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (server) await server.stop();
    if (env) env.cleanup();
  });

  const base = () => {
    if (startError || !server) throw new Error(`server did not start: ${startError ? startError.message.split('\n')[0] : 'not started'}`);
    return server.baseUrl;
  };
  const withLog = (msg) => `${msg}\n--- server log (tail) ---\n${server ? String(server.output()).slice(-2000) : ''}`;
  const mint = (o) => A.mint(BIN, env.configPath, o);

  // Every request the page made to the node carried a token, and none was refused.
  function assertTokensEverywhere(t, r, presented) {
    const mine = (r.requestLog || []).filter((x) => x.url.startsWith(server.baseUrl));
    const bare = mine.filter((x) => !A.catOf(x.url));
    assert.deepEqual(bare.map((x) => x.url), [], 'requests to the node without a token');
    const refused = r.httpErrors.filter((e) => e.includes(server.baseUrl));
    assert.deepEqual(refused, [], 'requests to the node that failed');
    const minted = new Set(mine.map((x) => A.catOf(x.url)).filter((c) => c !== presented));
    t.diagnostic(`${mine.length} requests to the node, all with a token: the presented one on ${mine.length - mine.filter((x) => A.catOf(x.url) !== presented).length}, ${minted.size} node-minted token(s) on the rest`);
    return mine;
  }

  describe('cases', { concurrency: 4 }, () => {
    // ------------------------------------------------------------ renewal
    test('renewal: a 20 s token with catr (automatic) plays 60 s of wall time, past 40 s of media', { timeout: 150000 }, async (t) => {
      const b = base();
      const asset = A.ASSETS.long;
      const m = mint({ asset, ttl: SHORT_TTL, renew: 'automatic', renewExpadd: 30, renewDeadline: 10 });
      const { exp } = A.inspect(BIN, m.token);
      const w = A.watcher(asset);
      const { checkPlayback, formatResult } = await harness();
      const r = await checkPlayback({
        player: 'hlsjs',
        url: `${b}/vod/${asset}/master.m3u8?cat=${m.token}`,
        expect: { checks: ['plays'], playSeconds: LONG_PLAY_S },
        playerConfig: HLS_SHORT_BUFFER,
        onPage: w.hook,
        hardTimeoutMs: 120000,
      });
      const end = Date.now();
      diag(t, r, formatResult);
      const plays = r.checks.find((x) => x.name === 'plays');
      assert.ok(r.ok, withLog(formatResult(r)));
      A.assertTimings(w);
      const segs = w.responses.filter((x) => A.isMediaSegment(x.url, asset));
      const afterExp = segs.filter((x) => x.startedAt >= exp * 1000 + 1000);
      const refused = w.responses.filter((x) => !ok2xx(x.status));
      const segToken = A.catOf(segs[0].url);
      const seg = A.inspect(BIN, segToken);
      t.diagnostic(`token exp ${exp} (${fmt(exp * 1000 - m.mintedAt)} after minting); wall time mint -> end of playback ${fmt(end - m.mintedAt)}; currentTime ${plays.details.currentTime}; ${segs.length} segments, ${afterExp.length} requested more than 1 s after exp, all 2xx: ${afterExp.every((x) => ok2xx(x.status))}`);
      t.diagnostic(`segment URLs carry a node-minted token: iss ${seg.iss}, sid ${seg.sid}, exp ${seg.exp} (${seg.exp - exp} s after the presented token's)`);
      assert.ok(end - m.mintedAt >= 60000, `played for ${fmt(end - m.mintedAt)} of wall time since minting (want 60 s)`);
      assert.ok(plays.details.currentTime > MEDIA_PAST_S, `currentTime ${plays.details.currentTime} (want > ${MEDIA_PAST_S})`);
      assert.deepEqual(refused.map((x) => `${x.status} ${x.url}`), [], 'refused requests');
      assert.ok(afterExp.length >= 5, `only ${afterExp.length} segment requests after the presented token's exp: the case does not test expiry`);
      assert.notEqual(segToken, m.token, 'segment URLs carry the presented token, not one the node minted');
      assert.equal(seg.iss, 'edgepack', `segment token:\n${seg.text}`);
      assert.ok(seg.exp > exp + LONG_PLAY_S, `segment token exp ${seg.exp} does not outlast the presented token's ${exp} by the playback`);
    });

    test('negative control: the same 20 s token without catr stalls once it expires (segments 401)', { timeout: 150000 }, async (t) => {
      const b = base();
      const asset = A.ASSETS.long;
      const m = mint({ asset, ttl: SHORT_TTL });
      const { exp } = A.inspect(BIN, m.token);
      const expMs = exp * 1000;
      const w = A.watcher(asset, { settleMs: 3000 });
      const { checkPlayback, formatResult } = await harness();
      const r = await checkPlayback({
        player: 'hlsjs',
        url: `${b}/vod/${asset}/master.m3u8?cat=${m.token}`,
        expect: { checks: ['plays'], playSeconds: LONG_PLAY_S, stallSeconds: 8 },
        playerConfig: HLS_SHORT_BUFFER,
        onPage: w.hook,
        hardTimeoutMs: 120000,
      });
      diag(t, r, formatResult);
      const plays = r.checks.find((x) => x.name === 'plays');
      const segs = w.responses.filter((x) => A.isMediaSegment(x.url, asset));
      const before = w.responses.filter((x) => x.startedAt < expMs - SLACK_MS);
      const refused = segs.filter((x) => x.status === 401);
      const first401 = refused.length ? Math.min(...refused.map((x) => x.at)) : null;
      const lateOk = w.responses.filter((x) => x.startedAt >= expMs + SLACK_MS && ok2xx(x.status));
      const atExp = A.sampleAt(w.samples, expMs);
      const stop = A.lastProgressAt(w.samples);
      const finalT = w.samples.length ? w.samples.at(-1).currentTime : 0;
      const bound = atExp ? (atExp.ahead + segDur + 1) * 1000 + SLACK_MS : NaN;
      t.diagnostic(`exp ${exp}; ${before.length} responses to requests before exp (${before.filter((x) => ok2xx(x.status)).length} 2xx); first 401 ${first401 ? fmt(first401 - expMs) : 'never'} after exp; ${refused.length} segment 401s; at exp currentTime ${atExp?.currentTime?.toFixed(2)}, ${atExp?.ahead?.toFixed(2)} s buffered ahead; playback stopped ${stop ? fmt(stop - expMs) : '?'} after exp at currentTime ${finalT.toFixed(2)} (bound ${fmt(bound)}); problems: ${JSON.stringify(w.problems.slice(0, 1))}`);
      assert.equal(plays.ok, false, `playback went on after the token expired:\n${formatResult(r)}`);
      A.assertTimings(w);
      assert.ok(before.length >= 4 && before.every((x) => ok2xx(x.status)), `requests before exp were not all served: ${before.filter((x) => !ok2xx(x.status)).map((x) => `${x.status} ${x.url}`).join(', ')}`);
      assert.ok(first401 !== null, `no segment was refused with 401: the token's end was never observed:\n${formatResult(r)}`);
      assert.ok(first401 >= expMs - SLACK_MS, `first 401 ${fmt(expMs - first401)} BEFORE the token's exp`);
      assert.ok(w.problems.some((p) => p.body.includes('token-expired')), `refusals are not token-expired: ${JSON.stringify(w.problems)}`);
      assert.deepEqual(lateOk.map((x) => x.url), [], 'requests after exp that were served');
      assert.ok(atExp && (plays.details.played ?? 0) >= 10, `it did not play before the token expired (played ${plays.details.played})`);
      assert.ok(stop !== null && stop - expMs <= bound, `playback stopped ${fmt(stop - expMs)} after exp (bound: buffered ${atExp.ahead.toFixed(2)} s + segment ${segDur} s + 1 s)`);
      assert.ok(finalT < MEDIA_PAST_S, `currentTime reached ${finalT} (the renewal case must pass ${MEDIA_PAST_S}; this one must not)`);
    });

    // ------------------------------------------------------------ revocation
    test('revocation: a session revoked mid-play is refused (403) and playback stops within a segment + 1 s + its buffer', { timeout: 150000 }, async (t) => {
      const b = base();
      const asset = A.ASSETS.long;
      const session = `s-revoke-${process.pid}`;
      const m = mint({ asset, ttl: 300, sub: 'acct-revoke', session });
      let revocation = null;
      let atRevoke = null;
      const w = A.watcher(asset, {
        settleMs: 3000,
        onSample: async (s) => {
          if (atRevoke || s.currentTime < REVOKE_AT_S) return;
          atRevoke = s;
          revocation = await A.revoke(b, env.adminKey, { session });
        },
      });
      const { checkPlayback, formatResult } = await harness();
      const r = await checkPlayback({
        player: 'hlsjs',
        url: `${b}/vod/${asset}/master.m3u8?cat=${m.token}`,
        expect: { checks: ['plays'], playSeconds: 45, stallSeconds: 8 },
        playerConfig: HLS_SHORT_BUFFER,
        onPage: w.hook,
        hardTimeoutMs: 120000,
      });
      diag(t, r, formatResult);
      assert.ok(revocation, `playback never reached ${REVOKE_AT_S} s, so nothing was revoked:\n${formatResult(r)}`);
      assert.equal(revocation.status, 201, `revocation: HTTP ${revocation.status} ${revocation.body}`);
      assert.equal(JSON.parse(revocation.body).id, session);
      A.assertCutOff(t, { w, r, asset, atRevoke, revocation, segDur, formatResult, what: `session ${session}` });
    });

    // ------------------------------------------------------------ token only in the master / MPD URL
    const POSITIVE = [
      { player: 'hlsjs', path: 'master.m3u8', title: 'hls.js plays token-protected HLS (fMP4) with the token only in the master URL' },
      { player: 'dashjs', path: 'manifest.mpd', title: 'dash.js plays token-protected DASH with the token only in the MPD URL' },
      { player: 'shaka', path: 'manifest.mpd', title: 'Shaka plays token-protected DASH with the token only in the MPD URL' },
      { player: 'shaka', path: 'master.m3u8', title: 'Shaka plays token-protected HLS (fMP4) with the token only in the master URL' },
    ];
    for (const c of POSITIVE) {
      test(c.title, { timeout: 120000 }, async (t) => {
        const b = base();
        const asset = A.ASSETS.clear;
        const { token } = mint({ asset, ttl: 600 });
        const { checkPlayback, formatResult } = await harness();
        const r = await checkPlayback({ player: c.player, url: `${b}/vod/${asset}/${c.path}?cat=${token}`, expect: { checks: ['plays', 'switchesQuality'], playSeconds: 8 } });
        diag(t, r, formatResult);
        assert.ok(r.ok, withLog(formatResult(r)));
        const mine = assertTokensEverywhere(t, r, token);
        const segs = mine.filter((x) => A.isMediaSegment(x.url, asset));
        assert.ok(segs.length >= 3, `only ${segs.length} media segments fetched`);
        assert.ok(segs.every((x) => A.catOf(x.url) !== token), 'segments were fetched with the presented token, not the one the node wrote into the manifest');
      });
    }

    // ------------------------------------------------------------ cbcs + ClearKey, license URL with a token
    for (const player of ['dashjs', 'shaka']) {
      test(`${player === 'shaka' ? 'Shaka' : 'dash.js'} plays token-protected DASH cbcs with ClearKey (license POSTed to the MPD's Laurl, token included)`, { timeout: 120000 }, async (t) => {
        const b = base();
        const asset = A.ASSETS.cbcs;
        const { token } = mint({ asset, ttl: 600 });
        const url = `${b}/vod/${asset}/manifest.mpd?cat=${token}`;
        const mpd = await (await fetch(url, { signal: AbortSignal.timeout(10000) })).text();
        const laurls = mpdLicenseUrls(mpd);
        t.diagnostic(`MPD dashif:Laurl: ${laurls.map((u) => u.replace(/cat=.*/, 'cat=<token>')).join(', ')}`);
        assert.equal(laurls.length, 1, `MPD Laurls: ${JSON.stringify(laurls)}`);
        const lu = new URL(laurls[0]);
        assert.equal(`${lu.origin}${lu.pathname}`, `${b}/vod/${asset}/license/clearkey`);
        assert.ok(lu.searchParams.get('cat'), `the MPD's Laurl carries no token: ${laurls[0]}`);
        const { checkPlayback, formatResult } = await harness();
        const r = await checkPlayback({ player, url, expect: { checks: ['plays'], playSeconds: 8 } });
        diag(t, r, formatResult);
        assert.ok(r.ok, withLog(formatResult(r)));
        assert.ok(r.eme && r.eme.granted.includes('org.w3.clearkey'), `ClearKey was not the key system used: ${JSON.stringify(r.eme)}`);
        assert.ok(r.eme.keyStatuses.some((s) => s.split(',').includes('usable')), `no usable key status: ${JSON.stringify(r.eme)}`);
        const posts = r.requestLog.filter((x) => x.method === 'POST' && x.url.includes(`/vod/${asset}/license/clearkey`));
        t.diagnostic(`license POSTs: ${posts.length}, each with a token: ${posts.every((x) => A.catOf(x.url))}`);
        assert.ok(posts.length >= 1, `${player} never POSTed to the license endpoint:\n${formatResult(r)}`);
        for (const p of posts) assert.ok(A.catOf(p.url) && A.catOf(p.url) !== token, `license POST ${p.url} does not carry the node's token`);
        assertTokensEverywhere(t, r, token);
      });
    }

    // ------------------------------------------------------------ wrong asset
    test('negative control: a token for another asset does not play (master 403)', { timeout: 90000 }, async (t) => {
      const b = base();
      const asset = A.ASSETS.clear;
      const { token } = mint({ asset: 'other', ttl: 600 });
      const url = `${b}/vod/${asset}/master.m3u8?cat=${token}`;
      const direct = await fetch(url, { signal: AbortSignal.timeout(10000) });
      const body = await direct.text();
      assert.equal(direct.status, 403, `master with another asset's token: HTTP ${direct.status}`);
      assert.match(body, /token-uri-not-allowed/);
      const { checkPlayback, formatResult } = await harness();
      const t0 = Date.now();
      const r = await checkPlayback({ player: 'hlsjs', url, expect: { checks: ['plays'], playSeconds: 8, stallSeconds: 8 }, hardTimeoutMs: 40000 });
      diag(t, r, formatResult);
      const plays = r.checks.find((x) => x.name === 'plays');
      assert.equal(plays.ok, false, `played with another asset's token:\n${formatResult(r)}`);
      assert.ok(r.httpErrors.includes(`403 ${url}`), `the master request was not answered 403: ${JSON.stringify(r.httpErrors)}`);
      const more = r.requestLog.filter((x) => x.url.startsWith(`${b}/vod/`) && x.url !== url);
      assert.deepEqual(more.map((x) => x.url), [], 'requests beyond the master');
      assert.ok(Date.now() - t0 < 40000, 'took too long to fail');
    });
  });
});
