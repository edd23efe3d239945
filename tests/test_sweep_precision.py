"""tools/sweep_precision.py on a tiny synthetic repository: a temporary git repo with a buggy and a
clean model_fn, no network and no mirrors of the real repositories (issue 10, item 5)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("sweep_precision", ROOT / "tools" / "sweep_precision.py")
sp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sp)

BUGGY = '''import tensorflow as tf


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(
        loss, global_step=tf.compat.v1.train.get_global_step())
    return tf.estimator.EstimatorSpec(
        mode=mode, loss=loss, train_op=train_op,
        eval_metric_ops={"loss": tf.compat.v1.metrics.mean(loss)})


estimator = tf.estimator.Estimator(model_fn=model_fn)
'''
CLEAN = BUGGY.replace('{"loss": tf', '{"mean_loss": tf')


def _git(cwd, *args):
    # no user or system git config (signing, hooks): a fixed identity and an empty HOME
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", HOME=str(cwd), GIT_CONFIG_NOSYSTEM="1")
    env.pop("GIT_DIR", None)
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def mirror(tmp_path):
    """A mirror root holding acme+models/repo (bare), with two commits: the second inserts lines
    above the bug, so its line number moves but its fingerprint must not."""
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "tests").mkdir()
    (src / "pkg" / "buggy.py").write_text(BUGGY)
    (src / "pkg" / "clean.py").write_text(CLEAN)
    (src / "tests" / "buggy_test.py").write_text(BUGGY)
    (src / "README.md").write_text("not python\n")
    _git(src, "init", "-q")
    _git(src, "add", ".")
    first = _git(src, "commit", "-qm", "one")
    (src / "pkg" / "buggy.py").write_text('"""Docstring."""\n\n# moved down\n' + BUGGY)
    _git(src, "add", ".")
    second = _git(src, "commit", "-qm", "two")
    root = tmp_path / "mirrors"
    root.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(root / "acme+models" / "repo")],
                   check=True, capture_output=True)
    return root, first, second


def _manifest(tmp_path, commit, extra=""):
    m = tmp_path / "repos.toml"
    m.write_text(f'[[repo]]\nname = "models"\ngithub = "acme/models"\ncommit = "{commit}"\n{extra}')
    return m


def _run(tmp_path, argv):
    out = tmp_path / "findings.json"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sweep_precision.py"), *argv, "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_sweep_finds_the_bug_and_fingerprints_survive_moves(tmp_path, mirror):
    root, first, second = mirror
    verdicts = tmp_path / "verdicts.json"
    proc, res = _run(tmp_path, ["--manifest", str(_manifest(tmp_path, first)), "--mirror-root", str(root),
                                "--verdicts", str(verdicts), "--check"])
    assert [r["status"] for r in res["repos"]] == ["ok"]
    assert res["repos"][0]["py_files"] == 3
    found = {(f["path"], f["code"], f["test_file"]) for f in res["findings"]}
    assert found == {("pkg/buggy.py", "SL009", False), ("tests/buggy_test.py", "SL009", True)}
    bug = next(f for f in res["findings"] if f["path"] == "pkg/buggy.py")
    assert bug["line"] == 10 and bug["source"].startswith('eval_metric_ops={"loss"')
    # not judged yet: --check fails and lists it
    assert proc.returncode == 1, proc.stdout
    assert "Unjudged (1)" in proc.stdout and bug["fingerprint"] in proc.stdout

    verdicts.write_text(json.dumps({"verdicts": [
        {"fingerprint": bug["fingerprint"], "verdict": "true", "reason": "evaluate() runs",
         "tf_source": "model_fn.py:1"}]}))
    proc, res2 = _run(tmp_path, ["--manifest", str(_manifest(tmp_path, second)), "--mirror-root", str(root),
                                 "--verdicts", str(verdicts), "--check"])
    bug2 = next(f for f in res2["findings"] if f["path"] == "pkg/buggy.py")
    assert bug2["line"] == 13 and bug2["fingerprint"] == bug["fingerprint"]
    assert proc.returncode == 0, proc.stdout
    assert "precision outside tests: 1/1 = 100 %" in proc.stdout

    # the refactor check: the same findings (one moved three lines down) are no change ...
    first_json = tmp_path / "first.json"
    first_json.write_text(json.dumps(res))
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sweep_precision.py"), "--findings",
                           str(tmp_path / "findings.json"), "--manifest", str(_manifest(tmp_path, second)),
                           "--verdicts", str(verdicts), "--diff-against", str(first_json)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "0 changes" in proc.stdout, proc.stdout
    # ... a finding that disappears is one
    res["findings"].append(dict(bug, fingerprint="models:pkg/other.py:SL009:0000000000", path="pkg/other.py"))
    first_json.write_text(json.dumps(res))
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sweep_precision.py"), "--findings",
                           str(tmp_path / "findings.json"), "--manifest", str(_manifest(tmp_path, second)),
                           "--verdicts", str(verdicts), "--diff-against", str(first_json)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "gone: models/pkg/other.py" in proc.stdout, proc.stdout


def test_latent_and_false_count_against_precision(tmp_path, mirror):
    root, first, _ = mirror
    proc, res = _run(tmp_path, ["--manifest", str(_manifest(tmp_path, first)), "--mirror-root", str(root),
                                "--verdicts", str(tmp_path / "none.json")])
    assert proc.returncode == 0  # without --check, unjudged findings are reported, not fatal
    bug = next(f for f in res["findings"] if not f["test_file"])
    for verdict, ok in (("latent", False), ("latent?", False), ("false", False), ("true", True)):
        r = sp.render(res, {bug["fingerprint"]: {"fingerprint": bug["fingerprint"], "verdict": verdict}})
        assert (r["precision"] == 1.0) is ok
        assert r["outside"][1]["unjudged"] == 0


def test_missing_repository_and_commit_are_reported_not_fatal(tmp_path, mirror):
    root, first, _ = mirror
    m = tmp_path / "repos.toml"
    m.write_text(f'[[repo]]\nname = "gone"\ngithub = "acme/gone"\ncommit = "{first}"\n\n'
                 f'[[repo]]\nname = "models"\ngithub = "acme/models"\ncommit = "{"0" * 40}"\n\n'
                 f'[[repo]]\nname = "models2"\ngithub = "acme/models"\ncommit = "{first}"\nsubdirs = ["pkg"]\n')
    proc, res = _run(tmp_path, ["--manifest", str(m), "--mirror-root", str(root), "--check"])
    status = {r["name"]: r["status"] for r in res["repos"]}
    assert status["gone"].startswith("missing: no git directory")
    assert status["models"].startswith("missing: cannot extract")
    assert status["models2"] == "ok"
    assert {f["path"] for f in res["findings"]} == {"pkg/buggy.py"}  # subdirs: tests/ not checked
    assert proc.returncode == 1 and "missing repositories: 2" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_tf_tests_table_and_markdown_rendering(tmp_path, mirror):
    root, first, _ = mirror
    _, res = _run(tmp_path, ["--manifest", str(_manifest(tmp_path, first, 'role = "tf-tests"\n')),
                             "--mirror-root", str(root), "--verdicts", str(tmp_path / "none.json")])
    in_test = next(f for f in res["findings"] if f["test_file"])
    verdicts = {in_test["fingerprint"]: {"fingerprint": in_test["fingerprint"], "verdict": "failing-test",
                                         "reason": "inside assertRaises", "tf_source": "x.py:1"}}
    r = sp.render(res, verdicts)
    assert r["tf_tests"][1]["failing-test"] == 1 and r["tf_tests"][1]["neither"] == 0
    md = "\n".join(f"<!-- sweep:{k} -->\nold\n<!-- /sweep:{k} -->" for k in r["sections"])
    new = sp.replace_sections(md, r["sections"])
    assert "old" not in new and "inside assertRaises" in new and "| SL009 | 1 | 1 | 0 | 0 | 0 | 0 |" in new
    assert sp.replace_sections(new, r["sections"]) == new  # re-rendering is stable
    empty = "\n".join(f"<!-- sweep:{k} -->\n<!-- /sweep:{k} -->" for k in r["sections"])
    assert sp.replace_sections(empty, r["sections"]) == new


def test_is_test_path():
    assert sp.is_test_path("a/b/model_test.py") and sp.is_test_path("tests/x.py")
    assert sp.is_test_path("test_model.py") and sp.is_test_path("a/dnn_testing_utils.py")
    assert not sp.is_test_path("models/official/resnet/resnet_main.py")
    assert not sp.is_test_path("contest/attestation.py")
