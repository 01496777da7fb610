#!/usr/bin/env python3
"""A/B of two edgepack binaries (or two configurations) under the same load, in one run.

    python3 benches/load/ab_compare.py --a /tmp/edgepack-before --b target/release/edgepack
    python3 benches/load/ab_compare.py --a BIN --b BIN --cells ts:256,playlists:256 --repeats 9
    python3 benches/load/ab_compare.py --a BIN --b BIN --b-config extra.toml   # e.g. tokens on
                                                  # (extra.toml must not set [cache])
    python3 benches/load/ab_compare.py --a BIN --b BIN --b-config tokens.toml --b-query "cat=$T"
                                                  # every B request carries the token

Both daemons serve the load bench's 10-minute ladder with the response cache off (every
request packages), pinned to CPU 0 side by side; wrk runs on CPU 1 against A then B, then B
then A, and so on, `repeats` times per cell, so the two are always measured seconds apart,
drift of the machine cancels out, and neither always goes first (the first of a pair measured
about 3% faster, whichever binary it was). Prints each cell's median requests/s and p99 for A and B
and the ratio B/A. A cell is FORMAT:CONNECTIONS with FORMAT one of cmaf, ts, playlists, starts
(the multivariant playlists and the MPD only).
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import load_bench as lb  # noqa: E402  (the load bench's media, servers and wrk driver)

FULL_PLAN = {"name": "full", "piece_s": 60, "ladder_pieces": 10, "short_s": 10,
             "growth": [("g1min", 1), ("g10min", 10), ("g2h", 120)]}


def start(label, binary, media, extra_config):
    """An edgepack with the response cache off (plus `extra_config`), pinned to CPU 0."""
    port = lb.free_port()
    cfg = lb.OUT / f"edgepack-ab-{port}.toml"
    extra = Path(extra_config).read_text() if extra_config else ""
    cfg.write_text("[cache]\nresponse_bytes = 0\n" + extra)
    cmd = lb.pinned(0, [str(Path(binary).resolve()), "serve", "--config", str(cfg), "--listen",
                        f"127.0.0.1:{port}", "--media-root", str(media)])
    return lb.Server(f"edgepack {label}", cmd, port, dict(lb.os.environ, RUST_LOG="warn"), config=cfg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="binary A (the baseline)")
    ap.add_argument("--b", required=True, help="binary B")
    ap.add_argument("--b-config", help="TOML appended to B's configuration")
    ap.add_argument("--b-query", help="query appended to every path B is asked for (a token)")
    ap.add_argument("--cells", default="cmaf:32,cmaf:256,ts:32,ts:256,playlists:256")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=4)
    args = ap.parse_args()
    lb.OUT.mkdir(parents=True, exist_ok=True)
    media = lb.make_media(FULL_PLAN)
    www = lb.OUT / "www-full"
    if not (www / "vod" / "ladder").exists():
        lb.run([str(Path(args.a).resolve()), "package", str(media / "ladder"), "--out", str(www)])
    ladder = www / "vod" / "ladder"
    paths = {
        "cmaf": sorted(f"/{p.relative_to(www)}" for p in ladder.glob("*/*.m4s")),
        "ts": sorted(f"/{p.relative_to(www)}" for p in ladder.glob("ts/*/*.ts")),
        "playlists": sorted(f"/{p.relative_to(www)}" for p in ladder.rglob("*.m3u8"))
        + ["/vod/ladder/manifest.mpd"],
        # What starts a session: the multivariant playlists and the MPD (steered per session
        # when [delivery] covers the asset).
        "starts": ["/vod/ladder/master.m3u8", "/vod/ladder/ts/master.m3u8", "/vod/ladder/manifest.mpd"],
    }
    query = f"?{args.b_query}" if args.b_query else ""
    asked = {"A": paths, "B": {kind: [p + query for p in ps] for kind, ps in paths.items()}}
    servers = {"A": start("A", args.a, media, None), "B": start("B", args.b, media, args.b_config)}
    rows = []
    try:
        for kind in {c.split(":")[0] for c in args.cells.split(",")}:
            for k, s in servers.items():
                lb.wrk(s.port, asked[k][kind], 8, 2)  # warm: sources mapped, titles parsed
        for cell in args.cells.split(","):
            kind, conns = cell.split(":")
            conns = int(conns)
            lb.log(f"{kind}, {conns} connections: A and B in turn, {args.repeats} times")
            for k, s in servers.items():
                lb.wrk(s.port, asked[k][kind], conns, 1)
            runs = {"A": [], "B": []}
            for i in range(args.repeats):
                # A B, then B A: whichever runs first in a pair measured about 3% faster.
                for k in ("A", "B") if i % 2 == 0 else ("B", "A"):
                    run = lb.wrk(servers[k].port, asked[k][kind], conns, args.seconds)
                    if run["errors"]:
                        raise SystemExit(f"{k} answered {run['errors']} requests with errors: "
                                         "a comparison of failures means nothing")
                    runs[k].append(run)
            a, b = lb.median_run(runs["A"]), lb.median_run(runs["B"])
            rows.append((kind, conns, a, b))
    finally:
        for s in servers.values():
            s.stop()
    print(f"\nA = {args.a}\nB = {args.b}{' + ' + args.b_config if args.b_config else ''}"
          f"{' + ?' + args.b_query[:24] + '...' if args.b_query else ''}\n"
          f"response cache off; median of {args.repeats} runs of {args.seconds:g} s, A and B in turn (ABBA)\n")
    print("| cell | conns | A req/s | B req/s | B/A | A p99 ms | B p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for kind, conns, a, b in rows:
        print(f"| {kind} | {conns} | {a['rps']:.0f} | {b['rps']:.0f} | **{lb.ratio(b['rps'], a['rps']):.3f}** "
              f"| {a['p99_ms']:.2f} | {b['p99_ms']:.2f} |")


if __name__ == "__main__":
    main()
