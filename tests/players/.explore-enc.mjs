// temporary exploration script (deleted later)
import path from 'node:path';
import * as H from './harness.mjs';
import * as S from './encrypted-setup.mjs';
const env = S.makeEncryptedMediaRoot('/work/main/demo/media/demo');
const srv = await H.startEdgepack({ bin: '/tmp/encx/edgepack-snap', mediaRoot: env.mediaRoot, extraArgs: ['--config', env.configPath] });
const cases = JSON.parse(process.argv[2]);
for (const c of cases) {
  const log = [];
  const routes = c.wrong ? [S.wrongKeyRoute(log), S.wrongLicenseRoute(log)] : [];
  if (c.strip) routes.push({ url: '**/manifest.mpd', handler: async (route) => {
    const resp = await route.fetch();
    let body = await resp.text();
    body = body.replace(/(<ContentProtection schemeIdUri="urn:uuid:e2719d58[^>]*>.*?)<cenc:pssh>[^<]*<\/cenc:pssh>/g, '$1');
    log.push('stripped: ' + (body.match(/e2719d58.*?<\/ContentProtection>/)||[''])[0]);
    return route.fulfill({ response: resp, body });
  } });
  const r = await H.checkPlayback({ player: c.player, url: srv.baseUrl + c.path, expect: { checks: c.checks || ['plays'], stallSeconds: c.stall }, routes, playerConfig: c.config });
  console.log(H.formatResult(r));
  console.log('  details', JSON.stringify(r.checks[0].details));
  console.log('  interesting requests', r.requestLog.filter((x) => /license|keys\//.test(x.url)).map((x) => x.method + ' ' + x.url).join('\n    '));
  console.log('  wrong served', JSON.stringify(log));
  if (c.events) console.log(r.events.map((e) => e.t + ' ' + e.msg).join('\n'));
}
await H.closeHarness();
await srv.stop();
env.cleanup();
