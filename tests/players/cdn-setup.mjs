// Setup for steering.test.mjs: three "CDNs" in front of one edgepack node,
// each a real nginx (one process, `master_process off`, so one signal reaches
// all of it) proxying to the node, on 127.0.0.2, 127.0.0.3 and 127.0.0.4 at
// the same port, as cdn-a.test, cdn-b.test and cdn-c.test (Chromium maps the
// names with --host-resolver-rules, see harness.mjs). Each CDN can be made to
// fail the three ways a CDN goes dark:
//   kill()       SIGKILL: connections refused
//   blackhole()  SIGSTOP: connections accepted (by the kernel) and never
//                answered, requests on open connections never answered
//   fail500()    every request answered 500 (a file nginx checks per request)
// and restore() undoes any of them. Each CDN logs every request it passed
// ($msec, status, URI) so a test can count where the player's requests went.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

export const CDNS = [
  { id: 'cdn-a', host: 'cdn-a.test', ip: '127.0.0.2' },
  { id: 'cdn-b', host: 'cdn-b.test', ip: '127.0.0.3' },
  { id: 'cdn-c', host: 'cdn-c.test', ip: '127.0.0.4' },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port free on all three CDN addresses. */
export async function freeCdnPort() {
  const net = await import('node:net');
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all(CDNS.map((c) => new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, c.ip, () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return port;
  }
  throw new Error('no free port on 127.0.0.2-4');
}

function nginxConfig(dir, cdn, port, edgePort) {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format cdn '$msec $status "$request_uri"';
  access_log ${dir}/access.log cdn;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  keepalive_timeout 30s;
  server {
    listen ${cdn.ip}:${port};
    location / {
      if (-f ${dir}/fail500) {
        add_header Access-Control-Allow-Origin * always;
        return 500 "${cdn.id} is failing on purpose\\n";
      }
      proxy_pass http://127.0.0.1:${edgePort};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
    }
  }
}
`;
}

/** One CDN: an nginx process that can be failed and restored. */
class Cdn {
  constructor(root, cdn, port, edgePort) {
    Object.assign(this, cdn);
    this.port = port;
    this.dir = path.join(root, cdn.id);
    fs.mkdirSync(path.join(this.dir, 'tmp'), { recursive: true });
    this.conf = path.join(this.dir, 'nginx.conf');
    fs.writeFileSync(this.conf, nginxConfig(this.dir, cdn, port, edgePort));
    this.baseUrl = `http://${cdn.host}:${port}`;
    this.directUrl = `http://${cdn.ip}:${port}`;
    this.child = null;
    this.state = 'down';
  }

  async start() {
    const child = spawn('nginx', ['-c', this.conf, '-p', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', () => { if (this.child === child) this.child = null; });
    this.child = child;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`nginx for ${this.id} exited: ${err}`);
      try {
        // Any answer will do: the node behind it may not be up yet (502).
        await fetch(`${this.directUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        this.state = 'up';
        return;
      } catch { /* not yet */ }
      await sleep(100);
    }
    throw new Error(`nginx for ${this.id} did not answer: ${err}`);
  }

  kill() {
    if (this.state === 'blackhole') this.child?.kill('SIGCONT');
    this.child?.kill('SIGKILL');
    this.child = null;
    this.state = 'killed';
  }

  blackhole() {
    this.child?.kill('SIGSTOP');
    this.state = 'blackhole';
  }

  fail500() {
    fs.writeFileSync(path.join(this.dir, 'fail500'), '');
    this.state = 'fail500';
  }

  async restore() {
    fs.rmSync(path.join(this.dir, 'fail500'), { force: true });
    if (this.state === 'blackhole') this.child?.kill('SIGCONT');
    if (this.state === 'killed') await this.start();
    this.state = 'up';
  }

  /** Every request this CDN passed: {at (ms), status, uri}. */
  log() {
    let text = '';
    try { text = fs.readFileSync(path.join(this.dir, 'access.log'), 'utf8'); } catch { return []; }
    return text.split('\n').filter(Boolean).map((l) => {
      const m = /^(\d+\.\d+) (\d+) "([^"]*)"/.exec(l);
      return m ? { at: Math.round(Number(m[1]) * 1000), status: Number(m[2]), uri: m[3] } : null;
    }).filter(Boolean);
  }

  stop() {
    if (this.state === 'blackhole') this.child?.kill('SIGCONT');
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

/**
 * Three CDNs on one free port in front of the node at `edgePort`.
 * @returns {{port, cdns: {a, b, c}, all: Cdn[], stop(), dir}}
 */
export async function startCdns(edgePort, { port } = {}) {
  port = port || (await freeCdnPort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-cdns-'));
  const all = CDNS.map((c) => new Cdn(dir, c, port, edgePort));
  try {
    await Promise.all(all.map((c) => c.start()));
  } catch (e) {
    all.forEach((c) => c.stop());
    throw e;
  }
  return {
    port,
    dir,
    all,
    cdns: { a: all[0], b: all[1], c: all[2] },
    stop: () => { all.forEach((c) => c.stop()); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * The `[delivery]` section for the CDNs on `port`: `ids` in priority order
 * (the first preferred), probes straight to each nginx (the node cannot
 * resolve the .test names), short timings so a case fits in a minute.
 */
export function deliveryToml(port, { ids = ['cdn-a', 'cdn-b', 'cdn-c'], timing = TIMING, signing = null } = {}) {
  const lines = ['[delivery]'];
  for (const [k, v] of Object.entries(timing)) lines.push(`${k} = ${v}`);
  ids.forEach((id, i) => {
    const c = CDNS.find((x) => x.id === id);
    lines.push('', '[[delivery.cdns]]', `id = "${id}"`, `base_url = "http://${c.host}:${port}"`, `probe_url = "http://${c.ip}:${port}/healthz"`, `priority = ${i + 1}`);
    if (signing) lines.push(`signing = { scheme = "cat", kid = "${id}", secret_hex = "${signing[id]}" }`);
  });
  return lines.join('\n') + '\n';
}

/** Probe and steering timings of the cases (see steering.test.mjs). */
export const TIMING = {
  probe_interval_ms: 500,
  // Long enough that a loaded CI machine does not fail a probe of a CDN that is up (one
  // failed probe takes a CDN out in these cases).
  probe_timeout_ms: 1500,
  fail_after: 1,
  recover_after: 2,
  hold_seconds: 4,
  ramp_seconds: 0,
  ttl_seconds: 4,
  degraded_ttl_seconds: 2,
};

/** Media segment requests (`.../<n>.m4s`) in a CDN log, at or after `from` ms. */
export const segmentsIn = (log, from = 0, to = Infinity) => log.filter((x) => /\/\d+\.m4s(\?|$)/.test(x.uri) && x.at >= from && x.at <= to);

/** Longest time (ms) currentTime stood still between `from` and `to`, from watcher samples. */
export function longestStall(samples, from = 0, to = Infinity) {
  let longest = 0;
  let since = null;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i];
    if (s.at < from || s.at > to) continue;
    const moved = s.currentTime - samples[i - 1].currentTime > 0.02 || s.ended;
    if (moved) {
      if (since !== null) longest = Math.max(longest, s.at - since);
      since = null;
    } else if (since === null) {
      since = samples[i - 1].at;
    }
  }
  if (since !== null) longest = Math.max(longest, Math.min(to, samples.at(-1)?.at ?? since) - since);
  return longest;
}
