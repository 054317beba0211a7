"""python/tests/ctest_run.py: what the ctest `python_binding` runs. Skips (exit 77, ctest's
SKIP_RETURN_CODE) with a clear message when numpy, cffi or pytest are missing; otherwise
runs the pytest suite and exits with its status (no test collected is a failure).

    SEGJIT_LIBRARY=build/libsegjit.so /usr/bin/python3 python/tests/ctest_run.py
"""
import importlib
import os
import sys

SKIP = 77
PACKAGES = {"numpy": "python3-numpy", "cffi": "python3-cffi", "pytest": "python3-pytest"}


def main():
    missing = []
    for mod, pkg in PACKAGES.items():
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        print("python_binding: SKIPPED: %s lacks %s (apt-get install %s; run.sh installs "
              "them)" % (sys.executable, ", ".join(missing), " ".join(missing)))
        return SKIP
    import pytest

    here = os.path.dirname(os.path.abspath(__file__))
    args = ["-q", "-p", "no:cacheprovider", here] + sys.argv[1:]
    rc = pytest.main(args)
    return 1 if rc == pytest.ExitCode.NO_TESTS_COLLECTED else int(rc)


if __name__ == "__main__":
    sys.exit(main())
