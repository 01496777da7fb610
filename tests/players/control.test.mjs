// The control plane end to end with a real player: billing webhook
// (subscription active) -> entitlement grant -> playback session -> token ->
// hls.js plays through the edge; a session revoked through the entitlement
// API is cut off within a segment duration + 1 s; the subscription canceled
// past its period -> the next session is denied. PostgreSQL (the control
// plane's database) and Redis (the node's revocation store) are real servers
// started here; the node embeds the control plane (`[control]`).
//
//   EDGEPACK_BIN=target/release/edgepack node --test tests/players/control.test.mjs
//
// Negative controls: an account without a subscription is denied (403
// playback-denied, reason not-entitled); the manifest without a token is 401;
// a webhook signed with another secret is refused and grants nothing.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from './matrix.mjs';
import * as A from './access-setup.mjs';
import * as C from './control-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EDGEPACK_BIN ? path.resolve(process.env.EDGEPACK_BIN) : null;
const SOURCE = path.join(process.env.EDGEPACK_MEDIA_ROOT || path.join(REPO, 'demo/media'), process.env.PLAYER_TEST_ASSET || 'demo');
const harness = () => import('./harness.mjs');

const HLS_SHORT_BUFFER = { maxBufferLength: 8, maxMaxBufferLength: 8 };
const REVOKE_AT_S = 8;

const skip = BIN ? false : 'set EDGEPACK_BIN to run the control-plane end-to-end test';
const skipSource = !skip && !fs.existsSync(SOURCE) ? `no source title at ${SOURCE}` : false;

const reasons = (body) => (body && Array.isArray(body.reasons) ? body.reasons.map((r) => r.type.split('/').pop()) : []);

if (skip || skipSource) test('control plane end to end', { skip: skip || skipSource }, () => {});
else describe('control plane end to end: billing -> entitlement -> token -> player, revocation, cancellation', () => {
  let pg = null;
  let redis = null;
  let env = null;
  let server = null;
  let control = null; // base URL of the control API
  let segDur = null;
  const call = (method, p, body, headers) => C.api(control, env.apiKey, method, p, body, headers);

  after(async () => {
    const { closeHarness } = await harness();
    await closeHarness();
    if (server) await server.stop();
    if (redis) await redis.stop();
    if (pg) await pg.stop();
    if (env) env.cleanup();
  });

  test('PostgreSQL, Redis and the node with its control plane start; the catalog is seeded', { timeout: 120000 }, async () => {
    const { startEdgepack } = await harness();
    pg = await C.startPostgres();
    redis = await C.startRedis();
    const edgePort = await C.freePort();
    const controlPort = await C.freePort();
    env = C.makeControlEnv(SOURCE, { edgePort, controlPort, postgresUrl: pg.url, redisUrl: redis.url });
    server = await startEdgepack({ bin: BIN, port: edgePort, mediaRoot: env.mediaRoot, extraArgs: ['--config', env.configPath] });
    control = `http://127.0.0.1:${controlPort}`;
    const ready = await fetch(`${control}/readyz`, { signal: AbortSignal.timeout(10000) });
    assert.equal(ready.status, 200, `control /readyz: ${await ready.text()}\n${server.output()}`);
    const product = await call('PUT', `/v1/products/${C.PRODUCT}`, { name: 'Premium', max_streams: 2 });
    assert.equal(product.status, 201, JSON.stringify(product.body));
    const asset = await call('PUT', `/v1/assets/${C.ASSET}`, { title: 'Demo, looped', products: [C.PRODUCT] });
    assert.equal(asset.status, 201, JSON.stringify(asset.body));
    const bare = await fetch(`${server.baseUrl}/vod/${C.ASSET}/master.m3u8`, { signal: AbortSignal.timeout(10000) });
    assert.equal(bare.status, 401, 'the node asks for a token');
  });

  test('before any subscription the account is denied (403 playback-denied, not-entitled)', { timeout: 30000 }, async () => {
    const r = await call('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'e2e', asset: C.ASSET });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.deepEqual(reasons(r.body), ['not-entitled']);
  });

  test('a webhook signed with another secret is refused and grants nothing', { timeout: 30000 }, async () => {
    const e = C.subscriptionEvent({ type: 'customer.subscription.created', status: 'active', periodEnd: Math.floor(Date.now() / 1000) + 30 * 86400 });
    const r = await C.deliver(control, 'whsec_not_the_secret_0123456789', e);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const s = await call('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'e2e', asset: C.ASSET });
    assert.equal(s.status, 403, 'still denied');
  });

  test('subscription active (signed webhook) -> grant -> session -> hls.js plays with the token', { timeout: 120000 }, async (t) => {
    const e = C.subscriptionEvent({ type: 'customer.subscription.created', status: 'active', periodEnd: Math.floor(Date.now() / 1000) + 30 * 86400 });
    const d = await C.deliver(control, env.webhookSecret, e);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.outcome, 'applied');
    const grants = await call('GET', `/v1/grants?account=${C.ACCOUNT}`);
    assert.deepEqual(grants.body.items.map((g) => [g.product, g.source]), [[C.PRODUCT, 'billing:stripe']]);
    const s = await call('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'e2e-hlsjs', asset: C.ASSET });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.equal(s.body.max_streams, 2);
    segDur = await A.targetDuration(s.body.manifests.hls);
    const { checkPlayback, formatResult } = await harness();
    const r = await checkPlayback({ player: 'hlsjs', url: s.body.manifests.hls, expect: { checks: ['plays'], playSeconds: 8 } });
    diag(t, r, formatResult);
    assert.ok(r.ok, `${formatResult(r)}\n${server.output().slice(-2000)}`);
    const mine = (r.requestLog || []).filter((x) => x.url.startsWith(server.baseUrl));
    assert.ok(mine.filter((x) => A.isMediaSegment(x.url, C.ASSET)).length >= 3, 'media segments came from the node');
    assert.deepEqual(mine.filter((x) => !A.catOf(x.url)).map((x) => x.url), [], 'every request to the node carried a token');
    await call('DELETE', `/v1/playback-sessions/${s.body.id}`);
  });

  test('a session revoked through the entitlement API stops within a segment + 1 s (+ its buffer)', { timeout: 150000 }, async (t) => {
    const s = await call('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'e2e-revoke', asset: C.ASSET });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    let revocation = null;
    let atRevoke = null;
    const w = A.watcher(C.ASSET, {
      settleMs: 3000,
      onSample: async (smp) => {
        if (atRevoke || smp.currentTime < REVOKE_AT_S) return;
        atRevoke = smp;
        const sentAt = Date.now();
        const r = await call('POST', `/v1/playback-sessions/${s.body.id}/revocation`);
        revocation = { status: r.status, body: JSON.stringify(r.body), sentAt, answeredAt: r.at };
      },
    });
    const { checkPlayback, formatResult } = await harness();
    const r = await checkPlayback({
      player: 'hlsjs',
      url: s.body.manifests.hls,
      expect: { checks: ['plays'], playSeconds: 45, stallSeconds: 8 },
      playerConfig: HLS_SHORT_BUFFER,
      onPage: w.hook,
      hardTimeoutMs: 120000,
    });
    diag(t, r, formatResult);
    assert.ok(revocation, `playback never reached ${REVOKE_AT_S} s:\n${formatResult(r)}`);
    assert.equal(revocation.status, 200, revocation.body);
    assert.equal(JSON.parse(revocation.body).state, 'revoked');
    A.assertCutOff(t, { w, r, asset: C.ASSET, atRevoke, revocation, segDur, formatResult, what: `session ${s.body.id}` });
  });

  test('subscription canceled past its period (webhook) -> the next session is denied', { timeout: 30000 }, async () => {
    const now = Math.floor(Date.now() / 1000);
    const e = C.subscriptionEvent({ type: 'customer.subscription.deleted', status: 'canceled', periodEnd: now - 60, created: now + 1 });
    const d = await C.deliver(control, env.webhookSecret, e);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.outcome, 'applied');
    const s = await call('POST', '/v1/playback-sessions', { account: C.ACCOUNT, device: 'e2e', asset: C.ASSET });
    assert.equal(s.status, 403, JSON.stringify(s.body));
    assert.deepEqual(reasons(s.body), ['not-entitled']);
    const grants = await call('GET', `/v1/grants?account=${C.ACCOUNT}`);
    assert.deepEqual(grants.body.items, [], 'the grant was withdrawn');
  });

  test('every change was published as a CloudEvent, keyed by account (read back with the CloudEvents SDK)', { timeout: 30000 }, async (t) => {
    // The sink writes in the background; give it a moment.
    let seen = [];
    for (let i = 0; i < 50; i++) {
      seen = C.events(env.eventsPath);
      if (seen.some((e) => e.type === 'dev.edgepack.playback.session.revoked.v1') && seen.some((e) => e.type === 'dev.edgepack.entitlement.withdrawn.v1')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const types = new Set(seen.map((e) => e.type));
    for (const want of [
      'dev.edgepack.billing.event.applied.v1',
      'dev.edgepack.entitlement.granted.v1',
      'dev.edgepack.entitlement.withdrawn.v1',
      'dev.edgepack.playback.session.started.v1',
      'dev.edgepack.playback.session.ended.v1',
      'dev.edgepack.playback.session.revoked.v1',
    ]) assert.ok(types.has(want), `no ${want} among ${[...types].join(', ')}`);
    for (const e of seen.filter((x) => x.type.includes('.session.') || x.type.includes('.entitlement.'))) {
      assert.equal(e.partitionkey, C.ACCOUNT, `${e.type} is keyed by ${e.partitionkey}`);
    }
    // Every line read by an independent CloudEvents implementation (the CNCF Python SDK).
    const checked = execFileSync(process.env.PYTHON || 'python3', [path.join(REPO, 'tests/control/check_cloudevents.py'), env.eventsPath], { encoding: 'utf8', timeout: 30000 });
    t.diagnostic(`the CloudEvents SDK read:\n${checked.trim()}`);
  });
});
