#!/usr/bin/env python3
"""An independent HTTP/3 client for the edge tests (aioquic, not our Rust stack).

GETs one or more https:// URLs, all on one QUIC connection and concurrently, and prints
a JSON list with, per URL: status, headers, body length and sha256, the HTTP version
negotiated ("h3"), and the body as text when it is short and UTF-8.

    python3 tests/h3/h3_get.py --ca cert.pem [--address 127.0.0.1] URL [URL ...]

--ca is the only certificate trusted (verification stays on). --address is where to
connect when it differs from the URLs' host, which stays the TLS server name.
Exits 2 when aioquic is missing (run scripts/install-test-deps.sh), 1 on a connection or
protocol error.
"""

import argparse
import asyncio
import hashlib
import json
import sys
from urllib.parse import urlsplit

try:
    from aioquic.asyncio.client import connect
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.events import ConnectionTerminated, StreamReset
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(f"aioquic is not installed ({e}); run scripts/install-test-deps.sh", file=sys.stderr)
    sys.exit(2)

TEXT_LIMIT = 8192


class H3Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http = H3Connection(self._quic)
        self._pending = {}

    def quic_event_received(self, event):
        if isinstance(event, StreamReset) and event.stream_id in self._pending:
            fut, _ = self._pending.pop(event.stream_id)
            fut.set_exception(RuntimeError(f"stream reset, code {event.error_code}"))
            return
        if isinstance(event, ConnectionTerminated):
            for fut, _ in self._pending.values():
                if not fut.done():
                    fut.set_exception(RuntimeError(f"connection closed: {event.reason_phrase}"))
            self._pending.clear()
        for h3_event in self._http.handle_event(event):
            stream_id = getattr(h3_event, "stream_id", None)
            if stream_id not in self._pending:
                continue
            fut, response = self._pending[stream_id]
            if isinstance(h3_event, HeadersReceived):
                response["headers"].extend(h3_event.headers)
            elif isinstance(h3_event, DataReceived):
                response["body"] += h3_event.data
            if getattr(h3_event, "stream_ended", False):
                del self._pending[stream_id]
                fut.set_result(response)

    async def get(self, authority, path):
        stream_id = self._quic.get_next_available_stream_id()
        self._http.send_headers(
            stream_id,
            [
                (b":method", b"GET"),
                (b":scheme", b"https"),
                (b":authority", authority.encode()),
                (b":path", path.encode()),
                (b"user-agent", b"edgepack-h3-test/aioquic"),
            ],
            end_stream=True,
        )
        fut = self._loop.create_future()
        self._pending[stream_id] = (fut, {"headers": [], "body": b""})
        self.transmit()
        return await fut


def summary(url, response):
    headers = {}
    status = None
    for name, value in response["headers"]:
        name, value = name.decode(), value.decode(errors="replace")
        if name == ":status":
            status = int(value)
        elif not name.startswith(":"):
            headers[name] = value
    body = response["body"]
    out = {
        "url": url,
        "version": "h3",
        "status": status,
        "headers": headers,
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    if len(body) <= TEXT_LIMIT:
        try:
            out["text"] = body.decode()
        except UnicodeDecodeError:
            pass
    return out


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ca", required=True, help="PEM certificate to trust")
    parser.add_argument("--address", help="where to connect (default: the URLs' host)")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()

    parts = [urlsplit(u) for u in args.urls]
    hosts = {(p.hostname, p.port or 443) for p in parts}
    if len(hosts) != 1 or any(p.scheme != "https" for p in parts):
        parser.error("all URLs must be https:// on one host and port")
    (host, port) = hosts.pop()

    configuration = QuicConfiguration(alpn_protocols=H3_ALPN, is_client=True)
    configuration.load_verify_locations(args.ca)
    configuration.server_name = host

    async with connect(
        args.address or host,
        port,
        configuration=configuration,
        create_protocol=H3Client,
    ) as client:
        authority = f"{host}:{port}"
        paths = [(p.path or "/") + (f"?{p.query}" if p.query else "") for p in parts]
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get(authority, path) for path in paths)),
            args.timeout,
        )
    print(json.dumps([summary(u, r) for u, r in zip(args.urls, responses)], indent=1))


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    except (Exception, asyncio.TimeoutError) as e:  # noqa: BLE001 - reported to the test
        print(f"h3_get: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
