"""Robustness sweep (issue 6): speclint over the whole standard library and every site-packages
tree of this interpreter.  Run by tests/test_sweep.py in CI; also a script:

    python tests/sweep.py [--sample-bytes N] [DIR ...]

1. Every file, as users run it (prefilter on): the real CLI in a subprocess.  No traceback, no
   internal error, exit code 1 exactly when there are diagnostics, else 0.
2. A sample with the prefilter bypassed (hidden `--no-prefilter`), so that the parser and the
   analyser really see the code: every file that looks like deliberate bad input (test data with
   syntax errors, Python 2 files, odd encodings: see BAD_INPUT_WORDS) plus a deterministic
   sample (by a hash of the path) up to N bytes.  Each file is compared with CPython's own verdict
   (`compile(..., PyCF_ONLY_AST)`): a file CPython cannot compile must be SL000; a file it compiles
   must not be, except where libcst's parser differs (listed, not failed, see KNOWN_LIBCST_GAPS)
   or the file is over speclint's parse limit (SL000 "too large", listed: a deliberate bound).

Prints a summary; exits 1 on any failure.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import site
import subprocess
import sys
import sysconfig
import time
import warnings

BAD_INPUT_WORDS = ("bad_", "badsyntax", "py2_", "tokenizedata", "lib2to3/tests/data", "_coding", "_encoding")
# SL000 reasons that a file CPython compiles may still get: libcst's grammar differs in corners.
KNOWN_LIBCST_GAPS = ("syntax error",)
TOO_LARGE = "too large to analyse"  # over safeparse.MAX_PARSE_BYTES: refused, not a disagreement
CLI_TIMEOUT = 600


def default_dirs() -> list:
    dirs = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    try:
        dirs += site.getsitepackages()
    except AttributeError:
        pass
    out, seen = [], set()
    for d in dirs:
        real = os.path.realpath(d)
        if os.path.isdir(real) and real not in seen and not any(real.startswith(s + os.sep) for s in seen):
            seen.add(real)
            out.append(real)
    return out


def speclint(args, env=None):
    cmd = [sys.executable, "-m", "speclint", "--no-cache", "--output-format", "json", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=CLI_TIMEOUT, env=env)
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    try:
        diags = json.loads(stdout) if stdout.strip() else []
    except ValueError:
        diags = None
    return proc.returncode, diags, stderr


def check_run(label, code, diags, stderr, failures):
    if "Traceback" in stderr or "internal error" in stderr:
        failures.append(f"{label}: traceback or internal error on stderr:\n{stderr[-3000:]}")
    if diags is None:
        failures.append(f"{label}: output is not JSON")
        return
    expected = 1 if diags else 0
    if code != expected:
        failures.append(f"{label}: exit code {code}, expected {expected} ({len(diags)} diagnostics)\n{stderr[-1000:]}")


def py_files(dirs):
    for d in dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith(".py"):
                    yield os.path.join(dirpath, f)


def sample(dirs, budget: int) -> list:
    chosen, rest = [], []
    for path in py_files(dirs):
        low = path.lower()
        if any(w in low for w in BAD_INPUT_WORDS):
            chosen.append(path)
        else:
            rest.append((hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest(), path))
    used = 0
    for _, path in sorted(rest):
        try:
            size = os.path.getsize(path)
        except OSError:
            continue
        if used + size > budget:
            continue
        chosen.append(path)
        used += size
    return sorted(set(chosen))


def cpython_accepts(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return True
    except (SyntaxError, ValueError, UnicodeError, LookupError, OverflowError, RecursionError, MemoryError):
        return False
    except OSError:
        return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample-bytes", type=int, default=1_500_000)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args(argv)
    dirs = args.dirs or default_dirs()
    failures = []
    jobs = ["-j", str(args.jobs)]

    start = time.perf_counter()
    code, diags, stderr = speclint([*jobs, *dirs])
    full_wall = time.perf_counter() - start
    check_run("full run", code, diags, stderr, failures)
    n_files = sum(1 for _ in py_files(dirs))
    print(f"full run over {len(dirs)} trees ({n_files} .py files): exit {code}, "
          f"{len(diags or [])} diagnostics, {full_wall:.1f} s")

    files = sample(dirs, args.sample_bytes)
    start = time.perf_counter()
    sl000 = {}
    n_diags = 0
    chunk = 400  # keep command lines short
    for i in range(0, len(files), chunk):
        part = files[i:i + chunk]
        code, diags, stderr = speclint(["--no-prefilter", "--select", "ALL", *jobs, *part])
        check_run(f"sample run {i // chunk}", code, diags, stderr, failures)
        for d in diags or []:
            n_diags += 1
            if d["code"] == "SL000":
                sl000[os.path.realpath(d["path"])] = d["message"]
    sample_wall = time.perf_counter() - start
    sample_bytes = sum(os.path.getsize(f) for f in files if os.path.exists(f))
    rejected = gaps = 0
    gap_list, too_large = [], []
    for f in files:
        real = os.path.realpath(f)
        accepted = cpython_accepts(f)
        if not accepted:
            rejected += 1
            if real not in sl000:
                failures.append(f"{f}: CPython cannot compile it, but speclint reported no SL000")
        elif real in sl000:
            msg = sl000[real]
            if TOO_LARGE in msg:
                too_large.append(f"{f}: {msg}")
            elif any(k in msg for k in KNOWN_LIBCST_GAPS) or "nested too deeply" in msg:
                gaps += 1
                gap_list.append(f"{f}: {msg}")
            else:
                failures.append(f"{f}: CPython compiles it, speclint says: {msg}")
    print(f"sample with the prefilter bypassed: {len(files)} files, {sample_bytes:,} bytes, "
          f"{n_diags} diagnostics, {rejected} files CPython rejects (all SL000: "
          f"{'yes' if not any('no SL000' in x for x in failures) else 'NO'}), "
          f"{gaps} files CPython accepts but libcst does not, {len(too_large)} over the parse limit, "
          f"{sample_wall:.1f} s")
    for g in gap_list:
        print(f"  libcst gap: {g}")
    for g in too_large:
        print(f"  too large: {g}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
