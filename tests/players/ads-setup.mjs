// Setup for ads.test.mjs: the test ad server (the VAST documents of
// testdata/vast, two creatives, beacon endpoints that record what they get),
// a media root and an `[ads]` config for the node, the warm-up that has the
// node condition the creatives, and readers of a session's stitched
// manifests.
//
// Nothing here needs playwright-core.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEY_HEX, POLICIES } from './encrypted-setup.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VAST = path.join(REPO, 'testdata/vast');
const MEDIA = path.join(REPO, 'testdata/media');

// Beacon events of an ad (`ad=N`); the wrappers have impression, start and complete.
export const AD_EVENTS = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'];
export const WRAPPER_EVENTS = ['impression', 'start', 'complete'];

// Request path -> document of testdata/vast, as ad_server() in
// edge/tests/behaviour/ads/sessions.rs.
const DOCUMENTS = {
  '/vast/avail-1': 'wrapper_outer.xml',
  '/vast/wrapper-outer': 'wrapper_outer.xml',
  '/vast/wrapper-inner': 'wrapper_inner.xml',
  '/vast/avail-2': 'pod_two_ads.xml',
  '/vast/pod': 'pod_two_ads.xml',
  '/vast/vmap': 'vmap_pre_mid.xml',
};
const CREATIVES = {
  '/creative/one.mp4': 'h264_avc1_25fps_aac_48k_moov_first.mp4',
  '/creative/two.mp4': 'h264_25fps_aac_44.1k.mp4', // 44.1 kHz audio: conditioning makes it 48 kHz
};
const BEACON_NAMES = new Set([...AD_EVENTS, 'progress', 'error']);

/**
 * Starts the test ad server on 127.0.0.1 (a free port). Documents get
 * `{base}` = its own URL and `{session}` = the request's `sid` parameter.
 * Every request is recorded as {path, query, pathAndQuery, at, port} (the
 * client's port tells its connections apart).
 * @returns {Promise<{base, log, seen(prefix), beacons(sessionId), close()}>}
 */
export async function startAdServer() {
  const docs = Object.fromEntries(Object.entries(DOCUMENTS).map(([p, f]) => [p, fs.readFileSync(path.join(VAST, f), 'utf8')]));
  const creatives = Object.fromEntries(Object.entries(CREATIVES).map(([p, f]) => [p, fs.readFileSync(path.join(MEDIA, f))]));
  const log = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    log.push({ path: u.pathname, query: u.search.slice(1), pathAndQuery: u.pathname + u.search, at: Date.now(), port: req.socket.remotePort });
    if (Object.hasOwn(docs, u.pathname)) {
      const body = docs[u.pathname].replaceAll('{base}', base).replaceAll('{session}', u.searchParams.get('sid') || '');
      res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (Object.hasOwn(creatives, u.pathname)) {
      const body = creatives[u.pathname];
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    const m = /^\/t\/([A-Za-z]+)$/.exec(u.pathname);
    if (m && BEACON_NAMES.has(m[1])) {
      res.writeHead(200, { 'content-length': '0' });
      return res.end();
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    log,
    /** The requests whose path and query start with `prefix`. */
    seen: (prefix) => log.filter((r) => r.pathAndQuery.startsWith(prefix)),
    /**
     * Beacons of session `id`: a map `event whose` -> count, e.g.
     * `"start ad=1"`, `"impression wrapper=outer"`, `"error ad=2 code=407"`.
     */
    beacons: (id) => {
      const counts = {};
      for (const r of log) {
        const m = /^\/t\/([A-Za-z]+)$/.exec(r.path);
        if (!m) continue;
        const q = new URLSearchParams(r.query);
        if (q.get('s') !== id) continue;
        const whose = [...q].filter(([k]) => k !== 's').map(([k, v]) => `${k}=${v}`).join(' ');
        const key = `${m[1]} ${whose}`;
        counts[key] = (counts[key] || 0) + 1;
      }
      return counts;
    },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** Beacons a session that played the pre-roll (behind both wrappers) and the two-ad pod must have fired, once each. */
export function expectedBeacons() {
  const want = {};
  // The pre-roll ad and the pod's first ad both carry `ad=1` (the same pod
  // document answers both breaks): each fired once, so 2 of each; `ad=2`
  // (the pod's second ad) once.
  for (const e of AD_EVENTS) { want[`${e} ad=1`] = 2; want[`${e} ad=2`] = 1; }
  want['progress ad=1'] = 2;
  for (const w of ['outer', 'inner']) for (const e of WRAPPER_EVENTS) want[`${e} wrapper=${w}`] = 1;
  return want;
}

export const ENCRYPTED_ASSET = 'demo_cbcs';
// The guided (HLS Interstitials) asset: its asset.toml's [ads] table (the
// same ad server and breaks, `mode = "guided"`) wins over the configured policy.
export const GUIDED_ASSET = 'demo_guided';

/**
 * A media root with `demo` (symlinks to the demo title's files), `demo_cbcs`
 * (the same with an asset.toml asking for cbcs, ClearKey and the others
 * signalled) and `demo_guided` (the same with an asset.toml whose `[ads]`
 * table has the policy's ad server and breaks in `mode = "guided"`), and a
 * config: the static content key of encrypted-setup.mjs and an `[ads]`
 * policy for the first two (a pre-roll and a mid-roll at 12 s, each a VAST
 * request to the test ad server).
 * @returns {{dir, mediaRoot, configPath, conditioningDir, cleanup()}}
 */
export function makeAdsEnv(sourceTitle, adServerBase) {
  const src = path.resolve(sourceTitle);
  const files = fs.readdirSync(src).filter((f) => fs.statSync(path.join(src, f)).isFile() && f !== 'asset.toml');
  if (!files.some((f) => f.endsWith('.mp4'))) throw new Error(`no .mp4 files in ${src}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepack-ads-'));
  try {
    const mediaRoot = path.join(dir, 'media');
    for (const asset of ['demo', ENCRYPTED_ASSET, GUIDED_ASSET]) {
      const d = path.join(mediaRoot, asset);
      fs.mkdirSync(d, { recursive: true });
      for (const f of files) fs.symlinkSync(path.join(src, f), path.join(d, f));
    }
    const p = POLICIES[ENCRYPTED_ASSET];
    fs.writeFileSync(path.join(mediaRoot, ENCRYPTED_ASSET, 'asset.toml'), `[encryption]\nmethod = ${JSON.stringify(p.method)}\ndrm = [${p.drm.map((x) => JSON.stringify(x)).join(', ')}]\n`);
    fs.writeFileSync(path.join(mediaRoot, GUIDED_ASSET, 'asset.toml'), [
      '[ads]',
      `ad_server = "${adServerBase}/vast/avail-[avail.index]?sid=[session.id]"`,
      'breaks = ["start", "00:00:12"]',
      'mode = "guided"',
      '',
    ].join('\n'));
    const conditioningDir = path.join(dir, 'conditioned');
    fs.mkdirSync(conditioningDir);
    const configPath = path.join(dir, 'edgepack.toml');
    fs.writeFileSync(configPath, [
      `media_root = ${JSON.stringify(mediaRoot)}`,
      '',
      '[[keys.static]]',
      'content_id = "*"',
      `key = "${KEY_HEX}"`,
      '',
      '[ads]',
      `conditioning_dir = ${JSON.stringify(conditioningDir)}`,
      'allow_private_addresses = true',
      'request_timeout_ms = 1000',
      'deadline_ms = 2000',
      'beacon_backoff_ms = 100',
      '',
      '[[ads.policies]]',
      `assets = ["demo", "${ENCRYPTED_ASSET}"]`,
      `ad_server = "${adServerBase}/vast/avail-[avail.index]?sid=[session.id]"`,
      'breaks = ["start", "00:00:12"]',
      '',
    ].join('\n'));
    return { dir, mediaRoot, configPath, conditioningDir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(url, opts = {}) {
  const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000), ...opts });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

/** The value of a Prometheus sample (`name{labels}`) in an exposition, or 0. */
export function metric(text, sample) {
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/**
 * Opens a session the way a player does: GET the asset's entry manifest
 * (`/vod/{asset}/{manifest}`), which must answer 302 to
 * `/vod/{asset}/s/{32 hex}/{manifest}`; then GET the Location (which makes
 * the session's ad decisions). @returns {{id, location, body}}
 */
export async function openSession(baseUrl, asset, manifest = 'master.m3u8') {
  const entry = await get(`${baseUrl}/vod/${asset}/${manifest}`);
  if (entry.status !== 302) throw new Error(`/vod/${asset}/${manifest}: HTTP ${entry.status}, not a redirect into a session: ${entry.text.slice(0, 300)}`);
  const location = entry.headers.get('location');
  const m = new RegExp(`^/vod/${asset}/s/([0-9a-f]{32})/${manifest.replace('.', '\\.')}$`).exec(location || '');
  if (!m) throw new Error(`redirect to ${location}`);
  const r = await get(`${baseUrl}${location}`);
  if (r.status !== 200) throw new Error(`${location}: HTTP ${r.status}`);
  return { id: m[1], location, body: r.text };
}

/**
 * Warm-up of a fresh node: the first session plays no ads (the creatives are
 * not conditioned yet) and starts their conditioning; waits (at most
 * `timeoutMs`) until /metrics counts `n` conditioning jobs done, and fails
 * at once on a failed one. @returns {{id, ms}} the warm-up session.
 */
export async function warmUp(baseUrl, asset = 'demo', n = 2, timeoutMs = 120000) {
  const t0 = Date.now();
  const { id } = await openSession(baseUrl, asset);
  for (;;) {
    const m = (await get(`${baseUrl}/metrics`)).text;
    if (metric(m, 'edgepack_ad_conditioning_jobs_total{result="done"}') >= n) return { id, ms: Date.now() - t0 };
    const failed = metric(m, 'edgepack_ad_conditioning_jobs_total{result="failed"}');
    if (failed > 0) throw new Error(`${failed} ad conditioning job(s) failed:\n${m.split('\n').filter((l) => l.startsWith('edgepack_ad')).join('\n')}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`the creatives were not conditioned within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** The session id in a URL of a session (`/vod/{asset}/s/{id}/...`), or null. */
export const sessionOf = (url) => (/\/vod\/[^?#]*?\/s\/([0-9a-f]{32})\//.exec(url) || [])[1] || null;

/**
 * The stretches of a stitched HLS media playlist, split at
 * EXT-X-DISCONTINUITY: [{kind: 'ad'|'content', slot, start, duration,
 * uris}], start and duration in seconds of the presentation.
 */
export function hlsStretches(playlist) {
  const out = [];
  let cur = null;
  let t = 0;
  let dur = null;
  const open = () => { cur = { kind: null, slot: null, start: t, duration: 0, uris: [] }; out.push(cur); };
  open();
  for (const line of playlist.split(/\r?\n/)) {
    if (line.startsWith('#EXT-X-DISCONTINUITY') && !line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE')) {
      if (cur.uris.length) open();
    } else if (line.startsWith('#EXTINF:')) {
      dur = parseFloat(line.slice(8));
    } else if (line && !line.startsWith('#')) {
      const ad = /(?:^|\/)ad\/(\d+-\d+)\//.exec(line);
      cur.kind ??= ad ? 'ad' : 'content';
      cur.slot ??= ad ? ad[1] : null;
      cur.uris.push(line);
      cur.duration += dur;
      t += dur;
    }
  }
  return out.filter((s) => s.uris.length);
}

const seconds = (iso) => {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(iso || '');
  return m ? Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0) : NaN;
};

/** The Periods of a stitched MPD: [{kind: 'ad'|'content', id, start, duration, baseUrl}]. */
export function mpdPeriods(mpd) {
  return [...mpd.matchAll(/<Period\b([^>]*)>([\s\S]*?)<\/Period>/g)].map(([, attrs, body]) => {
    const attr = (n) => (new RegExp(`\\b${n}="([^"]*)"`).exec(attrs) || [])[1];
    const id = attr('id') || '';
    return {
      kind: id.startsWith('ad-') ? 'ad' : 'content',
      id,
      start: seconds(attr('start')),
      duration: seconds(attr('duration')),
      baseUrl: (/<BaseURL>([^<]*)<\/BaseURL>/.exec(body) || [])[1] || null,
    };
  });
}

/**
 * The presentation of session `id`'s `manifest` (`master.m3u8`,
 * `ts/master.m3u8` or `manifest.mpd`) as stretches [{kind, start, end}] (s):
 * the MPD's Periods, or the stretches of the first variant's media playlist
 * between discontinuities. Also {text} of that playlist / MPD.
 */
export async function sessionLayout(baseUrl, asset, id, manifest) {
  const url = `${baseUrl}/vod/${asset}/s/${id}/${manifest}`;
  const top = await get(url);
  if (top.status !== 200) throw new Error(`${url}: HTTP ${top.status}`);
  if (manifest.endsWith('.mpd')) {
    return { text: top.text, stretches: mpdPeriods(top.text).map((p) => ({ kind: p.kind, start: p.start, end: p.start + p.duration })) };
  }
  const variant = top.text.split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#'));
  const mediaUrl = new URL(variant, url).href;
  const media = await get(mediaUrl);
  if (media.status !== 200) throw new Error(`${mediaUrl}: HTTP ${media.status}`);
  return { text: media.text, mediaUrl, stretches: hlsStretches(media.text).map((s) => ({ kind: s.kind, slot: s.slot, start: s.start, end: s.start + s.duration })) };
}

/** The attributes of an HLS tag's attribute list (quoted values unquoted). */
function attributes(list) {
  const out = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  return out;
}

/**
 * The interstitials of a guided (HLS Interstitials) media playlist: its
 * first EXT-X-PROGRAM-DATE-TIME (`anchor`, the date of content time 0) and
 * every EXT-X-DATERANGE as {id, cls, startDate, start (s of content after
 * the anchor), planned, assetList, resumeOffset, restrict}.
 */
export function hlsInterstitials(playlist) {
  const lines = playlist.split(/\r?\n/);
  const pdt = lines.find((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'));
  const anchor = pdt ? pdt.slice('#EXT-X-PROGRAM-DATE-TIME:'.length) : null;
  const breaks = lines.filter((l) => l.startsWith('#EXT-X-DATERANGE:')).map((l) => {
    const a = attributes(l.slice('#EXT-X-DATERANGE:'.length));
    return {
      id: a.ID,
      cls: a.CLASS,
      startDate: a['START-DATE'],
      start: (Date.parse(a['START-DATE']) - Date.parse(anchor)) / 1000,
      planned: a['PLANNED-DURATION'] === undefined ? undefined : Number(a['PLANNED-DURATION']),
      assetList: a['X-ASSET-LIST'],
      resumeOffset: a['X-RESUME-OFFSET'] === undefined ? undefined : Number(a['X-RESUME-OFFSET']),
      restrict: a['X-RESTRICT'],
    };
  });
  return { anchor, breaks };
}

/** The rendition directories of an ad's multivariant playlist (video: the variants; audio: EXT-X-MEDIA) and its first variant's segment count. */
async function adTitle(url) {
  const master = await get(url);
  if (master.status !== 200) throw new Error(`${url}: HTTP ${master.status}`);
  const lines = master.text.split(/\r?\n/);
  const dir = (u) => new URL(u, url).pathname.split('/').slice(-2, -1)[0];
  const video = lines.filter((l, i) => i > 0 && lines[i - 1].startsWith('#EXT-X-STREAM-INF:') && l && !l.startsWith('#'));
  const audio = lines.filter((l) => l.startsWith('#EXT-X-MEDIA:') && attributes(l).TYPE === 'AUDIO' && attributes(l).URI).map((l) => attributes(l).URI);
  if (!video.length) throw new Error(`${url}: no variant:\n${master.text}`);
  const first = new URL(video[0], url).href;
  const media = await get(first);
  if (media.status !== 200) throw new Error(`${first}: HTTP ${media.status}`);
  const segments = media.text.split(/\r?\n/).filter((l) => l && !l.startsWith('#')).length;
  return { videoDirs: video.map(dir), audioDirs: audio.map(dir), segments };
}

/**
 * The guided presentation of session `id` of `asset`: the interstitials of
 * its first variant's media playlist (hlsInterstitials), each with its asset
 * list (fetched, relative URIs resolved against the asset list's URL) as
 * `assets` [{uri, url, duration, slot, videoDirs, audioDirs, segments}], and
 * {text, mediaUrl} of that playlist. Fetches playlists only (no beacon).
 */
export async function guidedLayout(baseUrl, asset, id) {
  const url = `${baseUrl}/vod/${asset}/s/${id}/master.m3u8`;
  const top = await get(url);
  if (top.status !== 200) throw new Error(`${url}: HTTP ${top.status}`);
  const variant = top.text.split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#'));
  const mediaUrl = new URL(variant, url).href;
  const media = await get(mediaUrl);
  if (media.status !== 200) throw new Error(`${mediaUrl}: HTTP ${media.status}`);
  const { anchor, breaks } = hlsInterstitials(media.text);
  for (const b of breaks) {
    b.assetListUrl = new URL(b.assetList, mediaUrl).href;
    const list = await get(b.assetListUrl);
    if (list.status !== 200) throw new Error(`${b.assetListUrl}: HTTP ${list.status}`);
    b.assetListText = list.text;
    b.assets = [];
    for (const x of JSON.parse(list.text).ASSETS) {
      const abs = new URL(x.URI, b.assetListUrl).href;
      b.assets.push({ uri: x.URI, url: abs, duration: Number(x.DURATION), slot: (/\/ad\/(\d+-\d+)\//.exec(abs) || [])[1] || null, ...(await adTitle(abs)) });
    }
  }
  return { text: media.text, mediaUrl, anchor, breaks };
}
