#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh: builds the libFuzzer targets (configuring BUILD_DIR with clang and
# -DSEGJIT_FUZZ=ON when it has no CMake cache yet) and runs each for SECONDS, from a scratch
# copy of its seed corpus and regression files (with tests/fuzz/<target>.dict when there is
# one), so that nothing is written into the repository. Exits non-zero when any target finds
# a crash, leak, timeout or violated property, and prints where the reproducer is.
set -euo pipefail

usage() {
    cat <<EOF
usage: tests/fuzz/run_fuzz.sh [BUILD_DIR [SECONDS]]

  BUILD_DIR  build directory (default: \$SEGJIT_BUILD_ROOT/build-fuzz, else build-fuzz
             in the repository root)
  SECONDS    fuzzing time per target (default: \$FUZZ_SECONDS, else 60)

Environment:
  FUZZ_SECONDS   as SECONDS
  FUZZ_TARGETS   targets to run (default: "canonical cdecl path diff")
  FUZZ_ARGS      extra libFuzzer arguments (e.g. "-seed=1 -dict=...")
  FUZZ_KEEP=1    keep the scratch directory (corpus, logs) even when all targets pass
  CC             compiler for a new build directory (default: clang-19, else clang)

A reproducer runs again with: BUILD_DIR/tests/fuzz/fuzz_<target> FILE
(or without libFuzzer: BUILD_DIR/tests/fuzz/fuzz_<target>_replay FILE). Keep it as
tests/fuzz/regressions/<target>/<name>; the test fuzz_regressions replays it from then on.
EOF
}

case "${1:-}" in
    -h | --help)
        usage
        exit 0
        ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-${SEGJIT_BUILD_ROOT:-$ROOT}/build-fuzz}
SECONDS_EACH=${2:-${FUZZ_SECONDS:-60}}
TARGETS=${FUZZ_TARGETS:-canonical cdecl path diff}

if ! [[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || [ "$SECONDS_EACH" -lt 1 ]; then
    echo "run_fuzz.sh: SECONDS must be a positive integer, not '$SECONDS_EACH'" >&2
    exit 2
fi

# ---- build ----

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cc=${CC:-}
    if [ -z "$cc" ]; then
        cc=$(command -v clang-19 || command -v clang || true)
    fi
    if [ -z "$cc" ]; then
        echo "run_fuzz.sh: no clang found (libFuzzer needs clang; set CC)" >&2
        exit 2
    fi
    echo "==> configure $BUILD ($cc, SEGJIT_FUZZ=ON)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$cc" -DSEGJIT_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
elif ! grep -q '^SEGJIT_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    echo "run_fuzz.sh: $BUILD is not a fuzz build (configure it with -DSEGJIT_FUZZ=ON" \
        "and clang, or name a new directory)" >&2
    exit 2
fi

build_targets=()
for t in $TARGETS; do
    build_targets+=("fuzz_$t")
done
echo "==> build ${build_targets[*]}"
cmake --build "$BUILD" --parallel "$(nproc 2>/dev/null || echo 2)" --target "${build_targets[@]}"

# The JIT tier loads from libsegjit's directory; name it for static builds too.
if [ -z "${SEGJIT_JIT_LIBRARY:-}" ] && [ -f "$BUILD/libsegjit-jit.so" ]; then
    export SEGJIT_JIT_LIBRARY="$BUILD/libsegjit-jit.so"
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ---- run ----

WORK=$(mktemp -d "${TMPDIR:-/tmp}/segjit-fuzz.XXXXXX")
failed=()
for t in $TARGETS; do
    exe="$BUILD/tests/fuzz/fuzz_$t"
    corpus="$WORK/corpus/$t"
    artifacts="$WORK/artifacts/$t"
    log="$WORK/fuzz_$t.log"
    mkdir -p "$corpus" "$artifacts"
    for d in "$HERE/corpus/$t" "$HERE/regressions/$t"; do
        if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
            cp -- "$d"/* "$corpus"/
        fi
    done
    echo "==> fuzz_$t for ${SECONDS_EACH}s ($(find "$corpus" -type f | wc -l) seed inputs)"
    dict=()
    if [ -f "$HERE/$t.dict" ]; then
        dict=(-dict="$HERE/$t.dict")
    fi
    rc=0
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of arguments
    "$exe" -max_len=4096 -timeout=10 -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 ||
        rc=$?
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    found=$(find "$artifacts" -type f | sort)
    if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
        failed+=("$t")
        echo "!!! fuzz_$t failed (exit $rc); log: $log"
        tail -n 60 "$log"
        for f in $found; do
            echo "!!! reproducer: $f"
            echo "    run again:  $exe $f"
            echo "    keep it:    mkdir -p $HERE/regressions/$t && cp $f $HERE/regressions/$t/"
        done
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "run_fuzz.sh: FAILED: ${failed[*]} (scratch directory kept: $WORK)" >&2
    exit 1
fi
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    echo "run_fuzz.sh: all targets passed; scratch directory: $WORK"
else
    rm -rf "$WORK"
    echo "run_fuzz.sh: all targets passed"
fi
