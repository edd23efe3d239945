"""Time speclint over source trees and print a table (issue 6 extends this into the full benchmark).

    python bench/bench_tree.py [TREE ...]      # default: the installed tensorflow_estimator, fixtures/

Columns: files, lines, files analysed (the rest skipped by the prefilter), wall seconds of one
in-process run (the rulebook already loaded), lines per second, and peak memory of the process.
"""
from __future__ import annotations

import importlib.util
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speclint import engine, rulebook  # noqa: E402
from speclint.config import Resolver  # noqa: E402


def default_trees() -> list:
    trees = []
    spec = importlib.util.find_spec("tensorflow_estimator")
    if spec and spec.submodule_search_locations:
        trees.append(list(spec.submodule_search_locations)[0])
    trees.append(str(ROOT / "fixtures"))
    return trees


def count_lines(tree: str) -> tuple:
    files = lines = 0
    for dirpath, _, names in os.walk(tree):
        for n in names:
            if n.endswith(".py"):
                files += 1
                with open(os.path.join(dirpath, n), "rb") as fh:
                    lines += fh.read().count(b"\n")
    return files, lines


def main(trees: list) -> None:
    rulebook.load()
    rows = []
    for tree in trees:
        files, lines = count_lines(tree)
        start = time.perf_counter()
        result = engine.check_paths([tree], Resolver())
        wall = time.perf_counter() - start
        analysed = sum(1 for f in result.files if not f.skipped)
        rows.append((tree, files, lines, analysed, len(result.diagnostics), wall, lines / wall if wall else 0))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; one process, no cache")
    print(f"| tree | files | lines | analysed | diagnostics | wall s | lines/s |")
    print(f"| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tree, files, lines, analysed, diags, wall, lps in rows:
        print(f"| {tree} | {files} | {lines} | {analysed} | {diags} | {wall:.2f} | {lps:,.0f} |")
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:] or default_trees())
