#!/usr/bin/env python3
"""A stand-in for an operator's own CRM: a small implementation of edgepack's entitlement
contract (control/contracts/entitlement.v1.json), written from the contract alone. It is a
test fixture, not product code: tests/players/control-swap.test.mjs runs the contract's
conformance suite against it, then puts it in place of edgepack's own entitlement service
(`[control.remote.entitlement]`) and plays a stream with a token it issued.

What it does, in the contract's terms:
  * grants: PUT/GET/DELETE /v1/grants/{id}, GET /v1/grants?account=&limit=&after=; a grant's
    product must exist in the catalog (asked over HTTP: GET /v1/products/{id}).
  * the playback decision: POST /v1/playback-sessions (Idempotency-Key honoured) looks the
    asset up in the catalog (GET /v1/assets/{id}), checks its availability window, its
    territories and the account's grants, and answers a session with a Common Access Token
    and the edge's manifest URLs, or 403 playback-denied with every reason.
  * sessions: GET one or a list (never with a token), renewal (a new token while still
    entitled), revocation and ending (told to the edge's admin API when --edge-admin-url is
    given).

Tokens are CWTs in COSE_Mac0 (HMAC 256/256), built here with cbor2 and hmac, with the key
id in the unprotected header and the claims the edge reads: iss, sub (account), iat, nbf,
exp, cti, sid (session), catu (path prefix /vod/{asset}/), catm, catr (automatic renewal),
catgeoiso3166 (the asset's territories, when it has some) and the stream limit as the text
claim "max_streams". State lives in memory; a restart forgets it.

    crm_entitlement.py --listen 127.0.0.1:0 --api-key KEY \\
        --catalog-url http://127.0.0.1:8090 --catalog-api-key KEY \\
        --edge-base-url http://127.0.0.1:8080 --kid control --secret-hex HEX

The first line on stdout is the bound base URL (`http://127.0.0.1:PORT`).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import cbor2
except ImportError:
    print("crm_entitlement: the cbor2 package is missing (scripts/install-test-deps.sh)",
          file=sys.stderr)
    sys.exit(3)

PROBLEM_BASE = "https://edgepack.dev/problems/"
MAX_BODY = 64 * 1024
MAX_LIMIT, DEFAULT_LIMIT = 500, 100
IDEMPOTENCY_SECONDS = 24 * 3600
REVOCATION_SECONDS = 24 * 3600
ID_RE = re.compile(r"(?!\.)[A-Za-z0-9._:-]{1,128}")

# The problem types this service answers (slug: status, title).
PROBLEMS = {
    "bad-request": (400, "The request is malformed"),
    "api-key-invalid": (401, "A valid API key is needed"),
    "playback-denied": (403, "Playback is not allowed"),
    "not-found": (404, "No such resource"),
    "no-such-operation": (404, "No such operation"),
    "method-not-allowed": (405, "Method not allowed"),
    "idempotency-conflict": (409, "The idempotency key was used for a different request"),
    "session-not-active": (409, "The playback session is not active"),
    "body-too-large": (413, "The request body is too large"),
    "unsupported-media-type": (415, "The request body must be application/json"),
    "reference-unknown": (422, "The resource refers to one that does not exist"),
    "upstream-failed": (502, "A service this one depends on failed"),
}

# CWT / CAT claim keys (RFC 8392, CTA-5007-B) and COSE labels (RFC 9052).
ISS, SUB, EXP, NBF, IAT, CTI = 1, 2, 4, 5, 6, 7
CATU, CATM, CATGEOISO3166, CATR = 312, 313, 316, 323
CATU_PATH, MATCH_PREFIX = 3, 1
COSE_ALG, COSE_KID, ALG_HMAC_256_256 = 1, 4, 5
TAG_CWT, TAG_MAC0 = 61, 17


class Problem(Exception):
    """An error answer: an RFC 9457 problem document."""

    def __init__(self, slug, detail, reasons=None):
        super().__init__(detail)
        self.slug, self.detail, self.reasons = slug, detail, reasons or []

    def document(self):
        status, title = PROBLEMS[self.slug]
        doc = {"type": PROBLEM_BASE + self.slug, "title": title, "status": status,
               "detail": self.detail}
        if self.reasons:
            doc["reasons"] = self.reasons
        return status, doc


def reason(slug, detail):
    return {"type": PROBLEM_BASE + slug, "detail": detail}


def now():
    return int(time.time())


# ------------------------------------------------------------------ input checks

def check_id(what, value):
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise Problem("bad-request", f"{what} {value!r}: 1 to 128 characters of "
                      "A-Z a-z 0-9 . _ - :, not starting with a dot")


def check_text(what, value, most):
    if (not isinstance(value, str) or not value or len(value.encode()) > most
            or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)):
        raise Problem("bad-request", f"{what}: 1 to {most} printable characters")


def strict_object(body, required, optional):
    """The JSON object `body` with exactly the fields named (the contract refuses others)."""
    if not isinstance(body, dict):
        raise Problem("bad-request", "the body: a JSON object is expected")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise Problem("bad-request", f"the body: unknown field {unknown[0]!r}")
    for name, kind in required.items():
        if name not in body:
            raise Problem("bad-request", f"the body: missing field {name!r}")
        check_type(name, body[name], kind)
    for name, kind in optional.items():
        if body.get(name) is not None:
            check_type(name, body[name], kind)
    return {k: body.get(k) for k in [*required, *optional]}


def check_type(name, value, kind):
    ok = (isinstance(value, str) if kind is str
          else isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise Problem("bad-request", f"the body: {name} must be "
                      + ("a string" if kind is str else "an integer"))


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Problem("bad-request", f"the body: duplicate field {k!r}")
        seen[k] = v
    return seen


def page_query(query):
    """(account, limit, after) of `?account=&limit=&after=`."""
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"account", "limit", "after"})
    if unknown:
        raise Problem("bad-request", f"the query string: unknown field {unknown[0]!r}")
    twice = sorted(k for k, v in params.items() if len(v) > 1)
    if twice:
        raise Problem("bad-request", f"the query string: duplicate field {twice[0]!r}")
    one = {k: v[0] for k, v in params.items()}
    limit = DEFAULT_LIMIT
    if "limit" in one:
        if not re.fullmatch(r"[0-9]{1,9}", one["limit"]) or not 1 <= int(one["limit"]) <= MAX_LIMIT:
            raise Problem("bad-request", f"limit {one['limit']!r}: 1 to {MAX_LIMIT}")
        limit = int(one["limit"])
    if "account" in one:
        check_id("account", one["account"])
    return one.get("account"), limit, one.get("after", "")


def page(items, limit, after):
    """A page of `items` (dicts with an id) in id order, after the cursor."""
    rest = sorted((i for i in items if i["id"] > after), key=lambda i: i["id"])
    doc = {"items": rest[:limit]}
    if len(rest) > limit:
        doc["next"] = rest[limit - 1]["id"]
    return doc


# ------------------------------------------------------------------ the catalog, over HTTP

class Catalog:
    """The catalog contract's two reads this service needs; None for 404."""

    def __init__(self, base, api_key):
        self.base, self.api_key = base.rstrip("/"), api_key

    def get(self, kind, id_):
        url = f"{self.base}/v1/{kind}/{urllib.parse.quote(id_, safe='')}"
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=2) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise Problem("upstream-failed", f"the catalog answered {e.code} to GET {url}")
        except (OSError, ValueError) as e:
            raise Problem("upstream-failed", f"the catalog did not answer GET {url}: {e}")

    def asset(self, id_):
        return self.get("assets", id_)

    def product(self, id_):
        return self.get("products", id_)


# ------------------------------------------------------------------ tokens

class Minter:
    """Common Access Tokens the edge verifies with the same HS256 key (kid, secret)."""

    def __init__(self, kid, secret, issuer, ttl, window, stream_limit_claim="max_streams"):
        self.kid, self.secret, self.issuer = kid.encode(), secret, issuer
        self.ttl, self.window, self.stream_limit_claim = ttl, window, stream_limit_claim

    def mint(self, session, at):
        exp = at + self.ttl
        claims = {
            ISS: self.issuer,
            SUB: session["account"],
            IAT: at,
            NBF: at - 5,
            EXP: exp,
            CTI: os.urandom(16),
            "sid": session["id"],
            CATU: {CATU_PATH: {MATCH_PREFIX: f"/vod/{session['asset']}/"}},
            CATM: ["GET", "HEAD", "POST"],
            # Automatic renewal (type 0): the edge renews a token near its end by itself.
            CATR: {0: 0, 1: self.ttl, 2: self.window},
            self.stream_limit_claim: session["max_streams"],
        }
        if session["territories"]:
            claims[CATGEOISO3166] = list(session["territories"])
        payload = cbor2.dumps(claims)
        protected = cbor2.dumps({COSE_ALG: ALG_HMAC_256_256})
        to_mac = cbor2.dumps(["MAC0", protected, b"", payload])
        tag = hmac.new(self.secret, to_mac, hashlib.sha256).digest()
        mac0 = cbor2.CBORTag(TAG_MAC0, [protected, {COSE_KID: self.kid}, payload, tag])
        token = cbor2.dumps(cbor2.CBORTag(TAG_CWT, mac0))
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode(), exp


# ------------------------------------------------------------------ the service

def public(session):
    """A session as the contract shows it (without token, manifests or license URLs)."""
    return {k: session[k] for k in ("id", "account", "device", "asset", "product",
                                    "max_streams", "state", "created_at", "expires_at")}


class Entitlement:
    def __init__(self, catalog, minter, edge_base_url, edge_admin=None):
        self.catalog, self.minter = catalog, minter
        self.edge_base_url = edge_base_url.rstrip("/")
        self.edge_admin = edge_admin  # (url, key) or None
        self.lock = threading.Lock()
        self.grants = {}        # id -> grant
        self.sessions = {}      # id -> session (with its territories)
        self.idempotency = {}   # key -> (request, answer, created_at)

    # -- grants

    def put_grant(self, id_, body):
        check_id("grant", id_)
        g = strict_object(body, {"account": str, "product": str, "source": str},
                          {"starts_at": int, "ends_at": int})
        check_id("account", g["account"])
        check_id("product", g["product"])
        check_text("source", g["source"], 128)
        if g["starts_at"] is not None and g["ends_at"] is not None and g["ends_at"] <= g["starts_at"]:
            raise Problem("bad-request", "ends_at must be after starts_at")
        if self.catalog.product(g["product"]) is None:
            raise Problem("reference-unknown",
                          f"product: the catalog has no product {g['product']!r}")
        with self.lock:
            before = self.grants.get(id_)
            if before is not None and all(before[k] == g[k] for k in g):
                return 200, self.show_grant(before)
            grant = {"id": id_, **g, "revision": before["revision"] + 1 if before else 1,
                     "updated_at": now()}
            self.grants[id_] = grant
            return (200 if before else 201), self.show_grant(grant)

    @staticmethod
    def show_grant(g):
        return {k: v for k, v in g.items() if v is not None}

    def get_grant(self, id_):
        check_id("grant", id_)
        with self.lock:
            g = self.grants.get(id_)
        if g is None:
            raise Problem("not-found", f"no grant {id_!r}")
        return self.show_grant(g)

    def delete_grant(self, id_):
        check_id("grant", id_)
        with self.lock:
            if self.grants.pop(id_, None) is None:
                raise Problem("not-found", f"no grant {id_!r}")

    def list_grants(self, query):
        account, limit, after = page_query(query)
        with self.lock:
            items = [self.show_grant(g) for g in self.grants.values()
                     if account is None or g["account"] == account]
        return page(items, limit, after)

    # -- the decision

    def decide(self, account, asset_id, country, at):
        """(product, max_streams, territories) when allowed; raises playback-denied."""
        asset = self.catalog.asset(asset_id)
        if asset is None:
            raise denied([reason("asset-unknown", f"the catalog has no asset {asset_id!r}")])
        reasons = []
        window = asset.get("availability") or {}
        if not holds(window.get("starts_at"), window.get("ends_at"), at):
            reasons.append(reason("asset-not-available",
                                  "the asset is outside its availability window"))
        territories = asset.get("territories") or []
        if territories:
            if country is None:
                reasons.append(reason("territory-not-allowed", "the asset is offered in "
                                      "some countries only, and the request names none"))
            elif country.upper() not in (t.upper() for t in territories):
                reasons.append(reason("territory-not-allowed",
                                      f"the asset is not offered in {country}"))
        with self.lock:
            grants = [g for g in self.grants.values() if g["account"] == account]
        # The best grant: one that holds now, for a product the asset is in, with the most
        # streams (ties: the smallest product id).
        best = None
        for product in sorted({g["product"] for g in grants
                               if holds(g["starts_at"], g["ends_at"], at)
                               and g["product"] in asset.get("products", [])}):
            p = self.catalog.product(product)
            if p is not None and (best is None or p["max_streams"] > best[1]):
                best = (product, p["max_streams"])
        if best is None:
            reasons.append(reason("not-entitled",
                                  "the account holds no product that includes the asset"))
        if reasons:
            raise denied(reasons)
        return best[0], best[1], territories

    def issue(self, session, at):
        """The session with a fresh token, its manifest URLs and license URLs."""
        token, exp = self.minter.mint(session, at)
        session["expires_at"] = exp
        base, asset = self.edge_base_url, session["asset"]
        q = "?cat=" + urllib.parse.quote(token, safe="")
        return {**public(session), "token": token,
                "manifests": {"hls": f"{base}/vod/{asset}/master.m3u8{q}",
                              "hls_ts": f"{base}/vod/{asset}/ts/master.m3u8{q}",
                              "dash": f"{base}/vod/{asset}/manifest.mpd{q}"},
                "license_urls": {"clearkey": f"{base}/vod/{asset}/license/clearkey{q}"}}

    # -- sessions

    def create_session(self, body, idempotency_key):
        r = strict_object(body, {"account": str, "device": str, "asset": str},
                          {"country": str})
        check_id("account", r["account"])
        check_id("asset", r["asset"])
        check_text("device", r["device"], 128)
        if r["country"] is not None and not re.fullmatch(r"[A-Za-z]{2}", r["country"]):
            raise Problem("bad-request",
                          f"country {r['country']!r}: an ISO 3166-1 alpha-2 code")
        if idempotency_key is not None:
            check_text("Idempotency-Key", idempotency_key, 255)
            with self.lock:
                earlier = self.remembered(idempotency_key, r)
            if earlier is not None:
                return earlier
        at = now()
        country = r["country"].upper() if r["country"] else None
        product, max_streams, territories = self.decide(r["account"], r["asset"], country, at)
        session = {"id": os.urandom(16).hex(), "account": r["account"], "device": r["device"],
                   "asset": r["asset"], "product": product, "max_streams": max_streams,
                   "state": "active", "created_at": at, "expires_at": at,
                   "territories": territories}
        answer = self.issue(session, at)
        with self.lock:
            if idempotency_key is not None:
                earlier = self.remembered(idempotency_key, r)
                if earlier is not None:
                    # A concurrent request with the same key won: answer as it did.
                    return earlier
                self.idempotency[idempotency_key] = (r, answer, at)
            self.sessions[session["id"]] = session
        return answer

    def remembered(self, key, request):
        """The answer given earlier to `key` (under the lock), or None; 409 for another body."""
        for k in [k for k, (_, _, t) in self.idempotency.items() if t <= now() - IDEMPOTENCY_SECONDS]:
            del self.idempotency[k]
        if key not in self.idempotency:
            return None
        earlier, answer, _ = self.idempotency[key]
        if earlier != request:
            raise Problem("idempotency-conflict",
                          "this Idempotency-Key came earlier with another request")
        return answer

    def session(self, id_):
        check_id("session", id_)
        with self.lock:
            s = self.sessions.get(id_)
        if s is None:
            raise Problem("not-found", f"no playback session {id_!r}")
        return s

    def get_session(self, id_):
        return public(self.session(id_))

    def list_sessions(self, query):
        account, limit, after = page_query(query)
        with self.lock:
            items = [public(s) for s in self.sessions.values()
                     if account is None or s["account"] == account]
        return page(items, limit, after)

    def renew_session(self, id_):
        s = self.session(id_)
        if s["state"] != "active":
            raise Problem("session-not-active", f"the session is {s['state']}")
        at = now()
        try:
            # The country is not known at renewal; the token keeps the territories, so the
            # edge goes on checking the viewer's country on every request.
            s["product"], s["max_streams"], s["territories"] = self.decide(
                s["account"], s["asset"], None, at)
        except Problem as p:
            territory_only = p.slug == "playback-denied" and all(
                r["type"].endswith("/territory-not-allowed") for r in p.reasons)
            if not territory_only:
                if p.slug == "playback-denied":
                    self.set_state(s, ("active",), "ended")
                    self.tell_edge(id_)
                raise
        with self.lock:
            return self.issue(s, at)

    def end_session(self, id_):
        s = self.session(id_)
        self.set_state(s, ("active",), "ended")
        if s["state"] != "revoked":
            self.tell_edge(id_)
        return public(s)

    def revoke_session(self, id_):
        s = self.session(id_)
        self.set_state(s, ("active", "ended"), "revoked")
        self.tell_edge(id_)
        return public(s)

    def set_state(self, s, from_states, to):
        with self.lock:
            if s["state"] in from_states:
                s["state"] = to

    def tell_edge(self, session_id):
        """Revokes the session on the edge (POST /admin/v1/revocations), when configured."""
        if self.edge_admin is None:
            return
        url, key = self.edge_admin
        body = json.dumps({"session": session_id, "until": now() + REVOCATION_SECONDS}).encode()
        req = urllib.request.Request(f"{url}/admin/v1/revocations", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=2):
                pass
        except (OSError, ValueError) as e:
            raise Problem("upstream-failed", f"the edge did not take the revocation (retry): {e}")


def holds(starts_at, ends_at, at):
    return (starts_at is None or at >= starts_at) and (ends_at is None or at < ends_at)


def denied(reasons):
    return Problem("playback-denied", "; ".join(r["detail"] for r in reasons), reasons)


# ------------------------------------------------------------------ HTTP

ROUTES = [  # (method, path pattern, handler name, takes a JSON body)
    ("GET", r"/v1/grants", "list_grants", False),
    ("GET", r"/v1/grants/([^/]+)", "get_grant", False),
    ("PUT", r"/v1/grants/([^/]+)", "put_grant", True),
    ("DELETE", r"/v1/grants/([^/]+)", "delete_grant", False),
    ("GET", r"/v1/playback-sessions", "list_sessions", False),
    ("POST", r"/v1/playback-sessions", "create_session", True),
    ("GET", r"/v1/playback-sessions/([^/]+)", "get_session", False),
    ("DELETE", r"/v1/playback-sessions/([^/]+)", "end_session", False),
    ("POST", r"/v1/playback-sessions/([^/]+)/renewal", "renew_session", False),
    ("POST", r"/v1/playback-sessions/([^/]+)/revocation", "revoke_session", False),
]


def is_json(content_type):
    essence = content_type.split(";")[0].strip().lower()
    return essence == "application/json" or (
        essence.startswith("application/") and essence.endswith("+json"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "crm-entitlement/1"
    service = None  # the Entitlement
    api_key = None

    def log_message(self, fmt, *args):
        if os.environ.get("CRM_ENTITLEMENT_LOG"):
            super().log_message(fmt, *args)

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def body_bytes(self):
        """The request body, read whole so the connection stays usable; None if too large."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    self.close_connection = True
                    return None
            return data
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            # Drained when small enough to be worth keeping the connection; else closed.
            if length <= 16 * MAX_BODY:
                self.rfile.read(length)
            else:
                self.close_connection = True
            return None
        return self.rfile.read(length)

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            raw = self.body_bytes()
            status, doc = self.route(url.path, url.query, raw)
        except Problem as p:
            status, doc = p.document()
        except Exception as e:  # a bug here: answer it, keep serving
            status, doc = 500, {"type": PROBLEM_BASE + "internal", "title": "Internal error",
                                "status": 500, "detail": repr(e)}
        self.answer(status, doc)

    def route(self, path, query, raw):
        allowed = []
        for method, pattern, name, takes_body in ROUTES:
            m = re.fullmatch(pattern, path)
            if not m:
                continue
            if method != self.command:
                allowed.append(method)
                continue
            self.authorize()
            args = [urllib.parse.unquote(a) for a in m.groups()]
            if takes_body:
                args.append(self.json_body(raw))
            if name in ("list_grants", "list_sessions"):
                args.append(query)
            if name == "create_session":
                args.append(self.headers.get("Idempotency-Key"))
            result = getattr(self.service, name)(*args)
            if name == "put_grant":
                return result
            if name == "delete_grant":
                return 204, None
            return (201 if name == "create_session" else 200), result
        if allowed:
            raise Problem("method-not-allowed", f"{self.command} {path}: use {', '.join(allowed)}")
        raise Problem("no-such-operation", f"{self.command} {path} is no operation of this API")

    def authorize(self):
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            raise Problem("api-key-invalid", "send Authorization: Bearer <api key>")
        if not hmac.compare_digest(given[7:].strip().encode(), self.api_key.encode()):
            raise Problem("api-key-invalid", "the API key is not one this service knows")

    def json_body(self, raw):
        content_type = self.headers.get("Content-Type", "")
        if not is_json(content_type):
            raise Problem("unsupported-media-type",
                          f"Content-Type {content_type!r}: send application/json")
        if raw is None:
            raise Problem("body-too-large", f"the body is larger than {MAX_BODY} bytes")
        try:
            return json.loads(raw, object_pairs_hook=no_duplicates)
        except ValueError as e:
            raise Problem("bad-request", f"the body: {e}")

    def answer(self, status, doc):
        self.send_response(status)
        self.send_header("Cache-Control", "no-store")
        if doc is None:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(doc).encode()
        self.send_header("Content-Type",
                         "application/problem+json" if status >= 400 else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="host:port (port 0: a free one)")
    ap.add_argument("--api-key", required=True, help="the key callers send as a bearer token")
    ap.add_argument("--catalog-url", required=True, help="base URL of the catalog contract")
    ap.add_argument("--catalog-api-key", required=True)
    ap.add_argument("--edge-base-url", required=True, help="where players reach the edge")
    ap.add_argument("--kid", required=True, help="key id of the edge's [[access.keys]] entry")
    ap.add_argument("--secret-hex", required=True, help="its HS256 secret, hex")
    ap.add_argument("--issuer", default="crm-entitlement", help="iss of the tokens")
    ap.add_argument("--token-ttl", type=int, default=120, help="token lifetime, seconds")
    ap.add_argument("--renewal-window", type=int, default=30,
                    help="seconds before exp from which the edge renews")
    ap.add_argument("--edge-admin-url", help="an edge node whose admin API takes revocations")
    ap.add_argument("--edge-admin-key", help="the edge's access.admin_key")
    a = ap.parse_args()
    if not 0 < a.renewal_window < a.token_ttl:
        ap.error("--renewal-window must be positive and shorter than --token-ttl")
    host, _, port = a.listen.rpartition(":")
    minter = Minter(a.kid, bytes.fromhex(a.secret_hex), a.issuer, a.token_ttl,
                    a.renewal_window)
    edge_admin = (a.edge_admin_url.rstrip("/"), a.edge_admin_key) if a.edge_admin_url else None
    Handler.service = Entitlement(Catalog(a.catalog_url, a.catalog_api_key), minter,
                                  a.edge_base_url, edge_admin)
    Handler.api_key = a.api_key
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    print(f"http://{bound_host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
