#!/usr/bin/env python3
"""Precision sweep (issue 10, item 5): speclint over public TPU/Estimator code at pinned commits,
compared with the hand-judged verdicts in docs/precision-verdicts.json.

    python tools/sweep_precision.py                       # run, compare, print the tables
    python tools/sweep_precision.py --out docs/sweep/baseline.json
    python tools/sweep_precision.py --findings docs/sweep/baseline.json   # compare only, no run
    python tools/sweep_precision.py --check               # exit 1 on unjudged findings or < 90 %
    python tools/sweep_precision.py --findings F --render-md docs/precision.md

Inputs
  tools/sweep_repos.toml   the manifest: [[repo]] name, github ("owner/name"), commit (pinned),
                           optional subdirs (only these are checked), optional role = "tf-tests"
                           (TensorFlow Estimator itself: its test files get their own table).
  a git directory per repository, found under the mirror root (--mirror-root, else
  $SPECLINT_SWEEP_MIRRORS, else /work/.mirror) as <owner>+<name>/repo, <owner>+<name>,
  <owner>+<name>.git or <owner>/<name>(.git).  `git clone --bare https://github.com/<owner>/<name>
  <root>/<owner>+<name>/repo` makes one.  A missing repository or commit is reported, not fatal.

What it runs, per repository: the commit's *.py files (under subdirs) written into a scratch directory (git ls-tree + cat-file), then
    python -m speclint check --output-format json --no-cache --exit-zero -j 1
        --no-respect-gitignore --config <empty speclint.toml> <tree>
i.e. the default rule selection (every rule enabled by default: not SL042, not SL101) and the
default target (auto), with no config from the repository itself.  Each finding gets a fingerprint
that does not depend on its line number (repo, path, code, the stripped text of the reported line,
and a counter for repeats of that), so verdicts survive edits elsewhere in the file.

Verdicts (docs/precision-verdicts.json, the single source of truth; docs/precision.md's tables
are rendered from it with --render-md):
  outside tests:      "true" (a bug on a path the repository runs), "latent" (right about TF, on a
                      path the code never takes), "false" (wrong about TF); "latent?" / "false?"
                      when the judge was not sure (counted as not true).
  TF Estimator tests: "failing-test" (inside a deliberately failing test), "mode-run" (in a mode
                      that test runs), "neither" (false, or a mode the test never runs).
Precision outside tests = true / all findings outside test files (SL000/SL1xx meta diagnostics
are listed but not counted: they are not claims about TensorFlow).
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT / "tools" / "sweep_repos.toml"
DEFAULT_VERDICTS = ROOT / "docs" / "precision-verdicts.json"
DEFAULT_MIRRORS = "/work/.mirror"
MIRROR_ENV = "SPECLINT_SWEEP_MIRRORS"
TARGET_PRECISION = 0.90

OUTSIDE_VERDICTS = ("true", "latent", "false")
UNSURE = {"latent?": "latent", "false?": "false"}
TEST_VERDICTS = ("failing-test", "mode-run", "neither")
META_CODES = re.compile(r"^SL(000|1\d\d)$")

_TEST_DIRS = {"test", "tests", "testing"}
_TEST_NAME = re.compile(r"(^test_.*\.py$|_test\.py$|_tests\.py$|^conftest\.py$|test_?util|testing_util)")


def is_test_path(path: str) -> bool:
    """A test file: *_test.py, test_*.py, conftest.py, test utilities, or anything under a
    test/tests/testing directory."""
    parts = path.replace("\\", "/").split("/")
    return bool(_TEST_NAME.search(parts[-1])) or any(p in _TEST_DIRS for p in parts[:-1])


# ---- manifest and mirrors ------------------------------------------------------------------------
def load_manifest(path: Path) -> list:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    repos = data.get("repo", [])
    names = set()
    for r in repos:
        for key in ("name", "github", "commit"):
            if not isinstance(r.get(key), str) or not r[key]:
                raise SystemExit(f"{path}: every [[repo]] needs a string {key!r}: {r!r}")
        if r["name"] in names:
            raise SystemExit(f"{path}: repository name {r['name']!r} twice")
        names.add(r["name"])
        r.setdefault("subdirs", [])
        r.setdefault("role", "")
    return repos


def git(git_dir, *args, **kw):
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, **kw)


def find_git_dir(mirror_root: Path, github: str):
    owner, name = github.split("/", 1)
    for cand in (mirror_root / f"{owner}+{name}" / "repo", mirror_root / f"{owner}+{name}",
                 mirror_root / f"{owner}+{name}.git", mirror_root / owner / name,
                 mirror_root / owner / f"{name}.git"):
        if cand.is_dir() and git(cand, "rev-parse", "--git-dir").returncode == 0:
            return cand
    return None


def extract(git_dir: Path, commit: str, subdirs, dest: Path) -> list:
    """Write the commit's Python files (under subdirs, if any) into dest.  Only *.py files: that is
    all speclint reads, and mirrors may lack large blobs (so `git archive` of the whole tree can
    fail).  Returns the paths whose blob is absent from the mirror."""
    proc = git(git_dir, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *subdirs)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace").strip())
    entries = []
    for rec in proc.stdout.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split()
        name = path.decode("utf-8", "surrogateescape")
        if kind == b"blob" and mode != b"120000" and name.endswith(".py"):
            entries.append((sha.decode(), name))
    dest.mkdir(parents=True, exist_ok=True)
    absent = []
    batch = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                           input=b"".join(sha.encode() + b"\n" for sha, _ in entries), capture_output=True)
    data, pos = batch.stdout, 0
    for sha, name in entries:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].split()
        pos = nl + 1
        if len(header) < 3 or header[1] != b"blob":  # "<sha> missing"
            absent.append(name)
            continue
        size = int(header[2])
        blob = data[pos:pos + size]
        pos += size + 1
        target = dest / name
        if not target.resolve().is_relative_to(dest.resolve()):
            raise RuntimeError(f"path escapes the tree: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    return absent


def count_python(tree: Path) -> tuple:
    files = lines = 0
    for dirpath, dirnames, filenames in os.walk(tree):
        for f in filenames:
            if f.endswith(".py"):
                files += 1
                with open(os.path.join(dirpath, f), "rb") as fh:
                    lines += fh.read().count(b"\n")
    return files, lines


# ---- running speclint ----------------------------------------------------------------------------
SPECLINT_ARGS = ["check", "--output-format", "json", "--no-cache", "--exit-zero", "-j", "1",
                 "--no-respect-gitignore"]


def run_speclint(tree: Path, config: Path, python: str = sys.executable) -> list:
    cmd = [python, "-m", "speclint", *SPECLINT_ARGS, "--config", str(config), "."]
    proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"speclint exited {proc.returncode}: {proc.stderr[-2000:]}")
    if "Traceback" in proc.stderr or "internal error" in proc.stderr:
        raise RuntimeError(f"speclint reported an internal error: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout) if proc.stdout.strip() else []


def _rel(path: str, tree: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        p = p.relative_to(tree)
    s = p.as_posix()
    return s[2:] if s.startswith("./") else s


def fingerprint(repo: str, path: str, code: str, text: str, n: int = 0) -> str:
    """repo:path:code:<hash of the reported line's text, whitespace-normalised>[#n for the n-th repeat]."""
    h = hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:10]
    return f"{repo}:{path}:{code}:{h}" + (f"#{n}" if n else "")


def findings_for_tree(repo: str, tree: Path, diags: list) -> list:
    out = []
    lines_cache = {}
    for d in diags:
        path = _rel(d["path"], tree)
        if path not in lines_cache:
            try:
                lines_cache[path] = (tree / path).read_text("utf-8", "replace").splitlines()
            except OSError:
                lines_cache[path] = []
        src = lines_cache[path]
        line = int(d.get("line") or 0)
        text = src[line - 1].strip() if 0 < line <= len(src) else ""
        out.append({
            "repo": repo, "path": path, "line": line, "col": int(d.get("column") or 0),
            "code": d["code"], "name": d.get("name", ""), "message": d.get("message", ""),
            "source": text, "test_file": is_test_path(path),
        })
    out.sort(key=lambda f: (f["path"], f["line"], f["col"], f["code"], f["message"]))
    seen = collections.Counter()
    for f in out:
        key = (f["path"], f["code"], " ".join(f["source"].split()))
        f["fingerprint"] = fingerprint(repo, f["path"], f["code"], f["source"], seen[key])
        seen[key] += 1
    return out


def speclint_version() -> str:
    """The last commit that changed the analyser (speclint/, rules/), '+dirty' with local edits there."""
    proc = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h", "--", "speclint", "rules"],
                          capture_output=True, text=True)
    rev = proc.stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "speclint", "rules"],
                           capture_output=True, text=True).stdout.strip()
    return rev + ("+dirty" if dirty else "")


def sweep(repos: list, mirror_root: Path, work: Path, log=print) -> dict:
    config = work / "speclint.toml"
    config.write_text("# empty: speclint's defaults\n")
    result = {"speclint": speclint_version(), "speclint_args": SPECLINT_ARGS + ["--config", "<empty>"],
              "repos": [], "findings": []}
    for r in repos:
        entry = {"name": r["name"], "github": r["github"], "commit": r["commit"], "subdirs": r["subdirs"],
                 "role": r["role"]}
        git_dir = find_git_dir(mirror_root, r["github"])
        if git_dir is None:
            entry["status"] = f"missing: no git directory for {r['github']} under {mirror_root}"
            log(f"{r['name']}: {entry['status']}")
            result["repos"].append(entry)
            continue
        tree = work / r["name"]
        try:
            absent = extract(git_dir, r["commit"], r["subdirs"], tree)
        except RuntimeError as exc:
            entry["status"] = f"missing: cannot extract {r['commit'][:12]}: {exc}"
            log(f"{r['name']}: {entry['status']}")
            result["repos"].append(entry)
            continue
        (tree / ".git").mkdir(exist_ok=True)  # its own repository, as a clone is (its project root)
        entry["py_files"], entry["py_lines"] = count_python(tree)
        if absent:
            entry["absent_from_mirror"] = absent
            log(f"{r['name']}: {len(absent)} Python files absent from the mirror (not checked): {absent[:5]}")
        start = time.perf_counter()
        found = findings_for_tree(r["name"], tree, run_speclint(tree, config))
        entry["status"] = "ok"
        entry["findings"] = len(found)
        log(f"{r['name']}: {entry['py_files']} files, {entry['py_lines']:,} lines, {len(found)} findings, "
            f"{time.perf_counter() - start:.1f} s")
        result["repos"].append(entry)
        result["findings"].extend(found)
        shutil.rmtree(tree, ignore_errors=True)
    return result


# ---- verdicts and tables -------------------------------------------------------------------------
def load_verdicts(path: Path) -> dict:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return {v["fingerprint"]: v for v in data.get("verdicts", [])}


def classify(findings: list, repos_by_name: dict, verdicts: dict) -> dict:
    """Split the findings: meta, outside tests, TF Estimator's tests, other repositories' tests."""
    groups = {"outside": [], "tf_tests": [], "other_tests": [], "meta": []}
    for f in findings:
        v = verdicts.get(f["fingerprint"])
        f = dict(f, verdict=(v or {}).get("verdict"), reason=(v or {}).get("reason", ""),
                 tf_source=(v or {}).get("tf_source", ""), expected_error=(v or {}).get("expected_error"))
        if META_CODES.match(f["code"]):
            groups["meta"].append(f)
        elif f["test_file"] and repos_by_name.get(f["repo"], {}).get("role") == "tf-tests":
            groups["tf_tests"].append(f)
        elif f["test_file"]:
            groups["other_tests"].append(f)
        else:
            groups["outside"].append(f)
    return groups


def outside_table(rows: list) -> tuple:
    per = collections.OrderedDict()
    for f in sorted(rows, key=lambda f: f["code"]):
        c = per.setdefault(f["code"], collections.Counter())
        c["total"] += 1
        v = f["verdict"]
        base = UNSURE.get(v, v)
        c[base if base in OUTSIDE_VERDICTS else "unjudged"] += 1
    total = collections.Counter()
    for c in per.values():
        total.update(c)
    return per, total


def tests_table(rows: list) -> tuple:
    per = collections.OrderedDict()
    for f in sorted(rows, key=lambda f: f["code"]):
        c = per.setdefault(f["code"], collections.Counter())
        c["total"] += 1
        c[f["verdict"] if f["verdict"] in TEST_VERDICTS else "unjudged"] += 1
        if f["verdict"] == "failing-test" and f.get("expected_error"):
            c["expected"] += 1
    total = collections.Counter()
    for c in per.values():
        total.update(c)
    return per, total


def precision(total: collections.Counter):
    return total["true"] / total["total"] if total["total"] else None


def fmt_pct(p) -> str:
    return "n/a" if p is None else f"{100 * p:.0f} %"


def md_outside(per, total) -> str:
    out = ["| rule | total | true | latent | false | unjudged | precision |", "|---|---:|---:|---:|---:|---:|---:|"]
    for code, c in list(per.items()) + [("**all**", total)]:
        p = c["true"] / c["total"] if c["total"] else None
        out.append(f"| {code} | {c['total']} | {c['true']} | {c['latent']} | {c['false']} | {c['unjudged']} | {fmt_pct(p)} |")
    return "\n".join(out)


def md_tests(per, total) -> str:
    out = ["| rule | total | in a deliberately failing test | (of which the error the test expects) "
           "| in a mode the test runs | neither | unjudged |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for code, c in list(per.items()) + [("**all**", total)]:
        out.append(f"| {code} | {c['total']} | {c['failing-test']} | {c['expected']} | {c['mode-run']} "
                   f"| {c['neither']} | {c['unjudged']} |")
    return "\n".join(out)


def _cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def md_verdict_rows(rows: list, with_tf=True) -> str:
    head = "| # | repo | file:line | rule | verdict | reason | TF source |" if with_tf else "| # | repo | file:line | rule | verdict | reason |"
    out = [head, "|---|---|---|---|---|---|---|" if with_tf else "|---|---|---|---|---|---|"]
    for i, f in enumerate(sorted(rows, key=lambda f: (f["repo"], f["path"], f["line"], f["code"])), 1):
        cells = [str(i), f["repo"], f"`{f['path']}:{f['line']}`", f["code"], f["verdict"] or "**unjudged**",
                 _cell(f["reason"] or f["message"])]
        if with_tf:
            cells.append(_cell(f["tf_source"]))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def repo_table(result: dict) -> str:
    out = ["| repository | GitHub | pinned commit | subdirs | .py files | lines | findings |",
           "|---|---|---|---|---:|---:|---:|"]
    for r in result["repos"]:
        if r.get("status") != "ok":
            out.append(f"| {r['name']} | {r['github']} | `{r['commit']}` | {', '.join(r['subdirs']) or '(all)'} | – | – | {r['status']} |")
            continue
        out.append(f"| {r['name']} | [{r['github']}](https://github.com/{r['github']}/tree/{r['commit']}) | "
                   f"`{r['commit']}` | {', '.join(r['subdirs']) or '(all)'} | {r['py_files']} | {r['py_lines']:,} | {r['findings']} |")
    ok = [r for r in result["repos"] if r.get("status") == "ok"]
    out.append(f"| **{len(ok)} repositories** | | | | {sum(r['py_files'] for r in ok)} | "
               f"{sum(r['py_lines'] for r in ok):,} | {sum(r['findings'] for r in ok)} |")
    return "\n".join(out)


def render(result: dict, verdicts: dict) -> dict:
    repos_by_name = {r["name"]: r for r in result["repos"]}
    g = classify(result["findings"], repos_by_name, verdicts)
    per_o, tot_o = outside_table(g["outside"])
    per_t, tot_t = tests_table(g["tf_tests"])
    return {
        "groups": g, "outside": (per_o, tot_o), "tf_tests": (per_t, tot_t), "precision": precision(tot_o),
        "sections": {
            "repos": repo_table(result),
            "outside-table": md_outside(per_o, tot_o) + f"\n\nPrecision outside tests: **{tot_o['true']} / "
                             f"{tot_o['total']} = {fmt_pct(precision(tot_o))}** (target >= {TARGET_PRECISION:.0%}).",
            "tests-table": md_tests(per_t, tot_t),
            "outside-verdicts": md_verdict_rows(g["outside"]),
            "tests-verdicts": md_verdict_rows(g["tf_tests"]),
            "other-tests": md_verdict_rows(g["other_tests"], with_tf=False) if g["other_tests"] else "(none)",
            "meta": md_verdict_rows(g["meta"], with_tf=False) if g["meta"] else "(none)",
        },
    }


def replace_sections(md: str, sections: dict) -> str:
    for key, body in sections.items():
        pat = re.compile(rf"(<!-- sweep:{re.escape(key)} -->\n)(?:.*?\n)?(<!-- /sweep:{re.escape(key)} -->)", re.S)
        md, n = pat.subn(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), md)
        if n != 1:
            raise SystemExit(f"markdown has no (or several) <!-- sweep:{key} --> ... <!-- /sweep:{key} --> markers")
    return md


def print_text(rendered: dict, out=sys.stdout) -> None:
    per_o, tot_o = rendered["outside"]
    print("\nOutside test files (true / latent / false, by hand):", file=out)
    print(f"  {'rule':8} {'total':>5} {'true':>5} {'latent':>6} {'false':>5} {'unjudged':>8} {'precision':>9}", file=out)
    for code, c in list(per_o.items()) + [("all", tot_o)]:
        p = c["true"] / c["total"] if c["total"] else None
        print(f"  {code:8} {c['total']:5} {c['true']:5} {c['latent']:6} {c['false']:5} {c['unjudged']:8} {fmt_pct(p):>9}", file=out)
    per_t, tot_t = rendered["tf_tests"]
    print("\nTensorFlow Estimator's test files:", file=out)
    print(f"  {'rule':8} {'total':>5} {'failing-test':>12} {'(expected)':>10} {'mode-run':>8} {'neither':>7} {'unjudged':>8}",
          file=out)
    for code, c in list(per_t.items()) + [("all", tot_t)]:
        print(f"  {code:8} {c['total']:5} {c['failing-test']:12} {c['expected']:10} {c['mode-run']:8} {c['neither']:7} "
              f"{c['unjudged']:8}", file=out)
    g = rendered["groups"]
    print(f"\nOther repositories' test files: {len(g['other_tests'])} findings (not judged); "
          f"meta diagnostics (SL000/SL1xx): {len(g['meta'])}", file=out)
    unjudged = [f for f in g["outside"] + g["tf_tests"] if f["verdict"] is None
                or (f in g["tf_tests"] and f["verdict"] not in TEST_VERDICTS)]
    if unjudged:
        print(f"\nUnjudged ({len(unjudged)}):", file=out)
        for f in unjudged:
            print(f"  {f['repo']}/{f['path']}:{f['line']}:{f['col']}: {f['code']} {f['message'][:150]}", file=out)
            print(f"      fingerprint {f['fingerprint']}", file=out)


def stale_verdicts(result: dict, verdicts: dict) -> list:
    """Verdicts whose finding no longer appears (only for repositories that were swept)."""
    swept = {r["name"] for r in result["repos"] if r.get("status") == "ok"}
    present = {f["fingerprint"] for f in result["findings"]}
    return [v for fp, v in verdicts.items() if fp not in present and fp.split(":", 1)[0] in swept]


def diff_findings(result: dict, other_path: Path, out=sys.stdout) -> list:
    """Findings added, gone, or with another message than in other_path (only for repositories
    swept in both).  Line moves alone are not changes."""
    with open(other_path, encoding="utf-8") as fh:
        other = json.load(fh)
    both = ({r["name"] for r in result["repos"] if r.get("status") == "ok"}
            & {r["name"] for r in other["repos"] if r.get("status") == "ok"})
    new = {f["fingerprint"]: f for f in result["findings"] if f["repo"] in both}
    old = {f["fingerprint"]: f for f in other["findings"] if f["repo"] in both}
    changes = []
    for fp in sorted(new.keys() - old.keys()):
        changes.append(("added", new[fp]))
    for fp in sorted(old.keys() - new.keys()):
        changes.append(("gone", old[fp]))
    for fp in sorted(new.keys() & old.keys()):
        if new[fp]["message"] != old[fp]["message"]:
            changes.append(("message changed", new[fp]))
    print(f"\nCompared with {other_path} ({len(both)} repositories): {len(changes)} changes", file=out)
    for kind, f in changes:
        print(f"  {kind}: {f['repo']}/{f['path']}:{f['line']}: {f['code']} {f['message'][:120]}", file=out)
    return changes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--verdicts", type=Path, default=DEFAULT_VERDICTS)
    ap.add_argument("--mirror-root", type=Path, default=Path(os.environ.get(MIRROR_ENV) or DEFAULT_MIRRORS))
    ap.add_argument("--work-dir", type=Path, help="scratch directory for the extracted trees (default: a temp dir)")
    ap.add_argument("--only", action="append", default=[], help="sweep only this repository (by name); repeatable")
    ap.add_argument("--findings", type=Path, help="read findings from this JSON instead of running speclint")
    ap.add_argument("--out", type=Path, help="write the findings JSON here")
    ap.add_argument("--render-md", type=Path, help="rewrite the generated sections of this Markdown file")
    ap.add_argument("--diff-against", type=Path, metavar="FINDINGS_JSON",
                    help="compare with an earlier findings JSON (e.g. docs/sweep/baseline.json): list findings "
                         "added, gone or with a changed message; exit 1 if any")
    ap.add_argument("--print-clone-commands", action="store_true",
                    help="print `git clone --bare` commands for the repositories missing under the mirror root, and exit")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a finding is unjudged, a repository is missing, precision outside tests is "
                         "below 90 %%, or a TF Estimator test finding is 'neither'")
    args = ap.parse_args(argv)

    repos = load_manifest(args.manifest)
    if args.only:
        unknown = set(args.only) - {r["name"] for r in repos}
        if unknown:
            ap.error(f"not in the manifest: {', '.join(sorted(unknown))}")
        repos = [r for r in repos if r["name"] in args.only]

    if args.print_clone_commands:
        for r in repos:
            if find_git_dir(args.mirror_root, r["github"]) is None:
                owner, name = r["github"].split("/", 1)
                dest = args.mirror_root / f"{owner}+{name}" / "repo"
                print(f"git clone --bare https://github.com/{r['github']}.git {dest} && "
                      f"git --git-dir={dest} cat-file -e {r['commit']}^{{commit}}")
        return 0

    if args.findings:
        with open(args.findings, encoding="utf-8") as fh:
            result = json.load(fh)
    else:
        work = args.work_dir or Path(tempfile.mkdtemp(prefix="speclint-sweep-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            result = sweep(repos, args.mirror_root, work, log=lambda s: print(s, file=sys.stderr))
        finally:
            if not args.work_dir:
                shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    verdicts = load_verdicts(args.verdicts)
    rendered = render(result, verdicts)
    print_text(rendered)
    stale = stale_verdicts(result, verdicts)
    if stale:
        print(f"\nVerdicts whose finding is gone ({len(stale)}):")
        for v in stale:
            print(f"  {v['fingerprint']} ({v.get('verdict')})")
    if args.render_md:
        md = args.render_md.read_text(encoding="utf-8")
        args.render_md.write_text(replace_sections(md, rendered["sections"]), encoding="utf-8")

    changed = diff_findings(result, args.diff_against) if args.diff_against else []
    missing = [r for r in result["repos"] if r.get("status") != "ok"]
    p = rendered["precision"]
    per_t, tot_t = rendered["tf_tests"]
    _, tot_o = rendered["outside"]
    print(f"\nprecision outside tests: {tot_o['true']}/{tot_o['total']} = {fmt_pct(p)}; "
          f"TF Estimator tests: {tot_t['neither']} of {tot_t['total']} outside failing tests and run modes; "
          f"unjudged: {tot_o['unjudged'] + tot_t['unjudged']}; missing repositories: {len(missing)}")
    if changed:
        return 1
    if args.check:
        problems = []
        if tot_o["unjudged"] or tot_t["unjudged"]:
            problems.append("unjudged findings")
        if missing:
            problems.append("missing repositories")
        if p is not None and p < TARGET_PRECISION:
            problems.append(f"precision {fmt_pct(p)} < {TARGET_PRECISION:.0%}")
        if tot_t["neither"]:
            problems.append("TF Estimator test findings outside failing tests and run modes")
        if problems:
            print("check failed: " + "; ".join(problems))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
