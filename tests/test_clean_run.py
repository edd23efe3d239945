"""Issue 13, a clean test run: nothing after pytest's result line.  The runtime tests build TF1
graphs with ops that are never run; TF logged "Object was never used" tracebacks for them at
interpreter exit, after the result line (tests/conftest.py frees them before pytest reports)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

ROOT = Path(__file__).resolve().parent.parent


def test_the_result_line_is_the_last_line():
    # test_simulate_run runs a program under the TPU simulation: its scaffold's
    # report_uninitialized_variables op is never run (the simulation stops at Session.run)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_simulate_run.py"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = (proc.stdout + proc.stderr).rstrip("\n").splitlines()
    assert proc.returncode == 0, "\n".join(out[-30:])
    assert re.fullmatch(r"\d+ passed(, \d+ \w+)* in [\d.]+s( \([\d:]+\))?", out[-1]), "\n".join(out[-30:])
    assert "Object was never used" not in proc.stdout + proc.stderr
