"""`--output-format sarif`: SARIF 2.1.0 that Microsoft's validator accepts with no error or warning
(its SARIF rules and its GitHub code-scanning rules), with what GitHub needs and the validator
does not check (repository-relative URIs, full regions, fingerprints that survive unrelated edits).

The validator is the npm package @microsoft/sarif-multitool-linux, installed by .ci/run (which sets
SPECLINT_SARIF_MULTITOOL); locally: `npm install --prefix .ci/tools @microsoft/sarif-multitool-linux`.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from integrations_support import BAD, BAD_LINE, GOOD, TYPO, clean_env, git_repo, require_npm_tool, speclint

LEVELS_THAT_FAIL = {"error", "warning"}


@pytest.fixture(scope="module")
def validator():
    return require_npm_tool("SPECLINT_SARIF_MULTITOOL", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")


def validate(validator, sarif_path):
    """Run the real validator (all SARIF and GitHub rule kinds, every level); its findings."""
    out = sarif_path.with_suffix(".validation.sarif")
    proc = subprocess.run(
        [str(validator), "validate", str(sarif_path), "--level", "Error;Warning;Note",
         "--rule-kind", "Sarif;Gh;Ghas", "--output", str(out), "--log", "ForceOverwrite"],
        capture_output=True, text=True, timeout=300)
    assert out.exists(), f"the validator did not run:\n{proc.stdout}\n{proc.stderr}"
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    run = log["runs"][0]
    assert "Multitool" in run["tool"]["driver"]["name"], run["tool"]["driver"]["name"]
    return [(r["ruleId"], r.get("level", "warning"), r["message"].get("text", ""))
            for r in run.get("results", [])]


def failures(findings):
    return [f for f in findings if f[1] in LEVELS_THAT_FAIL]


def sarif(repo, *args, cwd=None, env=None):
    proc = speclint("--output-format", "sarif", *args, cwd=cwd or repo, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


@pytest.fixture
def repo(tmp_path):
    root = git_repo(tmp_path / "repo")
    (root / "models").mkdir()
    (root / "models" / "tpu model é.py").write_text(BAD, encoding="utf-8")  # space + non-ASCII: URI-encoded
    (root / "models" / "typo.py").write_text(TYPO, encoding="utf-8")
    (root / "models" / "good.py").write_text(GOOD, encoding="utf-8")
    return root


def test_validator_accepts_speclint_sarif(validator, repo, tmp_path):
    proc, log = sarif(repo, ".")
    assert proc.returncode == 1
    path = tmp_path / "speclint.sarif"
    path.write_text(proc.stdout, encoding="utf-8")
    findings = validate(validator, path)
    assert failures(findings) == []
    # the harness can fail: the same log with a result that lost its startLine and its message text
    broken = json.loads(proc.stdout)
    result = broken["runs"][0]["results"][0]
    del result["locations"][0]["physicalLocation"]["region"]["startLine"]
    result["message"] = {"id": "default"}
    bad_path = tmp_path / "broken.sarif"
    bad_path.write_text(json.dumps(broken), encoding="utf-8")
    rule_ids = {f[0] for f in failures(validate(validator, bad_path))}
    assert "SARIF1007" in rule_ids  # region without startLine
    assert rule_ids & {"GH1015", "GH1017", "GH2012", "JSON1002"}  # GitHub needs message.text


def test_validator_accepts_a_clean_run(validator, repo, tmp_path):
    proc, log = sarif(repo, "models/good.py")
    assert proc.returncode == 0
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    path = tmp_path / "clean.sarif"
    path.write_text(proc.stdout, encoding="utf-8")
    assert failures(validate(validator, path)) == []


def test_every_field_github_code_scanning_needs(repo):
    _, log = sarif(repo, ".")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "speclint" and driver["version"] and driver["informationUri"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["SL005", "SL018"]  # every rule that fired, no other
    for rule in rules:
        assert rule["name"] and 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["help"]["markdown"].startswith(f"# {rule['id']} ")
        assert rule["helpUri"].endswith(f"{rule['id']}-{rule['name']}.md")
        assert rule["defaultConfiguration"]["level"] == "error"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    assert run["columnKind"] == "unicodeCodePoints"
    by_uri = {}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error" and result["message"]["text"]
        (loc,) = result["locations"]
        art = loc["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%"
        region = loc["physicalLocation"]["region"]
        assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert result["partialFingerprints"]["primaryLocationLineHash"]
        by_uri[art["uri"]] = (result, region)
    assert set(by_uri) == {"models/tpu%20model%20%C3%A9.py", "models/typo.py"}
    result, region = by_uri["models/tpu%20model%20%C3%A9.py"]
    line = BAD.splitlines()[BAD_LINE - 1]
    col = line.index("[loss]") + 2
    assert (result["ruleId"], region) == ("SL005", {"startLine": BAD_LINE, "startColumn": col,
                                                   "endLine": BAD_LINE, "endColumn": col + 4})
    # the safe fix travels as a SARIF fix
    result, region = by_uri["models/typo.py"]
    (fix,) = result["fixes"]
    (replacement,) = fix["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == "eval_metric_ops"
    assert replacement["deletedRegion"] == region


def test_uris_are_relative_to_the_repository_root_from_a_subdirectory(repo):
    _, log = sarif(repo, ".", cwd=repo / "models")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"models/tpu%20model%20%C3%A9.py", "models/typo.py"}


def test_github_workspace_is_the_root_on_actions(repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(GITHUB_WORKSPACE=str(repo))
    _, log = sarif(repo, str(repo / "models" / "typo.py"), cwd=elsewhere, env=env)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/typo.py"


def _fingerprints(log):
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["partialFingerprints"]["primaryLocationLineHash"]): r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in log["runs"][0]["results"]}


def test_fingerprints_survive_unrelated_lines_moving(repo):
    _, before = sarif(repo, ".")
    for name, text in (("tpu model é.py", BAD), ("typo.py", TYPO)):
        moved = text.replace("def model_fn", "# a new comment\nLEARNING_RATE = 0.1\n\n\ndef model_fn")
        (repo / "models" / name).write_text("'''Module docstring.'''\nimport os\n\n" + moved, encoding="utf-8")
    _, after = sarif(repo, ".")
    fp_before, fp_after = _fingerprints(before), _fingerprints(after)
    assert set(fp_before) == set(fp_after)  # same fingerprints ...
    assert all(fp_after[k] == fp_before[k] + 7 for k in fp_before)  # ... on lines 7 further down


def test_fingerprints_change_with_the_flagged_code_and_separate_identical_findings(repo):
    _, before = sarif(repo, "models/tpu model é.py")
    (repo / "models" / "tpu model é.py").write_text(BAD.replace("[loss]", "[loss, loss]"), encoding="utf-8")
    _, after = sarif(repo, "models/tpu model é.py")
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in after["runs"][0]["results"]
              if r["ruleId"] == "SL005"]
    assert len(hashes) == 2 and len(set(hashes)) == 2  # two identical findings: :1 and :2
    assert {h.split(":")[1] for h in hashes} == {"1", "2"}
    assert not set(hashes) & {r["partialFingerprints"]["primaryLocationLineHash"] for r in before["runs"][0]["results"]}
