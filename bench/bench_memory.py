"""Peak memory and time of `speclint check` on one large file, per MB of source (issue 16, item 2).

    python bench/bench_memory.py [--sizes 0.25,0.5,0.9,2,10,50] [--jobs 1]

For each size, a valid model_fn file (the SL005 sample followed by as many small helper functions as
fit) is written to a temporary directory and checked by a fresh `python -m speclint check --no-cache`;
the child's peak resident set size comes from getrusage(RUSAGE_CHILDREN) (ru_maxrss) in a small
process that runs only it, its wall time from the clock.
A file over the parse limit (`speclint.static.safeparse.MAX_PARSE_BYTES`) is reported as SL000
"too large"; the table says which happened.  Nothing is asserted: the figures vary with the machine
and its load (the tests check behaviour, this script measures it).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from samples import BAD  # noqa: E402


def make_source(n_bytes: int) -> str:
    parts, size, i = [BAD], len(BAD), 0
    while size < n_bytes:
        s = f"def helper_{i}(x, y=None):\n    z = x + {i} * (y or 1)\n    return [z, z * 2, {{'k': z}}]\n\n"
        parts.append(s)
        size += len(s)
        i += 1
    return "".join(parts)


def one(path: Path, jobs: int) -> dict:
    """Check `path` in a child and measure it.  Runs in a small process of its own (see main): the
    child's peak RSS, RUSAGE_CHILDREN's maximum, then is speclint's (a fork of a process holding the
    generated source would count that source)."""
    import resource

    cmd = [sys.executable, "-m", "speclint", "check", "--no-cache", "-q", "--output-format", "json",
           "-j", str(jobs), str(path)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, cwd=path.parent)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux -> MiB
    stdout = proc.stdout.decode("utf-8", "replace")
    try:
        diags = json.loads(stdout) if stdout.strip() else []
        codes = sorted({d["code"] for d in diags})
        outcome = ", ".join(codes) or "clean"
        if "SL000" in codes:
            msg = next(d["message"] for d in diags if d["code"] == "SL000")
            outcome += ": " + msg.split("could not check this file: ", 1)[-1]
    except ValueError:
        outcome = f"no JSON output, exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[-160:]}"
    return {"size_mib": path.stat().st_size / 2**20, "wall": wall, "peak_mib": peak, "outcome": outcome}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0.25,0.5,0.9,2,10,50", help="file sizes in MiB, comma-separated")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(Path(args.one), args.jobs)))
        return 0
    try:
        from speclint.static import safeparse

        limit = getattr(safeparse, "MAX_PARSE_BYTES", None)
    except ImportError:
        limit = None
    head = os.popen(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null").read().strip() or "?"
    print(f"speclint at {head}; parse limit: "
          f"{f'{limit / 2**20:g} MiB' if limit else 'none'}; --jobs {args.jobs}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print()
    print("| file size | wall time | time per MiB | peak RSS | peak RSS per MiB of source | result |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for size in (float(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="speclint-bench-memory-") as tmp:
            path = Path(tmp) / "big_model.py"
            path.write_text(make_source(int(size * 2**20)), encoding="utf-8")
            proc = subprocess.run([sys.executable, __file__, "--one", str(path), "--jobs", str(args.jobs)],
                                  capture_output=True, text=True)
        try:
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            print(f"| {size:g} MiB | | | | | measuring failed: {proc.stderr.strip()[-200:]} |")
            continue
        print(f"| {r['size_mib']:.2f} MiB | {r['wall']:.1f} s | {r['wall'] / r['size_mib']:.1f} s "
              f"| {r['peak_mib']:,.0f} MiB | {r['peak_mib'] / r['size_mib']:,.0f} MiB | {r['outcome']} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
