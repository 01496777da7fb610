// Page side of the player harness: one adapter per player library, behind a
// common interface (window.H) that harness.mjs drives with page.evaluate().
// Every method is synchronous or returns quickly; the harness does the
// waiting (with timeouts) by polling H.state() and friends.
'use strict';

(function () {
  const video = document.getElementById('video');
  const kind = new URLSearchParams(location.search).get('player');

  const H = {
    kind,
    video,
    player: null,
    errors: [], // every error the player reported: {fatal, message, t}
    fatal: null, // first fatal error
    audioLoads: [], // audio segments the player says it loaded: {url, lang, t}
    events: [], // short log of notable player events (for diagnostics)
    seeked: [], // {currentTime, t} for each 'seeked' event
  };
  window.H = H;

  const now = () => performance.now();
  const short = (x) => {
    try {
      return typeof x === 'string' ? x : JSON.stringify(x, (k, v) => (v instanceof ArrayBuffer ? '[buf]' : v)).slice(0, 400);
    } catch (e) {
      return String(x);
    }
  };
  function note(msg) {
    H.events.push({ t: Math.round(now()), msg: String(msg).slice(0, 300) });
    if (H.events.length > 200) H.events.splice(0, 50);
  }
  function error(fatal, message) {
    const e = { fatal: !!fatal, message: String(message).slice(0, 500), t: Math.round(now()) };
    H.errors.push(e);
    if (H.errors.length > 100) H.errors.splice(0, 20);
    if (fatal && !H.fatal) H.fatal = e;
    note((fatal ? 'FATAL ' : 'error ') + e.message);
  }
  video.addEventListener('error', () => {
    const me = video.error;
    error(true, 'HTMLMediaElement error ' + (me ? me.code + ' ' + me.message : '?'));
  });
  video.addEventListener('seeked', () => {
    H.seeked.push({ currentTime: video.currentTime, t: Math.round(now()) });
  });

  // EME record (encrypted streams): key systems the player asked for
  // (requestMediaKeySystemAccess) and got (an access, or MediaKeys created),
  // generateRequest() init data, license messages, update() calls and key
  // statuses. Canvas reads of EME video are blank, so decoded frames and
  // currentTime judge playback; this says which key path was taken and
  // explains failures.
  H.eme = { requested: [], granted: [], requests: [], messages: 0, updates: 0, keyStatuses: [], encryptedEvents: 0 };
  video.addEventListener('encrypted', (e) => {
    H.eme.encryptedEvents += 1;
    if (H.eme.encryptedEvents <= 3) note('encrypted event, initDataType ' + e.initDataType);
  });
  if (navigator.requestMediaKeySystemAccess) {
    const rmksa = navigator.requestMediaKeySystemAccess.bind(navigator);
    navigator.requestMediaKeySystemAccess = function (keySystem, configs) {
      if (!H.eme.requested.includes(keySystem)) H.eme.requested.push(keySystem);
      return rmksa(keySystem, configs).then((a) => {
        if (!H.eme.granted.includes(keySystem)) { H.eme.granted.push(keySystem); note('EME key system granted: ' + keySystem); }
        return a;
      });
    };
  }
  // Shaka asks navigator.mediaCapabilities.decodingInfo() instead, so also
  // record the key system of every MediaKeys the page creates.
  if (window.MediaKeySystemAccess && MediaKeySystemAccess.prototype.createMediaKeys) {
    const cmk = MediaKeySystemAccess.prototype.createMediaKeys;
    MediaKeySystemAccess.prototype.createMediaKeys = function (...args) {
      const ks = this.keySystem;
      if (!H.eme.granted.includes(ks)) { H.eme.granted.push(ks); note('EME MediaKeys created for ' + ks); }
      return cmk.apply(this, args);
    };
  }
  if (window.MediaKeys && MediaKeys.prototype.createSession) {
    const cs = MediaKeys.prototype.createSession;
    MediaKeys.prototype.createSession = function (...args) {
      const session = cs.apply(this, args);
      session.addEventListener('message', (e) => { H.eme.messages += 1; note('EME message ' + e.messageType); });
      session.addEventListener('keystatuseschange', () => {
        const st = [];
        session.keyStatuses.forEach((status) => st.push(status));
        H.eme.keyStatuses.push(st.join(','));
        note('EME key statuses: ' + st.join(','));
      });
      const gen = session.generateRequest;
      session.generateRequest = function (initDataType, initData) {
        const bytes = new Uint8Array(initData && initData.buffer ? initData.buffer.slice(initData.byteOffset || 0, (initData.byteOffset || 0) + initData.byteLength) : initData || []);
        let hex = '';
        for (let i = 0; i < Math.min(bytes.length, 96); i++) hex += bytes[i].toString(16).padStart(2, '0');
        H.eme.requests.push({ initDataType, length: bytes.length, head: hex });
        note('EME generateRequest(' + initDataType + ', ' + bytes.length + ' bytes: ' + hex.slice(0, 64) + ')');
        return gen.call(this, initDataType, initData).catch((err) => { error(false, 'generateRequest(' + initDataType + ') rejected: ' + (err && err.name) + ' ' + (err && err.message)); throw err; });
      };
      const upd = session.update;
      session.update = function (...a) {
        H.eme.updates += 1;
        return upd.apply(this, a).catch((err) => { error(false, 'MediaKeySession.update rejected: ' + (err && err.message)); throw err; });
      };
      return session;
    };
  }

  // Two- and three-letter language codes compare equal ("fra" == "fr").
  const LANG3 = { eng: 'en', fra: 'fr', fre: 'fr', deu: 'de', ger: 'de', spa: 'es', ita: 'it', por: 'pt', nld: 'nl', dut: 'nl', jpn: 'ja', zho: 'zh', chi: 'zh', rus: 'ru', ara: 'ar', kor: 'ko', swe: 'sv', pol: 'pl' };
  function normLang(l) {
    if (!l) return '';
    const base = String(l).toLowerCase().split(/[-_]/)[0];
    return LANG3[base] || base;
  }
  H.normLang = normLang;

  // ---------------------------------------------------------------- hls.js
  const hlsjs = {
    start(url, opts) {
      const Hls = window.Hls;
      if (!Hls || !Hls.isSupported()) throw new Error('hls.js not supported in this browser');
      // opts.config: extra hls.js config (e.g. emeEnabled/drmSystems)
      const hls = new Hls({ enableWorker: true, capLevelToPlayerSize: false, startLevel: -1, ...(opts.config || {}) });
      H.player = hls;
      hls.on(Hls.Events.ERROR, (ev, d) => {
        const url = (d.frag && d.frag.url) || (d.context && d.context.url) || d.url || '';
        const code = d.response && d.response.code;
        error(d.fatal, `${d.type}/${d.details}${code ? ' HTTP ' + code : ''}${url ? ' ' + url : ''}${d.reason ? ' ' + d.reason : ''}${d.error ? ' ' + d.error.message : ''}`);
        if (d.details === 'keyLoadError' || /decrypt/i.test(d.details || '')) H.decryptErrors = (H.decryptErrors || 0) + 1;
      });
      hls.on(Hls.Events.FRAG_LOADED, (ev, d) => {
        const f = d.frag;
        if (f.type === 'audio') {
          const tr = hls.audioTracks.find((t) => t.id === f.level) || hls.audioTracks[f.level];
          H.audioLoads.push({ url: f.url, lang: normLang(tr && tr.lang), t: Math.round(now()) });
        }
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (ev, d) => note('level switched to ' + d.level));
      hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (ev, d) => note('audio track switched to ' + d.id));
      hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (ev, d) => note('subtitle track switch to ' + d.id));
      hls.on(Hls.Events.MANIFEST_PARSED, (ev, d) => note('manifest parsed: ' + d.levels.length + ' levels'));
      hls.loadSource(url);
      hls.attachMedia(video);
    },
    qualities() {
      const hls = H.player;
      const cur = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
      return hls.levels.map((l, i) => ({ id: i, height: l.height, width: l.width, bitrate: l.bitrate, active: i === cur }));
    },
    setQuality(id) {
      // Setting currentLevel turns ABR off (autoLevelEnabled = false) and
      // flushes the buffer so the switch is immediate.
      H.player.currentLevel = id;
      note('hls.currentLevel = ' + id);
    },
    audioTracks() {
      const hls = H.player;
      return hls.audioTracks.map((t, i) => ({ id: i, lang: normLang(t.lang), name: t.name, active: i === hls.audioTrack }));
    },
    setAudio(id) {
      H.player.audioTrack = id;
      note('hls.audioTrack = ' + id);
    },
    textTracks() {
      const hls = H.player;
      return hls.subtitleTracks.map((t, i) => ({ id: i, lang: normLang(t.lang), name: t.name, active: i === hls.subtitleTrack }));
    },
    setText(id) {
      H.player.subtitleDisplay = true;
      H.player.subtitleTrack = id;
      note('hls.subtitleTrack = ' + id);
    },
  };

  // ---------------------------------------------------------------- dash.js
  const dashjsAdapter = {
    start(url, opts) {
      const dashjs = window.dashjs;
      const p = dashjs.MediaPlayer().create();
      H.player = p;
      // opts.config.protectionData: dash.js setProtectionData() argument
      if (opts.config && opts.config.protectionData) p.setProtectionData(opts.config.protectionData);
      p.updateSettings({
        debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
        streaming: { abr: { autoSwitchBitrate: { video: true } }, text: { defaultEnabled: false } },
      });
      const E = dashjs.MediaPlayer.events;
      // dash.js raises ERROR only once it gives up (retries exhausted,
      // unsupported content, ...): treat it as fatal. Except, when the page
      // says the MPD names several BaseURLs (H_SEVERAL_LOCATIONS, set by the
      // steering tests), a failed download (code 27): dash.js then takes the
      // next BaseURL and plays on, and the stall watch catches a real stop.
      const dashErr = (e) => (e && e.error ? `code ${e.error.code}: ${e.error.message}` : short(e));
      const recoverable = (e) => window.H_SEVERAL_LOCATIONS && e && e.error && e.error.code === 27;
      p.on(E.ERROR, (e) => error(!recoverable(e), 'dash.js ERROR ' + dashErr(e)));
      p.on(E.PLAYBACK_ERROR, (e) => error(true, 'dash.js PLAYBACK_ERROR ' + dashErr(e)));
      p.on(E.FRAGMENT_LOADING_COMPLETED, (e) => {
        const r = e.request;
        if (r && r.mediaType === 'audio' && r.url && !e.error) {
          H.audioLoads.push({ url: r.url, lang: normLang((r.representation && r.representation.mediaInfo && r.representation.mediaInfo.lang) || (r.mediaInfo && r.mediaInfo.lang)), t: Math.round(now()) });
        }
      });
      // EME problems dash.js reports as events of their own, not ERROR
      for (const name of ['KEY_SYSTEM_SELECTED', 'KEY_SESSION_CREATED', 'LICENSE_REQUEST_COMPLETE', 'KEY_STATUSES_CHANGED']) {
        const ev = E[name];
        if (ev) p.on(ev, (e) => note('dash.js ' + name + (e && e.error ? ' error ' + dashErr(e) : '') + (e && e.data && e.data.keySystem ? ' ' + e.data.keySystem.systemString : '')));
      }
      p.on(E.QUALITY_CHANGE_RENDERED, (e) => note('quality rendered ' + e.mediaType + ' ' + short(e.newRepresentation && e.newRepresentation.id)));
      p.on(E.TRACK_CHANGE_RENDERED, (e) => note('track rendered ' + e.mediaType + ' ' + short(e.newMediaInfo && e.newMediaInfo.lang)));
      p.initialize(video, url, true);
    },
    qualities() {
      const p = H.player;
      const cur = p.getCurrentRepresentationForType('video');
      return p.getRepresentationsByType('video').map((r) => ({ id: r.id, height: r.height, width: r.width, bitrate: r.bandwidth, active: !!cur && cur.id === r.id }));
    },
    setQuality(id) {
      const p = H.player;
      p.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: false } } } });
      p.setRepresentationForTypeById('video', id, true);
      note('dash setRepresentationForTypeById(video, ' + id + ', true)');
    },
    audioTracks() {
      const p = H.player;
      const cur = p.getCurrentTrackFor('audio');
      return p.getTracksFor('audio').map((t, i) => ({ id: i, lang: normLang(t.lang), name: (t.labels && t.labels[0] && t.labels[0].text) || t.id, active: !!cur && cur.index === t.index && cur.id === t.id }));
    },
    setAudio(id) {
      const p = H.player;
      p.setCurrentTrack(p.getTracksFor('audio')[id]);
      note('dash setCurrentTrack(audio #' + id + ')');
    },
    textTracks() {
      const p = H.player;
      const cur = p.getCurrentTrackFor('text');
      const enabled = p.isTextEnabled();
      return p.getTracksFor('text').map((t, i) => ({ id: i, lang: normLang(t.lang), name: t.id, active: enabled && !!cur && cur.index === t.index && cur.id === t.id && p.getCurrentTextTrackIndex() >= 0 }));
    },
    setText(id) {
      const p = H.player;
      const info = p.getTracksFor('text')[id];
      // setTextTrack takes the index of dash.js' own text track list, which
      // is the order in which it added the tracks to video.textTracks.
      let idx = -1;
      for (let i = 0; i < video.textTracks.length; i++) {
        const tt = video.textTracks[i];
        if (normLang(tt.language) === normLang(info.lang) && idx < 0) idx = i;
      }
      if (idx < 0) idx = id;
      p.enableText(true);
      p.setTextTrack(idx);
      note('dash enableText(true); setTextTrack(' + idx + ')');
    },
  };

  // ---------------------------------------------------------------- Shaka
  const shakaAdapter = {
    async start(url, opts) {
      const shaka = window.shaka;
      shaka.polyfill.installAll();
      if (!shaka.Player.isBrowserSupported()) throw new Error('Shaka: browser not supported');
      const p = new shaka.Player();
      H.player = p;
      await p.attach(video);
      p.configure({ abr: { enabled: true } });
      // opts.config: extra Shaka config (e.g. drm)
      if (opts.config) p.configure(opts.config);
      p.addEventListener('error', (ev) => {
        const e = ev.detail;
        error(e.severity === shaka.util.Error.Severity.CRITICAL, 'Shaka error code ' + e.code + ' category ' + e.category + ' ' + short(e.data));
      });
      p.addEventListener('variantchanged', () => note('variantchanged'));
      p.addEventListener('adaptation', () => note('adaptation'));
      const SEGMENT = shaka.net.NetworkingEngine.RequestType.SEGMENT;
      p.getNetworkingEngine().registerResponseFilter((type, resp, ctx) => {
        if (type === SEGMENT && ctx && ctx.stream && ctx.stream.type === 'audio') {
          H.audioLoads.push({ url: resp.uri, lang: normLang(ctx.stream.language), t: Math.round(now()) });
        }
      });
      await p.load(url);
      note('shaka loaded');
    },
    activeVariant() {
      return H.player.getVariantTracks().find((t) => t.active);
    },
    qualities() {
      // One entry per distinct video (height) among variants of the current
      // audio language.
      const act = shakaAdapter.activeVariant();
      const seen = new Map();
      for (const t of H.player.getVariantTracks()) {
        if (act && t.language !== act.language) continue;
        if (!seen.has(t.height) || t.active) seen.set(t.height, { id: t.id, height: t.height, width: t.width, bitrate: t.videoBandwidth || t.bandwidth, active: t.active });
      }
      return [...seen.values()];
    },
    setQuality(id) {
      const p = H.player;
      p.configure({ abr: { enabled: false } });
      const t = p.getVariantTracks().find((v) => v.id === id);
      p.selectVariantTrack(t, /* clearBuffer */ true);
      note('shaka selectVariantTrack(' + id + ', true)');
    },
    audioTracks() {
      return H.player.getAudioTracks().map((t, i) => ({ id: i, lang: normLang(t.language), name: t.label, active: t.active }));
    },
    setAudio(id) {
      // Shaka 5 removed selectAudioLanguage(); selectAudioTrack() is its
      // replacement (picks the track's language/role/channels).
      const t = H.player.getAudioTracks()[id];
      H.player.selectAudioTrack(t);
      note('shaka selectAudioTrack(' + t.language + ')');
    },
    textTracks() {
      return H.player.getTextTracks().map((t) => ({ id: t.id, lang: normLang(t.language), name: t.label, active: t.active }));
    },
    setText(id) {
      // selectTextTrack() also makes the text visible in Shaka 5
      // (setTextTrackVisibility() is gone).
      const t = H.player.getTextTracks().find((x) => x.id === id);
      H.player.selectTextTrack(t);
      note('shaka selectTextTrack(' + t.language + ')');
    },
  };

  const adapters = { hlsjs, dashjs: dashjsAdapter, shaka: shakaAdapter };
  const A = adapters[kind];

  // opts (optional): { config } handed to the player adapter (see above).
  H.start = async function (url, opts) {
    try {
      await A.start(url, opts || {});
    } catch (e) {
      // (Shaka errors carry code/data, not a useful message)
      error(true, 'start failed: ' + (e && e.message ? e.message : '') + (e && e.code ? ' code ' + e.code + ' data ' + short(e.data) : ''));
      return;
    }
    video.playbackRate = 1;
    const p = video.play();
    if (p && p.catch) p.catch((e) => note('play() rejected: ' + e.message));
  };

  const wrap = (name) => (...args) => {
    try {
      return A[name](...args);
    } catch (e) {
      error(false, name + ' threw: ' + (e && e.message));
      throw e;
    }
  };
  H.qualities = wrap('qualities');
  H.setQuality = wrap('setQuality');
  H.audioTracks = wrap('audioTracks');
  H.setAudio = wrap('setAudio');
  H.textTracks = wrap('textTracks');
  H.setText = wrap('setText');

  H.seek = function (t) {
    video.currentTime = t;
    if (video.paused) video.play().catch(() => {});
    note('seek to ' + t);
  };

  H.state = function () {
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : {};
    const buffered = [];
    for (let i = 0; i < video.buffered.length; i++) buffered.push([+video.buffered.start(i).toFixed(2), +video.buffered.end(i).toFixed(2)]);
    return {
      now: Math.round(now()),
      currentTime: video.currentTime,
      duration: video.duration,
      paused: video.paused,
      ended: video.ended,
      seeking: video.seeking,
      readyState: video.readyState,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      frames: q.totalVideoFrames || 0,
      droppedFrames: q.droppedVideoFrames || 0,
      audioBytes: video.webkitAudioDecodedByteCount || 0,
      videoBytes: video.webkitVideoDecodedByteCount || 0,
      buffered,
      fatal: H.fatal,
      errorCount: H.errors.length,
      audioLoadCount: H.audioLoads.length,
      seekedCount: H.seeked.length,
      decryptErrors: H.decryptErrors || 0,
    };
  };

  // Cues as the browser sees them (all three players render WebVTT through
  // video.textTracks here). Only tracks that are showing/hidden expose cues.
  H.cues = function (needle) {
    const out = [];
    for (let i = 0; i < video.textTracks.length; i++) {
      const tt = video.textTracks[i];
      const cues = tt.cues ? Array.from(tt.cues) : [];
      const active = tt.activeCues ? Array.from(tt.activeCues) : [];
      const match = cues.filter((c) => !needle || (c.text || '').includes(needle));
      out.push({
        index: i,
        kind: tt.kind,
        label: tt.label,
        lang: normLang(tt.language),
        mode: tt.mode,
        cueCount: cues.length,
        matchCount: match.length,
        firstMatch: match[0] ? { start: match[0].startTime, end: match[0].endTime, text: match[0].text } : null,
        sample: cues.slice(0, 2).map((c) => ({ start: +c.startTime.toFixed(3), end: +c.endTime.toFixed(3), text: c.text })),
        active: active.map((c) => ({ start: +c.startTime.toFixed(3), end: +c.endTime.toFixed(3), text: c.text })),
      });
    }
    return out;
  };

  H.ready = true;
})();
