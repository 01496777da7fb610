// Real players against edgepack.
//
//   EDGEPACK_BIN=target/release/edgepack node --test tests/players/
//
// starts `edgepack serve --listen 127.0.0.1:PORT --media-root DEMO_DIR`
// (DEMO_DIR: EDGEPACK_MEDIA_ROOT, default <repo>/demo/media), waits for
// /healthz, and plays asset `demo` (PLAYER_TEST_ASSET) with hls.js, dash.js
// and Shaka in headless Chromium. Without EDGEPACK_BIN,
// PLAYER_TEST_BASE_URL=http://127.0.0.1:PORT tests an already running
// server. With neither, the tests are skipped.
// PLAYER_TEST_SOURCE_VTT=<the asset's source .vtt> also checks that the
// active subtitle cue is shown at the time the source file says.
import { describe, test, after } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerMatrix, cueStartsFromVtt } from './matrix.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN;
const BASE = process.env.PLAYER_TEST_BASE_URL;
const MEDIA_ROOT = process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media');

const skip = !BIN && !BASE ? 'set EDGEPACK_BIN (or PLAYER_TEST_BASE_URL) to run the player tests against edgepack' : false;

if (skip) test('edgepack with real players (hls.js, dash.js, Shaka)', { skip }, () => {});
else describe('edgepack with real players (hls.js, dash.js, Shaka)', () => {
  let server = null;
  let baseUrl = BASE;
  let startError = null;

  // Start the server as a test of its own, so that a daemon that does not
  // come up is a counted failure (and the matrix tests fail fast with why).
  test(BIN ? 'edgepack serve starts and answers /healthz' : `server at ${BASE} answers`, { timeout: 30000 }, async () => {
    try {
      if (BIN) {
        const { startEdgepack } = await import('./harness.mjs');
        server = await startEdgepack({ bin: path.resolve(BIN), mediaRoot: MEDIA_ROOT });
        baseUrl = server.baseUrl;
      } else {
        await fetch(BASE, { signal: AbortSignal.timeout(5000) });
      }
    } catch (e) {
      startError = e;
      throw e;
    }
  });

  after(async () => {
    const { closeHarness } = await import('./harness.mjs');
    await closeHarness();
    if (server) await server.stop();
  });

  const expect = process.env.PLAYER_TEST_SOURCE_VTT ? { subtitleCueStart: cueStartsFromVtt(process.env.PLAYER_TEST_SOURCE_VTT) } : {};
  registerMatrix(() => {
    if (startError) throw new Error(`server did not start: ${startError.message.split('\n')[0]}`);
    return baseUrl;
  }, { expect, serverLog: () => (server ? server.output() : '') });
});
