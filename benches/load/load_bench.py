#!/usr/bin/env python3
"""Load benchmark: edgepack against stock nginx serving the same bytes as static files.

    python3 benches/load/load_bench.py            # full run (release build, about 12 minutes)
    python3 benches/load/load_bench.py --quick    # tiny media, 1-second runs (what CI runs)
    python3 benches/load/load_bench.py --flamegraph ts   # profile one load (cmaf, ts, playlists)

It builds edgepack in release mode, makes its media with ffmpeg (cached under
target/bench-load/media), writes the reference with `edgepack package` for nginx to serve,
then drives both servers on loopback with the same load generator (wrk, with rotate.lua
cycling through the asset's segment URLs) and prints one table of edgepack/nginx ratios,
all measured in this run. The servers are pinned to CPU 0 and wrk to CPU 1 when the machine
has two or more CPUs.

What it measures:
  - segments of a 10-minute, 3-rendition asset (plus its audio), CMAF and TS, at 1, 32 and
    256 connections: requests/s, MB/s, p50 and p99; edgepack with the response cache off
    (every request packages) and on; also CMAF segments of a 10-minute file whose video and
    audio are interleaved sample by sample (the usual mezzanine layout);
  - playlists and MPDs built per request (cache off);
  - time to first byte of the first segment of a cold 2-hour asset (a fresh process that
    first served another title, so the moov is not cached), against
    a cold 10-second asset and against nginx;
  - growth: first-request time and sample-table bytes for 1-minute, 10-minute and 2-hour
    sources, and throughput against connection count;
  - peak RSS (VmHWM) of each server.
Results go to stdout as Markdown and to target/bench-load/results.{md,json}.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = REPO / "target" / "bench-load"

# The 3-rendition ladder of the 10-minute asset: (name, width, height, video bitrate).
LADDER = [("360p", 640, 360, "800k"), ("270p", 480, 270, "450k"), ("180p", 320, 180, "200k")]
FPS = 25
AUDIO_FRAMES_PER_S = 48000 / 1024


def log(msg):
    print(f"[load-bench] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ffmpeg(*args):
    run(["ffmpeg", "-v", "error", "-y", *args])


# ------------------------------------------------------------------ media


def encode_piece(path, seconds, size, bitrate, audio):
    w, h = size
    args = ["-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={FPS}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-b:v", bitrate,
             "-g", str(2 * FPS), "-keyint_min", str(2 * FPS), "-sc_threshold", "0",
             "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-b:a", "64k"] if audio else ["-an"]
    ffmpeg(*args, str(path))


def audio_piece(path, seconds):
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", str(seconds),
           "-c:a", "aac", "-b:a", "64k", str(path))


def concat(piece, times, out):
    """`times` copies of `piece` end to end, stream-copied (no re-encode)."""
    lst = piece.parent / f"{out.stem}.concat.txt"
    lst.write_text("".join(f"file '{piece}'\n" for _ in range(times)))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(lst), "-c", "copy", str(out))
    lst.unlink()


def make_media(plan):
    """Makes (or reuses) every source of the run under OUT/media-<plan name>."""
    root = OUT / f"media-{plan['name']}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    work = root / ".pieces"
    work.mkdir()
    piece_s = plan["piece_s"]
    log(f"making media in {root} (pieces of {piece_s} s)")
    ladder = root / "ladder"
    ladder.mkdir()
    for name, w, h, rate in LADDER:
        piece = work / f"video_{name}.mp4"
        encode_piece(piece, piece_s, (w, h), rate, audio=False)
        concat(piece, plan["ladder_pieces"], ladder / f"video_{name}.mp4")
    apiece = work / "audio_en.mp4"
    audio_piece(apiece, piece_s)
    concat(apiece, plan["ladder_pieces"], ladder / "audio_en.mp4")
    small = work / "small.mp4"
    encode_piece(small, piece_s, (160, 90), "60k", audio=True)
    for name, pieces in plan["growth"]:
        concat(small, pieces, root / f"{name}.mp4")
    short = root / "short10s.mp4"
    encode_piece(short, plan["short_s"], (160, 90), "60k", audio=True)
    shutil.rmtree(work)
    stamp.write_text("ok\n")
    return root


# ------------------------------------------------------------------ servers


def edgepack_binary(given):
    """The binary `--bin` names, or a release build made now."""
    if given:
        return Path(given).resolve()
    log("cargo build --release -p edgepack")
    run(["cargo", "build", "--release", "--locked", "-p", "edgepack"], cwd=REPO)
    return REPO / "target" / "release" / "edgepack"


def peak_rss_mib(pid):
    """The peak resident set (VmHWM) of process `pid`, in MiB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(m.group(1)) / 1024 if m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on {port}")


def pinned(cpu, cmd):
    if CPUS >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *cmd]
    return cmd


class Server:
    def __init__(self, name, cmd, port, env=None, config=None):
        self.name, self.port, self.config = name, port, config
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        wait_port(port, self.proc, name)

    def peak_rss_mib(self):
        return peak_rss_mib(self.proc.pid)

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path)
        res = conn.getresponse()
        body = res.read()
        conn.close()
        return res.status, body

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.config:
            self.config.unlink(missing_ok=True)


def start_edgepack(binary, media, response_bytes):
    port = free_port()
    cfg = OUT / f"edgepack-{port}.toml"
    cfg.write_text(f"[cache]\nresponse_bytes = {response_bytes}\n")
    env = dict(os.environ, RUST_LOG="warn")
    cmd = pinned(0, [str(binary), "serve", "--config", str(cfg), "--listen",
                     f"127.0.0.1:{port}", "--media-root", str(media)])
    label = "on" if response_bytes else "off"
    return Server(f"edgepack (cache {label})", cmd, port, env, config=cfg)


def start_nginx(www):
    port = free_port()
    conf_dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (conf_dir / "nginx.conf").write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  open_file_cache max=100000 inactive=60s;
  types {{ video/mp4 mp4 m4s; video/mp2t ts; application/vnd.apple.mpegurl m3u8;
           application/dash+xml mpd; text/vtt vtt; }}
  client_body_temp_path {conf_dir}/body;
  proxy_temp_path {conf_dir}/proxy;
  fastcgi_temp_path {conf_dir}/fastcgi;
  uwsgi_temp_path {conf_dir}/uwsgi;
  scgi_temp_path {conf_dir}/scgi;
  server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    root {www};
  }}
}}
""")
    binary = next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if not binary:
        raise SystemExit("nginx is not installed (scripts/install-test-deps.sh installs it)")
    cmd = pinned(0, [binary, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")])
    return Server("nginx", cmd, port)


# ------------------------------------------------------------------ load


def wrk(port, paths, conns, seconds):
    """One wrk run over `paths` (rotating); returns its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        list_file = f.name
    cmd = pinned(1, ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                     "-s", str(HERE / "rotate.lua"), f"http://127.0.0.1:{port}"])
    out = subprocess.run(cmd, env=dict(os.environ, PATHS=list_file), capture_output=True,
                         text=True, check=True).stdout
    os.unlink(list_file)
    m = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no result:\n{out}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    log(f"  {conns:>3} conns: {r['requests'] / secs:9.0f} req/s, p99 {r['p99_us'] / 1000:.2f} ms")
    return {
        "rps": r["requests"] / secs,
        "mbps": r["bytes"] / secs / 1e6,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["errors"] + r["status_errors"],
        "requests": r["requests"],
    }


def ttfb_ms(port, path):
    """Time to the first body byte of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    conn.request("GET", path)
    res = conn.getresponse()
    res.read(1)
    t = (time.perf_counter() - t0) * 1000
    res.read()
    conn.close()
    if res.status != 200:
        raise SystemExit(f"GET {path}: {res.status}")
    return t


def metric(server, name):
    status, body = server.get("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def median_run(runs):
    """Each figure's median over the runs, taken one figure at a time: one run whose p99
    caught a stall (a burst of reconnections, another tenant) does not decide the p99 just
    because its request rate happened to be the median one."""
    return {key: median([r[key] for r in runs]) for key in runs[0]}


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


# ------------------------------------------------------------------ report


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny media and 1-second runs (CI)")
    ap.add_argument("--bin", help="edgepack binary to use instead of building release")
    ap.add_argument("--seconds", type=float, help="duration of each wrk run")
    ap.add_argument("--flamegraph", choices=["cmaf", "ts", "playlists"],
                    help="instead of the table: profile edgepack (cache off, 32 connections; 256 for "
                         "playlists) with perf and write target/bench-load/flamegraph-KIND.svg "
                         "(needs perf and inferno: cargo install inferno)")
    ap.add_argument("--only", help="comma-separated parts to run while working on one figure: "
                    "cmaf, ts, muxed, cache-off, cache-on, playlists, cold (the table shows only those)")
    args = ap.parse_args()
    parts = set(args.only.split(",")) if args.only else None
    wanted = lambda part: parts is None or part in parts

    plan = {
        "name": "quick", "piece_s": 4, "ladder_pieces": 3, "short_s": 10,
        "growth": [("g1min", 1), ("g10min", 3), ("g2h", 6)],
        "conns": [1, 8], "seconds": 1, "ttfb_trials": 1, "repeats": 1, "cell_warmup": False,
    } if args.quick else {
        "name": "full", "piece_s": 60, "ladder_pieces": 10, "short_s": 10,
        "growth": [("g1min", 1), ("g10min", 10), ("g2h", 120)],
        "conns": [1, 32, 256], "seconds": 4, "ttfb_trials": 5, "repeats": 5, "cell_warmup": True,
    }
    seconds = args.seconds or plan["seconds"]
    for tool in ("ffmpeg", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/install-test-deps.sh installs it)")
    OUT.mkdir(parents=True, exist_ok=True)

    binary = edgepack_binary(args.bin)

    media = make_media(plan)
    www = OUT / f"www-{plan['name']}"
    if www.exists():
        shutil.rmtree(www)
    muxed = f"{plan['growth'][1][0]}.mp4"  # the 10-minute file: video and audio interleaved
    for asset in ["ladder", "short10s.mp4", muxed, f"{plan['growth'][-1][0]}.mp4"]:
        run([str(binary), "package", str(media / asset), "--out", str(www)], stdout=subprocess.DEVNULL)

    ladder = www / "vod" / "ladder"
    cmaf = sorted(f"/{p.relative_to(www)}" for p in ladder.glob("*/*.m4s"))
    ts = sorted(f"/{p.relative_to(www)}" for p in ladder.glob("ts/*/*.ts"))
    playlists = sorted(f"/{p.relative_to(www)}" for p in ladder.rglob("*.m3u8")) + ["/vod/ladder/manifest.mpd"]
    log(f"{len(cmaf)} CMAF and {len(ts)} TS segments, {len(playlists)} playlists and MPDs")
    if args.flamegraph:
        paths = {"cmaf": cmaf, "ts": ts, "playlists": playlists}[args.flamegraph]
        flamegraph(binary, media, args.flamegraph, paths, 256 if args.flamegraph == "playlists" else 32)
        return

    results = {"machine": machine(), "plan": plan, "seconds": seconds, "segments": [], "playlists": {}}

    cmaf_muxed = sorted(f"/{p.relative_to(www)}" for p in (www / "vod" / muxed).glob("*/*.m4s"))
    formats = [(f, p) for key, f, p in (("cmaf", "CMAF", cmaf), ("ts", "TS", ts),
                                         ("muxed", "CMAF, muxed source", cmaf_muxed)) if wanted(key)]
    # All servers run side by side (only the one under load uses its core), and every cell
    # of the table runs them in turn, `repeats` times: the ratios compare runs seconds
    # apart, not minutes, so drift of the machine (other tenants, frequency) cancels out.
    servers = {"nginx": start_nginx(www)}
    try:
        for label, cache_bytes in (("off", 0), ("on", 512 * 1024 * 1024)):
            if wanted(f"cache-{label}") or (label == "off" and wanted("playlists")):
                servers[label] = start_edgepack(binary, media, cache_bytes)
        for label in ("off", "on"):
            for fmt, paths in formats if label in servers else ():
                # Warm: sources mapped and parsed; with the cache on, every object cached.
                wrk(servers[label].port, paths, 8, max(1, seconds / 2))
        order = [k for k in ("nginx", "off", "on") if k in servers]
        for fmt, paths in formats:
            for c in plan["conns"]:
                log(f"{fmt} segments, {c} connections: {', '.join(order)} in turn")
                runs = {k: [] for k in order}
                # Each server first meets this many connections in an unmeasured second:
                # the connection storm and the first buffers of a new count are not the
                # steady state the cell measures.
                for k in order if plan["cell_warmup"] else ():
                    wrk(servers[k].port, paths, c, 1)
                for _ in range(plan["repeats"]):
                    for k in order:
                        runs[k].append(wrk(servers[k].port, paths, c, seconds))
                n = median_run(runs["nginx"])
                for label in order[1:]:
                    results["segments"].append({"format": fmt, "cache": label, "conns": c,
                                                "edgepack": median_run(runs[label]), "nginx": n})
        results["segments"].sort(key=lambda r: r["cache"] != "off")
        if wanted("playlists") and "off" in servers:
            log("playlists and MPDs: nginx and edgepack (cache off) in turn")
            runs = {"nginx": [], "off": []}
            for _ in range(plan["repeats"]):
                for k in runs:
                    runs[k].append(wrk(servers[k].port, playlists, plan["conns"][-1], seconds))
            results["playlists"] = {"edgepack": median_run(runs["off"]), "nginx": median_run(runs["nginx"])}
        g2h = plan["growth"][-1][0]
        if wanted("cold"):
            ref_ttfb_2h = median([ttfb_ms(servers["nginx"].port, f"/vod/{g2h}.mp4/v1/1.m4s") for _ in range(3)])
        rss = {("nginx" if k == "nginx" else f"edgepack (cache {k})"): srv.peak_rss_mib()
               for k, srv in servers.items()}
    finally:
        for srv in servers.values():
            srv.stop()

    if wanted("cold"):
        # Cold titles: a fresh process per trial, so no moov is cached. The process first
        # serves another title (a playlist and a segment of each format), as a running node
        # has: what is timed is the cold title, not the process's own start-up (its
        # allocator's first pages, its thread pool, code paths run once).
        warm_up = [playlists[0], cmaf[0], ts[0]]
        growth = []
        short_ttfb = []
        for _ in range(plan["ttfb_trials"]):
            ep = start_edgepack(binary, media, 0)
            try:
                for path in warm_up:
                    ttfb_ms(ep.port, path)
                short_ttfb.append(ttfb_ms(ep.port, "/vod/short10s.mp4/v1/1.m4s"))
            finally:
                ep.stop()
        for name, pieces in plan["growth"]:
            times, table_bytes = [], 0.0
            for _ in range(plan["ttfb_trials"]):
                ep = start_edgepack(binary, media, 0)
                try:
                    for path in warm_up:
                        ttfb_ms(ep.port, path)
                    before = metric(ep, 'edgepack_cache_bytes{cache="metadata"}')
                    times.append(ttfb_ms(ep.port, f"/vod/{name}.mp4/v1/1.m4s"))
                    # The first segment came from the source's opening; a playlist needs
                    # the whole moov parsed, so its table is the one measured.
                    ttfb_ms(ep.port, f"/vod/{name}.mp4/master.m3u8")
                    table_bytes = metric(ep, 'edgepack_cache_bytes{cache="metadata"}') - before
                finally:
                    ep.stop()
            duration_s = pieces * plan["piece_s"]
            samples = duration_s * FPS + duration_s * AUDIO_FRAMES_PER_S
            growth.append({"source": name, "duration_s": duration_s,
                           "file_mib": (media / f"{name}.mp4").stat().st_size / 2**20,
                           "first_request_ms": median(times), "table_bytes": table_bytes,
                           "bytes_per_sample": table_bytes / samples})
        results["growth"] = growth
        results["ttfb"] = {"short10s_ms": median(short_ttfb), "cold_2h_ms": growth[-1]["first_request_ms"],
                           "nginx_2h_ms": ref_ttfb_2h}
    results["rss_mib"] = rss

    report = render(results)
    print(report)
    name = plan["name"] + ("-partial" if parts else "")
    (OUT / f"results-{name}.md").write_text(report)
    (OUT / f"results-{name}.json").write_text(json.dumps(results, indent=2))
    bad = [s for s in results["segments"] if s["edgepack"]["errors"] or s["nginx"]["errors"]]
    if bad:
        raise SystemExit(f"{len(bad)} runs had errors: {json.dumps(bad, indent=1)}")


def flamegraph(binary, media, kind, paths, conns):
    """Profiles edgepack (cache off) under wrk load with perf; folds the stacks with inferno."""
    for tool in ("perf", "inferno-collapse-perf", "inferno-flamegraph"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (perf: Debian linux-perf; inferno: cargo install inferno)")
    ep = start_edgepack(binary, media, 0)
    data = OUT / f"perf-{kind}.data"
    svg = OUT / f"flamegraph-{kind}.svg"
    try:
        wrk(ep.port, paths, conns, 2)  # warm: moov parsed, files mapped
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(paths) + "\n")
            list_file = f.name
        load = subprocess.Popen(pinned(1, ["wrk", "-t1", f"-c{conns}", "-d8s", "-s", str(HERE / "rotate.lua"),
                                           f"http://127.0.0.1:{ep.port}"]),
                                env=dict(os.environ, PATHS=list_file), stdout=subprocess.DEVNULL)
        time.sleep(1)
        run(["perf", "record", "-F", "999", "-g", "-o", str(data), "-p", str(ep.proc.pid), "--", "sleep", "5"],
            stderr=subprocess.DEVNULL)
        load.wait()
        os.unlink(list_file)
    finally:
        ep.stop()
    script = subprocess.run(["perf", "script", "-i", str(data)], capture_output=True, check=True).stdout
    folded = subprocess.run(["inferno-collapse-perf"], input=script, capture_output=True, check=True).stdout
    title = f"edgepack, {kind}, response cache off, {conns} connections (wrk), perf -F 999"
    svg.write_bytes(subprocess.run(["inferno-flamegraph", "--title", title, "--width", "1600"],
                                   input=folded, capture_output=True, check=True).stdout)
    log(f"wrote {svg}")


def machine():
    cpu = "unknown"
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1) if m else cpu
    except OSError:
        pass
    return {"cpu": cpu, "cpus": CPUS, "kernel": os.uname().release}


def render(r):
    lines = [f"Machine: {r['machine']['cpu']}, {r['machine']['cpus']} CPUs, Linux {r['machine']['kernel']}; "
             f"{r['seconds']} s per run, servers in turn, median of {r['plan']['repeats']}; "
             f"servers on CPU 0, wrk on CPU 1" if CPUS >= 2 else "unpinned", ""]
    lines += ["| segments | cache | conns | nginx req/s | edgepack req/s | ratio | nginx MB/s | edgepack MB/s "
              "| nginx p50 / p99 ms | edgepack p50 / p99 ms | p99 ratio |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in r["segments"]:
        e, n = s["edgepack"], s["nginx"]
        lines.append(f"| {s['format']} | {s['cache']} | {s['conns']} | {n['rps']:.0f} | {e['rps']:.0f} | "
                     f"**{ratio(e['rps'], n['rps']):.2f}** | {n['mbps']:.0f} | {e['mbps']:.0f} | "
                     f"{n['p50_ms']:.2f} / {n['p99_ms']:.2f} | {e['p50_ms']:.2f} / {e['p99_ms']:.2f} | "
                     f"{ratio(e['p99_ms'], n['p99_ms']):.2f} |")
    p = r["playlists"]
    lines += [] if not p else ["", "| playlists and MPDs (built per request) | nginx req/s | edgepack req/s | ratio |", "|---|---|---|---|",
              f"| all of the ladder's | {p['nginx']['rps']:.0f} | {p['edgepack']['rps']:.0f} | "
              f"**{ratio(p['edgepack']['rps'], p['nginx']['rps']):.2f}** |"]
    t = r.get("ttfb")
    lines += [] if not t else ["", "| first segment of a cold title (process warmed on another) | time to first byte |", "|---|---|",
              f"| nginx, 2-hour asset (static file) | {t['nginx_2h_ms']:.2f} ms |",
              f"| edgepack, 10-second asset | {t['short10s_ms']:.2f} ms |",
              f"| edgepack, 2-hour asset | {t['cold_2h_ms']:.2f} ms "
              f"(**{ratio(t['cold_2h_ms'], t['short10s_ms']):.2f}x** the 10-second asset's) |"]
    lines += ["", "| source | duration | file | first request | sample table | bytes per sample |",
              "|---|---|---|---|---|---|"]
    for g in r.get("growth", []):
        lines.append(f"| {g['source']} | {g['duration_s']} s | {g['file_mib']:.1f} MiB | {g['first_request_ms']:.2f} ms | "
                     f"{g['table_bytes'] / 1024:.0f} KiB | {g['bytes_per_sample']:.1f} |")
    lines += ["", "| server | peak RSS |", "|---|---|"]
    for k, v in r["rss_mib"].items():
        lines.append(f"| {k} | {v:.1f} MiB |" if v is not None else f"| {k} | n/a |")
    return "\n".join(lines) + "\n"


CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

if __name__ == "__main__":
    main()
