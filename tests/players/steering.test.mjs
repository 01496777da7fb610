// Multi-CDN delivery with real players (hls.js, dash.js, Shaka in headless
// Chromium): content steering across three CDNs, one of which goes dark
// mid-play.
//
//   EDGEPACK_BIN=target/debug/edgepack node --test tests/players/steering.test.mjs
//
// Each case has its own edgepack node and its own three CDNs (cdn-setup.mjs:
// nginx on 127.0.0.2, .3 and .4 at one port, as cdn-a.test, cdn-b.test,
// cdn-c.test), so cases run side by side without disturbing each other. The
// node's [delivery] puts the CDNs in priority order A, B, C and probes each
// every 500 ms (out after 1 failed probe, back after 2 good ones and a 4 s
// hold; steering TTL 4 s, 2 s while a CDN is out). The title is the demo
// looped to 120 s (4 s segments); players keep a short forward buffer so they
// keep fetching while a CDN is out.
//
// A failover case plays, breaks CDN A when currentTime reaches 8 s (killed,
// black-holed or answering 500), restores it 16 s later, and asserts:
//  - playback went on: 45 s of real playback, and the longest stall after the
//    break is under 2 s;
//  - the player's requests moved to B (segments in B's log after the break);
//  - A left the node's steering answers within one probe interval (+ the
//    probe's timeout), and came back only after the hold time;
//  - traffic returned to A after the hold time (segments in A's log), and
//    none reached it between its restore and the end of the hold.
// Negative control: with only A listed, killing A stops playback.
// Per-CDN tokens: with access on, each CDN's URLs carry a token sealed with
// that CDN's own key, and every request through it was served.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { diag } from './matrix.mjs';
import { loopTitle, watcher, mint } from './access-setup.mjs';
import { startCdns, deliveryToml, TIMING, segmentsIn, longestStall } from './cdn-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN ? path.resolve(process.env.EDGEPACK_BIN) : null;
const SOURCE = path.join(process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media'), process.env.PLAYER_TEST_ASSET || 'demo');
const harness = () => import('./harness.mjs');

const ASSET = 'demo_long';
const BREAK_AT_S = 8; // currentTime at which CDN A is broken
const RESTORE_AFTER_MS = 16000; // A is restored this long after the break
const PLAY_S = 45; // s of real playback each failover case asks for
// Shaka bans a location it saw fail for 60 s (content_steering_manager.js
// banLocation), whatever the steering server says: when Shaka saw A fail
// before steering moved it (always when A is killed or answers 500s; for a
// black hole, when a request of its was swallowed), its traffic can return
// only after that, so the Shaka cases play long enough to see it.
const SHAKA_BAN_MS = 60000;
const MAX_STALL_MS = 2000;
const HOLD_MS = TIMING.hold_seconds * 1000;
const DETECT_BOUND_MS = TIMING.probe_interval_ms + TIMING.probe_timeout_ms + 400; // one probe interval, its timeout, polling
const SLACK_MS = 500;

// Short forward buffers, so players keep asking for segments while A is out.
const PLAYER_CONFIG = {
  // hls.js waits out its 10 s time-to-first-byte limit on a request a black
  // hole swallowed, even after steering moved it: a buffer above 10 s rides
  // over that (its default is 30 s).
  hlsjs: { maxBufferLength: 12, maxMaxBufferLength: 12 },
  dashjs: { streaming: { buffer: { bufferTimeAtTopQuality: 8, bufferTimeAtTopQualityLongForm: 8, stableBufferTime: 8 } } },
  // Shaka gives up on a request that got no bytes for 5 s (stallTimeout) and
  // tries the next CDN: a buffer above that and a segment rides over it (its
  // default bufferingGoal is 10 s).
  shaka: { streaming: { bufferingGoal: 12, rebufferingGoal: 2 } },
};

const skip = BIN ? false : 'set EDGEPACK_BIN to run the steering playback tests (they start edgepack with their own config)';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** PATHWAY-PRIORITY of the node's steering answer for a probe session. */
async function steeringPriority(edgeBase, format = 'hls') {
  const r = await fetch(`${edgeBase}/vod/${ASSET}/steering/${format}.json?session=test-observer`, { signal: AbortSignal.timeout(2000) });
  assert.equal(r.status, 200, `steering answer: HTTP ${r.status}`);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  return (await r.json())['PATHWAY-PRIORITY'];
}

/** Polls the steering answer every 100 ms until `pred(priority)` holds; the time it did (ms) or null. */
async function until(edgeBase, pred, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (pred(await steeringPriority(edgeBase))) return Date.now();
    } catch { /* keep polling */ }
    await sleep(100);
  }
  return null;
}

if (skip || skipSource) test('multi-CDN content steering with real players', { skip: skip || skipSource }, () => {});
else describe('multi-CDN content steering with real players (a CDN goes dark mid-play)', () => {
  let dir = null;
  let mediaRoot = null;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-steering-'));
    mediaRoot = path.join(dir, 'media');
    loopTitle(SOURCE, path.join(mediaRoot, ASSET), 4); // 120 s
  });

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A node in front of three fresh CDNs, with `extraToml` added to its config. */
  async function stack(name, { ids, extraToml = '', signing = null, timing = TIMING } = {}) {
    const { freePort, startEdgepack } = await harness();
    const edgePort = await freePort();
    const cdns = await startCdns(edgePort);
    try {
      const configPath = path.join(dir, `${name}.toml`);
      fs.writeFileSync(configPath, `media_root = ${JSON.stringify(mediaRoot)}\n${extraToml}\n${deliveryToml(cdns.port, { ids, signing, timing })}`);
      const edge = await startEdgepack({ bin: BIN, mediaRoot, port: edgePort, extraArgs: ['--config', configPath] });
      return { edge, cdns, configPath, stop: async () => { await edge.stop(); cdns.stop(); } };
    } catch (e) {
      cdns.stop();
      throw e;
    }
  }

  async function failover(t, { player, manifest, fault, layout = 'repeat', returns = true }) {
    const shakaBan = player === 'shaka';
    // Shaka: its ban ends about 60 s after the break, or 65 s when a black hole
    // held its request for its 5 s stall timeout (currentTime 73), and then its
    // buffer (12 s) still has to drain before it asks for more: 95 s of the
    // 120 s title.
    const playS = shakaBan ? BREAK_AT_S + SHAKA_BAN_MS / 1000 + 27 : PLAY_S;
    const s = await stack(`${player}-${fault}-${layout}-${manifest.replace(/\W/g, '')}`, { timing: { ...TIMING, hls_layout: `"${layout}"` } });
    const { a, b } = s.cdns.cdns;
    try {
      // Every CDN in the answers before playback starts (the first probes may still be on
      // their way on a loaded machine).
      const base = (id) => id.replace(/\.r\d+$/, ''); // cdn-c.r1 is cdn-c, back from an outage
      const allUp = await until(s.edge.baseUrl, (p) => p.map(base).join() === 'cdn-a,cdn-b,cdn-c', 15000);
      assert.ok(allUp !== null, `the CDNs were not all in the steering answer within 15 s: ${JSON.stringify(await steeringPriority(s.edge.baseUrl))}`);
      let T = null;
      let R = null;
      let goneAt = null;
      let backAt = null;
      const observers = [];
      const w = watcher(ASSET, {
        onSample: async (smp) => {
          if (T === null && smp.currentTime >= BREAK_AT_S) {
            T = Date.now();
            a[fault]();
            observers.push(until(s.edge.baseUrl, (p) => !p.includes('cdn-a'), 10000).then((x) => { goneAt = x; }));
          } else if (T !== null && R === null && Date.now() - T >= RESTORE_AFTER_MS) {
            R = Date.now();
            await a.restore();
            // HLS answers offer a CDN that came back under a fresh id, a clone
            // of itself (cdn-a.r1), since hls.js keeps a pathway id it saw fail
            // out for five minutes.
            observers.push(until(s.edge.baseUrl, (p) => /^cdn-a(\.r\d+)?$/.test(p[0]), 15000).then((x) => { backAt = x; }));
          }
        },
      });
      const { checkPlayback, formatResult } = await harness();
      const r = await checkPlayback({
        player,
        url: `${s.edge.baseUrl}/vod/${ASSET}/${manifest}`,
        expect: { checks: ['plays'], playSeconds: playS, stallSeconds: 10 },
        playerConfig: PLAYER_CONFIG[player],
        onPage: async (page, result) => {
          await page.addInitScript(() => { window.H_SEVERAL_LOCATIONS = true; });
          return w.hook(page, result);
        },
        hardTimeoutMs: 150000,
      });
      await Promise.all(observers);
      diag(t, r, formatResult);
      const end = w.samples.at(-1)?.at ?? Date.now();
      const stall = T ? longestStall(w.samples, T, end) : NaN;
      const aLog = a.log();
      const bLog = b.log();
      const onB = T ? segmentsIn(bLog, T) : [];
      const aDuringHold = R ? segmentsIn(aLog, R + 1000, R + HOLD_MS - SLACK_MS).filter((x) => x.status === 200) : [];
      const aAfter = R ? segmentsIn(aLog, R + HOLD_MS - SLACK_MS).filter((x) => x.status === 200) : [];
      const aReturn = aAfter.length ? aAfter[0].at - R : null;
      const steeringAsked = w.responses.filter((x) => x.url.includes('/steering/'));
      t.diagnostic(`A ${fault} at ${T ? fmt(0) : 'never'} (currentTime ${BREAK_AT_S}); longest stall after it ${fmt(stall)}; A out of steering ${goneAt ? fmt(goneAt - T) : 'never'} after the break; ${onB.length} segments through B after it; A restored ${R ? fmt(R - T) : 'never'} after the break, back first in steering ${backAt ? fmt(backAt - R) : 'never'} after that (hold ${fmt(HOLD_MS)}); ${aAfter.length} segments through A after the hold (the first ${aReturn === null ? '-' : fmt(aReturn)} after the restore${shakaBan ? `, Shaka's ${fmt(SHAKA_BAN_MS)} ban of A included` : ''}), ${aDuringHold.length} during it; the player asked for steering ${steeringAsked.length} times`);
      assert.ok(T !== null, `playback never reached ${BREAK_AT_S} s, so A was never broken:\n${formatResult(r)}`);
      assert.ok(r.ok, `playback did not go on after A went dark (${fault}):\n${formatResult(r)}\n${String(s.edge.output()).slice(-1500)}`);
      assert.ok(stall < MAX_STALL_MS, `longest stall after the break ${fmt(stall)} (bound ${fmt(MAX_STALL_MS)})`);
      assert.ok(onB.length >= 2, `only ${onB.length} segment requests reached B after A went dark`);
      assert.ok(goneAt !== null && goneAt - T <= DETECT_BOUND_MS, `A left the steering answer ${goneAt ? fmt(goneAt - T) : 'never'} after the break (bound ${fmt(DETECT_BOUND_MS)})`);
      assert.ok(R !== null, 'A was never restored (playback ended first)');
      assert.ok(backAt !== null && backAt - R >= HOLD_MS - SLACK_MS, `A came back in steering ${backAt ? fmt(backAt - R) : 'never'} after its restore (hold ${fmt(HOLD_MS)})`);
      assert.deepEqual(aDuringHold.map((x) => x.uri), [], 'segments served through A during the hold');
      if (returns) assert.ok(aAfter.length >= 1, `no segment went through A after the hold: traffic did not return (player asked for steering ${steeringAsked.length} times)`);
      else t.diagnostic(`not asserted for ${player} ${manifest}: traffic returning to A (see the case list)`);
    } finally {
      await s.stop();
    }
  }

  describe('cases', { concurrency: 3 }, () => {
    const CASES = [
      { player: 'hlsjs', manifest: 'master.m3u8', fault: 'kill' },
      { player: 'hlsjs', manifest: 'master.m3u8', fault: 'blackhole' },
      { player: 'hlsjs', manifest: 'master.m3u8', fault: 'fail500' },
      { player: 'dashjs', manifest: 'manifest.mpd', fault: 'kill' },
      { player: 'dashjs', manifest: 'manifest.mpd', fault: 'blackhole' },
      { player: 'dashjs', manifest: 'manifest.mpd', fault: 'fail500' },
      { player: 'shaka', manifest: 'manifest.mpd', fault: 'kill' },
      { player: 'shaka', manifest: 'manifest.mpd', fault: 'blackhole' },
      { player: 'shaka', manifest: 'manifest.mpd', fault: 'fail500' },
      // Shaka with HLS moves off A and plays on, but in our runs it never came
      // back to A, even after its 60 s ban of A ended (some 40 s before the
      // end) with the steering answers putting A first: the return is not
      // asserted for it (noted on the issue).
      { player: 'shaka', manifest: 'master.m3u8', fault: 'kill', returns: false },
      // The playlist names only A; B and C come as PATHWAY-CLONES in the steering answer.
      { player: 'hlsjs', manifest: 'master.m3u8', fault: 'kill', layout: 'clone' },
    ];
    for (const c of CASES) {
      test(`${c.player} (${c.manifest}${c.layout ? `, ${c.layout} layout` : ''}) plays on when CDN A is ${{ kill: 'killed', blackhole: 'black-holed', fail500: 'answering 500s' }[c.fault]} mid-play, and traffic returns to A after the hold`, { timeout: 180000 }, (t) => failover(t, c));
    }

    test('negative control: with only A listed, killing A stops playback', { timeout: 180000 }, async (t) => {
      const s = await stack('negative', { ids: ['cdn-a'] });
      try {
        let T = null;
        const w = watcher(ASSET, {
          settleMs: 3000,
          onSample: async (smp) => {
            if (T === null && smp.currentTime >= BREAK_AT_S) {
              T = Date.now();
              s.cdns.cdns.a.kill();
            }
          },
        });
        const { checkPlayback, formatResult } = await harness();
        const r = await checkPlayback({
          player: 'hlsjs',
          url: `${s.edge.baseUrl}/vod/${ASSET}/master.m3u8`,
          expect: { checks: ['plays'], playSeconds: PLAY_S, stallSeconds: 10 },
          playerConfig: PLAYER_CONFIG.hlsjs,
          onPage: w.hook,
          hardTimeoutMs: 120000,
        });
        diag(t, r, formatResult);
        const plays = r.checks.find((x) => x.name === 'plays');
        const stall = T ? longestStall(w.samples, T) : NaN;
        t.diagnostic(`A killed at currentTime ${BREAK_AT_S}; playback: ${plays.reason}; longest stall after it ${fmt(stall)}`);
        assert.ok(T !== null, 'playback never reached the break');
        assert.equal(plays.ok, false, `playback went on with its only CDN dead:\n${formatResult(r)}`);
        assert.ok(stall >= MAX_STALL_MS, `the longest stall ${fmt(stall)} is under the failover cases' bound: the stall measure cannot tell a failover from an outage`);
      } finally {
        await s.stop();
      }
    });

    test('access on: each CDN\'s URLs carry a token sealed with that CDN\'s own key, and every request through it is served', { timeout: 180000 }, async (t) => {
      const keys = Object.fromEntries(['k1', 'cdn-a', 'cdn-b', 'cdn-c'].map((k) => [k, crypto.randomBytes(32).toString('hex')]));
      const access = ['[access]', 'mode = "token"', ...Object.entries(keys).flatMap(([kid, hex]) => ['[[access.keys]]', `kid = "${kid}"`, 'alg = "HS256"', `secret_hex = "${hex}"`])].join('\n');
      const s = await stack('tokens', { extraToml: access, signing: keys });
      try {
        const { token } = mint(BIN, s.configPath, { asset: ASSET, ttl: 600, sub: 'viewer-1', session: 'steered-session-1' });
        const url = `${s.edge.baseUrl}/vod/${ASSET}/master.m3u8?cat=${token}`;
        const master = await (await fetch(url, { signal: AbortSignal.timeout(10000) })).text();
        const kidOf = (tok) => /^kid: "([^"]*)"/m.exec(execFileSync(BIN, ['token', 'inspect', tok], { encoding: 'utf8' }))?.[1];
        for (const id of ['cdn-a', 'cdn-b', 'cdn-c']) {
          const uri = master.split('\n').find((l) => l.startsWith(`http://${id}.test`));
          assert.ok(uri, `no variant URI on ${id}:\n${master}`);
          assert.equal(kidOf(new URL(uri).searchParams.get('cat')), id, `the token on ${id}'s URIs is not sealed with ${id}'s key`);
        }
        const w = watcher(ASSET, {
          onSample: async (smp) => { if (smp.currentTime >= BREAK_AT_S && s.cdns.cdns.a.state === 'up') s.cdns.cdns.a.kill(); },
        });
        const { checkPlayback, formatResult } = await harness();
        const r = await checkPlayback({ player: 'hlsjs', url, expect: { checks: ['plays'], playSeconds: 20 }, playerConfig: PLAYER_CONFIG.hlsjs, onPage: w.hook, hardTimeoutMs: 120000 });
        diag(t, r, formatResult);
        assert.ok(r.ok, formatResult(r));
        for (const c of s.cdns.all) {
          const log = c.log().filter((x) => x.uri.startsWith(`/vod/${ASSET}/`) && !x.uri.includes('/steering/'));
          const refused = log.filter((x) => x.status !== 200);
          const kids = new Set(log.filter((x) => /\/\d+\.m4s/.test(x.uri)).slice(0, 3).map((x) => kidOf(new URL(x.uri, 'http://x').searchParams.get('cat'))));
          t.diagnostic(`${c.id}: ${log.length} requests, ${refused.length} refused, segment tokens sealed by ${[...kids].join(', ') || '-'}`);
          assert.deepEqual(refused.map((x) => `${x.status} ${x.uri.slice(0, 80)}`), [], `requests through ${c.id} that were refused`);
          for (const k of kids) assert.equal(k, c.id, `a segment through ${c.id} carried a token sealed by ${k}`);
        }
        assert.ok(segmentsIn(s.cdns.cdns.b.log()).length >= 2, 'B carried no segments after A was killed');
      } finally {
        await s.stop();
      }
    });
  });
});
