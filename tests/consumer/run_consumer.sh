#!/usr/bin/env bash
# tests/consumer/run_consumer.sh: ctest `install_consumer`. Installs the build tree
# into a scratch prefix, then builds and runs consumer.c against that prefix twice:
# with CMake (find_package(segjit)) and with pkg-config; then runs the tool's end-to-end
# tests on the installed segjit.
#
# usage: run_consumer.sh BUILD_DIR WORK_DIR LIBDIR C_COMPILER [shared|static]
# CFLAGS and LDFLAGS from the environment are passed to both builds (sanitizers).
set -euo pipefail

build=$1 work=$2 libdir=$3 cc=$4 linkage=${5:-shared}
src=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix
cflags=${CFLAGS:-}
ldflags=${LDFLAGS:-}

rm -rf "$work"
mkdir -p "$work"

echo "== install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    exit 1
}

echo "== find_package(segjit)"
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags"
found=$(sed -n 's/^segjit_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
case "$found" in
    "$prefix"/*) ;;
    *)
        echo "find_package found segjit in '$found', not under $prefix" >&2
        exit 1
        ;;
esac
cmake --build "$work/cmake"
"$work/cmake/consumer"

echo "== pkg-config segjit"
pcflags=(--cflags --libs)
[ "$linkage" = static ] && pcflags+=(--static)
# PKG_CONFIG_LIBDIR replaces the default search path: only our segjit.pc is visible.
flags=$(PKG_CONFIG_LIBDIR="$prefix/$libdir/pkgconfig" pkg-config "${pcflags[@]}" segjit)
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # flags are words
"$cc" $cflags -o "$work/consumer-pc" "$src/consumer.c" $flags $ldflags
LD_LIBRARY_PATH="$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-pc"

# The tool's end-to-end tests once more, through the installed binary (segjit-gen, the
# tests' file generator, is not installed: the build tree's).
if [ -x "$prefix/bin/segjit" ] && [ -x "$build/tools/segjit-gen" ]; then
    echo "== tests/cli/run_cli_tests.sh on $prefix/bin/segjit"
    LD_LIBRARY_PATH="$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        bash "$src/../cli/run_cli_tests.sh" "$prefix/bin/segjit" "$build/tools/segjit-gen" \
        "$work/cli" >"$work/cli.log" 2>&1 || {
        tail -40 "$work/cli.log"
        exit 1
    }
    tail -1 "$work/cli.log"
fi

echo "install_consumer: ok"
