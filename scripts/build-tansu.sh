#!/usr/bin/env bash
# Builds tansu, a Kafka-protocol broker (crates.io, Apache-2.0), for the control plane's event
# test (tests/control/kafka_events.py): the real broker the events go to. Built once from its
# own lockfile with in-memory storage (the `dynostore` feature) and cached in
# target/tools/bin; a second run finds it and returns at once.
#
#   scripts/build-tansu.sh          prints the binary's path once it is there
#
# It is a large build (about 500 crates), so scripts/test.sh starts it at the lowest CPU
# priority alongside the other stages and waits for it only when the event test runs.
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU=0.6.0
ROOT=$PWD/target/tools
BIN=$ROOT/bin/tansu

if [[ -x $BIN ]] && [[ $("$BIN" --version 2>/dev/null) == *"$TANSU"* ]]; then
  echo "$BIN"
  exit 0
fi
# Debug profile: the test sends a few hundred records, and an unoptimised build takes about
# half the time of a release one.
cargo install tansu --version "$TANSU" --locked --debug --features dynostore \
  --root "$ROOT" --target-dir "$ROOT/build" >&2
rm -rf "$ROOT/build"
echo "$BIN"
