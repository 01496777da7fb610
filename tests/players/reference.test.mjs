// The player matrix against ffmpeg-made reference streams, to validate the
// harness itself (not edgepack), plus self-tests showing that each check
// can fail. Not for CI:
//
//   tests/players/make-reference-streams.sh /tmp/ref
//   REFERENCE_STREAMS_DIR=/tmp/ref node --test tests/players/
//
// REFERENCE_STREAMS_DIR=auto makes the streams in a temp dir first (~15 s).
// Skipped when REFERENCE_STREAMS_DIR is unset.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { registerMatrix, streamUrls, cueStartsFromVtt, diag } from './matrix.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REF = process.env.REFERENCE_STREAMS_DIR;
const skip = REF ? false : 'set REFERENCE_STREAMS_DIR (a dir made by make-reference-streams.sh, or "auto") to test the harness on reference streams';

// Deliberately broken variants of the reference HLS, served next to it.
function brokenVariants(dir) {
  const master = fs.readFileSync(path.join(dir, 'master.m3u8'), 'utf8');
  const enVtt = fs.readFileSync(path.join(dir, 'subs_en.vtt'), 'utf8');
  return {
    // the "360p" variant is really the 720p playlist: the picture never changes
    '/lying-quality.m3u8': master.replace('hls_video_360/index.m3u8', 'hls_video_720/index.m3u8'),
    // both audio languages point at the English playlist
    '/same-audio.m3u8': master.replace('hls_audio_fr/index.m3u8', 'hls_audio_en/index.m3u8'),
    // the "English" subtitles are the French file
    '/wrong-subs.m3u8': master.replace('URI="subs_en.m3u8"', 'URI="subs_fr.m3u8"'),
    // English cues mapped 100 s late (bad X-TIMESTAMP-MAP): loaded, never active
    '/late-subs.m3u8': master.replace('URI="subs_en.m3u8"', 'URI="late_en.m3u8"'),
    '/late_en.m3u8': fs.readFileSync(path.join(dir, 'subs_en.m3u8'), 'utf8').replace('subs_en.vtt', 'late_en.vtt'),
    '/late_en.vtt': enVtt.replace(/MPEGTS:(\d+)/, (m, v) => `MPEGTS:${Number(v) + 100 * 90000}`),
    // TS HLS whose English WebVTT lacks X-TIMESTAMP-MAP: hls.js maps cue time
    // 0 to MPEG-TS time 0, so every cue shows ~1.5 s early
    '/ts/nomap-subs.m3u8': fs.readFileSync(path.join(dir, 'ts/master.m3u8'), 'utf8').replace('URI="subs_en.m3u8"', 'URI="nomap_en.m3u8"'),
    '/ts/nomap_en.m3u8': fs.readFileSync(path.join(dir, 'ts/subs_en.m3u8'), 'utf8').replace('subs_en.vtt', 'nomap_en.vtt'),
    '/ts/nomap_en.vtt': fs.readFileSync(path.join(dir, 'ts/subs_en.vtt'), 'utf8').replace(/^X-TIMESTAMP-MAP.*\n/m, ''),
  };
}

if (skip) test('reference streams (ffmpeg) with real players', { skip }, () => {});
else describe('reference streams (ffmpeg) with real players', () => {
  let server = null;
  let dir = REF;
  let cueStart = () => undefined;
  let H; // harness.mjs, imported when the suite runs

  before(async () => {
    H = await import('./harness.mjs');
    if (REF === 'auto') {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-ref-'));
      execFileSync(path.join(HERE, 'make-reference-streams.sh'), [dir], { stdio: 'inherit', timeout: 300000 });
    }
    cueStart = cueStartsFromVtt(path.join(dir, 'dash/sub_en.vtt'));
    server = await H.startCorsStaticServer(dir, { prefix: '/vod/demo', virtualFiles: brokenVariants(dir) });
  });

  after(async () => {
    await H?.closeHarness();
    if (server) await server.close();
    if (REF === 'auto') fs.rmSync(dir, { recursive: true, force: true });
  });

  // cue times as the source says (dash/sub_en.vtt has no timestamp map)
  registerMatrix(() => server.origin, { expect: { subtitleCueStart: (text) => cueStart(text) } });

  describe('harness self-tests: each check can fail', () => {
    const base = () => `${server.origin}/vod/demo`;
    const run = async (t, o) => {
      const r = await H.checkPlayback({ player: 'hlsjs', ...o, expect: { playSeconds: 2, waitSeconds: 10, ...o.expect } });
      diag(t, r, H.formatResult);
      return r;
    };
    const check = (r, name) => r.checks.find((c) => c.name === name);
    const failsOnly = (r, name) => {
      assert.equal(check(r, 'plays').ok, true, `plays should pass:\n${H.formatResult(r)}`);
      assert.equal(check(r, name).ok, false, `${name} should FAIL:\n${H.formatResult(r)}`);
      assert.equal(r.ok, false);
    };

    test('quality switch fails when the picture height does not change', { timeout: 90000 }, async (t) => {
      const r = await run(t, { url: `${base()}/lying-quality.m3u8`, expect: { checks: ['plays', 'switchesQuality'] } });
      failsOnly(r, 'switchesQuality');
    });

    test('audio switch fails when no segments of the new language are fetched', { timeout: 90000 }, async (t) => {
      const r = await run(t, { url: `${base()}/same-audio.m3u8`, expect: { checks: ['plays', 'selectsSecondAudio'] } });
      failsOnly(r, 'selectsSecondAudio');
    });

    test('subtitle check fails when the cues lack the expected text', { timeout: 90000 }, async (t) => {
      const r = await run(t, { url: `${base()}/wrong-subs.m3u8`, expect: { checks: ['plays', 'showsSubtitles'] } });
      failsOnly(r, 'showsSubtitles');
    });

    test('subtitle check fails when the cues are mistimed', { timeout: 90000 }, async (t) => {
      const r = await run(t, { url: `${base()}/late-subs.m3u8`, expect: { checks: ['plays', 'showsSubtitles'] } });
      failsOnly(r, 'showsSubtitles');
    });

    test('subtitle check fails when the cues are shown 1.5 s early', { timeout: 90000 }, async (t) => {
      const r = await run(t, { url: `${base()}/ts/nomap-subs.m3u8`, expect: { checks: ['plays', 'showsSubtitles'], subtitleCueStart: cueStart } });
      failsOnly(r, 'showsSubtitles');
    });

    test('seek check fails when the second half of the media is missing', { timeout: 90000 }, async (t) => {
      // segments 7.. (from 28 s on) answer 404
      const r = await run(t, {
        url: streamUrls(server.origin).hlsCmaf,
        breakSegments: { after: 0, pattern: /seg_0(0[7-9]|1\d)\.m4s$/ },
        expect: { checks: ['plays', 'seeksToMiddle'] },
      });
      failsOnly(r, 'seeksToMiddle');
    });
  });
});
