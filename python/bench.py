"""python/bench.py: segjit through Python against numpy on shared/BENCH.md's W4 (record
conversion by name), W5 (array of structs to columns) and W6 (int32 byte-swapping copy),
and the parallel speed-up of two Python threads converting at once (the GIL is released
while a kernel runs). Every figure is a ratio of medians taken in this one run, numpy's and segjit's rounds
interleaved.

    /usr/bin/python3 python/bench.py [--sizes 1M,16M] [--rounds N]
"""
import argparse
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import segjit  # noqa: E402

# W4: {i32 a; i64 b; i16 c} little-endian, C padding (24 bytes) -> {i16 c; i32 a; i64 b}
# packed big-endian (14 bytes)
W4_SRC = np.dtype([("a", "<i4"), ("b", "<i8"), ("c", "<i2")], align=True)
W4_DST = np.dtype([("c", ">i2"), ("a", ">i4"), ("b", ">i8")])
# W5: W2's records {i32 id; i32 x; f64 y; i64 z} into four dense arrays
W2 = np.dtype([("id", "<i4"), ("x", "<i4"), ("y", "<f8"), ("z", "<i8")])


def paired(fn_np, fn_sj, rounds):
    """Medians of numpy's and segjit's times, their rounds interleaved so that both see
    the same machine (it is shared: its load drifts within seconds)."""
    fn_np()
    fn_sj()  # warm: builds (and on large inputs compiles) the kernel, faults pages in
    tn, ts = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn_np()
        t1 = time.perf_counter()
        fn_sj()
        t2 = time.perf_counter()
        tn.append(t1 - t0)
        ts.append(t2 - t1)
    return statistics.median(tn), statistics.median(ts)


def numpy_by_name(src, dst):
    for f in dst.dtype.names:
        dst[f] = src[f]


def run(n, rounds):
    rng = np.random.default_rng(1)
    rows = []
    # W4
    src = np.zeros(n, W4_SRC)
    for f in W4_SRC.names:
        src[f] = rng.integers(-1000, 1000, n)
    d_np, d_sj = np.empty(n, W4_DST), np.empty(n, W4_DST)
    t_np, t_sj = paired(lambda: numpy_by_name(src, d_np),
                        lambda: segjit.convert(src, W4_SRC, W4_DST, out=d_sj), rounds)
    assert d_np.tobytes() == d_sj.tobytes()
    rows.append(("W4", "convert by name", "dst[f] = src[f]", t_np, t_sj))
    # W5
    recs = np.zeros(n, W2)
    for f in W2.names:
        recs[f] = rng.integers(-1000, 1000, n)
    t_np, t_sj = paired(lambda: {f: np.ascontiguousarray(recs[f]) for f in W2.names},
                        lambda: segjit.to_columns(recs), rounds)
    cols = segjit.to_columns(recs)
    assert all(np.array_equal(cols[f], recs[f]) for f in W2.names)
    rows.append(("W5", "to_columns", "ascontiguousarray(a[f])", t_np, t_sj))
    # W6
    a = rng.integers(-2**31, 2**31 - 1, n, dtype="<i4")
    o_np, o_sj = np.empty(n, ">i4"), np.empty(n, ">i4")

    def np_swap():
        o_np[...] = a

    t_np, t_sj = paired(np_swap, lambda: segjit.copy(a, "<i4", ">i4", out=o_sj), rounds)
    assert o_np.tobytes() == o_sj.tobytes()
    rows.append(("W6", "copy <i4 -> >i4", "out[...] = a", t_np, t_sj))
    return rows


def threads(n, rounds, reps=10):
    """Two series of `reps` conversions of n W4 records: one thread doing both, then two
    threads one series each (a series, so that starting a thread costs little)."""
    srcs = [np.zeros(n, W4_SRC) for _ in range(2)]
    dsts = [np.empty(n, W4_DST) for _ in range(2)]

    def one(i):
        for _ in range(reps):
            segjit.convert(srcs[i], W4_SRC, W4_DST, out=dsts[i])

    def serial():
        one(0)
        one(1)

    def parallel():
        ts = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    return paired(serial, parallel, rounds)


def gil(n):
    """One long kernel in a thread while the main thread counts Python loop iterations: a
    kernel that held the GIL would leave the main thread (almost) none."""
    src, dst = np.zeros(n, W4_SRC), np.empty(n, W4_DST)
    segjit.convert(src, W4_SRC, W4_DST, out=dst)
    t0 = time.perf_counter()
    segjit.convert(src, W4_SRC, W4_DST, out=dst)
    alone = time.perf_counter() - t0
    done, count = threading.Event(), 0

    def work():
        segjit.convert(src, W4_SRC, W4_DST, out=dst)
        done.set()

    th = threading.Thread(target=work)
    t0 = time.perf_counter()
    th.start()
    while not done.is_set():
        count += 1
    th.join()
    return alone, time.perf_counter() - t0, count


def size(s):
    s = s.strip().upper()
    return int(float(s[:-1]) * 1_000_000) if s.endswith("M") else int(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,16M")
    ap.add_argument("--rounds", type=int, default=0, help="default: 21 at 1M, 7 above")
    args = ap.parse_args()
    print("segjit %s via %s; numpy %s" % (segjit.__name__, segjit.library_path(),
                                          np.__version__))
    print("ratio = numpy time / segjit time (above 1: segjit faster), medians")
    print("| workload | n | segjit | numpy | numpy ms | segjit ms | ratio |")
    print("|---|---|---|---|---|---|---|")
    for s in args.sizes.split(","):
        n = size(s)
        rounds = args.rounds or (21 if n <= 1_000_000 else 7)
        for w, what, ref, t_np, t_sj in run(n, rounds):
            print("| %s | %s | %s | `%s` | %.2f | %.2f | %.2f |" % (
                w, s.strip(), what, ref, t_np * 1e3, t_sj * 1e3, t_np / t_sj))
    n = size(args.sizes.split(",")[-1])
    alone, along, count = gil(n)
    print("GIL: one W4 conversion of %d records: %.1f ms alone, %.1f ms in a thread while "
          "the main thread ran %d Python loop iterations" % (n, alone * 1e3, along * 1e3,
                                                             count))
    n = size(args.sizes.split(",")[0])
    for n, reps in ((32768, 200), (n, 10)):
        t1, t2 = threads(n, args.rounds or 9, reps)
        print("threads: two series of %d W4 conversions of %d records: one thread %.2f ms, "
              "two threads %.2f ms, speed-up %.2fx (2 cores: 2.0 at best)" % (
                  reps, n, t1 * 1e3, t2 * 1e3, t1 / t2))


if __name__ == "__main__":
    main()
