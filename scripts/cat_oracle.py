#!/usr/bin/env python3
"""An independent Common Access Token (CTA-5007-B) implementation for known-answer tests:
PyPI `cwt` (pinned by scripts/install-test-deps.sh) mints and verifies CWTs in COSE_Mac0
(HS256) and COSE_Sign1 (ES256), tagged with the CWT tag 61. access/tests/known_answers_cwt.rs
drives it; nothing in edgepack itself runs it.

    cat_oracle.py mint --alg HS256 --key-hex KEY --kid KID --claims JSON
    cat_oracle.py mint --alg ES256 --key-pem PRIVATE.pem --kid KID --claims JSON
        prints the token, base64url without padding.
    cat_oracle.py verify --alg HS256 --key-hex KEY --kid KID [--now T] TOKEN
    cat_oracle.py verify --alg ES256 --pub-pem PUBLIC.pem --kid KID [--now T] TOKEN
        prints the token's claims as JSON, or exits 1 with the reason on stderr.
    cat_oracle.py --version
        prints the cwt version.

KID is text; it is used as its UTF-8 bytes (cwt puts a kid in the unprotected header, a
byte string). The private PEM is PKCS#8 (or SEC1), the public PEM SubjectPublicKeyInfo.

Claims JSON is an object whose keys are integer claim keys written as strings ("4" is exp;
a key that is not an integer stays a text key, e.g. "sid"). Values:
    "text"                          a text string
    123                             an integer
    {"bytes_hex": "0a00"}           a byte string
    {"tag": 52, "value": V}         CBOR tag 52 around V
    {...} / [...]                   a map (keys as above) / an array, nested freely
The claims printed by `verify` use the same form. cwt adds nbf, iat and exp (now + 3600)
when the claims lack them; verification checks exp and nbf against the clock (or --now)
with cwt's 60 s leeway.
"""

import argparse
import base64
import json
import sys

try:
    import cbor2
    import cwt
    from cwt import COSEKey
except ImportError as e:  # the Rust test tells missing from failing by this exit code
    print("cat_oracle: the cwt package is missing (scripts/install-test-deps.sh): %s" % e,
          file=sys.stderr)
    sys.exit(3)

LEEWAY = 60


def key_from_json(k):
    if isinstance(k, str):
        try:
            return int(k)
        except ValueError:
            return k
    raise ValueError("claim keys are strings in the JSON form")


def from_json(v):
    if isinstance(v, bool) or v is None or isinstance(v, float):
        return v
    if isinstance(v, (str, int)):
        return v
    if isinstance(v, list):
        return [from_json(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"bytes_hex"}:
            return bytes.fromhex(v["bytes_hex"])
        if set(v) == {"tag", "value"}:
            return cbor2.CBORTag(v["tag"], from_json(v["value"]))
        return {key_from_json(k): from_json(x) for k, x in v.items()}
    raise ValueError("cannot read %r" % (v,))


def to_json(v):
    if isinstance(v, bytes):
        return {"bytes_hex": v.hex()}
    if isinstance(v, cbor2.CBORTag):
        return {"tag": v.tag, "value": to_json(v.value)}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    return v


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(args, private):
    if args.alg == "HS256":
        if not args.key_hex:
            raise SystemExit("cat_oracle: HS256 needs --key-hex")
        return COSEKey.from_symmetric_key(bytes.fromhex(args.key_hex), alg="HS256",
                                          kid=args.kid.encode())
    pem = args.key_pem if private else args.pub_pem
    if not pem:
        raise SystemExit("cat_oracle: ES256 needs --%s" % ("key-pem" if private else "pub-pem"))
    with open(pem, "rb") as f:
        return COSEKey.from_pem(f.read(), alg="ES256", kid=args.kid.encode())


def mint(args):
    claims = from_json(json.loads(args.claims))
    if not isinstance(claims, dict):
        raise SystemExit("cat_oracle: --claims must be a JSON object")
    key = load_key(args, private=True)
    if args.alg == "HS256":
        token = cwt.encode_and_mac(claims, key, tagged=True)
    else:
        token = cwt.encode_and_sign(claims, key, tagged=True)
    print(b64url(token))


def verify(args):
    key = load_key(args, private=False)
    try:
        raw = unb64url(args.token)
        # With --now the signature is still checked by cwt; the times are then checked here,
        # as cwt does (same leeway), at that time instead of the clock's.
        claims = cwt.decode(raw, key, no_verify=args.now is not None)
        if args.now is not None:
            if 4 in claims and claims[4] < args.now - LEEWAY:
                raise ValueError("The token has expired.")
            if 5 in claims and claims[5] > args.now + LEEWAY:
                raise ValueError("The token is not yet valid.")
    except Exception as e:  # every refusal, whatever cwt raised
        print("cat_oracle: refused: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(to_json(claims), sort_keys=True))


def main():
    if sys.argv[1:] == ["--version"]:
        print(cwt.__version__)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("mint", "verify"):
        p = sub.add_parser(name)
        p.add_argument("--alg", choices=["HS256", "ES256"], required=True)
        p.add_argument("--key-hex")
        p.add_argument("--kid", required=True)
        if name == "mint":
            p.add_argument("--key-pem")
            p.add_argument("--claims", required=True)
        else:
            p.add_argument("--pub-pem")
            p.add_argument("--now", type=int)
            p.add_argument("token")
    args = parser.parse_args()
    mint(args) if args.command == "mint" else verify(args)


if __name__ == "__main__":
    main()
