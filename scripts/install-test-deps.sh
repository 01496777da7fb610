#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian 12 machine (as root):
#   - ffmpeg (reference/demo media), chromium (the real-player tests drive
#     Debian's /usr/bin/chromium through playwright-core), fonts-dejavu-core
#   - nginx (the real HTTP origin of the origin tests, and the static-file reference
#     of the load benchmark), prometheus (for promtool, which checks the metrics
#     exposition and the alerting rules), wrk (the load benchmark's load generator),
#     libxml2-utils (xmllint, which checks the test ad server's VAST against the IAB XSD)
#     postgresql (the control plane on PostgreSQL: conformance, end to end, benchmark)
#   - aioquic from PyPI (the independent HTTP/3 client of the HTTP/3 test) and cwt (the
#     independent CWT implementation of the access known-answer tests); cloudevents,
#     cbor2 and schemathesis for the control plane's tests
#   - the player test harness' npm packages (tests/players, from its lockfile)
#   - the rustfmt and clippy components, when the toolchain lacks them
#   - cargo-fuzz (pinned) and a C++ compiler (libfuzzer-sys builds libFuzzer), for the fuzz
#     stage (scripts/fuzz.sh --ci)
# Idempotent: installs only what is missing. Never downloads a browser build
# (no `npx playwright install`): the network only reaches package registries.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PLAYERS="$REPO/tests/players"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-test-deps: not root and no sudo; install ffmpeg chromium fonts-dejavu-core yourself" >&2
  fi
fi

# --- Debian packages
missing=()
for pkg in ffmpeg chromium fonts-dejavu-core nginx prometheus wrk redis-server libxml2-utils postgresql; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# python3 and pip for the HTTP/3 client
if ! command -v python3 >/dev/null 2>&1; then missing+=(python3); fi
if ! python3 -m pip --version >/dev/null 2>&1; then missing+=(python3-pip); fi
# node and npm: Debian 12's own are old (node 18) but do run the harness
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
# a C++ compiler: libfuzzer-sys compiles libFuzzer's sources when the fuzz targets build
if ! command -v c++ >/dev/null 2>&1; then missing+=(g++); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y "${missing[@]}"
else
  echo "install-test-deps: ffmpeg, chromium, fonts-dejavu-core, nginx, prometheus, wrk, redis, xmllint, postgresql, node, npm already installed"
fi
# The Debian packages start their services on install where they can; the tests start
# their own nginx on ephemeral ports and need neither.

# --- Python: aioquic, the HTTP/3 client (pinned)
AIOQUIC=1.7.2
if python3 -c "import aioquic, sys; sys.exit(aioquic.__version__ != '$AIOQUIC')" 2>/dev/null; then
  echo "install-test-deps: aioquic $AIOQUIC already installed"
else
  echo "install-test-deps: pip install aioquic==$AIOQUIC"
  # A Debian-managed python3 refuses plain pip installs (PEP 668): retry with the flag.
  python3 -m pip install --quiet --disable-pip-version-check "aioquic==$AIOQUIC" ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "aioquic==$AIOQUIC"
fi

# --- Python: cwt, the independent CWT/COSE implementation the access known-answer tests
# check against (scripts/cat_oracle.py; pinned). It brings cbor2 and cryptography.
CWT=3.3.0
if python3 -c "import cwt, cbor2, sys; sys.exit(cwt.__version__ != '$CWT')" 2>/dev/null; then
  echo "install-test-deps: cwt $CWT already installed"
else
  echo "install-test-deps: pip install cwt==$CWT"
  python3 -m pip install --quiet --disable-pip-version-check "cwt==$CWT" ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "cwt==$CWT"
fi

# --- Python: the control plane's test tools (pinned). cloudevents: the CNCF SDK, the
# independent CloudEvents implementation the end-to-end test reads the event log with
# (tests/control/check_cloudevents.py); cbor2: the CBOR of the tokens the stand-in CRM of the
# swap test mints (tests/control/crm_entitlement.py; cwt above already brings this version).
pip_pin() { # package version
  if python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null; then
    echo "install-test-deps: $1 $2 already installed"
  else
    echo "install-test-deps: pip install $1==$2"
    python3 -m pip install --quiet --disable-pip-version-check "$1==$2" ||
      python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$1==$2"
  fi
}
pip_pin cloudevents 1.11.1
pip_pin cbor2 5.9.0
# schemathesis: runs the OpenAPI contracts against the control services (scripts/contracts-check.sh).
pip_pin schemathesis 4.32.5
# kafka-python: a Kafka client independent of ours (rskafka), which reads the control plane's
# events back from the real broker (tests/control/kafka_events.py).
pip_pin kafka-python 3.0.12

# --- npm packages of the player harness (exact versions from package-lock.json)
stamp="$PLAYERS/node_modules/.install-stamp"
want=$(sha256sum "$PLAYERS/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install-test-deps: tests/players/node_modules up to date"
else
  echo "install-test-deps: npm ci in tests/players"
  (cd "$PLAYERS" && npm ci --no-audit --no-fund)
  echo "$want" >"$stamp"
fi

# --- Rust components the checks use (rustup ships them, but a minimal profile does not)
for component in rustfmt clippy; do
  if cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "install-test-deps: $component already installed"
  elif command -v rustup >/dev/null 2>&1; then
    echo "install-test-deps: rustup component add $component"
    rustup component add "$component"
  else
    echo "install-test-deps: cargo $component is missing and there is no rustup to add it" >&2
    exit 1
  fi
done

# --- cargo-fuzz, which builds and runs the fuzz targets (scripts/fuzz.sh). The stable
# toolchain is enough (scripts/fuzz.sh sets RUSTC_BOOTSTRAP=1 for its -Z flags), and the
# AddressSanitizer and LeakSanitizer runtimes come with rust-std on x86_64 Linux: no other
# component or toolchain is needed. Pinned, and built from its own lockfile.
CARGO_FUZZ=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $CARGO_FUZZ" ]; then
  echo "install-test-deps: cargo-fuzz $CARGO_FUZZ already installed"
else
  echo "install-test-deps: cargo install cargo-fuzz --locked --version $CARGO_FUZZ"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ"
fi
