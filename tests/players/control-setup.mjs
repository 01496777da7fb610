// Setup for control.test.mjs: a real PostgreSQL (Debian's, a fresh cluster
// on a free port) and Redis, a node in `[access] mode = "token"` that embeds
// the control plane (`[control]`) on PostgreSQL with its revocations going
// through Redis, and the calls the test makes: the control APIs, and webhook
// deliveries signed the way Stripe signs them (HMAC-SHA256 over
// "{t}.{body}", computed here with node's crypto, independently of the Rust
// signer).
//
// Nothing here needs playwright-core.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { loopTitle } from './access-setup.mjs';

export const ASSET = 'demo_long';
export const PRODUCT = 'premium';
export const PRICE = 'price_premium_monthly';
export const ACCOUNT = 'acct-e2e';
export const LOOPS = 3;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, what, child, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const isRoot = () => process.getuid && process.getuid() === 0;

function pgBin() {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin/initdb'))).sort((a, b) => Number(a) - Number(b)) : [];
  if (!versions.length) throw new Error('no PostgreSQL server under /usr/lib/postgresql (scripts/install-test-deps.sh installs it)');
  return path.join(root, versions.at(-1), 'bin');
}

// [program, args] run as the user PostgreSQL accepts (not root).
const asPostgres = (program, args) => (isRoot() ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args]);

/** A fresh PostgreSQL cluster on a free port, trust auth on loopback. */
export async function startPostgres() {
  const bin = pgBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-pg-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const [p1, a1] = asPostgres(path.join(bin, 'initdb'), ['-A', 'trust', '-U', 'postgres', '--no-sync', '-D', data]);
  execFileSync(p1, a1, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
  const port = await freePort();
  const [p2, a2] = asPostgres(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off']);
  const child = spawn(p2, a2, { stdio: 'ignore' });
  await waitForPort(port, 'postgres', child);
  const [p3, a3] = asPostgres(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'control']);
  execFileSync(p3, a3, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/control`,
    stop: async () => {
      // SIGQUIT to the postmaster (runuser does not pass signals on).
      try {
        const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid) process.kill(pid, 'SIGQUIT');
      } catch { /* already gone */ }
      child.kill('SIGKILL');
      await sleep(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's redis-server on a free port, nothing persisted. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port, 'redis-server', child);
  return { url: `redis://127.0.0.1:${port}`, stop: async () => { child.kill('SIGKILL'); } };
}

/**
 * The media root (demo_long: the demo title looped to 90 s) and the node's
 * configuration. The node and entitlement share one HS256 key; the node
 * reads the stream limit from the token's `max_streams` claim.
 *
 * With `remoteEntitlement` ({url, apiKey}: the swap of control-swap.test.mjs)
 * the node serves the catalog and billing only and reaches entitlement at
 * that URL through its contract; the node's admin API is on (`adminKey`, for
 * the remote service's revocations). Without `postgresUrl` the plane is on
 * SQLite, without `redisUrl` the node keeps sessions and revocations itself.
 */
export function makeControlEnv(sourceTitle, { edgePort, controlPort, postgresUrl, redisUrl, remoteEntitlement = null }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-control-'));
  const mediaRoot = path.join(dir, 'media');
  loopTitle(path.resolve(sourceTitle), path.join(mediaRoot, ASSET), LOOPS);
  const secretHex = crypto.randomBytes(32).toString('hex');
  const apiKey = `api-${crypto.randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${crypto.randomBytes(16).toString('hex')}`;
  const adminKey = remoteEntitlement ? `admin-${crypto.randomBytes(12).toString('hex')}` : null;
  const configPath = path.join(dir, 'edgepack.toml');
  fs.writeFileSync(configPath, [
    `media_root = ${JSON.stringify(mediaRoot)}`,
    '',
    '[access]',
    'mode = "token"',
    'max_sessions_claim = "max_streams"',
    ...(adminKey ? [`admin_key = "${adminKey}"`] : []),
    '',
    ...(redisUrl ? ['[access.store]', `url = "${redisUrl}"`, ''] : []),
    '[[access.keys]]',
    'kid = "control"',
    'alg = "HS256"',
    `secret_hex = "${secretHex}"`,
    '',
    '[control]',
    `listen = "127.0.0.1:${controlPort}"`,
    `data_dir = ${JSON.stringify(path.join(dir, 'control'))}`,
    ...(postgresUrl ? [`database_url = "${postgresUrl}"`] : []),
    ...(remoteEntitlement ? ['serve = ["catalog", "billing"]'] : []),
    '',
    '[[control.api_keys]]',
    'name = "e2e"',
    `key = "${apiKey}"`,
    'scopes = ["*"]',
    '',
    '[control.events]',
    'sink = "jsonl"',
    '',
    ...(remoteEntitlement ? [
      '[control.remote.entitlement]',
      `url = "${remoteEntitlement.url}"`,
      `api_key = "${remoteEntitlement.apiKey}"`,
    ] : [
      '[control.entitlement]',
      `edge_base_url = "http://127.0.0.1:${edgePort}"`,
      'token_ttl_seconds = 120',
      'renewal_window_seconds = 30',
      '',
      '[control.entitlement.signing]',
      'kid = "control"',
      'alg = "HS256"',
      `secret_hex = "${secretHex}"`,
    ]),
    '',
    '[control.billing]',
    `webhook_secrets = ["${webhookSecret}"]`,
    '',
    '[control.billing.products]',
    `${PRICE} = "${PRODUCT}"`,
    '',
  ].join('\n'));
  return {
    dir,
    mediaRoot,
    configPath,
    apiKey,
    webhookSecret,
    secretHex,
    adminKey,
    eventsPath: path.join(dir, 'control', 'events.jsonl'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A control API call: {status, body (parsed JSON or text), at}. */
export async function api(base, apiKey, method, p, body = undefined, headers = {}) {
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await r.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, at: Date.now() };
}

/** A subscription event in Stripe's shape. */
export function subscriptionEvent({ type, status, periodEnd, created = Math.floor(Date.now() / 1000), subscription = 'sub_e2e' }) {
  return {
    id: `evt_${crypto.randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2024-06-20',
    type,
    created,
    data: {
      object: {
        id: subscription,
        object: 'subscription',
        customer: 'cus_e2e',
        status,
        current_period_end: periodEnd,
        start_date: created - 60,
        metadata: { account: ACCOUNT },
        items: { object: 'list', data: [{ id: 'si_e2e', price: { id: PRICE, lookup_key: null } }] },
      },
    },
  };
}

/** POSTs `event` to the webhook, signed with `secret` (t = now). */
export async function deliver(base, secret, event) {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const r = await fetch(`${base}/v1/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
    body,
    signal: AbortSignal.timeout(10000),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** The CloudEvents the plane wrote so far (events.jsonl). */
export function events(eventsPath) {
  if (!fs.existsSync(eventsPath)) return [];
  return fs.readFileSync(eventsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
