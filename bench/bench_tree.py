"""The speed benchmark of issue 6: prints a table and writes it to bench/RESULTS.md (the README
quotes that file).

    python bench/bench_tree.py [--repeat R] [--out FILE] [--mirrors [DIR]] [TREE ...]

TREE defaults to the installed `tensorflow` and `tensorflow_estimator` packages' Python sources
(found without importing them; install tensorflow-cpu==2.15.1 and tensorflow-estimator==2.15.0 in
the interpreter running this).  `--mirrors` benchmarks the public TPU/Estimator repositories of the
precision sweep instead (tools/sweep_repos.toml, at their pinned commits, extracted from the git
mirrors in DIR, default $SPECLINT_SWEEP_MIRRORS or /work/.mirror: see docs/precision.md).  Every measurement is a fresh process, timed from outside (wall
time, CPU time of the process and its children, peak resident memory of the largest process):

- speclint cold (empty cache, default --jobs), warm (same cache again), and cold with --jobs 1;
- a plain libcst parse of every file, one process and one process per core (the floor for any
  linter that parses everything with libcst);
- `ruff check --isolated --no-cache` (what users compare linters to; ruff is looked for next to this
  interpreter and on PATH, and its row says so when it is not there);
- one `speclint FILE` call on a file with no TF code and on bench/data/tpu_pretraining.py (1,150
  lines of TPU pre-training script), with `--mirrors` also on BERT's run_classifier.py in its
  repository (the issue's own example: it follows modeling.py and optimization.py, and its user
  run_classifier_with_tfhub.py is analysed too), and python's own start-up for reference.  Each
  extracted repository gets an empty `.git`, as a clone has: its own project root.  speclint's bytecode is
  compiled first and every process may read it (PYTHONDONTWRITEBYTECODE is dropped from the measured
  processes' environment), as for an installed package: pip compiles bytecode at install time.

Latencies are the median of R runs (default 7); cold and warm tree runs the median of 3, the cold
runs alternating with the parse of every file on all cores (the ratio's two sides measured under the
same load).  The first `speclint` run of an installation writes the bytecode table of generated
dataclass methods (`speclint/importcache.py`), as Python writes .pyc files: the bench makes one run
first, like `pip install` compiling bytecode.  The language server's
change latency is measured by the integrations work (the LSP), not here.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TPU_SCRIPT = ROOT / "bench" / "data" / "tpu_pretraining.py"
NON_TF_FILE = Path(__import__("textwrap").__file__)  # a stdlib module: no TF code at all

PARSE_ALL = r"""
import os, sys
from concurrent.futures import ProcessPoolExecutor
import libcst

def parse(paths):
    failed = 0
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        try:
            libcst.parse_module(data)
        except Exception:
            failed += 1
    return failed

paths = [line for line in open(sys.argv[1]).read().splitlines() if line]
jobs = int(sys.argv[2])
if jobs == 1:
    failed = parse(paths)
else:
    chunks = [paths[i::jobs * 8] for i in range(jobs * 8)]
    with ProcessPoolExecutor(jobs) as pool:
        failed = sum(pool.map(parse, chunks))
print(failed)
"""


def default_trees() -> list:
    trees = []
    for name in ("tensorflow", "tensorflow_estimator"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            trees.append(list(spec.submodule_search_locations)[0])
    if not trees:
        sys.exit("tensorflow / tensorflow_estimator are not installed in this interpreter; pass TREE paths")
    return trees


def mirror_trees(mirror_root: Path, dest: Path) -> list:
    """Extract the precision sweep's repositories (their Python files) under dest; their paths."""
    sys.path.insert(0, str(ROOT / "tools"))
    import sweep_precision as sweep

    trees = []
    for repo in sweep.load_manifest(sweep.DEFAULT_MANIFEST):
        git_dir = sweep.find_git_dir(mirror_root, repo["github"])
        if git_dir is None:
            print(f"(no mirror of {repo['github']} under {mirror_root}: left out)", flush=True)
            continue
        tree = dest / repo["name"]
        try:
            sweep.extract(git_dir, repo["commit"], repo["subdirs"], tree)
        except RuntimeError as exc:
            print(f"({repo['github']}: {exc}: left out)", flush=True)
            continue
        (tree / ".git").mkdir(exist_ok=True)  # each its own repository, as a clone is (its project root)
        trees.append(str(tree))
    if not trees:
        sys.exit(f"no repository of tools/sweep_repos.toml found under {mirror_root}")
    return trees


def python_files(trees) -> list:
    out, seen = [], set()
    for tree in trees:
        for dirpath, dirnames, filenames in os.walk(tree):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith((".py", ".pyi")):
                    p = os.path.realpath(os.path.join(dirpath, f))
                    if p not in seen:
                        seen.add(p)
                        out.append(p)
    return out


def _user_env() -> dict:
    """The environment a user's shell has: bytecode may be written and read.  pip compiles an
    installed package's bytecode at install time; a sandbox that sets PYTHONDONTWRITEBYTECODE would
    otherwise time every start-up with ~20 ms of compiling speclint from source."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _compile_bytecode() -> None:
    import compileall
    import speclint
    compileall.compile_dir(os.path.dirname(speclint.__file__), quiet=1)
    measure(speclint_cmd("--no-cache", str(TPU_SCRIPT)))  # (writes the importcache tables)


def measure(cmd, env=None):
    """(wall s, cpu s, peak RSS MiB of the largest process, returncode, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env if env is not None else _user_env())
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, out


def median_run(cmd, repeat, before=None):
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(measure(cmd))
    return _median(runs)


def _median(runs):
    """The run of median wall time."""
    walls = sorted(r[0] for r in runs)
    return runs[[r[0] for r in runs].index(walls[len(walls) // 2])]


def speclint_cmd(*args):
    """The `speclint` console script users run (next to this interpreter), else `python -m`."""
    script = Path(sys.executable).with_name("speclint")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "speclint"]
    return [*base, "-q", "--exit-zero", *args]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    import libcst  # noqa: F401 - for its version
    from importlib.metadata import version
    return (f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, libcst {version('libcst')}")


def load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--mirrors", nargs="?", const=os.environ.get("SPECLINT_SWEEP_MIRRORS") or "/work/.mirror",
                    help="benchmark the precision sweep's public repositories (extracted from these git mirrors)")
    ap.add_argument("trees", nargs="*")
    args = ap.parse_args()
    _compile_bytecode()  # as `pip install` does; _user_env lets every measured process read it
    if args.mirrors:
        extracted = Path(tempfile.mkdtemp(prefix="speclint-bench-trees-"))
        trees = mirror_trees(Path(args.mirrors), extracted)
    else:
        trees = args.trees or default_trees()
    files = python_files(trees)
    lines = 0
    for p in files:
        with open(p, "rb") as fh:
            lines += fh.read().count(b"\n")
    load_before = load()
    rows = []  # (measure, figure, target, met)

    def row(name, figure, target="", met=None):
        rows.append((name, figure, target, "" if met is None else ("yes" if met else "**no**")))
        print(f"{name}: {figure}", flush=True)

    tree_desc = ", ".join(Path(t).name for t in trees)
    sys.path.insert(0, str(ROOT))
    from speclint.files import PREFILTER_TOKENS, may_matter

    survivors = 0
    for p in files:
        with open(p, "rb") as fh:
            survivors += may_matter(fh.read())
    tokens = ", ".join(f"`{t.decode()}`" for t in PREFILTER_TOKENS)
    row("tree", f"{tree_desc}: {len(files):,} files (.py, .pyi), {lines:,} lines; "
                f"{survivors} mention {tokens} (analysed), the rest skipped by the prefilter")

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(files))
        listing = fh.name
    jobs = os.cpu_count() or 1
    cache_dir = tempfile.mkdtemp(prefix="speclint-bench-cache-")
    try:
        # the cold run and the floor alternate, three times each (medians): the ratio is of
        # measurements made under the same load, whatever the machine's load does meanwhile
        colds, floors = [], []
        for _ in range(3):
            shutil.rmtree(cache_dir, ignore_errors=True)
            colds.append(measure(speclint_cmd("--cache-dir", cache_dir, *trees)))
            floors.append(measure([sys.executable, "-c", PARSE_ALL, listing, str(jobs)]))
        cold, parsen = _median(colds), _median(floors)
        warm = median_run(speclint_cmd("--cache-dir", cache_dir, *trees), 3)
        serial = measure(speclint_cmd("--no-cache", "-j", "1", *trees))
        parse1 = measure([sys.executable, "-c", PARSE_ALL, listing, "1"])
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        os.unlink(listing)
    ruff = shutil.which("ruff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    ruff_run = measure([ruff, "check", "--isolated", "--no-cache", "--exit-zero", "-q", *trees]) if ruff else None
    ruff_version = subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.strip() if ruff else ""

    row("speclint, cold (empty cache, --jobs default)",
        f"{cold[0]:.2f} s wall, {cold[1]:.2f} s CPU, {lines / cold[0]:,.0f} lines/s, peak {cold[2]:.0f} MiB",
        f"at most half a libcst parse of every file on all cores ({parsen[0] / 2:.1f} s wall; "
        f"CPU: {parsen[1] / 2:.1f} s; ratio {cold[0] / parsen[0]:.2f} wall, {cold[1] / parsen[1]:.2f} CPU)",
        cold[0] <= parsen[0] / 2)
    row("speclint, warm (cached)", f"{warm[0]:.2f} s wall, {warm[1]:.2f} s CPU, peak {warm[2]:.0f} MiB",
        f"under a tenth of cold ({cold[0] / 10:.2f} s)", warm[0] < cold[0] / 10)
    row("speclint, cold, --jobs 1, no cache", f"{serial[0]:.2f} s wall, {serial[1]:.2f} s CPU, peak {serial[2]:.0f} MiB")
    row("libcst parse of every file, 1 process",
        f"{parse1[0]:.1f} s wall, {lines / parse1[0]:,.0f} lines/s, peak {parse1[2]:.0f} MiB, "
        f"{parse1[4].decode().strip()} files libcst cannot parse")
    row(f"libcst parse of every file, {jobs} processes (median of 3, each run right after a cold run)",
        f"{parsen[0]:.1f} s wall, {parsen[1]:.1f} s CPU")
    if ruff_run:
        row(f"`ruff check` ({ruff_version}, default rules, no cache)",
            f"{ruff_run[0]:.2f} s wall, {ruff_run[1]:.2f} s CPU, peak {ruff_run[2]:.0f} MiB")
    else:
        row("`ruff check`", "not measured: no `ruff` next to this interpreter or on PATH")

    startup = median_run([sys.executable, "-c", "pass"], args.repeat)
    non_tf = median_run(speclint_cmd("--no-cache", str(NON_TF_FILE)), args.repeat)
    tpu = median_run(speclint_cmd("--no-cache", str(TPU_SCRIPT)), args.repeat)
    tpu_lines = TPU_SCRIPT.read_bytes().count(b"\n")
    with tempfile.TemporaryDirectory() as tmp:
        measure(speclint_cmd("--cache-dir", tmp, str(TPU_SCRIPT)))
        tpu_warm = median_run(speclint_cmd("--cache-dir", tmp, str(TPU_SCRIPT)), args.repeat)
    row("`speclint FILE`, a file with no TF code (stdlib textwrap.py)",
        f"{non_tf[0] * 1000:.0f} ms wall ({non_tf[1] * 1000:.0f} ms CPU)", "under 60 ms", non_tf[0] < 0.060)
    row(f"`speclint FILE`, {tpu_lines:,}-line TPU training script (bench/data), no cache",
        f"{tpu[0] * 1000:.0f} ms wall ({tpu[1] * 1000:.0f} ms CPU)", "at most 250 ms", tpu[0] <= 0.250)
    row("the same, cached", f"{tpu_warm[0] * 1000:.0f} ms wall ({tpu_warm[1] * 1000:.0f} ms CPU)")
    bert = next((Path(t) / "run_classifier.py" for t in trees if Path(t).name == "bert"), None)
    if bert is not None and bert.is_file():  # (--mirrors) the issue's own example, in its repository
        real = median_run(speclint_cmd("--no-cache", str(bert)), args.repeat)
        bert_lines = bert.read_bytes().count(b"\n")
        row(f"`speclint FILE`, BERT's run_classifier.py ({bert_lines:,} lines; it follows "
            "modeling.py, optimization.py and its user run_classifier_with_tfhub.py) in its repository, no cache",
            f"{real[0] * 1000:.0f} ms wall ({real[1] * 1000:.0f} ms CPU)", "at most 250 ms", real[0] <= 0.250)
    row("python -c pass (interpreter start-up, for reference)", f"{startup[0] * 1000:.0f} ms wall")
    row("language server, one change", "measured by `bench/bench_lsp.py --in-place FILE` (a code edit in "
        "a file inside its repository); see bench/RESULTS.md's language server section")

    out = [f"Machine: {machine()}. Load average before/after: {load_before} / {load()} "
           f"(the machine is shared; wall times vary with load, CPU times less so).", "",
           "| measure | reached | target | met |", "| --- | --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(out) + "\n"
    print()
    print(text)
    if args.mirrors:
        shutil.rmtree(extracted, ignore_errors=True)
    Path(args.out).write_text(f"<!-- written by bench/bench_tree.py on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} -->\n" + text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
