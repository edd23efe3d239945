"""Single file = tree run, on the precision sweep's real repositories (issue 10, item 1).

For each repository (pinned commit, tools/sweep_repos.toml) its Python files are extracted, the
tree is checked once, then every file that defines a model_fn (a function with `features` and
`mode` parameters) is checked alone, as pre-commit, the editor and flake8 check it: its findings
must equal the tree run's findings located in that file.  The configuration is the sweep's (the
default rules, an empty speclint.toml).

Needs the bare mirrors under /work/.mirror (or $SPECLINT_SWEEP_MIRRORS); skipped without them.  By
default a subset that has model_fns built in another file (tensorflow/tpu's RetinaNet, SqueezeNet,
ResNet, Mask R-CNN, MnasNet; BERT; ALBERT; SimCLR); SPECLINT_PARITY_REPOS=all runs every repository
of the sweep (about 9 minutes on the 2-core machine; all 18 with a model_fn were equal when this
test was written, tf-lattice has none).
"""
from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path

import pytest

from speclint import engine, files
from speclint.config import Resolver

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("sweep_precision", ROOT / "tools" / "sweep_precision.py")
sp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sp)

SUBSET = {
    "tpu": ["models/official/retinanet", "models/official/squeezenet", "models/official/resnet",
            "models/official/mask_rcnn", "models/official/mnasnet"],
    "bert": None, "albert": None, "simclr": None,
}


def _repos():
    repos = sp.load_manifest(sp.DEFAULT_MANIFEST)
    if os.environ.get("SPECLINT_PARITY_REPOS") == "all":
        return [(r, r["subdirs"]) for r in repos]
    return [(r, SUBSET[r["name"]] or r["subdirs"]) for r in repos if r["name"] in SUBSET]


def _mirror_root() -> Path:
    return Path(os.environ.get(sp.MIRROR_ENV) or sp.DEFAULT_MIRRORS)


def _defines_model_fn(path: Path) -> bool:
    data = path.read_bytes()
    if not files.may_matter(data):
        return False
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
            if {"features", "mode"} <= names:
                return True
    return False


def _found(result, path: Path):
    return sorted((d.line, d.column, d.code, d.message) for d in result.diagnostics
                  if os.path.abspath(d.path) == str(path))


@pytest.mark.parametrize("repo,subdirs", _repos(), ids=lambda v: v["name"] if isinstance(v, dict) else "")
def test_each_model_fn_file_alone_equals_the_tree_run(repo, subdirs, tmp_path):
    git_dir = sp.find_git_dir(_mirror_root(), repo["github"])
    if git_dir is None:
        pytest.skip(f"no mirror of {repo['github']}")
    tree = tmp_path / repo["name"]
    try:
        sp.extract(git_dir, repo["commit"], subdirs, tree)
    except RuntimeError as exc:
        pytest.skip(f"{repo['github']}@{repo['commit']}: {exc}")
    config = tmp_path / "speclint.toml"
    config.write_text("")
    resolver = Resolver(explicit=config)
    whole = engine.check_paths([str(tree)], resolver)
    assert not whole.internal_errors
    model_files = sorted(p.resolve() for p in tree.rglob("*.py") if _defines_model_fn(p))
    if not model_files and os.environ.get("SPECLINT_PARITY_REPOS") == "all":
        pytest.skip(f"{repo['name']} defines no model_fn")  # (tf-lattice: Keras only)
    assert model_files, "no model_fn in the subset: the test would check nothing"
    differ = {}
    for path in model_files:
        alone = engine.check_paths([str(path)], resolver)
        assert not alone.internal_errors
        if _found(alone, path) != _found(whole, path):
            differ[str(path.relative_to(tree.resolve()))] = (_found(whole, path), _found(alone, path))
    assert differ == {}
