#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (cargo-fuzz; see fuzz/README.md).
#
#   scripts/fuzz.sh TARGET MINUTES   one target for MINUTES of CPU time, over a working copy of
#                                    its corpus (fuzz/work/TARGET, kept between runs; the
#                                    committed fuzz/corpus/TARGET is read, never written)
#   scripts/fuzz.sh --ci [SECONDS]   build every target once (at opt-level 1: a smoke run
#                                    gains less from full optimisation than the build costs),
#                                    then run each for SECONDS (default 20), FUZZ_JOBS at once
#                                    (default: one per CPU), over the committed corpus and its
#                                    regression cases; exits non-zero on any crash, leak,
#                                    timeout or out-of-memory, after printing the input
#   scripts/fuzz.sh --list           the targets
#
# The build uses the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags) and
# fuzz/Cargo.lock as committed. libFuzzer's progress goes to fuzz/work/logs/TARGET.log; stdout
# gets one summary line per target. Environment: FUZZ_TIMEOUT (seconds for one input before
# it counts as a hang, default 10), FUZZ_RSS_MB (memory limit, default 2048),
# FUZZ_MAX_LEN (longest input, default libFuzzer's choice from the corpus), FUZZ_TARGET_DIR
# (where the targets are built, default fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

FUZZ_DIR=$REPO/fuzz
TRIPLE=x86_64-unknown-linux-gnu
TARGET_DIR=${FUZZ_TARGET_DIR:-$FUZZ_DIR/target}
BIN_DIR=$TARGET_DIR/$TRIPLE/release
WORK=$FUZZ_DIR/work
LOGS=$WORK/logs
ARTIFACTS=$FUZZ_DIR/artifacts
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}

export RUSTC_BOOTSTRAP=1
# Leaks are failures; ASan's report of one names the allocation's stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

targets() {
  sed -n 's/^name = "\(.*\)"$/\1/p' "$FUZZ_DIR/Cargo.toml" | grep -v '^edgepack-fuzz$'
}

build() {
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is not installed (scripts/install-test-deps.sh installs it)" >&2
    exit 1
  fi
  # cargo fuzz build has no --locked: check that fuzz/Cargo.lock is current first, so the
  # build cannot pick other versions than the committed ones.
  cargo fetch --locked --quiet --manifest-path "$FUZZ_DIR/Cargo.toml"
  local start=$SECONDS
  (cd "$REPO" && cargo fuzz build --fuzz-dir "$FUZZ_DIR" --target-dir "$TARGET_DIR" "$@") >"$LOGS/build.log" 2>&1 || {
    tail -n 40 "$LOGS/build.log" >&2
    echo "fuzz: build failed (whole log: $LOGS/build.log)" >&2
    exit 1
  }
  echo "fuzz: built ${1:-every target} in $((SECONDS - start)) s"
}

# Shows a crashing input: where it is, its bytes, and how to run it again.
show_artifact() {
  local target=$1 artifact=$2 log=$3
  echo "---- $target: $(basename "$artifact") ($(wc -c <"$artifact") bytes)"
  echo "---- what libFuzzer said (the end of $log):"
  # The report starts at the first sanitizer/panic line; show it and a little before.
  local first
  first=$(grep -n -m1 -E "panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|==[0-9]+== ?ERROR|ALARM: working on the last Unit|out-of-memory" "$log" | cut -d: -f1 || true)
  if [ -n "$first" ]; then
    sed -n "$((first > 3 ? first - 3 : 1)),$((first + 40))p" "$log"
  else
    tail -n 60 "$log"
  fi
  echo "---- the input, hex (first 1 KiB):"
  head -c 1024 "$artifact" | od -A x -t x1z -v
  echo "---- reproduce:"
  echo "  $BIN_DIR/$target $artifact"
  echo "  or: RUSTC_BOOTSTRAP=1 cargo fuzz run $target $artifact"
  echo "  minimize: RUSTC_BOOTSTRAP=1 cargo fuzz tmin $target $artifact"
  echo "  then keep it as fuzz/corpus/$target/regression-<short-name> with the fix"
}

# Sums a libFuzzer log's figures: executions, seconds, corpus units and bytes.
summarise() {
  local log=$1
  local execs secs corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  # When libFuzzer dies (crash, leak) it prints no final stats: take the last status line.
  if [ -z "$execs" ]; then
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
  fi
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n1 | sed 's/corp: //')
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
  echo "${execs:-0} ${corp:-?} ${secs:-}"
}

# Runs one target's fuzzer. Args: target, seconds, log, new-unit dir, more corpus dirs.
run_fuzzer() {
  local target=$1 seconds=$2 log=$3 out=$4
  shift 4
  local max_len=()
  if [ -n "${FUZZ_MAX_LEN:-}" ]; then max_len=("-max_len=$FUZZ_MAX_LEN"); fi
  mkdir -p "$out" "$ARTIFACTS/$target"
  "$BIN_DIR/$target" \
    -max_total_time="$seconds" \
    -timeout="$TIMEOUT" \
    -rss_limit_mb="$RSS_MB" \
    -detect_leaks=1 \
    -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/$target/" \
    "${max_len[@]}" \
    "$out" "$@" >"$log" 2>&1
}

# libFuzzer's timeout is wall-clock time: a process stopped for a while (SIGSTOP, a busy
# machine) reports the input it was on as a hang. Such an input is run again alone; it counts
# only when it takes too long again. Returns 0 when the artifact is a timeout that did not
# reproduce (and removes it).
spurious_timeout() {
  local target=$1 artifact=$2
  case $(basename "$artifact") in timeout-*) ;; *) return 1 ;; esac
  if "$BIN_DIR/$target" -timeout="$TIMEOUT" -detect_leaks=1 "$artifact" >/dev/null 2>&1; then
    echo "fuzz: $target: $(basename "$artifact") ran in time when tried again alone (the" \
      "fuzzer was paused or starved, not hung); ignored"
    rm -f "$artifact"
    return 0
  fi
  return 1
}

newest_artifact() {
  local target=$1 since=$2
  find "$ARTIFACTS/$target" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
    -newer "$since" -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n1 | cut -d' ' -f2-
}

# One target's CI run: its result line (and on failure what to look at) in $WORK/TARGET.ci.out,
# and a FAILED marker file when it failed.
ci_one() {
  local target=$1 seconds=$2
  local log=$LOGS/$target.ci.log out=$WORK/$target.ci.out
  local new
  new=$(mktemp -d "$WORK/ci-$target.XXXXXX")
  local stamp=$WORK/.stamp-$target
  touch "$stamp"
  rm -f "$WORK/$target.ci.failed"
  local rc=0
  # New units go to a scratch directory first in the list; the committed corpus (seeds and
  # regression cases) is read only.
  run_fuzzer "$target" "$seconds" "$log" "$new" "$FUZZ_DIR/corpus/$target" || rc=$?
  read -r execs corp secs < <(summarise "$log")
  local rate=$((execs / (seconds > 0 ? seconds : 1)))
  if [ -n "${secs:-}" ] && [ "$secs" -gt 0 ]; then rate=$((execs / secs)); fi
  local artifact
  artifact=$(newest_artifact "$target" "$stamp")
  rm -rf "$new" "$stamp"
  if [ -n "$artifact" ] && spurious_timeout "$target" "$artifact" >"$out"; then
    artifact="" rc=0
  fi
  {
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ]; then
      printf '%-17s %12s %8s %16s  %s\n' "$target" "$execs" "$rate" "$corp" ok
    else
      printf '%-17s %12s %8s %16s  %s\n' "$target" "$execs" "$rate" "$corp" "FAILED (exit $rc)"
      touch "$WORK/$target.ci.failed"
      if [ -n "$artifact" ]; then
        show_artifact "$target" "$artifact" "$log"
      else
        echo "---- $target: no input was saved; the end of $log:"
        tail -n 40 "$log"
      fi
    fi
  } >>"$out"
}

# Every target for SECONDS, FUZZ_JOBS at a time (default: one per CPU; libFuzzer runs on
# one), then the result lines in target order.
ci() {
  local seconds=${1:-20}
  local start=$SECONDS
  local jobs=${FUZZ_JOBS:-$(nproc)}
  build
  local failed=() target running=0
  for target in $(targets); do
    rm -f "$WORK/$target.ci.out"
    ci_one "$target" "$seconds" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait || true
  printf '%-17s %12s %8s %16s  %s\n' target executions exec/s corpus result
  for target in $(targets); do
    cat "$WORK/$target.ci.out" 2>/dev/null || echo "$target: no result (the run died)"
    if [ -f "$WORK/$target.ci.failed" ] || [ ! -f "$WORK/$target.ci.out" ]; then
      failed+=("$target")
    fi
  done
  echo "fuzz: ${#failed[@]} of $(targets | wc -l) targets failed; $((SECONDS - start)) s in all"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
  fi
}

# One target for MINUTES of CPU time: a run that was paused (SIGSTOP) or starved goes on
# for what is left, over the same working corpus.
long() {
  local target=$1 minutes=$2
  targets | grep -qx "$target" || {
    echo "fuzz: no target '$target' (scripts/fuzz.sh --list)" >&2
    exit 2
  }
  build "$target"
  local want=$((minutes * 60)) cpu=0 round=0 total_execs=0 start=$SECONDS
  local corpus=$WORK/$target/corpus
  mkdir -p "$corpus"
  while [ $((want - cpu)) -gt 5 ]; do
    round=$((round + 1))
    local log=$LOGS/$target.log
    [ "$round" -gt 1 ] && log=$LOGS/$target.$round.log
    local stamp=$WORK/.stamp-$target
    touch "$stamp"
    local rc=0 times
    TIMEFORMAT='%U %S'
    times=$({ time run_fuzzer "$target" "$((want - cpu))" "$log" "$corpus" \
      "$FUZZ_DIR/corpus/$target" 2>/dev/null; } 2>&1) || rc=$?
    # `time` reports even when the command fails; its line is the last one.
    times=$(tail -n1 <<<"$times")
    local used
    used=$(awk '{ printf "%d", $1 + $2 }' <<<"$times")
    cpu=$((cpu + used))
    read -r execs corp secs < <(summarise "$log")
    total_execs=$((total_execs + execs))
    local artifact
    artifact=$(newest_artifact "$target" "$stamp")
    rm -f "$stamp"
    echo "fuzz: $target round $round: $execs executions, ${used} s CPU, corpus $corp (log $log)"
    if [ -n "$artifact" ] && spurious_timeout "$target" "$artifact"; then
      continue
    fi
    if [ -z "$artifact" ] && grep -q "libFuzzer: run interrupted" "$log"; then
      echo "fuzz: $target interrupted (SIGINT or SIGTERM) after $total_execs executions" \
        "($cpu s CPU, $((SECONDS - start)) s wall); no finding"
      exit 130
    fi
    if [ "$rc" -ne 0 ] || [ -n "$artifact" ]; then
      if [ -n "$artifact" ]; then show_artifact "$target" "$artifact" "$log"; else tail -n 40 "$log"; fi
      echo "fuzz: $target FAILED after $total_execs executions ($cpu s CPU, $((SECONDS - start)) s wall)"
      exit 1
    fi
    # A round that got almost no CPU (the machine is busy): don't spin.
    if [ "$used" -lt 5 ]; then sleep 5; fi
  done
  local units
  units=$(find "$corpus" -type f | wc -l)
  # Also kept in fuzz/work/runs.log, one line per finished run: the record of how long each
  # target has been fuzzed, for the notes.
  echo "fuzz: $target: $total_execs executions in $cpu s CPU ($((SECONDS - start)) s wall)," \
    "$((total_execs / (cpu > 0 ? cpu : 1))) exec/s, working corpus $units files" \
    "($(du -sh "$corpus" | cut -f1)), no crash" | tee -a "$WORK/runs.log"
}

mkdir -p "$LOGS" "$ARTIFACTS"
case "${1:-}" in
  --ci)
    # Only for the CI build: a long run (below) keeps the full optimisation of the profile.
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1}
    ci "${2:-20}"
    ;;
  --list) targets ;;
  -h | --help | "") usage ;;
  -*) usage ;;
  *)
    [ $# -eq 2 ] && [[ $2 =~ ^[0-9]+$ ]] || usage
    long "$1" "$2"
    ;;
esac
