#!/usr/bin/env bash
# Runs Schemathesis against each control-plane contract (control/contracts/*.v1.json) on a
# real `edgepack control` server (SQLite in a temporary directory), as issue 16 asks.
#
#   scripts/contracts-check.sh [EDGEPACK_BIN]
#
# EDGEPACK_BIN (or the argument) is the edgepack binary (default target/debug/edgepack).
# Needs curl and Schemathesis, pinned:  python3 -m pip install schemathesis==4.32.5
# Environment:
#   ST                  the Schemathesis command (default: st)
#   CONTRACTS           contracts to check (default: "catalog entitlement billing")
#   ST_MAX_EXAMPLES     test cases per operation and phase (default 50; billing 3 times that)
#   ST_SEED             Hypothesis seed (default: random; the run prints it)
#   ST_EXTRA            more `st run` options, word-split (e.g. "--report junit,har")
#   ST_REPORT_DIR       where the JUnit reports go (default: the temporary directory)
#   CONTRACTS_DIR       where the documents are (default: control/contracts)
#   KEEP_TMP=1          keep the temporary directory (config, hooks, server log, reports,
#                       Schemathesis' crash cache for `cd DIR && st replay ID`)
# Exits non-zero when any check fails on any contract.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-${EDGEPACK_BIN:-$root/target/debug/edgepack}}
st=${ST:-st}
contracts=${CONTRACTS:-catalog entitlement billing}
contracts_dir=$(cd "${CONTRACTS_DIR:-$root/control/contracts}" && pwd)
max_examples=${ST_MAX_EXAMPLES:-50}

command -v curl >/dev/null || { echo "contracts-check: curl is needed" >&2; exit 2; }
[[ -x $bin ]] || { echo "contracts-check: no edgepack binary at $bin" >&2; exit 2; }
if ! have=$($st --version 2>/dev/null); then
    echo "contracts-check: no '$st'; python3 -m pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
    exit 2
fi
have=${have##* }
if [[ $have != "$SCHEMATHESIS_VERSION" ]]; then
    echo "contracts-check: schemathesis $have found, $SCHEMATHESIS_VERSION pinned;" \
        "python3 -m pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
    exit 2
fi

api_key=contracts-check-key-0123456789
webhook_secret=whsec_contracts_check_0123456789
secret_hex=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

tmp=$(mktemp -d "${TMPDIR:-/tmp}/contracts-check.XXXXXX")
reports=${ST_REPORT_DIR:-$tmp/reports}
mkdir -p "$reports" && reports=$(cd "$reports" && pwd)
server_pid=
cleanup() {
    local rc=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        echo "contracts-check: kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/control.toml" <<EOF
[control]
listen = "127.0.0.1:0"
data_dir = "$tmp/data"

[[control.api_keys]]
name = "contracts-check"
key = "$api_key"
scopes = ["*"]

[control.entitlement.signing]
kid = "contracts-check"
alg = "HS256"
secret_hex = "$secret_hex"

[control.billing]
webhook_secrets = ["$webhook_secret"]
EOF
mkdir -p "$tmp/data"

# Port 0: the server picks a free port and prints it.
"$bin" control --config "$tmp/control.toml" >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!

url=
for _ in $(seq 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "contracts-check: edgepack control exited:" >&2
        cat "$tmp/server.out" "$tmp/server.log" >&2
        exit 1
    fi
    if [[ -z $url ]]; then
        url=$(sed -n 's/^edgepack control listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/server.out")
    fi
    if [[ -n $url ]] && curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [[ -z $url ]] || ! curl -fsS -o /dev/null "$url/readyz"; then
    echo "contracts-check: the server did not become ready" >&2
    cat "$tmp/server.out" "$tmp/server.log" >&2
    exit 1
fi
echo "contracts-check: edgepack control at $url"

call() { # METHOD PATH BODY
    curl -fsS -X "$1" "$url$2" -H "Authorization: Bearer $api_key" \
        -H 'Content-Type: application/json' --data "$3" -o /dev/null -w "$1 $2 %{http_code}\n"
}
# Seeded before each contract: the previous run may have deleted or changed them.
seed() {
    call PUT /v1/products/basic '{"name":"Basic","max_streams":100}'
    call PUT /v1/assets/demo '{"title":"Demo","products":["basic"]}'
    call PUT /v1/grants/seed '{"account":"acct-1","product":"basic","source":"manual"}'
}

# Hooks: without them the fuzzer would never get past the webhook's signature check nor name
# the seeded product, asset and account, and every session operation would stop at 403/404.
# They only swap a string for another string (or sign the exact bytes sent), so a generated
# case stays positive or negative as it was.
cat >"$tmp/hooks.py" <<'EOF'
import hashlib
import hmac
import os
import time
import uuid

import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.transport.serialization import serialize_json

SECRET = os.environ["CONTRACTS_CHECK_WEBHOOK_SECRET"]
ACCOUNT = os.environ["CONTRACTS_CHECK_ACCOUNT"]
PRODUCT = os.environ["CONTRACTS_CHECK_PRODUCT"]
ASSET = os.environ["CONTRACTS_CHECK_ASSET"]
NOW = int(time.time())


def _subscription_event(body):
    """A Stripe-shaped `customer.subscription.*` event in place of `type`, `created` and `data`
    (its `id` is made unique when it is sent)."""
    price = st.fixed_dictionaries(
        {"id": st.sampled_from(["price_1", "price_2"])},
        optional={"lookup_key": st.sampled_from(["basic_monthly", "other"])},
    )
    subscription = st.fixed_dictionaries(
        {
            "object": st.just("subscription"),
            "id": st.sampled_from(["sub_1", "sub_2", "sub.3", "bad id!"]),
            "customer": st.sampled_from(["cus_1", "cus_2", {"id": "cus_3"}]),
            "status": st.sampled_from(
                ["active", "trialing", "past_due", "canceled", "unpaid", "incomplete", "paused", "odd"]
            ),
            "metadata": st.fixed_dictionaries(
                {
                    "account": st.sampled_from([ACCOUNT, ACCOUNT, "acct-2", ""]),
                    "product": st.sampled_from([PRODUCT, PRODUCT, "missing-product"]),
                }
            ),
        },
        optional={
            "current_period_end": st.integers(NOW - 10**6, NOW + 10**7),
            "start_date": st.integers(NOW - 10**7, NOW + 10**6),
            "items": st.fixed_dictionaries(
                {"data": st.lists(st.fixed_dictionaries({}, optional={"price": price}), max_size=2)}
            ),
        },
    )
    kind = st.sampled_from(
        ["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"]
    )
    return st.builds(
        lambda t, c, o: {**body, "id": "evt_", "type": t, "created": c, "data": {"object": o}},
        kind,
        st.integers(NOW - 10**5, NOW),
        subscription,
    )


@schemathesis.hook
def flatmap_body(ctx, body):
    label = ctx.operation.label if ctx.operation is not None else ""
    if not isinstance(body, dict):
        return st.just(body)
    is_str = lambda key: isinstance(body.get(key), str)
    if label == "POST /v1/playback-sessions" and is_str("account") and is_str("asset"):
        usable = {"account": ACCOUNT, "asset": ASSET}
        if is_str("device"):
            usable["device"] = "tv-1"
        return st.sampled_from([body, {**body, **usable}])
    if label == "PUT /v1/grants/{id}" and is_str("product"):
        return st.sampled_from([body, {**body, "product": PRODUCT}])
    products = body.get("products")
    if label == "PUT /v1/assets/{id}" and isinstance(products, list) and all(isinstance(p, str) for p in products):
        return st.sampled_from([body, {**body, "products": [PRODUCT]}])
    created = body.get("created")
    if (
        label == "POST /v1/webhooks/stripe"
        and is_str("id")
        and is_str("type")
        and isinstance(created, (int, float))
        and not isinstance(created, bool)
        and float(created).is_integer()
        and -(2**63) <= created < 2**63
        and "data" in body
    ):
        return st.one_of(_subscription_event(body), _subscription_event(body), st.just(body))
    return st.just(body)


# Reads (never deletes) sometimes name a resource that exists.
KNOWN = {
    "GET /v1/products/{id}": PRODUCT,
    "GET /v1/assets/{id}": ASSET,
    "GET /v1/grants/{id}": "seed",
    "GET /v1/subscriptions/{id}": "sub_1",
}


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    known = KNOWN.get(ctx.operation.label if ctx.operation is not None else "")
    if known is None or not isinstance(path_parameters, dict) or not isinstance(path_parameters.get("id"), str):
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "id": known}])


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Signs a webhook delivery whose generated Stripe-Signature header is a valid one."""
    if case.operation.path != "/v1/webhooks/stripe" or case.headers is None:
        return
    if not isinstance(case.headers.get("Stripe-Signature"), str):
        return
    meta = case.meta
    header = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    if header is not None and header.mode == GenerationMode.NEGATIVE:
        return
    if isinstance(case.body, dict) and case.body.get("id") == "evt_":
        case.body["id"] = f"evt_{uuid.uuid4().hex}"  # a fresh event, not a replay
    # The bytes requests will send (schemathesis passes the body as `json=`).
    if isinstance(case.body, NotSet):
        raw = b""
    else:
        payload = serialize_json(case.body)
        raw = payload.get("data")
    if raw is None:
        raw = requests.compat.json.dumps(payload["json"], allow_nan=False).encode("utf-8")
    t = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    case.headers["Stripe-Signature"] = f"t={t},v1={mac}"
EOF
export SCHEMATHESIS_HOOKS=$tmp/hooks.py
export CONTRACTS_CHECK_WEBHOOK_SECRET=$webhook_secret CONTRACTS_CHECK_ACCOUNT=acct-1
export CONTRACTS_CHECK_PRODUCT=basic CONTRACTS_CHECK_ASSET=demo

checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_schema_conformance,response_headers_conformance,negative_data_rejection

failed=()
for name in $contracts; do
    echo
    echo "contracts-check: ===== $name ====="
    seed
    # The document the server serves is the one checked in.
    if ! curl -fsS "$url/openapi/$name.v1.json" -o "$tmp/served.json" ||
        ! python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
            "$tmp/served.json" "$contracts_dir/$name.v1.json"; then
        echo "contracts-check: /openapi/$name.v1.json differs from $contracts_dir/$name.v1.json" >&2
        failed+=("$name(served document)")
    fi
    # Billing has two operations and the webhook's logic sits behind many shapes of event.
    n=$max_examples
    [[ $name == billing ]] && n=$((max_examples * 3))
    args=(
        run "$contracts_dir/$name.v1.json"
        --url "$url"
        -H "Authorization: Bearer $api_key"
        --checks "$checks"
        --max-examples "$n"
        # One worker: on CPython 3.11 concurrent ast.parse calls (Hypothesis describing
        # Schemathesis' lambdas) fail with "AST constructor recursion depth mismatch".
        --workers 1
        --request-timeout 10
        --generation-database none
        --no-color
        --report junit --report-dir "$reports/$name"
    )
    [[ -n ${ST_SEED:-} ]] && args+=(--seed "$ST_SEED")
    # shellcheck disable=SC2206
    [[ -n ${ST_EXTRA:-} ]] && args+=($ST_EXTRA)
    # From the temporary directory: Schemathesis keeps its crash cache under the working one.
    if ! (cd "$tmp" && $st "${args[@]}"); then
        failed+=("$name")
    fi
done

echo
if ((${#failed[@]})); then
    echo "contracts-check: FAILED: ${failed[*]} (KEEP_TMP=1 keeps the server log and reports)" >&2
    exit 1
fi
echo "contracts-check: all contracts pass ($contracts)"
