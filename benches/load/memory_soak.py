#!/usr/bin/env python3
"""Memory soak: where a loaded edgepack's memory goes, against its cache budget.

    python3 benches/load/memory_soak.py                       # 5 minutes, 64 connections
    python3 benches/load/memory_soak.py --minutes 1 --bin target/release/edgepack
    python3 benches/load/memory_soak.py --response-mib 0      # the same load, cache off

It serves the load bench's 10-minute ladder twice, clear (`ladder`, whose MPEG-TS segments
are asked for) and under `cenc` (`ladder_cenc`, CMAF segments), and drives it with wrk at
64 connections over every TS segment, every CENC segment and every playlist, in turn, for
the whole soak. Every 10 seconds it reads the daemon's /proc status (anonymous and
file-backed resident memory) and its metrics (the bytes each cache holds, open
connections), and at the end prints the series and what the anonymous memory is made of:
the response cache's weighed bytes, the metadata cache, and the rest (connection buffers,
bodies in flight, the allocator's free pages, the runtime).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import load_bench as lb  # noqa: E402  (the load bench's media, servers and wrk driver)

FULL_PLAN = {"name": "full", "piece_s": 60, "ladder_pieces": 10, "short_s": 10,
             "growth": [("g1min", 1), ("g10min", 10), ("g2h", 120)]}


def status(pid):
    text = Path(f"/proc/{pid}/status").read_text()
    get = lambda name: int(re.search(rf"{name}:\s+(\d+) kB", text).group(1)) * 1024
    return {"anon": get("RssAnon"), "file": get("RssFile"), "hwm": get("VmHWM")}


def metrics(server):
    _, body = server.get("/metrics")
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r'edgepack_cache_bytes\{cache="(\w+)"\} (\S+)', line)
        if m:
            out[f"cache_{m.group(1)}"] = float(m.group(2))
        m = re.match(r'edgepack_connections_open\{transport="tcp"\} (\S+)', line)
        if m:
            out["connections"] = float(m.group(1))
    return out


def mib(n):
    return f"{n / 1048576:7.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="edgepack binary (default: build release)")
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--response-mib", type=int, default=256, help="cache.response_bytes in MiB")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/install-test-deps.sh installs it)")
    lb.OUT.mkdir(parents=True, exist_ok=True)
    if args.bin:
        binary = Path(args.bin).resolve()
    else:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "edgepack"], cwd=lb.REPO, check=True)
        binary = lb.REPO / "target" / "release" / "edgepack"

    media = lb.make_media(FULL_PLAN)
    soak = lb.OUT / "soak-media"
    if soak.exists():
        shutil.rmtree(soak)
    (soak / "ladder").mkdir(parents=True)
    (soak / "ladder_cenc").mkdir()
    for src in (media / "ladder").glob("*.mp4"):
        for title in ("ladder", "ladder_cenc"):
            os.symlink(src, soak / title / src.name)
    (soak / "ladder_cenc" / "asset.toml").write_text('[encryption]\nmethod = "cenc"\ndrm = ["clearkey"]\n')

    port = lb.free_port()
    cfg = lb.OUT / f"edgepack-soak-{port}.toml"
    # Keys derived from a fixed test secret: the CENC title needs a key source.
    cfg.write_text(f"[cache]\nresponse_bytes = {args.response_mib * 1024 * 1024}\n"
                   '[keys]\nsource = "derived"\nmaster_secret = "000102030405060708090a0b0c0d0e0f"\n')
    cmd = lb.pinned(0, [str(binary), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{port}",
                        "--media-root", str(soak)])
    server = lb.Server("edgepack", cmd, port, dict(os.environ, RUST_LOG="warn"), config=cfg)
    try:
        paths = []
        for title, kind in (("ladder", "ts"), ("ladder_cenc", "cmaf")):
            status_code, body = server.get(f"/vod/{title}/{'ts/' if kind == 'ts' else ''}master.m3u8")
            if status_code != 200:
                raise SystemExit(f"{title} {kind} master playlist: {status_code} {body[:300]!r}")
            for line in body.decode().splitlines():
                if line and not line.startswith("#"):
                    base = f"/vod/{title}/{'ts/' if kind == 'ts' else ''}"
                    playlist = base + line
                    paths.append(playlist)
                    _, media_pl = server.get(playlist)
                    rdir = playlist.rsplit("/", 1)[0]
                    paths += [f"{rdir}/{u}" for u in media_pl.decode().splitlines()
                              if u and not u.startswith("#") and not u.endswith(".mp4")]
            m = re.findall(r'URI="([^"]+media\.m3u8)"', body.decode())
            paths += [f"/vod/{title}/{'ts/' if kind == 'ts' else ''}{u}" for u in m]
        paths.append("/vod/ladder_cenc/manifest.mpd")
        lb.log(f"{len(paths)} URLs: TS segments, CENC CMAF segments, playlists")

        samples = []
        stop = threading.Event()

        def sample():
            t0 = time.time()
            while not stop.wait(10):
                row = {"t": time.time() - t0, **status(server.proc.pid), **metrics(server)}
                samples.append(row)
                lb.log(f"t={row['t']:5.0f}s anon {mib(row['anon'])} MiB, file {mib(row['file'])} MiB, "
                       f"response cache {mib(row.get('cache_response', 0))} MiB, "
                       f"metadata {mib(row.get('cache_metadata', 0))} MiB")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = lb.wrk(server.port, paths, args.connections, args.minutes * 60)
        stop.set()
        sampler.join()
        idle = {**status(server.proc.pid), **metrics(server)}
    finally:
        server.stop()

    print(f"\n## Memory soak: {args.minutes:g} min, {args.connections} connections, "
          f"cache.response_bytes = {args.response_mib} MiB\n")
    print(f"{result['requests']} requests, {result['rps']:.0f} req/s, {result['errors']} errors\n")
    print("| t (s) | anonymous MiB | file MiB | response cache MiB | metadata MiB | other anonymous MiB |")
    print("|---|---|---|---|---|---|")
    for r in samples:
        other = r["anon"] - r.get("cache_response", 0) - r.get("cache_metadata", 0)
        print(f"| {r['t']:.0f} | {mib(r['anon'])} | {mib(r['file'])} | {mib(r.get('cache_response', 0))} "
              f"| {mib(r.get('cache_metadata', 0))} | {mib(other)} |")
    other = idle["anon"] - idle.get("cache_response", 0) - idle.get("cache_metadata", 0)
    print(f"| idle after | {mib(idle['anon'])} | {mib(idle['file'])} | {mib(idle.get('cache_response', 0))} "
          f"| {mib(idle.get('cache_metadata', 0))} | {mib(other)} |")


if __name__ == "__main__":
    main()
