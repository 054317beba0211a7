#!/usr/bin/env python3
"""tests/exports_check.py BUILD_DIR SOURCE_DIR: installs the build into a temporary
prefix and checks that the installed libsegjit exports exactly the functions and data that
include/segjit declares (nothing internal leaks, nothing public is missing)."""
import glob
import os
import re
import subprocess
import sys
import tempfile


def declared(include_dir):
    funcs, data = set(), set()
    for path in sorted(glob.glob(os.path.join(include_dir, "segjit", "*.h"))):
        text = open(path).read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # join continued macro lines, then drop preprocessor lines and inline bodies' lines
        text = text.replace("\\\n", " ")
        depth = 0
        stmt = ""
        for line in text.split("\n"):
            s = line.strip()
            if s.startswith("#") or re.match(r"^[A-Z][A-Z0-9_]*\(.*\)$", s):
                continue  # preprocessor lines and macro invocations that define inline code
            if depth == 0:
                stmt += " " + s
                if s.endswith(";") or s.endswith("{") or s.endswith("}"):
                    decl = " ".join(stmt.split())
                    stmt = ""
                    if not decl.startswith(("static", "typedef", "}", "struct", "enum", "union")):
                        m = re.match(r"(extern\s+)?([\w\s\*\(\)\",]*?)\b(sj_\w+)\s*\(", decl)
                        if m and not decl.startswith("extern \"C\""):
                            funcs.add(m.group(3))
                        m = re.match(r"extern\s+[^(]*?\b(sj_\w+)\s*(__attribute__.*)?;$", decl)
                        if m:
                            data.add(m.group(1))
            depth += s.count("{") - s.count("}")
            if depth < 0:
                depth = 0
            if s == 'extern "C" {':
                depth -= 1
    return funcs, data


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    funcs, data = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, name = parts[1], parts[2].split("@")[0]
        if name.startswith(("__odr_asan", "__start_asan", "__stop_asan", "__asan", "__ubsan",
                            "__tsan", "__sancov")):
            continue  # sanitizer bookkeeping in instrumented builds
        (funcs if kind in "TtWi" else data).add(name)
    return funcs, data


def main():
    build, source = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                       capture_output=True)
        libs = glob.glob(os.path.join(prefix, "lib*", "**", "libsegjit.so"), recursive=True)
        if not libs:
            print("exports_check: no shared libsegjit installed (static build): skipped")
            return 77
        want_f, want_d = declared(os.path.join(prefix, "include"))
        got_f, got_d = exported(libs[0])
    ok = True
    for what, want, got in (("function", want_f, got_f), ("data", want_d, got_d)):
        leaked, missing = sorted(got - want), sorted(want - got)
        if leaked:
            ok = False
            print("exported but not declared in include/segjit (%s): %s" % (what, " ".join(leaked)))
        if missing:
            ok = False
            print("declared in include/segjit but not exported (%s): %s" % (what, " ".join(missing)))
    print("%s: %d functions and %d data symbols exported, as declared" % (libs[0], len(got_f),
                                                                        len(got_d))
          if ok else "exports_check: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
