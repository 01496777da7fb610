#!/usr/bin/env python3
"""Load benchmark of server-side ad insertion: sessions opening and playing through a pre-roll.

    python3 benches/load/ssai_bench.py            # full run: release build, 1,000 sessions
    python3 benches/load/ssai_bench.py --quick --bin target/debug/edgepack   # what CI runs

A test ad server (in this process: the VAST documents of testdata/vast and the creatives of
testdata/media, counting every request) answers a pre-roll pod of two 8 s ads for the demo
title. After one warm-up session (the creatives conditioned by ffmpeg), SESSIONS sessions run
through WORKERS client threads, each as a player opens and starts one:
  GET /vod/demo/master.m3u8 (302 into the session), the session's multivariant playlist, one
  video and one audio media playlist, each ad's map and segments for both, and the first two
  content segments of each.
It reports sessions/s, manifest requests/s and their p50/p99 (the per-session work: the
redirect, the plan, stitching), segment p99, the ad server requests (one per session: the
plan is decided once) and the beacons it received against the number expected (13 per
session, each once, however many renditions fetched the ads).
Then the segment cells: wrk on the same content segments with and without the session in
their path, and on the ads' segments, on the node with ads on: a segment below a session
costs about what it costs without (the session and its plan looked up, beacons deduplicated).
Results go to stdout as Markdown and to target/bench-load/ssai-results.{md,json}.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import (  # noqa: E402
    OUT, REPO, edgepack_binary, free_port, log, peak_rss_mib, pinned, wait_port, wrk,
)

VAST = REPO / "testdata" / "vast"
MEDIA = REPO / "testdata" / "media"
BEACONS_PER_SESSION = 13  # ad 1: impression, start, 3 quartiles, complete, progress; ad 2: all but progress


class AdServer:
    """The test ad server: documents with {base} and {session} filled, creatives, beacons."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                with server.lock:
                    server.seen.append(self.path)
                sid = parse_qs(url.query).get("sid", [""])[0]
                body, kind = server.answer(url.path, sid)
                self.send_response(200 if body is not None else 404)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path, sid):
        docs = {"/vast/pod": "pod_two_ads.xml"}
        files = {"/creative/one.mp4": "h264_avc1_25fps_aac_48k_moov_first.mp4",
                 "/creative/two.mp4": "h264_25fps_aac_44.1k.mp4"}
        if path in docs:
            text = (VAST / docs[path]).read_text().replace("{base}", self.base).replace("{session}", sid)
            return text.encode(), "application/xml"
        if path in files:
            return (MEDIA / files[path]).read_bytes(), "video/mp4"
        if path.startswith("/t/"):
            return b"", "text/plain"
        return None, "text/plain"

    def count(self, prefix):
        with self.lock:
            return sum(1 for p in self.seen if p.startswith(prefix))


class Client:
    """One keep-alive connection, timing every request."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        t0 = time.perf_counter()
        try:
            self.conn.request("GET", path)
            res = self.conn.getresponse()
            body = res.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("GET", path)
            res = self.conn.getresponse()
            body = res.read()
        ms = (time.perf_counter() - t0) * 1000
        return res.status, res.getheader("location"), body, ms


def uris(playlist):
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def maps(playlist):
    return [m.group(1) for m in re.finditer(r'#EXT-X-MAP:URI="([^"]+)"', playlist)]


def play_session(client, timings):
    """One session, as a player starts it; its requests' times go to `timings`."""
    status, location, _, ms = client.get("/vod/demo/master.m3u8")
    assert status == 302, status
    timings["manifest"].append(ms)
    status, _, master, ms = client.get(location)
    assert status == 200, status
    timings["manifest"].append(ms)
    master = master.decode()
    video = urljoin(location, uris(master)[0])
    audio = urljoin(location, re.search(r'TYPE=AUDIO[^\n]*URI="([^"]+)"', master).group(1))
    for playlist_path in (video, audio):
        status, _, text, ms = client.get(playlist_path)
        assert status == 200, status
        timings["manifest"].append(ms)
        text = text.decode()
        # The pre-roll (two ads: a map and two segments each) and the first two content segments.
        objects = [u for u in maps(text) if "/ad/" in u] + [u for u in uris(text) if "/ad/" in u]
        objects += [u for u in uris(text) if "/ad/" not in u][:2]
        for obj in objects:
            status, _, _, ms = client.get(urljoin(playlist_path, obj))
            assert status == 200, (status, obj)
            timings["segment"].append(ms)
    return location


def metric(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 sessions and 1-second wrk runs (CI)")
    ap.add_argument("--bin", help="edgepack binary to use instead of building release")
    ap.add_argument("--sessions", type=int, help="sessions to run (default 1000; 20 with --quick)")
    ap.add_argument("--workers", type=int, default=32, help="client threads (sessions at once)")
    args = ap.parse_args()
    sessions = args.sessions or (20 if args.quick else 1000)
    seconds = 1 if args.quick else 4
    for tool in ("ffmpeg", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/install-test-deps.sh installs it)")
    OUT.mkdir(parents=True, exist_ok=True)
    binary = edgepack_binary(args.bin)

    ads = AdServer()
    work = Path(tempfile.mkdtemp(prefix="ssai-bench-"))
    port = free_port()
    config = work / "edgepack.toml"
    config.write_text(f"""listen = "127.0.0.1:{port}"
media_root = "{REPO / 'demo' / 'media'}"

[ads]
conditioning_dir = "{work / 'ads'}"
allow_private_addresses = true
beacon_queue = 100000

[[ads.policies]]
assets = ["demo"]
ad_server = "{ads.base}/vast/pod?sid=[session.id]"
breaks = ["start"]
""")
    proc = subprocess.Popen(pinned(0, [str(binary), "serve", "--config", str(config)]),
                            env=dict(os.environ, RUST_LOG="warn"), stdout=subprocess.DEVNULL)
    try:
        wait_port(port, proc, "edgepack")
        warm = Client(port)
        status, location, _, _ = warm.get("/vod/demo/master.m3u8")
        warm.get(location)
        deadline = time.time() + 120
        while metric(port, 'edgepack_ad_conditioning_jobs_total{result="done"}') < 2:
            if time.time() > deadline:
                raise SystemExit("the creatives were not conditioned within 120 s")
            time.sleep(0.2)
        play_session(warm, {"manifest": [], "segment": []})  # every ad object built and cached once
        time.sleep(1)  # the warm session's beacons leave the queue before counting starts
        vast_before = ads.count("/vast/")
        beacons_before = ads.count("/t/")

        log(f"{sessions} sessions through {args.workers} clients")
        per_worker = [{"manifest": [], "segment": []} for _ in range(args.workers)]
        locations = []

        def worker(i):
            client = Client(port)
            n = sessions // args.workers + (1 if i < sessions % args.workers else 0)
            return [play_session(client, per_worker[i]) for _ in range(n)]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            for done in pool.map(worker, range(args.workers)):
                locations.extend(done)
        wall = time.perf_counter() - t0
        manifest = [ms for w in per_worker for ms in w["manifest"]]
        segment = [ms for w in per_worker for ms in w["segment"]]
        # Beacons leave from a queue: give it a moment to drain.
        expected = sessions * BEACONS_PER_SESSION
        deadline = time.time() + 30
        while ads.count("/t/") - beacons_before < expected and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        results = {
            "sessions": sessions, "workers": args.workers, "wall_s": wall,
            "sessions_per_s": sessions / wall,
            "manifest": {"requests": len(manifest), "per_s": len(manifest) / wall,
                         "p50_ms": pct(manifest, 0.5), "p99_ms": pct(manifest, 0.99)},
            "segment": {"requests": len(segment), "p50_ms": pct(segment, 0.5), "p99_ms": pct(segment, 0.99)},
            "ad_server_requests": ads.count("/vast/") - vast_before,
            "beacons_expected": expected,
            "beacons_received": ads.count("/t/") - beacons_before,
            "beacons_duplicate": metric(port, 'edgepack_ad_beacons_total{result="duplicate"}'),
        }

        # Segment cells: the same content segments with and without a session in the path,
        # and the ads' segments (shared by every session, beacons deduplicated).
        session_root = locations[0].rsplit("/", 1)[0]
        content = [f"/vod/demo/video_360p-v1/{n}.m4s" for n in range(1, 8)]
        in_session = [p.replace("/vod/demo/", f"{session_root}/") for p in content]
        status, _, text, _ = Client(port).get(f"{session_root}/video_360p-v1/media.m3u8")
        ad_paths = [urljoin(f"{session_root}/video_360p-v1/media.m3u8", u) for u in uris(text.decode()) if "/ad/" in u]
        cells = {}
        for label, paths in (("content, no session", content), ("content, in a session", in_session),
                             ("ad segments, in a session", ad_paths)):
            wrk(port, paths, 8, 1)
            cells[label] = [wrk(port, paths, c, seconds) for c in (1, 32)]
        results["segment_cells"] = cells
        results["rss_mib"] = peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
        ads.httpd.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    report = render(results)
    print(report)
    name = "ssai-results" + ("-quick" if args.quick else "")
    (OUT / f"{name}.md").write_text(report)
    (OUT / f"{name}.json").write_text(json.dumps(results, indent=2))
    if results["ad_server_requests"] != sessions:
        raise SystemExit(f"{results['ad_server_requests']} ad server requests for {sessions} sessions")
    if results["beacons_received"] != expected:
        raise SystemExit(f"{results['beacons_received']} beacons received, {expected} expected")
    errors = [c for runs in cells.values() for c in runs if c["errors"]]
    if errors:
        raise SystemExit(f"wrk runs had errors: {errors}")


def render(r):
    m, s = r["manifest"], r["segment"]
    lines = [
        f"## Server-side ads: {r['sessions']} sessions through a pre-roll ({r['workers']} clients)",
        "",
        "| figure | value |",
        "|---|---|",
        f"| sessions/s | {r['sessions_per_s']:.0f} |",
        f"| manifest requests/s (302, multivariant, 2 media playlists per session) | {m['per_s']:.0f} |",
        f"| manifest p50 / p99 | {m['p50_ms']:.2f} / {m['p99_ms']:.2f} ms |",
        f"| segment p50 / p99 (ads and content, {s['requests']} requests) | {s['p50_ms']:.2f} / {s['p99_ms']:.2f} ms |",
        f"| ad server requests | {r['ad_server_requests']} (one per session) |",
        f"| beacons received / expected | {r['beacons_received']} / {r['beacons_expected']} "
        f"({r['beacons_duplicate']:.0f} duplicates not sent) |",
        f"| peak RSS | {r['rss_mib'] or 0:.0f} MiB |",
        "",
        "| segment cell (wrk, cache on) | 1 conn req/s | 1 conn p99 | 32 conns req/s | 32 conns p99 |",
        "|---|---|---|---|---|",
    ]
    for label, (one, many) in r["segment_cells"].items():
        lines.append(f"| {label} | {one['rps']:.0f} | {one['p99_ms']:.2f} ms | {many['rps']:.0f} | {many['p99_ms']:.2f} ms |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
