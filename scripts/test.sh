#!/usr/bin/env bash
# Runs every test edgepack has, on a fresh Debian machine or a developer's: installs what the
# tests need (ffmpeg, Chromium, the npm player packages, cargo-fuzz), checks formatting and
# lints, runs the Rust unit and behaviour tests and each fuzz target for a short time, then
# plays the demo in hls.js, dash.js and Shaka Player.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot run gains nothing from incremental compilation, and its caches double the size of
# the debug target directory. A developer who wants them can set CARGO_INCREMENTAL=1.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | sed 's/^/disk: /'

# Each stage prints how long the one before it took, so a slow CI run says where its time went.
STAGE_NAME=""
STAGE_START=$SECONDS
stage() {
  if [ -n "$STAGE_NAME" ]; then
    echo "== took $((SECONDS - STAGE_START)) s: $STAGE_NAME (total $SECONDS s)"
  fi
  STAGE_NAME=$1
  STAGE_START=$SECONDS
  echo "== $1"
}

stage "installing test dependencies"
bash scripts/install-test-deps.sh

# The Kafka-protocol broker of the event test is a large build: it runs at the lowest CPU
# priority beside the stages below, using what they leave idle, and is waited for only there.
mkdir -p target
nice -n 19 bash scripts/build-tansu.sh >target/tansu-build.log 2>&1 &
TANSU_BUILD=$!
# On the way out (early, on a failure), the build stops too; the exit status stays the run's.
stop_tansu_build() {
  local rc=$?
  pkill -TERM -P "$TANSU_BUILD" 2>/dev/null || true
  kill "$TANSU_BUILD" 2>/dev/null || true
  exit "$rc"
}
trap stop_tansu_build EXIT

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

stage "cargo test (units beside the code, behaviour in tests/)"
cargo build --locked -p edgepack
cargo test --locked --workspace

stage "fuzz targets, 20 s each over the committed corpus"
# Sanitizer builds of every target (fuzz/, its own lockfile and target directory), then each
# runs over fuzz/corpus/TARGET: a crash, leak or hang fails here and prints the input.
bash scripts/fuzz.sh --ci 20

stage "criterion benches build and run once (figures come from cargo bench, never from tests)"
# In the test profile, so the run builds the dependency graph once, not again with optimisations.
cargo test --locked -p edgepack-benches --benches

stage "load benchmark script runs on tiny media (figures come from a full run, see BENCHMARKS.md)"
python3 benches/load/load_bench.py --quick --bin target/debug/edgepack
python3 benches/load/ssai_bench.py --quick --bin target/debug/edgepack
python3 benches/load/control_bench.py --quick --bin target/debug/edgepack

stage "the control plane's contracts under Schemathesis (every operation, generated requests)"
bash scripts/contracts-check.sh target/debug/edgepack

stage "real players in headless Chromium"
# Two test files at a time: playback runs in real time and leaves the CPU mostly idle; each
# file starts its own servers on ephemeral ports, so they do not disturb each other.
EDGEPACK_BIN="$PWD/target/debug/edgepack" node --test --test-concurrency=2 tests/players/

# Last, so that the broker's build (started at the beginning, at the lowest priority) has had
# the idle time of every stage before.
stage "control plane events through a real Kafka-protocol broker (tansu)"
if ! wait "$TANSU_BUILD"; then
  tail -n 40 target/tansu-build.log >&2
  echo "building tansu failed (whole log: target/tansu-build.log)" >&2
  exit 1
fi
python3 tests/control/kafka_events.py --bin target/debug/edgepack --tansu "$(tail -n 1 target/tansu-build.log)"

stage "done"
df -h . | sed 's/^/disk: /'
du -sh target | sed 's/^/target: /'
