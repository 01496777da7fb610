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
import { startCorsStaticServer, checkPlayback, formatResult, closeHarness } from './harness.mjs';
import { registerMatrix, streamUrls } from './matrix.mjs';

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
  };
}

describe('reference streams (ffmpeg) with real players', { skip }, () => {
  let server = null;
  let dir = REF;

  before(async () => {
    if (REF === 'auto') {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-ref-'));
      execFileSync(path.join(HERE, 'make-reference-streams.sh'), [dir], { stdio: 'inherit', timeout: 300000 });
    }
    server = await startCorsStaticServer(dir, { prefix: '/vod/demo', virtualFiles: brokenVariants(dir) });
  });

  after(async () => {
    await closeHarness();
    if (server) await server.close();
    if (REF === 'auto') fs.rmSync(dir, { recursive: true, force: true });
  });

  registerMatrix(() => server.origin);

  describe('harness self-tests: each check can fail', () => {
    const base = () => `${server.origin}/vod/demo`;
    const run = async (t, o) => {
      const r = await checkPlayback({ player: 'hlsjs', ...o, expect: { playSeconds: 2, ...o.expect } });
      t.diagnostic(formatResult(r));
      return r;
    };
    const check = (r, name) => r.checks.find((c) => c.name === name);
    const failsOnly = (r, name) => {
      assert.equal(check(r, 'plays').ok, true, `plays should pass:\n${formatResult(r)}`);
      assert.equal(check(r, name).ok, false, `${name} should FAIL:\n${formatResult(r)}`);
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
