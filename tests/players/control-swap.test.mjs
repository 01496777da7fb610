// The entitlement contract swapped out (issue 16): a small implementation of
// it written in Python (tests/control/crm_entitlement.py, standing in for an
// operator's own CRM) passes the contract's conformance suite (`edgepack
// conformance --contract entitlement`), and the edge, the catalog and the
// billing adapter run unchanged against it: a signed billing webhook lands
// as a grant in the Python service through the contract, the Python service
// decides and mints the token (cbor2 + hmac, not our Rust minter), and
// hls.js plays through the node with it. The node embeds the catalog and
// billing only (`[control] serve = ["catalog", "billing"]`, entitlement in
// `[control.remote.entitlement]`), on SQLite, without Redis.
//
//   EDGEPACK_BIN=target/release/edgepack node --test tests/players/control-swap.test.mjs
//
// Needs python3 with cbor2 (scripts/install-test-deps.sh). Negative
// controls: an account without a grant is denied by the Python service (403
// playback-denied, reason not-entitled); the same code minting with a secret
// the node does not hold gets its token refused by the node (401); a session
// revoked at the Python service is refused by the node (403 session-revoked).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diag } from './matrix.mjs';
import * as A from './access-setup.mjs';
import * as C from './control-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN ? path.resolve(process.env.EDGEPACK_BIN) : null;
const SOURCE = path.join(process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media'), process.env.PLAYER_TEST_ASSET || 'demo');
const CRM = path.join(REPO, 'tests/control/crm_entitlement.py');
const PYTHON = process.env.PYTHON || 'python3';
const harness = () => import('./harness.mjs');

const skip = BIN ? false : 'set EDGEPACK_BIN to run the entitlement swap test';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;

const reasons = (body) => (body && Array.isArray(body.reasons) ? body.reasons.map((r) => r.type.split('/').pop()) : []);

/**
 * Starts crm_entitlement.py; resolves once it printed its URL.
 * @returns {Promise<{url, stop(), output()}>}
 */
function startCrm({ listen, apiKey, catalogUrl, catalogApiKey, edgeBaseUrl, secretHex, edgeAdmin = null }) {
  const args = [CRM, '--listen', listen, '--api-key', apiKey, '--catalog-url', catalogUrl, '--catalog-api-key', catalogApiKey,
    '--edge-base-url', edgeBaseUrl, '--kid', 'control', '--secret-hex', secretHex];
  if (edgeAdmin) args.push('--edge-admin-url', edgeAdmin.url, '--edge-admin-key', edgeAdmin.key);
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-5000); });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`crm_entitlement.py printed no URL within 10 s: ${err}`)); }, 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n');
      if (line.length > 1) {
        clearTimeout(timer);
        resolve({ url: line[0].trim(), stop, output: () => err });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`crm_entitlement.py exited with ${code}: ${err}`)); });
  });
}

/** `edgepack conformance --contract entitlement ...`: {code, stdout, stderr}. */
function conformance(url, apiKey) {
  const args = ['conformance', '--contract', 'entitlement', '--url', url, '--api-key', apiKey, '--product', C.PRODUCT, '--asset', C.ASSET];
  return new Promise((resolve) => {
    execFile(BIN, args, { timeout: 60000, encoding: 'utf8' }, (e, stdout, stderr) => resolve({ code: e ? (e.code ?? e.signal) : 0, stdout, stderr }));
  });
}

if (skip || skipSource) test('entitlement swap', { skip: skip || skipSource }, () => {});
else describe('entitlement swapped for a Python implementation of the contract: conformance, billing -> grant, token -> player', () => {
  let env = null;
  let server = null;
  let crm = null;
  let rogue = null; // the same code with a secret the node does not hold
  let control = null; // base URL of the node's control API (catalog, billing)
  let session = null;
  const crmKey = `crm-${crypto.randomBytes(12).toString('hex')}`;
  const callCrm = (method, p, body, headers) => C.api(crm.url, crmKey, method, p, body, headers);

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (rogue) await rogue.stop();
    if (crm) await crm.stop();
    if (server) await server.stop();
    if (env) env.cleanup();
  });

  test('the node (catalog + billing, entitlement remote) and the Python service start; the catalog is seeded', { timeout: 120000 }, async () => {
    const { startEdgepack } = await harness();
    const edgePort = await C.freePort();
    const controlPort = await C.freePort();
    const crmPort = await C.freePort();
    env = C.makeControlEnv(SOURCE, { edgePort, controlPort, remoteEntitlement: { url: `http://127.0.0.1:${crmPort}`, apiKey: crmKey } });
    server = await startEdgepack({ bin: BIN, port: edgePort, mediaRoot: env.mediaRoot, extraArgs: ['--config', env.configPath] });
    control = `http://127.0.0.1:${controlPort}`;
    crm = await startCrm({
      listen: `127.0.0.1:${crmPort}`, apiKey: crmKey, catalogUrl: control, catalogApiKey: env.apiKey,
      edgeBaseUrl: server.baseUrl, secretHex: env.secretHex, edgeAdmin: { url: server.baseUrl, key: env.adminKey },
    });
    assert.equal(crm.url, `http://127.0.0.1:${crmPort}`);
    const ready = await fetch(`${control}/readyz`, { signal: AbortSignal.timeout(10000) });
    assert.equal(ready.status, 200, `control /readyz: ${await ready.text()}\n${server.output()}`);
    const own = await C.api(control, env.apiKey, 'GET', '/v1/grants');
    assert.equal(own.status, 404, 'the node serves no entitlement API of its own');
    const product = await C.api(control, env.apiKey, 'PUT', `/v1/products/${C.PRODUCT}`, { name: 'Premium', max_streams: 2 });
    assert.equal(product.status, 201, JSON.stringify(product.body));
    const asset = await C.api(control, env.apiKey, 'PUT', `/v1/assets/${C.ASSET}`, { title: 'Demo, looped', products: [C.PRODUCT] });
    assert.equal(asset.status, 201, JSON.stringify(asset.body));
  });

  test('the Python service passes the entitlement conformance suite', { timeout: 90000 }, async (t) => {
    const r = await conformance(crm.url, crmKey);
    t.diagnostic(r.stdout.trim().split('\n').at(-1) || '(no output)');
    assert.equal(r.code, 0, `conformance failed:\n${r.stdout}\n${r.stderr}\n${crm.output()}`);
    const m = /^(\d+) checks, (\d+) passed, 0 failed$/m.exec(r.stdout);
    assert.ok(m && m[1] === m[2] && Number(m[1]) >= 30, `unexpected report:\n${r.stdout}`);
  });

  test('an account without a grant is denied by the Python service (403 playback-denied, not-entitled)', { timeout: 30000 }, async () => {
    const r = await callCrm('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'swap', asset: C.ASSET });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.type, 'https://edgepack.dev/problems/playback-denied');
    assert.deepEqual(reasons(r.body), ['not-entitled']);
  });

  test('a signed billing webhook at the node lands as a grant in the Python service', { timeout: 30000 }, async () => {
    const e = C.subscriptionEvent({ type: 'customer.subscription.created', status: 'active', periodEnd: Math.floor(Date.now() / 1000) + 30 * 86400 });
    const d = await C.deliver(control, env.webhookSecret, e);
    assert.equal(d.status, 200, `${JSON.stringify(d.body)}\n${server.output().slice(-2000)}`);
    assert.equal(d.body.outcome, 'applied');
    const grants = await callCrm('GET', `/v1/grants?account=${C.ACCOUNT}`);
    assert.equal(grants.status, 200, JSON.stringify(grants.body));
    assert.deepEqual(grants.body.items.map((g) => [g.id, g.product, g.source]), [[`stripe:sub_e2e:${C.PRODUCT}`, C.PRODUCT, 'billing:stripe']]);
  });

  test('a session from the Python service -> its token verifies at the node -> hls.js plays', { timeout: 120000 }, async (t) => {
    const s = await callCrm('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'swap-hlsjs', asset: C.ASSET });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    session = s.body;
    assert.equal(session.max_streams, 2);
    assert.ok(session.manifests.hls.startsWith(`${server.baseUrl}/vod/${C.ASSET}/`), session.manifests.hls);
    const claims = A.inspect(BIN, session.token);
    assert.equal(claims.sid, session.id, claims.text);
    assert.equal(claims.iss, 'crm-entitlement', claims.text);
    const { checkPlayback, formatResult } = await harness();
    const r = await checkPlayback({ player: 'hlsjs', url: session.manifests.hls, expect: { checks: ['plays'], playSeconds: 8 } });
    diag(t, r, formatResult);
    assert.ok(r.ok, `${formatResult(r)}\n${server.output().slice(-2000)}`);
    const mine = (r.requestLog || []).filter((x) => x.url.startsWith(server.baseUrl));
    assert.ok(mine.filter((x) => A.isMediaSegment(x.url, C.ASSET)).length >= 3, 'media segments came from the node');
    assert.deepEqual(mine.filter((x) => !A.catOf(x.url)).map((x) => x.url), [], 'every request to the node carried a token');
  });

  test('a token minted with a secret the node does not hold is refused by the node (401)', { timeout: 30000 }, async () => {
    const rogueKey = `rogue-${crypto.randomBytes(12).toString('hex')}`;
    rogue = await startCrm({
      listen: '127.0.0.1:0', apiKey: rogueKey, catalogUrl: control, catalogApiKey: env.apiKey,
      edgeBaseUrl: server.baseUrl, secretHex: crypto.randomBytes(32).toString('hex'),
    });
    const g = await C.api(rogue.url, rogueKey, 'PUT', '/v1/grants/rogue-grant', { account: C.ACCOUNT, product: C.PRODUCT, source: 'crm' });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const s = await C.api(rogue.url, rogueKey, 'POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'rogue', asset: C.ASSET });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const r = await fetch(s.body.manifests.hls, { signal: AbortSignal.timeout(10000) });
    const body = await r.text();
    assert.equal(r.status, 401, body);
    assert.match(body, /signature/, body);
  });

  test('a session revoked at the Python service is refused by the node (403 session-revoked)', { timeout: 30000 }, async () => {
    const ok = await fetch(session.manifests.hls, { signal: AbortSignal.timeout(10000) });
    assert.equal(ok.status, 200, 'the token still works before the revocation');
    const r = await callCrm('POST', `/v1/playback-sessions/${session.id}/revocation`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'revoked');
    const refused = await fetch(session.manifests.hls, { signal: AbortSignal.timeout(10000) });
    const body = await refused.text();
    assert.equal(refused.status, 403, body);
    assert.match(body, /session-revoked/);
  });
});
