#!/usr/bin/env python3
"""Load benchmark of the playback-session decision: POST /v1/playback-sessions under load.

    python3 benches/load/control_bench.py            # full run: release build, 20 s per cell
    python3 benches/load/control_bench.py --quick --bin target/debug/edgepack   # what CI runs

`edgepack control` serves the catalog and entitlement on one database: first the embedded
SQLite, then a real PostgreSQL (Debian's, a fresh cluster started here). The catalog gets a
product and an asset, and ACCOUNTS accounts each get a grant. wrk then posts playback
sessions with 32 connections (one wrk thread, on its own core where there are two), rotating
over the accounts: every request is a full decision (the asset and product read through the
catalog contract, the account's grants read, the session written, a token minted).
It reports decisions per second, p50 and p99 latency and any answer that was not 201.
Results go to stdout as Markdown and to target/bench-load/control-results.{md,json}.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import OUT, REPO, edgepack_binary, free_port, log, pinned, wait_port  # noqa: E402

HERE = Path(__file__).resolve().parent
API_KEY = "bench-api-key-0123456789"
CONNS = 32


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + API_KEY}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    res = conn.getresponse()
    text = res.read()
    conn.close()
    if res.status >= 300:
        raise SystemExit(f"{method} {path}: {res.status} {text[:300]!r}")
    return json.loads(text) if text else None


class Postgres:
    """A fresh cluster on a free port (as the postgres user when run as root)."""

    def __init__(self):
        roots = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not roots:
            raise SystemExit("no PostgreSQL under /usr/lib/postgresql (scripts/install-test-deps.sh)")
        self.bin = roots[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="edgepack-bench-pg-"))
        self.data = self.dir / "data"
        self.data.mkdir()
        root = os.geteuid() == 0
        self.as_pg = (lambda cmd: ["runuser", "-u", "postgres", "--", *cmd]) if root else (lambda cmd: cmd)
        if root:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.dir)], check=True)
        subprocess.run(self.as_pg([str(self.bin / "initdb"), "-A", "trust", "-U", "postgres",
                                   "--no-sync", "-D", str(self.data)]),
                       check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        self.proc = subprocess.Popen(self.as_pg([
            str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
            "-c", "max_connections=200", "-c", "shared_buffers=256MB"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "postgres")
        subprocess.run(self.as_pg([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p",
                                   str(self.port), "-U", "postgres", "control"]), check=True)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/control"

    def stop(self):
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n")[0])
            os.kill(pid, 3)  # SIGQUIT: immediate shutdown
        except (OSError, ValueError):
            pass
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_control(binary, workdir, database_url):
    port = free_port()
    config = workdir / "control.toml"
    lines = [
        "[control]",
        f'listen = "127.0.0.1:{port}"',
        f'data_dir = "{workdir / "data"}"',
        "max_connections = 16",
        'serve = ["catalog", "entitlement"]',
        "",
        "[[control.api_keys]]",
        'name = "bench"',
        f'key = "{API_KEY}"',
        'scopes = ["*"]',
        "",
        "[control.entitlement.signing]",
        'kid = "bench"',
        'alg = "HS256"',
        'secret_hex = "' + "ab" * 32 + '"',
    ]
    if database_url:
        lines.insert(4, f'database_url = "{database_url}"')
    config.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(pinned(0, [str(binary), "control", "--config", str(config)]),
                            stdout=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="warn"))
    wait_port(port, proc, "edgepack control")
    return proc, port


def seed(port, accounts):
    request(port, "PUT", "/v1/products/bench", {"name": "Bench", "max_streams": 4})
    request(port, "PUT", "/v1/assets/demo", {"title": "Demo", "products": ["bench"]})
    for n in range(1, accounts + 1):
        request(port, "PUT", f"/v1/grants/g-{n}",
                {"account": f"acct-{n}", "product": "bench", "source": "bench"})


def wrk_sessions(port, accounts, seconds):
    cmd = pinned(1, ["wrk", "-t1", f"-c{CONNS}", f"-d{seconds}s", "--timeout", "10s",
                     "-s", str(HERE / "sessions.lua"), f"http://127.0.0.1:{port}"])
    env = dict(os.environ, ACCOUNTS=str(accounts), API_KEY=API_KEY, ASSET="demo")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no result:\n{out}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / secs,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["errors"] + r["status_errors"],
        "requests": r["requests"],
    }


def cell(binary, database, accounts, seconds, warmup):
    workdir = Path(tempfile.mkdtemp(prefix="edgepack-bench-control-"))
    pg = Postgres() if database == "postgres" else None
    proc, port = start_control(binary, workdir, pg.url if pg else None)
    try:
        seed(port, accounts)
        wrk_sessions(port, accounts, warmup)
        r = wrk_sessions(port, accounts, seconds)
        log(f"  {database:>8}: {r['rps']:7.0f} decisions/s, p50 {r['p50_ms']:.2f} ms, "
            f"p99 {r['p99_ms']:.2f} ms, {r['errors']} errors of {r['requests']}")
        return r
    finally:
        proc.terminate()
        proc.wait(15)
        if pg:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", help="edgepack binary (default: a release build made now)")
    p.add_argument("--quick", action="store_true", help="2 s cells, 20 accounts (CI)")
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--accounts", type=int, default=1000)
    a = p.parse_args()
    seconds, accounts, warmup = (2, 20, 1) if a.quick else (a.seconds, a.accounts, 3)
    binary = edgepack_binary(a.bin)
    results = {}
    for database in ("sqlite", "postgres"):
        results[database] = cell(binary, database, accounts, seconds, warmup)
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Playback-session decisions, {CONNS} connections, {accounts} accounts, {seconds} s per cell",
        "",
        "| database | decisions/s | p50 ms | p99 ms | not 201 |",
        "|---|---:|---:|---:|---:|",
    ]
    for db, r in results.items():
        lines.append(f"| {db} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
    md = "\n".join(lines) + "\n"
    print(md)
    (OUT / "control-results.md").write_text(md)
    (OUT / "control-results.json").write_text(json.dumps(results, indent=2))
    bad = [db for db, r in results.items() if r["errors"]]
    if bad:
        raise SystemExit(f"answers other than 201 with {', '.join(bad)}")


if __name__ == "__main__":
    main()
