// Real players through an HTTP origin: Debian's nginx serves the demo title's
// files (and a moov-at-the-end test file) from a temporary docroot; edgepack
// runs with `--media-root http://127.0.0.1:NGINX/media/` and reads them with
// range requests. hls.js, dash.js and Shaka must play, and nginx's access log
// must show that edgepack read ranges (206), never whole files.
//
//   EDGEPACK_BIN=target/debug/edgepack node --test tests/players/
//
// Needs EDGEPACK_BIN and nginx (scripts/install-test-deps.sh installs it);
// skipped without EDGEPACK_BIN, failed without nginx.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diag } from './matrix.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN;
const DEMO = path.join(REPO, 'demo/media/demo');
const MOOV_LAST = 'h264_avc1_25fps_aac_48k_moov_last.mp4';
const harness = () => import('./harness.mjs');

// The docroot: the demo title with an asset.toml (an HTTP origin cannot be
// listed, so the title names its sources), and one moov-last single file.
function makeDocroot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-origin-'));
  fs.chmodSync(root, 0o755);
  const demo = path.join(root, 'demo');
  fs.mkdirSync(demo, { mode: 0o755 });
  const files = fs.readdirSync(DEMO).sort();
  for (const f of files) fs.copyFileSync(path.join(DEMO, f), path.join(demo, f));
  const sources = files.filter((f) => f.endsWith('.mp4')).map((f) => JSON.stringify(f));
  const subs = files.filter((f) => /\.[a-z]{2}\.vtt$/.test(f)).map((f) => `${f.split('.').at(-2)} = ${JSON.stringify(f)}`);
  fs.writeFileSync(path.join(demo, 'asset.toml'), `sources = [${sources.join(', ')}]\n[subtitles]\n${subs.join('\n')}\n`);
  fs.copyFileSync(path.join(REPO, 'testdata/media', MOOV_LAST), path.join(root, MOOV_LAST));
  return root;
}

async function startNginx(docroot) {
  const bin = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => fs.existsSync(p));
  if (!bin) throw new Error('nginx is not installed: run scripts/install-test-deps.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-nginx-'));
  const { freePort } = await harness();
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format t '$request_method $uri $status';
  access_log ${dir}/access.log t;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    location /media/ { alias ${docroot}/; }
  }
}
`);
  const child = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    base: `http://127.0.0.1:${port}/media/`,
    log: () => (fs.existsSync(path.join(dir, 'access.log')) ? fs.readFileSync(path.join(dir, 'access.log'), 'utf8').trim().split('\n') : []),
    stop: () => child.kill('SIGKILL'),
  };
}

const CASES = [
  { player: 'hlsjs', asset: 'demo', path: 'master.m3u8', title: 'hls.js plays HLS-CMAF of a title on an HTTP origin' },
  { player: 'dashjs', asset: 'demo', path: 'manifest.mpd', title: 'dash.js plays DASH of a title on an HTTP origin' },
  { player: 'shaka', asset: 'demo', path: 'ts/master.m3u8', title: 'Shaka plays HLS-TS of a title on an HTTP origin' },
  { player: 'hlsjs', asset: MOOV_LAST, path: 'master.m3u8', title: 'hls.js plays a moov-at-the-end file on an HTTP origin' },
];

const skip = BIN ? false : 'set EDGEPACK_BIN to run the HTTP-origin playback tests';

if (skip) test('playback through an HTTP origin', { skip }, () => {});
else describe('playback through an HTTP origin (nginx, range requests)', () => {
  let nginx = null;
  let server = null;
  let startError = null;

  test('nginx and edgepack start, edgepack reading the origin', { timeout: 30000 }, async () => {
    try {
      nginx = await startNginx(makeDocroot());
      const { startEdgepack } = await harness();
      server = await startEdgepack({ bin: path.resolve(BIN), mediaRoot: nginx.base });
      const r = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(r.status, 200, 'readyz with a reachable origin');
    } catch (e) {
      startError = e;
      throw e;
    }
  });

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (server) await server.stop();
    if (nginx) nginx.stop();
  });

  for (const c of CASES) {
    test(c.title, { timeout: 180000 }, async (t) => {
      if (startError) throw new Error(`setup failed: ${startError.message}`);
      const { checkPlayback, formatResult } = await harness();
      const url = `${server.baseUrl}/vod/${c.asset}/${c.path}`;
      const r = await checkPlayback({ player: c.player, url, expect: { checks: ['plays', 'seeksToMiddle'], playSeconds: 6 } });
      diag(t, r, formatResult);
      assert.ok(r.ok, `${formatResult(r)}\n--- edgepack:\n${server.output()}`);
    });
  }

  test('edgepack read the origin with ranges only', async () => {
    if (startError) throw new Error(`setup failed: ${startError.message}`);
    const media = nginx.log().filter((l) => l.includes('.mp4 '));
    assert.ok(media.length > 0, 'no media read from the origin');
    const gets = media.filter((l) => l.startsWith('GET '));
    assert.ok(gets.length > 0 && gets.every((l) => l.endsWith(' 206')), `non-range reads: ${gets.filter((l) => !l.endsWith(' 206')).join('; ')}`);
  });
});
