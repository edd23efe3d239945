"""Where a process pool starts to pay: `--jobs 1` vs `--jobs N` on growing sets of files that
survive the prefilter (the pool threshold `engine.POOL_MIN_BYTES` comes from this table).

    python bench/bench_pool.py [--jobs N] [--repeat R]

Each cell is the median wall time of R fresh `speclint --no-cache` processes (imports included)
on the first files of bench/data/pool_corpus (fixtures/ plus the installed tensorflow_estimator
files that mention EstimatorSpec, if installed), cut at the stated number of bytes.  The pool is
forced on for the `jobs N` column by setting POOL_MIN_BYTES to 0.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000)

RUNNER = """
import sys
from speclint import engine
engine.POOL_MIN_BYTES = int(sys.argv[1])
from speclint.cli import main
sys.argv = ["speclint"] + sys.argv[2:]
main()
"""


def corpus() -> list:
    files = sorted((ROOT / "fixtures").rglob("*.py"))
    spec = importlib.util.find_spec("tensorflow_estimator")
    if spec and spec.submodule_search_locations:
        tfe = Path(list(spec.submodule_search_locations)[0])
        files += sorted(p for p in tfe.rglob("*.py") if b"EstimatorSpec" in p.read_bytes())
    return files


def run(tree: str, jobs: int, threshold: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", RUNNER, str(threshold), "--no-cache", "-q", "--exit-zero",
                        "-j", str(jobs), tree], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _echo(x):
    return x


def pool_costs() -> str:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    starts = []
    for _ in range(10):
        t = time.perf_counter()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
            list(pool.map(_echo, range(2)))
        starts.append(time.perf_counter() - t)
    data = (ROOT / "fixtures" / "resnet_main.py").read_bytes()
    trips = []
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        list(pool.map(_echo, [data] * 4))
        for _ in range(20):
            t = time.perf_counter()
            pool.submit(_echo, data).result()
            trips.append(time.perf_counter() - t)
    return (f"{method} pool of 2: start + 2 tasks + shutdown {statistics.median(starts) * 1000:.1f} ms; "
            f"round trip of a {len(data):,}-byte file {statistics.median(trips) * 1000:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = corpus()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; median of {args.repeat} runs; "
          f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(pool_costs())
    print(f"| bytes analysed | files | jobs 1 s | jobs {args.jobs} (pool forced) s |")
    print("| ---: | ---: | ---: | ---: |")
    for size in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            total = n = 0
            for i, f in enumerate(files):
                if total >= size:
                    break
                data = f.read_bytes()
                (Path(tmp) / f"f{i:04d}_{f.name}").write_bytes(data)
                total += len(data)
                n += 1
            if total < size:
                break
            serial = run(tmp, 1, 0, args.repeat)
            pooled = run(tmp, args.jobs, 0, args.repeat)
            print(f"| {total:,} | {n} | {serial:.2f} | {pooled:.2f} |", flush=True)


if __name__ == "__main__":
    main()
