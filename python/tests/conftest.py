"""pytest set-up for the segjit binding: the package from python/ (unless installed), and
the shared helpers: random dtypes with numpy as the oracle."""
import os
import sys

import pytest

pytest.importorskip("numpy", reason="python3-numpy is missing (apt-get install python3-numpy)")
pytest.importorskip("cffi", reason="python3-cffi is missing (apt-get install python3-cffi)")

# The package from the source tree, unless the run is testing an installed copy
# (SEGJIT_TEST_INSTALLED=VENV_DIR, set by venv_run.py).
if not os.environ.get("SEGJIT_TEST_INSTALLED"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
