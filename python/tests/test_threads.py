"""Several Python threads converting at once: results equal to one thread's. (The GIL is
released during each library call; python/bench.py measures the parallel speed-up, which
no test asserts.)"""
import threading

import numpy as np

import segjit
from helpers import assert_same, fill_random, ref_convert

SD = np.dtype([("id", "<u4"), ("x", ">f8"), ("y", ">f4"), ("k", "<i2")])
DD = np.dtype([("k", "<i8"), ("y", "<f8"), ("x", "<f8"), ("id", "<u8")])


def test_threads_convert_at_once():
    rng = np.random.default_rng(17)
    srcs = []
    for i in range(6):
        a = np.zeros(20000 + 1000 * i, SD)
        fill_random(a, rng)
        srcs.append(a)
    want = [ref_convert(a, DD) for a in srcs]
    results, errors = {}, []
    barrier = threading.Barrier(len(srcs))

    def work(i):
        try:
            barrier.wait()
            for _ in range(10):
                got = segjit.convert(srcs[i], SD, DD)
            cols = segjit.to_columns(srcs[i])
            results[i] = (got, cols)
        except Exception as e:  # reported below, with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(srcs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, (got, cols) in results.items():
        assert_same(got, want[i])
        for name in SD.names:
            assert_same(cols[name], srcs[i][name].astype(SD[name].newbyteorder("=")))


def test_shared_arena_segment_from_threads():
    with segjit.Arena(shared=True) as arena:
        seg = arena.allocate(SD.itemsize * 1000)
        a = np.zeros(1000, SD)
        a["id"] = np.arange(1000)
        seg.write(a)
        sums = []

        def work():
            sums.append(segjit.reduce(seg, SD, "id"))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sums == [999 * 1000 // 2] * 4


def test_close_while_other_threads_convert():
    """A shared arena closed while other threads run kernels on its memory: each call
    either completes or raises ClosedError, and each thread sees the close as that
    exception; nothing crashes or reads freed memory."""
    outcomes = {"ok": 0, "closed": 0}
    lock = threading.Lock()
    for _ in range(40):
        arena = segjit.Arena(shared=True)
        seg = arena.allocate(SD.itemsize * 20000)
        start = threading.Barrier(3)

        def work():
            start.wait()
            for _ in range(100000):  # until the close is seen (bounded)
                try:
                    segjit.convert(seg, SD, DD)
                except segjit.ClosedError:
                    with lock:
                        outcomes["closed"] += 1
                    return
                with lock:
                    outcomes["ok"] += 1

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        start.wait()
        arena.close()
        for t in threads:
            t.join()
    assert outcomes["closed"] == 40 * 2  # every thread saw the close, as an exception
