#!/usr/bin/env python3
"""bench/readme_table.py RUN.csv: the README's bench tables (Markdown) from a
segjit-bench --csv file: W1-W6 as ratios to the faster hand-written C of the row, W7 and
W8 in ns per access."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by[(r["workload"], int(r["n"]), r["impl"])] = float(r["ns_per_elem"])
sizes = sorted({int(r["n"]) for r in rows if r["workload"] == "W1"})
cols = ["jit", "auto", "jit_unchecked", "interp", "heap_interp", "heap_pinned_jit", "memcpy",
        "c_checked_per_element"]
name = {1000000: "1M", 16000000: "16M"}
print("| workload | n | C (faster of gcc, clang) | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 3) + "|")
for n in sizes:
    for w in ("W1", "W2", "W3", "W4", "W5", "W6"):
        c = [(by[(w, n, k)], k) for k in ("c", "c_clang") if (w, n, k) in by]
        if not c:
            continue
        best, which = min(c)
        cells = ["%.2f" % (by[(w, n, k)] / best) if (w, n, k) in by else "" for k in cols]
        print("| %s | %s | %s %.3f ns | %s |" % (w, name.get(n, n),
                                                "gcc" if which == "c" else "clang", best,
                                                " | ".join(cells)))
print()
w7 = [("c", "hand-written C, unchecked"), ("c_call_per_element", "an unchecked out-of-line getter"),
      ("view", "a view's inline field read"), ("view_clang", "the same loop built by clang"), ("accessor", "inline accessor, confined arena"),
      ("accessor_shared", "inline accessor, shared arena"), ("get", "`sj_get`"),
      ("get_path", "`sj_get_path`")]
print("| W7 loop | " + " | ".join(name.get(n, str(n)) for n in sizes) + " |")
print("|---" * (len(sizes) + 1) + "|")
for k, d in w7:
    print("| %s | %s |" % (d, " | ".join("%.2f" % by[("W7", n, k)] if ("W7", n, k) in by else ""
                                          for n in sizes)))
print()
print("| W8 (ns per access per thread) | 1 thread | 2 threads | 2 / 1 (worse CPU against itself) |")
print("|---|---|---|---|")
for n in sizes:
    for a, b, d in (("accessor_1_thread", "accessor_2_threads", "accessor"),
                    ("c_call_1_thread", "c_call_2_threads", "unchecked call loop"),
                    ("c_1_thread", "c_2_threads", "hand-written loop"),
                    ("kernel_1_thread", "kernel_2_threads", "kept kernel, count 1 per call")):
        m = n // 5 if a.startswith("kernel") else n  # the kernel rows call for n / 5 records
        if ("W8", m, a) in by and ("W8", m, b) in by:
            x, y = by[("W8", m, a)], by[("W8", m, b)]
            q = by.get(("W8", m, b + "_per_cpu_ratio"))  # pinned runs; else the medians
            print("| %s, %s records | %.2f | %.2f | %.2f%s |" % (d, name.get(n, n), x, y,
                                                            q if q else y / x,
                                                            "" if q else " (medians)"))
for k in ("close_shared", "close_confined"):
    if ("W8", 1, k) in by:
        print("\n%s: %.2f us (median)" % (k, by[("W8", 1, k)] / 1000), end="")
print()
