"""The flake8 plugin, through the real flake8: `flake8 --select SL` prints exactly speclint's
diagnostics (same lines, columns, codes and messages as `speclint check`), honours `# noqa`, the
`[tool.speclint]` configuration and stdin, and is listed by `flake8 --version`."""
from __future__ import annotations

import subprocess
import sys

from integrations_support import BAD, BAD_LINE, GOOD, TYPO, clean_env, speclint


def flake8(*args, cwd, input=None):
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", *args], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=120, env=clean_env())


def test_flake8_reports_exactly_what_speclint_reports(tmp_path):
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "typo.py").write_text(TYPO, encoding="utf-8")
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    proc = flake8("--select", "SL", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    ours = speclint("-q", "--output-format", "concise", "--color", "never", "bad.py", "good.py", "typo.py",
                    cwd=tmp_path).stdout.splitlines()
    ours = [line.replace(" [*] [", " [", 1) for line in ours]  # speclint marks fixable ones; flake8 cannot fix
    theirs = sorted(line.removeprefix("./") for line in proc.stdout.splitlines())
    assert theirs == sorted(ours) and len(ours) == 2
    assert any(line.startswith(f"bad.py:{BAD_LINE}:") and " SL005 [outfeed-scalar-tensor] " in line for line in theirs)


def test_clean_file_and_other_codes(tmp_path):
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    assert flake8("--select", "SL", "good.py", cwd=tmp_path).returncode == 0
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    # selecting only another plugin's codes leaves speclint's out
    proc = flake8("--select", "F", "bad.py", cwd=tmp_path)
    assert "SL005" not in proc.stdout


def test_noqa_and_speclint_config(tmp_path):
    (tmp_path / "bad.py").write_text(BAD.replace("[loss]))", "[loss]))  # noqa: SL005"), encoding="utf-8")
    (tmp_path / "typo.py").write_text(TYPO, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.speclint]\nignore = ["wrong-spec-keyword"]\n', encoding="utf-8")
    proc = flake8("--select", "SL", ".", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr


def test_stdin(tmp_path):
    proc = flake8("--select", "SL", "--stdin-display-name", "model.py", "-", cwd=tmp_path, input=BAD)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"model.py:{BAD_LINE}:") and "SL005" in line


def test_plugin_is_registered(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert "speclint" in proc.stdout


def test_helpers_imported_from_sibling_modules_are_followed():
    """flake8 checks one file at a time; speclint still follows `from . import builders` to disk."""
    from integrations_support import ROOT

    tree = ROOT / "fixtures" / "xmod_bert"
    proc = flake8("--select", "SL", "run_classifier.py", cwd=tree)
    found = {tuple(line.split(":")[1:3]) + (line.split()[1],) for line in proc.stdout.splitlines()}
    assert ("22", "43", "SL005") in found and ("27", "23", "SL002") in found, proc.stdout
    assert all(line.startswith("run_classifier.py:") for line in proc.stdout.splitlines())
