#!/usr/bin/env bash
# tests/cli/run_big_test.sh: `segjit convert` of a multi-gigabyte file runs in bounded memory
# (peak RSS under a limit) and writes the right bytes. Opt-in: ctest registers it with the
# label `big`; under ctest it is skipped (exit 77) unless the run selects that label
# (`ctest -L big`) or SEGJIT_BIG_TESTS=1. Usage: run_big_test.sh SEGJIT SEGJIT_GEN WORKDIR.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SEGJIT SEGJIT_GEN WORKDIR" >&2
    exit 2
fi
SEGJIT=$(realpath "$1")
GEN=$(realpath "$2")
WORK=$3
# Input size and RSS limit; override for a quicker or a harsher run.
BIG_BYTES=${SEGJIT_BIG_BYTES:-3221225472} # 3 GiB
LIMIT_KB=${SEGJIT_BIG_RSS_LIMIT_KB:-524288} # 512 MiB

# Under ctest, run only when asked: ctest's own command line names the `big` label.
if [ "${SEGJIT_BIG_TESTS:-}" != 1 ] && [ "$(cat /proc/$PPID/comm 2>/dev/null)" = ctest ]; then
    args=$(tr '\0' ' ' <"/proc/$PPID/cmdline" 2>/dev/null)
    if ! [[ " $args" =~ \ (-L|--label-regex)(\ |=)?[^\ ]*big ]]; then
        echo "skipped: opt-in test, run with 'ctest -L big' (or SEGJIT_BIG_TESTS=1)"
        exit 77
    fi
fi

A='struct rec { u32 id; f64 pos[3]; be i16 charge; u8 flags; }'                 # 40 bytes
B='packed struct rec { be u64 id; be f64 pos[3]; i32 charge; u8 flags; }'       # 37 bytes
IN_REC=40
OUT_REC=37
# A whole number of generator periods (4096 records), so every period of OUT is known.
NREC=$((BIG_BYTES / IN_REC / 4096 * 4096))

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
trap 'cd / && rm -rf "$WORK"' EXIT

need_kb=$(((NREC * (IN_REC + OUT_REC) + 4096 * 77) / 1024 + 65536))
avail_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "$avail_kb" -lt "$need_kb" ]; then
    echo "FAIL: needs $need_kb kB free in $WORK, has $avail_kb kB"
    exit 1
fi

fails=0
step() { printf '%s  %s\n' "$(date +%T)" "$*"; }
check() {
    if eval "$2"; then
        echo "ok   $1"
    else
        echo "FAIL $1 ($2)"
        fails=$((fails + 1))
    fi
}

step "generating $NREC records ($((NREC * IN_REC)) bytes)"
"$GEN" "$A" "$NREC" in.bin || exit 1
"$GEN" "$B" 4096 period.bin || exit 1

step "converting"
start=$(date +%s)
SEGJIT_REPORT_RSS=1 "$SEGJIT" convert --from "$A" --to "$B" in.bin out.bin 2>err.txt
rc=$?
end=$(date +%s)
cat err.txt
rss=$(sed -n 's/^segjit: peak RSS (VmHWM) \([0-9]*\) kB$/\1/p' err.txt)
step "converted in $((end - start)) s, peak RSS ${rss:-?} kB (limit $LIMIT_KB kB)"
check "convert exits 0" '[[ $rc -eq 0 ]]'
check "peak RSS reported" '[[ -n $rss ]]'
check "peak RSS under the limit" '[[ -n $rss && $rss -le $LIMIT_KB ]]'
check "OUT has the expected size" '[[ $(stat -c %s out.bin) -eq $((NREC * OUT_REC)) ]]'

# Every 4096-record period of OUT equals the generator's; compare a spread of them,
# including the first and the last (window boundaries fall in between).
periods=$((NREC / 4096))
plen=$((4096 * OUT_REC))
bad=0
for p in 0 1 $((periods / 3)) $((periods / 2)) $((periods * 2 / 3)) $((periods - 1)); do
    if ! cmp -s -n "$plen" -i "$((p * plen)):0" out.bin period.bin; then
        echo "     period $p of OUT differs"
        bad=1
    fi
done
check "OUT bytes match the generator's records" '[[ $bad -eq 0 ]]'
check "no temporary file left" '! compgen -G ".out.bin.segjit-*" >/dev/null'

echo
if [ "$fails" -ne 0 ]; then
    echo "big: $fails failed"
    exit 1
fi
echo "big: all passed"
