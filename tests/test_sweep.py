"""Issue 6: the robustness sweep over the standard library and site-packages runs in CI
(tests/sweep.py: the whole tree with the prefilter, a sample with it bypassed).  About 30 s on a
loaded 2-core machine with tensorflow installed; less on CI."""
import subprocess
import sys
from pathlib import Path

SWEEP = Path(__file__).with_name("sweep.py")


def test_sweep_over_stdlib_and_site_packages():
    proc = subprocess.run([sys.executable, str(SWEEP)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "full run over" in proc.stdout and "sample with the prefilter bypassed" in proc.stdout
