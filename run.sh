#!/usr/bin/env bash
# run.sh: the two project commands. `test` builds and runs every ctest (plus a
# sanitizer build; with CI=true also -Werror with gcc and clang and a format check);
# `bench` builds Release and runs the bench (or the example until the bench exists).
# Both first install missing Debian 12 packages (needs root, or sudo).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake build-essential clang-19 llvm-19-dev libzstd-dev libcmocka-dev pkg-config gnuplot-nox
    libclang-rt-19-dev valgrind clang-format
    python3-numpy python3-cffi python3-pytest python3-venv) # the Python binding (python/)
# CI also builds the JIT against the newest LLVM the project supports.
CI_PACKAGES=(llvm-22-dev)
FORMAT_DIRS=(include src jit tools tests bench examples)
JOBS=$(nproc 2>/dev/null || echo 2)
# Build directories live under SEGJIT_BUILD_ROOT (default: the repository root).
ROOT=${SEGJIT_BUILD_ROOT:-.}
BUILD=$ROOT/build
BUILD_ASAN=$ROOT/build-asan

usage() {
    cat <<EOF
usage: ./run.sh test           build (build/, build-asan/) and run all tests
       ./run.sh bench [ARGS]   build Release (build/) and run the bench with ARGS
       ./run.sh bench-python [ARGS]  the Python binding's bench (python/bench.py ARGS)

Both install missing Debian packages first (apt-get; run as root or with sudo):
  ${PACKAGES[*]}
With CI=true, \`test\` also builds with -Werror using gcc and clang, checks
clang-format on all C sources, runs valgrind, ThreadSanitizer and the fuzzers, and
builds and tests without LLVM (build-nojit/) and against LLVM 22 (build-llvm22/,
installing ${CI_PACKAGES[*]}). SEGJIT_BUILD_ROOT=DIR puts the build directories in DIR
instead of the repository root.
EOF
}

say() { printf '\n==> %s\n' "$*"; }

# ---- Dependencies ----

# install_deps [EXTRA_PACKAGES...]
install_deps() {
    local wanted=("${PACKAGES[@]}" "$@")
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "run.sh: not a Debian system; not installing packages (need: ${wanted[*]})" >&2
        return 0
    fi
    local missing=() p
    for p in "${wanted[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "run.sh: missing packages (${missing[*]}); run as root to install them" >&2
            return 1
        fi
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y "${missing[@]}"
}

pick_clang() {
    if command -v clang-19 >/dev/null 2>&1; then
        command -v clang-19
    elif command -v clang >/dev/null 2>&1; then
        command -v clang
    else
        return 1
    fi
}

# ---- Builds ----

# configure_build DIR CC [cmake args...]
configure_build() {
    local dir=$1 cc=$2
    shift 2
    say "configure $dir ($(basename "$cc"))"
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" "$@"
}

# build_and_test DIR CC [cmake args...]; returns non-zero on any failure.
build_and_test() {
    local dir=$1
    configure_build "$@" || return 1
    say "build $dir"
    cmake --build "$dir" --parallel "$JOBS" || return 1
    say "test $dir"
    # Label `big`: long tests on multi-gigabyte inputs, run by hand (ctest -L big).
    (cd "$dir" && ctest --output-on-failure --parallel "$JOBS" --label-exclude big) || return 1
}

format_check() {
    local dirs=() d
    for d in "${FORMAT_DIRS[@]}"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    local files=()
    mapfile -t files < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) | sort)
    say "clang-format --dry-run -Werror (${#files[@]} files)"
    [ ${#files[@]} -eq 0 ] && return 0
    clang-format --dry-run -Werror "${files[@]}"
}

# The interpreter-tier tests under valgrind memcheck (LLVM is kept out: SEGJIT_TIER=interp,
# so libsegjit-jit.so is never loaded).
valgrind_check() {
    local t failed=0
    for t in test_segment test_access test_accessor test_kernel_copy test_kernel_convert \
        test_kernel_gather test_kernel_misc test_checks; do
        [ -x "$BUILD/tests/$t" ] || continue
        say "valgrind $t"
        SEGJIT_TIER=interp SEGJIT_TEST_TIER=interp valgrind -q --error-exitcode=99 \
            --leak-check=full --errors-for-leak-kinds=definite "$BUILD/tests/$t" >/dev/null || failed=1
    done
    return $failed
}

# The threaded tests (JIT stress, concurrent close, soak) under ThreadSanitizer, clang.
# tests/tsan/suppressions.txt names what TSan cannot judge (races inside uninstrumented
# libLLVM); segjit's own code is instrumented and never suppressed.
tsan_check() {
    local clang=$1 dir=$ROOT/build-tsan t failed=0
    local tests=(test_jit_stress test_concurrency test_accessor test_soak test_kernel_copy
        test_kernel_gather test_kernel_cache test_close_views test_view test_kernel_pinned
        test_kernel_holds test_auto_background)
    # The shared libLLVM, so that the suppressions can name it (a static LLVM would sit
    # inside libsegjit-jit, next to segjit's own instrumented code).
    configure_build "$dir" "$clang" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGJIT_TSAN=ON \
        -DSEGJIT_LLVM_SHARED=ON -DSEGJIT_EXAMPLES=OFF || return 1
    say "build $dir (ThreadSanitizer)"
    cmake --build "$dir" --parallel "$JOBS" --target segjit-jit "${tests[@]}" \
        jit_oom_threads_check jit_stuck_check || return 1
    local tsan="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan/suppressions.txt"
    for t in "${tests[@]}"; do
        say "tsan $t"
        # white-box tests link libsegjit statically: name the JIT object for them
        TSAN_OPTIONS="$tsan" SEGJIT_JIT_LIBRARY="$dir/libsegjit-jit.so" SEGJIT_TEST_TIER=jit \
            "$dir/tests/$t" >/dev/null || failed=1
    done
    # a compile jumping out of LLVM while other threads compile (docs/JIT.md)
    say "tsan jit_oom_threads_check"
    TSAN_OPTIONS="$tsan" SEGJIT_JIT_LIBRARY="$dir/libsegjit-jit.so" SEGJIT_JIT_TEST_OOM=1:6 \
        "$dir/tests/jit_oom_threads_check" >/dev/null || failed=1
    # ... and a compile left waiting inside LLVM for ever beside it
    say "tsan jit_stuck_check"
    TSAN_OPTIONS="$tsan" SEGJIT_JIT_LIBRARY="$dir/libsegjit-jit.so" SEGJIT_JIT_TEST_STUCK=3 \
        SEGJIT_JIT_TEST_OOM=1:3 "$dir/tests/jit_stuck_check" >/dev/null || failed=1
    return $failed
}

cmd_test() {
    # Tests run outside ctest (valgrind, TSan, fuzzers) never touch ~/.cache/segjit; ctest
    # turns the persistent kernel cache on only for its own pcache tests, in the build tree.
    export SEGJIT_CACHE=off
    local ci=false
    [ "${CI:-}" = true ] && ci=true
    if $ci; then install_deps "${CI_PACKAGES[@]}"; else install_deps; fi
    local common=(-DCMAKE_BUILD_TYPE=Release)
    if $ci; then
        common+=(-DSEGJIT_WERROR=ON)
    else
        common+=(-DSEGJIT_WERROR=OFF)
    fi

    # build/ uses gcc (the system cc otherwise); build-asan/ uses clang, so under CI
    # both compilers build everything with -Werror.
    local gcc clang failed=()
    gcc=$(command -v gcc || command -v cc)
    clang=$(pick_clang) || {
        echo "run.sh: no clang found" >&2
        return 1
    }

    build_and_test "$BUILD" "$gcc" "${common[@]}" || failed+=("build (gcc)")

    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    build_and_test "$BUILD_ASAN" "$clang" "${common[@]}" -DSEGJIT_SANITIZE=ON ||
        failed+=("build-asan (clang, ASan+UBSan)")

    if $ci; then
        # Every f32 bit pattern through the tool's float text (round trip and minimality).
        say "every f32: $BUILD/tools/test_numtext all"
        "$BUILD/tools/test_numtext" all || failed+=("every f32 (test_numtext all)")
        format_check || failed+=("clang-format")
        valgrind_check || failed+=("valgrind (interpreter)")
        tsan_check "$clang" || failed+=("ThreadSanitizer")
        # Without LLVM at all: every test on the interpreter alone.
        build_and_test "$ROOT/build-nojit" "$gcc" "${common[@]}" -DSEGJIT_JIT=OFF ||
            failed+=("build-nojit (gcc, -DSEGJIT_JIT=OFF)")
        # The JIT against LLVM 22 (jit/compat.h keeps 18-22 building).
        # ... and with the shared libLLVM: both link modes are built and tested.
        build_and_test "$ROOT/build-llvm22" "$gcc" "${common[@]}" -DSEGJIT_LLVM_SHARED=ON \
            -DLLVM_DIR=/usr/lib/llvm-22/lib/cmake/llvm || failed+=("build-llvm22 (gcc, LLVM 22)")
        say "fuzz: tests/fuzz/run_fuzz.sh, ${FUZZ_SECONDS:-45} s per target"
        FUZZ_SECONDS=${FUZZ_SECONDS:-45} CC="$clang" tests/fuzz/run_fuzz.sh \
            "${SEGJIT_BUILD_ROOT:-.}/build-fuzz" || failed+=("fuzz")
    fi

    if [ ${#failed[@]} -ne 0 ]; then
        printf '\nrun.sh test: FAILED:' >&2
        printf ' [%s]' "${failed[@]}" >&2
        printf '\n' >&2
        return 1
    fi
    printf '\nrun.sh test: all passed\n'
}

# Installs what is missing and builds Release in build/ with gcc (the bench commands).
build_release() {
    install_deps
    local gcc
    gcc=$(command -v gcc || command -v cc)
    configure_build "$BUILD" "$gcc" -DCMAKE_BUILD_TYPE=Release
    say "build $BUILD"
    cmake --build "$BUILD" --parallel "$JOBS"
}

cmd_bench() {
    build_release
    if [ -x "$BUILD/bench/segjit-bench" ]; then
        say "bench: $BUILD/bench/segjit-bench $*"
        "$BUILD/bench/segjit-bench" "$@"
    else
        say "no bench yet ($BUILD/bench/segjit-bench): running $BUILD/examples/segjit-example"
        "$BUILD/examples/segjit-example"
    fi
}

# The Python binding's bench (python/bench.py: W4-W6 against numpy) on a Release build.
cmd_bench_python() {
    build_release
    say "bench: python/bench.py $*"
    SEGJIT_LIBRARY=$BUILD/libsegjit.so /usr/bin/python3 python/bench.py "$@"
}

case "${1:-}" in
    bench-python)
        shift
        cmd_bench_python "$@"
        ;;
    test)
        shift
        cmd_test "$@"
        ;;
    bench)
        shift
        cmd_bench "$@"
        ;;
    -h | --help | help)
        usage
        ;;
    "")
        usage
        exit 2
        ;;
    *)
        echo "run.sh: unknown command '$1'" >&2
        usage >&2
        exit 2
        ;;
esac
