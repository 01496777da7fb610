// Setup for encrypted.test.mjs: a temporary media root holding one title
// directory per encryption policy (symlinks to the demo title's files plus an
// asset.toml), a config with one static key, and Playwright route handlers
// that stand in for the key and license servers with a WRONG key.
//
// Nothing here needs playwright-core: the route handlers only use the Route
// object Playwright hands them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The content key every encrypted asset gets (config `[[keys.static]]`
// content_id = "*"), and a different one for the wrong-key runs.
export const KEY_HEX = '00112233445566778899aabbccddeeff';
export const WRONG_KEY_HEX = 'ffeeddccbbaa99887766554433221100';

// asset name -> [encryption] section of its asset.toml
export const POLICIES = {
  demo_aes: { method: 'aes-128', drm: [] },
  demo_sampleaes: { method: 'sample-aes', drm: [] },
  demo_cenc: { method: 'cenc', drm: ['clearkey', 'widevine', 'playready'] },
  demo_cbcs: { method: 'cbcs', drm: ['clearkey', 'widevine', 'playready', 'fairplay'] },
};

const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Content-Length, Content-Range, ETag' };

// A title without asset.toml (clear), to compare segments with.
export const CLEAR_ASSET = 'demo_clear';

/**
 * Make the media root and config. `sourceTitle` is a title directory
 * (e.g. <repo>/demo/media/demo); every file in it is symlinked into
 * ROOT/media/<asset>/ for each policy, and into ROOT/media/demo_clear/
 * without a policy.
 * @returns {{dir, mediaRoot, configPath, cleanup()}}
 */
export function makeEncryptedMediaRoot(sourceTitle, policies = POLICIES) {
  const src = path.resolve(sourceTitle);
  const files = fs.readdirSync(src).filter((f) => fs.statSync(path.join(src, f)).isFile() && f !== 'asset.toml');
  if (!files.some((f) => f.endsWith('.mp4'))) throw new Error(`no .mp4 files in ${src}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-enc-'));
  const mediaRoot = path.join(dir, 'media');
  for (const [asset, policy] of [[CLEAR_ASSET, null], ...Object.entries(policies)]) {
    const d = path.join(mediaRoot, asset);
    fs.mkdirSync(d, { recursive: true });
    for (const f of files) fs.symlinkSync(path.join(src, f), path.join(d, f));
    if (policy) fs.writeFileSync(
      path.join(d, 'asset.toml'),
      `[encryption]\nmethod = ${JSON.stringify(policy.method)}\ndrm = [${policy.drm.map((x) => JSON.stringify(x)).join(', ')}]\n`,
    );
  }
  // listen and media_root are also given on the command line by
  // startEdgepack (which wins); they are here so the file works on its own.
  const configPath = path.join(dir, 'edgepack.toml');
  fs.writeFileSync(
    configPath,
    `listen = "127.0.0.1:0"\nmedia_root = ${JSON.stringify(mediaRoot)}\n\n[[keys.static]]\ncontent_id = "*"\nkey = "${KEY_HEX}"\n`,
  );
  return { dir, mediaRoot, configPath, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const hexToBytes = (hex) => Buffer.from(hex, 'hex');
export const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** The <dashif:Laurl> values of an MPD (the ClearKey license URLs it announces). */
export function mpdLicenseUrls(mpdText) {
  return [...new Set([...mpdText.matchAll(/<dashif:Laurl[^>]*>([^<]+)<\/dashif:Laurl>/gi)].map((m) => m[1].trim().replace(/&amp;/g, '&')))];
}

/** The default KID of an MPD (32 hex digits), from cenc:default_KID. */
export function mpdDefaultKid(mpdText) {
  const m = /cenc:default_KID="([0-9a-fA-F-]{36})"/.exec(mpdText);
  return m ? m[1].replace(/-/g, '').toLowerCase() : null;
}

/**
 * Route handler for `**\/keys/*.key` (AES-128 / SAMPLE-AES / identity key
 * URIs): answers 16 bytes of the wrong key. `log` collects the URLs served.
 */
export function wrongKeyRoute(log = []) {
  return {
    url: '**/keys/*.key',
    handler: async (route) => {
      const req = route.request();
      if (req.method() === 'OPTIONS') return route.continue();
      log.push(req.url());
      return route.fulfill({ status: 200, headers: { ...CORS, 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }, body: hexToBytes(WRONG_KEY_HEX) });
    },
  };
}

/**
 * Route handler for `**\/license/clearkey`: answers a well-formed W3C
 * ClearKey license (JWK set) for every KID the request asks for, each with
 * the wrong `k`. `log` collects {kids} of the requests it answered.
 */
export function wrongLicenseRoute(log = []) {
  return {
    url: '**/license/clearkey',
    handler: async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      let kids = [];
      try {
        const body = JSON.parse(Buffer.from(req.postDataBuffer() || []).toString('utf8'));
        kids = Array.isArray(body.kids) ? body.kids : [];
      } catch { /* not JSON: answer nothing useful */ }
      log.push({ url: req.url(), kids });
      const license = { keys: kids.map((kid) => ({ kty: 'oct', kid, k: b64url(hexToBytes(WRONG_KEY_HEX)) })), type: 'temporary' };
      return route.fulfill({ status: 200, headers: { ...CORS, 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(license) });
    },
  };
}

async function getText(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return r.text();
}

/** URL of the first media segment of the first variant of an HLS multivariant playlist. */
export async function firstSegmentUrl(masterUrl) {
  const uriLine = (text) => text.split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#'));
  const mediaUrl = new URL(uriLine(await getText(masterUrl)), masterUrl);
  return new URL(uriLine(await getText(mediaUrl)), mediaUrl).href;
}

/**
 * Compare the first media segment of `masterUrl` with the same path of the
 * clear asset: {url, bytes, identical}. An encrypted asset whose segments are
 * byte-identical to the clear ones is not encrypted at all.
 */
export async function compareWithClear(masterUrl, asset) {
  const url = await firstSegmentUrl(masterUrl);
  const clearUrl = url.replace(`/vod/${asset}/`, `/vod/${CLEAR_ASSET}/`);
  const [a, b] = await Promise.all([url, clearUrl].map(async (u) => {
    const r = await fetch(u, { signal: AbortSignal.timeout(10000) });
    if (!r.ok) throw new Error(`GET ${u}: HTTP ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  }));
  return { url, bytes: a.length, identical: a.equals(b) };
}

export { getText };
