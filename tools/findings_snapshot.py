"""Snapshot every static finding, to prove that a refactor changes no finding.

    python tools/findings_snapshot.py OUT.json [DIR ...]

Runs `speclint check --output-format json --no-cache` (defaults, and `--select ALL --target tpu`
to exercise every rule and TPU path) over `fixtures/`, over every python example of every rule
doc in `rules/` (each written to a temporary file), and over each DIR given (e.g. public
TPU/Estimator repositories, see docs/precision.md), and writes one JSON object keyed by run.
Compare two snapshots with `diff` (the findings are sorted; paths are relative to each root).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"default": [], "all-tpu": ["--select", "ALL", "--target", "tpu"]}


def run(paths, cwd, extra) -> list:
    proc = subprocess.run([sys.executable, "-m", "speclint", "check", "--output-format", "json", "--no-cache",
                           "-j", "1", *extra, *paths], cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"speclint failed on {paths}: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout or "[]")
    keep = ("path", "line", "column", "end_line", "end_column", "code", "message", "fix")
    return sorted((tuple(json.dumps(d.get(k), sort_keys=True) for k in keep) for d in out))


def doc_examples(tmp: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from speclint import rulebook

    for rule in rulebook.load():
        for section, blocks in rule.examples().items():
            for i, code in enumerate(blocks):
                name = f"{rule.code}_{section.replace(' ', '_').replace('/', '_')}_{i}.py"
                (tmp / name).write_text(code)
    return tmp


def main(argv) -> None:
    out_path, dirs = argv[0], argv[1:]
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        docs = doc_examples(Path(tmp))
        targets = [("fixtures", ROOT, ["fixtures"]), ("rule-docs", docs, ["."])]
        targets += [(os.path.basename(d.rstrip("/")), d, ["."]) for d in dirs]
        for label, cwd, paths in targets:
            for cfg, extra in CONFIGS.items():
                result[f"{label}:{cfg}"] = run(paths, cwd, extra)
                print(f"{label}:{cfg}: {len(result[label + ':' + cfg])} findings", file=sys.stderr)
    Path(out_path).write_text(json.dumps(result, indent=0, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
