"""Regenerate the real-run fixtures: run each program in programs/ and keep what it printed.

    .venv/bin/python tests/data/explain/make_real_runs.py [NAME ...]

Each program is an ordinary TPUEstimator / Estimator script with one misuse (or, for neg_*, an
ordinary error that is not spec misuse). TPU programs fake the TPU system query the way TF's own
tpu_estimator_test.py does (programs/_tpu_on_cpu.py), so TF builds the real TPU graph on CPU and
raises exactly what a TPU user sees. The whole output (TF's C++ log lines, `WARNING:tensorflow:` and
absl-prefixed log lines, the traceback) is written unchanged to real/NAME.log. fixtures.toml records
the TF version and the program of each log.
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
OUT = HERE / "real"


def main(names):
    OUT.mkdir(exist_ok=True)
    programs = sorted(p for p in PROGRAMS.glob("*.py") if not p.name.startswith("_"))
    if names:
        programs = [p for p in programs if p.stem in names]
    for program in programs:
        proc = subprocess.run([sys.executable, str(program)], cwd=str(PROGRAMS), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=600)
        (OUT / f"{program.stem}.log").write_bytes(proc.stdout)
        last = proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
        print(f"{program.stem}: exit {proc.returncode}: {last[0][:160] if last else ''}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
