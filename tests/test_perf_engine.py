"""Issue 6, speed and scale: `--jobs` (same results, same order), the result cache (content hash,
version, configuration, deps of the cross-module index), `speclint clean`, `.gitignore`."""
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from speclint import cache, engine
from speclint.cli import cli
from speclint.config import Resolver

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

from samples import BAD, GOOD, NOT_TF  # noqa: E402 (tests/ is on sys.path: conftest)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cache.ENV_CACHE_DIR, raising=False)

    def _run(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output
    return _run


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def _summary(run_result):
    return [(f.path, f.skipped, f.internal_error, [d.to_json() for d in f.diagnostics])
            for f in run_result.files]


# ---- --jobs --------------------------------------------------------------------------------------
def test_pool_gives_the_same_results_in_the_same_order(monkeypatch):
    serial = engine.check_paths([str(FIXTURES)], Resolver(), jobs=1)
    monkeypatch.setattr(engine, "POOL_MIN_BYTES", 0)  # force the pool even for a small tree
    started = []
    real_start = engine._start_pool
    monkeypatch.setattr(engine, "_start_pool", lambda jobs, options: started.append(jobs) or real_start(jobs, options))
    pooled = engine.check_paths([str(FIXTURES)], Resolver(), jobs=2)
    assert started == [2], "the pool was not used"
    assert _summary(pooled) == _summary(serial)
    assert sum(len(f.diagnostics) for f in serial.files) > 10  # not vacuous


def test_small_runs_do_not_start_a_pool(monkeypatch, tmp_path):
    write(tmp_path, "bad.py", BAD)
    monkeypatch.setattr(engine, "_start_pool", lambda jobs, options: pytest.fail("pool started for one small file"))
    result = engine.check_paths([str(tmp_path)], Resolver(), jobs=8)
    assert [d.code for d in result.diagnostics] == ["SL005"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork workers (they inherit the patch)")
def test_pool_survives_an_internal_error_in_a_worker(monkeypatch, tmp_path):
    import threading

    if threading.active_count() > 1:  # e.g. TensorFlow imported by another test: spawn workers
        monkeypatch.setattr(threading, "active_count", lambda: 1)  # fork anyway, for this test
    for i in range(3):
        write(tmp_path, f"m{i}.py", BAD)
    monkeypatch.setattr(engine, "POOL_MIN_BYTES", 0)
    from speclint.static import pipeline

    real = pipeline.diagnose

    def broken(parsed, path, *a, **k):
        if path.endswith("m1.py"):
            raise KeyError("boom")
        return real(parsed, path, *a, **k)
    monkeypatch.setattr(pipeline, "diagnose", broken)  # inherited by the forked workers
    result = engine.check_paths([str(tmp_path)], Resolver(), jobs=2)
    assert [f.internal_error is not None for f in result.files] == [False, True, False]
    assert "KeyError" in result.files[1].internal_error


def test_jobs_option(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    outs = {run("--no-cache", "-j", str(j), ".") for j in (0, 1, 2)}
    assert len(outs) == 1 and next(iter(outs))[0] == 1
    assert run("-j", "-1", ".")[0] == 2


# ---- cache ---------------------------------------------------------------------------------------
def test_warm_run_is_served_from_the_cache_with_identical_output(run, tmp_path, monkeypatch):
    write(tmp_path, "pkg/bad.py", BAD)
    write(tmp_path, "pkg/good.py", GOOD)
    write(tmp_path, "pkg/util.py", NOT_TF)
    cold = run(".")
    assert (tmp_path / ".speclint_cache" / "CACHEDIR.TAG").is_file()
    from speclint.static import pipeline
    monkeypatch.setattr(pipeline, "parse", lambda data: pytest.fail("parsed on a warm run"))
    assert run(".") == cold
    result = engine.check_paths(["."], Resolver(), caches=cache.Caches())
    assert [f.cached for f in result.files] == [True, True, False]  # util.py: prefilter, not cached


def test_edit_invalidates_only_that_file(run, tmp_path):
    bad = write(tmp_path, "bad.py", BAD)
    write(tmp_path, "other.py", BAD)
    assert run(".")[0] == 1
    bad.write_text(GOOD)
    result = engine.check_paths(["."], Resolver(), caches=cache.Caches())
    assert [(f.path, f.cached, len(f.diagnostics)) for f in result.files] == [
        ("bad.py", False, 0), ("other.py", True, 1)]


def test_configuration_is_part_of_the_key(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    assert run(".")[0] == 1
    assert run("--ignore", "SL005", ".")[0] == 0
    assert run(".")[0] == 1
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nper-file-ignores = { "bad.py" = ["SL005"] }\n')
    assert run(".")[0] == 0


def test_stale_fingerprint_is_a_miss(run, tmp_path, monkeypatch):
    write(tmp_path, "bad.py", BAD)
    run(".")
    monkeypatch.setattr(cache, "fingerprint", lambda: "another speclint")
    result = engine.check_paths(["."], Resolver(), caches=cache.Caches())
    assert not result.files[0].cached and len(result.files[0].diagnostics) == 1


def test_moved_file_reports_its_new_path(run, tmp_path):
    write(tmp_path, "a/bad.py", BAD)
    run(".")
    os.rename(tmp_path / "a", tmp_path / "b")
    code, out = run(".")
    assert code == 1 and out.startswith("b/bad.py:")


def _with_deps(monkeypatch, deps_for):
    """Stand in for the lead's cross-module index: report that a file's analysis consulted
    other files (FileResult.deps), as the index will."""
    real = engine.check_source

    def check_source(data, path, config, rel_path=None, **kw):
        result = real(data, path, config, rel_path, **kw)
        result.deps = deps_for(path)
        return result
    monkeypatch.setattr(engine, "check_source", check_source)


def test_deps_invalidate_the_entry_when_an_imported_module_changes(run, tmp_path, monkeypatch):
    write(tmp_path, "bad.py", BAD)
    helper = write(tmp_path, "helpers.py", NOT_TF)
    habs = str(helper.resolve())
    _with_deps(monkeypatch, lambda p: {habs: cache.content_hash(helper.read_bytes())} if p == "bad.py" else {})
    caches = cache.Caches()
    first = engine.check_paths(["bad.py"], Resolver(), caches=caches)
    assert first.files[0].deps == {habs: cache.content_hash(NOT_TF.encode())}
    assert engine.check_paths(["bad.py"], Resolver(), caches=cache.Caches()).files[0].cached
    helper.write_text(NOT_TF + "# changed\n")
    again = engine.check_paths(["bad.py"], Resolver(), caches=cache.Caches())
    assert not again.files[0].cached
    assert engine.check_paths(["bad.py"], Resolver(), caches=cache.Caches()).files[0].cached
    helper.unlink()
    assert not engine.check_paths(["bad.py"], Resolver(), caches=cache.Caches()).files[0].cached


def test_no_cache_writes_nothing(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    assert run("--no-cache", ".")[0] == 1
    assert not (tmp_path / ".speclint_cache").exists()


def test_cache_dir_option_and_environment(run, tmp_path, monkeypatch):
    write(tmp_path, "bad.py", BAD)
    run("--cache-dir", "elsewhere", ".")
    assert (tmp_path / "elsewhere" / "CACHEDIR.TAG").exists()
    monkeypatch.setenv(cache.ENV_CACHE_DIR, str(tmp_path / "env"))
    run(".")
    assert (tmp_path / "env" / "CACHEDIR.TAG").exists()
    assert not (tmp_path / ".speclint_cache").exists()


def test_cache_lives_in_the_project_root(run, tmp_path):
    write(tmp_path, "proj/pyproject.toml", "[tool.speclint]\ntarget = 'auto'\n")
    write(tmp_path, "proj/src/bad.py", BAD)
    run("proj/src")
    assert (tmp_path / "proj" / ".speclint_cache").is_dir()
    assert not (tmp_path / "proj" / "src" / ".speclint_cache").exists()


def test_corrupt_or_unwritable_cache_is_ignored(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    cold = run(".")
    for entry in (tmp_path / ".speclint_cache").rglob("*.json"):
        entry.write_text("{not json")
    assert run(".") == cold
    cache.clean(tmp_path / ".speclint_cache")
    (tmp_path / ".speclint_cache").write_text("a file where the directory should be")
    assert run(".") == cold


def test_clean_removes_the_cache(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    run(".")
    assert (tmp_path / ".speclint_cache").is_dir()
    code, out = run("clean")
    assert code == 0 and "Removed cache at" in out
    assert not (tmp_path / ".speclint_cache").exists()
    assert run("clean") == (0, "")


def test_cache_entry_format(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    run(".")
    [entry] = list((tmp_path / ".speclint_cache").rglob("*.json"))
    data = json.loads(entry.read_text())
    assert data["content"] == cache.content_hash(BAD.encode())
    assert data["deps"] == {} and data["diagnostics"][0]["code"] == "SL005"
    assert "path" not in data["diagnostics"][0]


# ---- .gitignore ----------------------------------------------------------------------------------
@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    for name in ("keep.py", "gen/out.py", "gen/keep_me.py", "logs/a.py", "sub/local.py",
                 "sub/deep/x_test.py", "sub/deep/y.py", "excluded_by_info.py", "lit[1].py"):
        write(tmp_path, name, BAD)
    write(tmp_path, ".gitignore", "# comment\n\ngen/*\n!gen/keep_me.py\nlogs/\n/excluded_top.py\n*_test.py\nlit\\[1\\].py\n")
    write(tmp_path, "sub/.gitignore", "local.py\n")
    write(tmp_path, ".git/info/exclude", "excluded_by_info.py\n")
    return tmp_path


def _linted(run, *args):
    code, out = run("--no-cache", "--output-format", "json", *args)
    return sorted({d["path"] for d in json.loads(out)})


def test_gitignore_rules_are_respected(run, repo):
    assert _linted(run, ".") == ["gen/keep_me.py", "keep.py", "sub/deep/y.py"]


def test_gitignore_can_be_turned_off(run, repo):
    everything = ["excluded_by_info.py", "gen/keep_me.py", "gen/out.py", "keep.py", "lit[1].py",
                  "logs/a.py", "sub/deep/x_test.py", "sub/deep/y.py", "sub/local.py"]
    assert _linted(run, "--no-respect-gitignore", ".") == everything
    write(repo, "pyproject.toml", "[tool.speclint]\nrespect-gitignore = false\n")
    assert _linted(run, ".") == everything


def test_gitignore_applies_from_the_work_tree_root_when_walking_a_subdirectory(run, repo):
    assert _linted(run, "sub") == ["sub/deep/y.py"]


def test_ignored_file_named_on_the_command_line_is_checked(run, repo):
    assert _linted(run, "logs/a.py") == ["logs/a.py"]


def test_gitignore_outside_a_git_work_tree_is_not_read(run, tmp_path):
    write(tmp_path, ".gitignore", "*.py\n")
    write(tmp_path, "bad.py", BAD)
    assert _linted(run, ".") == ["bad.py"]


# ---- the benchmark table ---------------------------------------------------------------------
def test_readme_quotes_the_benchmark_results():
    results = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in results.splitlines() if line.startswith(("|", "Machine:"))]
    assert len(rows) > 8
    for line in rows:
        assert line in readme, f"README's Performance section is out of date: {line}"


# ---- the cache with the real module index (cross-module facts) -------------------------------
def _xmod(tmp_path):
    import shutil

    shutil.copytree(FIXTURES / "xmod_bert", tmp_path / "xmod_bert")
    return tmp_path / "xmod_bert"


def _codes_at(result, name):
    return sorted((d.line, d.code) for f in result.files for d in f.diagnostics if d.path.endswith(name))


def test_editing_an_imported_module_invalidates_the_importers_entry(run, tmp_path):
    pkg = _xmod(tmp_path)
    first = engine.check_paths(["xmod_bert"], Resolver(), caches=cache.Caches())
    rc = next(f for f in first.files if f.path.endswith("run_classifier.py"))
    assert str((pkg / "metrics.py").resolve()) in rc.deps  # filled by the module index
    assert (27, "SL002") in _codes_at(first, "run_classifier.py")
    warm = engine.check_paths(["xmod_bert"], Resolver(), caches=cache.Caches())
    assert next(f for f in warm.files if f.path.endswith("run_classifier.py")).cached
    assert _codes_at(warm, "run_classifier.py") == _codes_at(first, "run_classifier.py")
    # the metric function now takes the fourth tensor: the SL002 in the importer must go
    metrics = pkg / "metrics.py"
    metrics.write_text(metrics.read_text().replace(
        "def metric_fn(per_example_loss, label_ids, logits):",
        "def metric_fn(per_example_loss, label_ids, logits, is_real_example):"))
    after = engine.check_paths(["xmod_bert"], Resolver(), caches=cache.Caches())
    assert not next(f for f in after.files if f.path.endswith("run_classifier.py")).cached
    assert (27, "SL002") not in _codes_at(after, "run_classifier.py")
    fresh = engine.check_paths(["xmod_bert"], Resolver())
    assert _codes_at(after, "run_classifier.py") == _codes_at(fresh, "run_classifier.py")


def test_cached_and_pooled_runs_equal_a_plain_run_on_cross_module_code(run, tmp_path, monkeypatch):
    _xmod(tmp_path)
    plain = _summary(engine.check_paths(["xmod_bert"], Resolver()))
    assert engine.check_paths(["xmod_bert"], Resolver(), caches=cache.Caches())  # fill the cache
    assert _summary(engine.check_paths(["xmod_bert"], Resolver(), caches=cache.Caches())) == plain
    monkeypatch.setattr(engine, "POOL_MIN_BYTES", 0)
    assert _summary(engine.check_paths(["xmod_bert"], Resolver(), jobs=2)) == plain


def test_a_file_added_to_the_run_invalidates_entries(run, tmp_path):
    # an import that did not resolve may resolve once its module is part of the run
    write(tmp_path, "bad.py", BAD)
    engine.check_paths(["."], Resolver(), caches=cache.Caches())
    assert engine.check_paths(["."], Resolver(), caches=cache.Caches()).files[0].cached
    write(tmp_path, "helpers.py", NOT_TF)
    assert not engine.check_paths(["."], Resolver(), caches=cache.Caches()).files[0].cached


def test_libcst_is_not_imported_when_no_file_survives_the_prefilter(tmp_path):
    import subprocess

    write(tmp_path, "util.py", NOT_TF)
    write(tmp_path, "bad.py", BAD)
    probe = ("import sys\nfrom speclint.cli import main\nsys.argv = ['speclint'] + sys.argv[1:]\n"
             "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST', code)\n")
    out = lambda name: subprocess.run([sys.executable, "-c", probe, "-q", str(tmp_path / name)],  # noqa: E731
                                      capture_output=True, text=True, cwd=tmp_path).stdout.split()[-2:]
    assert out("util.py") == ["NO-LIBCST", "0"]
    assert out("bad.py") == ["LIBCST", "1"]  # the twin: a file that survives does import it


def test_a_directory_named_inside_an_excluded_folder_is_walked(run, tmp_path):
    # `speclint .venv/lib/python3.11/site-packages/pkg` (bench_tree.py's default trees when TF is
    # installed in the project's own .venv): the named directory is checked, as ruff does; what is
    # excluded below it, and walks from above it, still skip it
    write(tmp_path, "pyproject.toml", "[tool.speclint]\n")
    write(tmp_path, ".venv/lib/pkg/bad.py", BAD)
    write(tmp_path, ".venv/lib/pkg/build/gen.py", BAD)
    write(tmp_path, "keep.py", BAD)
    assert _linted(run, ".venv/lib/pkg") == [".venv/lib/pkg/bad.py"]
    assert _linted(run, ".") == ["keep.py"]
    assert _linted(run, "--force-exclude", ".venv/lib/pkg/bad.py") == []
