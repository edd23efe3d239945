"""Issue 6, bad configuration: one line on stderr naming the file and the key, exit 2, never a
traceback (unknown keys, wrong types, unknown codes, bad globs, broken TOML)."""
import pytest

from speclint.cli import cli


from samples import runner as _runner  # noqa: E402 (tests/ is on sys.path: conftest)


CASES = [
    ('bogus = 1', "unknown key 'bogus'"),
    ('select = ["SL999"]', "select: unknown rule selector 'SL999'"),
    ('select = 5', "select must be a list of strings"),
    ('ignore = [1]', "ignore must be a list of strings"),
    ('ignore = ["no-such-rule"]', "ignore: unknown rule selector 'no-such-rule'"),
    ('target = "gpu"', "target must be one of auto, tpu, cpu, not 'gpu'"),
    ('target = 1', "target must be one of auto, tpu, cpu, not 1"),
    ('exclude = ["["]', "exclude: glob '[' has an unclosed '['"),
    ('exclude = "build"', 'exclude must be a list of strings, not a string: write ["build"]'),
    ('extend-select = "SL042"', 'extend-select must be a list of strings, not a string: write ["SL042"]'),
    ('extend-ignore = ["SL999"]', "extend-ignore: unknown rule selector 'SL999'"),
    ('baseline = 3', "baseline must be the path of a baseline file (relative to the config file's directory), not 3"),
    ('extend-exclude = ["/abs/path"]', "extend-exclude: glob '/abs/path' is absolute"),
    ('extend-exclude = [""]', "extend-exclude: glob '' is empty"),
    ('extend-exclude = [true]', "extend-exclude must be a list of strings"),
    ('per-file-ignores = { "[z-a].py" = ["SL005"] }', "per-file-ignores: glob '[z-a].py' has an empty character range"),
    ('per-file-ignores = { "x.py" = ["nope"] }', "per-file-ignores.'x.py': unknown rule selector 'nope'"),
    ('per-file-ignores = { "x.py" = [3] }', "per-file-ignores.'x.py' must be a list of strings"),
    ('per-file-ignores = 3', "per-file-ignores must be a table"),
    ('respect-gitignore = "yes"', "respect-gitignore must be true or false, not 'yes'"),
    ('select = ["SL005"', "invalid TOML"),
]


@pytest.mark.parametrize("body, message", CASES)
def test_bad_pyproject(tmp_path, monkeypatch, body, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.speclint]\n{body}\n")
    (tmp_path / "a.py").write_text("EstimatorSpec\n")
    result = _runner().invoke(cli, ["--no-cache", "a.py"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"speclint: error: {tmp_path / 'pyproject.toml'}")
    assert message in lines[0], lines[0]


@pytest.mark.parametrize("text", [
    '[tool]\nspeclint = 3\n',  # not a table
    'tool.speclint.select = ["SL999"]\n',  # dotted keys are found too
    '[tool]\nspeclint = { bogus = 1 }\n',
])
def test_other_spellings_of_the_table_are_checked(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "a.py").write_text("EstimatorSpec\n")
    result = _runner().invoke(cli, ["--no-cache", "a.py"])
    assert result.exit_code == 2 and "pyproject.toml" in result.stderr


def test_good_config_twin_is_accepted(tmp_path, monkeypatch):
    # the good twin of every case above, in one file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.speclint]\nselect = ["ALL"]\nignore = ["SL020", "loss-not-scalar"]\ntarget = "tpu"\n'
        'exclude = ["build", "[ab]_*.py"]\nextend-exclude = ["third_party/**"]\n'
        'per-file-ignores = { "legacy/*.py" = ["SL005"] }\nrespect-gitignore = false\n')
    (tmp_path / "a.py").write_text("EstimatorSpec\n")
    result = _runner().invoke(cli, ["--no-cache", "a.py"])
    assert result.exit_code == 0, result.output


def test_speclint_toml_names_the_file_and_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "speclint.toml").write_text("select = 3\n")
    (tmp_path / "a.py").write_text("EstimatorSpec\n")
    result = _runner().invoke(cli, ["--no-cache", "--config", "speclint.toml", "a.py"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "speclint: error: speclint.toml select must be a list of strings"


def test_config_in_a_subdirectory_found_during_the_walk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.speclint]\nselect = ['SL999']\n")
    (tmp_path / "sub" / "a.py").write_text("EstimatorSpec\n")
    result = _runner().invoke(cli, ["--no-cache", "."])
    assert result.exit_code == 2 and "sub/pyproject.toml" in result.stderr and "'SL999'" in result.stderr
