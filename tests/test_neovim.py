"""The README's Neovim snippets, run in the Neovim on the PATH (headless): the snippet for its
version starts `speclint server` and the diagnostics arrive; the snippets for newer versions fail
on an older Neovim as the README says.  Skipped where no Neovim is installed (Debian 12:
`apt-get install neovim` gives 0.7.2)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integrations_support import ROOT, clean_env
from samples import BAD, BAD_LINE

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim is not installed")

WAIT = """
local ok = vim.wait(tonumber(vim.env.SPECLINT_NVIM_WAIT_MS), function() return #vim.diagnostic.get() >= 2 end, 100)
local out = { "waited=" .. tostring(ok) }
for _, c in ipairs(vim.lsp.get_active_clients()) do
  table.insert(out, "client " .. c.name .. " " .. tostring(c.config.root_dir))
end
for _, d in ipairs(vim.diagnostic.get()) do
  table.insert(out, "diag " .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(d.bufnr), ":t") .. ":" .. (d.lnum + 1) .. " " .. tostring(d.code))
end
vim.fn.writefile(out, vim.env.SPECLINT_NVIM_RESULT)
vim.cmd("qa!")
"""


def nvim_version():
    out = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return int(m.group(1)), int(m.group(2))


def snippets():
    """{minimum version: lua} from the README's Neovim paragraphs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Neovim**"):readme.index("### flake8")]
    blocks = re.findall(r"((?:[^\n]+\n)+)\n```lua\n(.*?)```", section, re.S)  # (paragraph, code)
    out = {}
    for heading, lua in blocks:
        m = re.search(r"Neovim\*?\*? (\d+)\.(\d+)", heading)
        out[(int(m.group(1)), int(m.group(2)))] = lua
    assert sorted(out) == [(0, 7), (0, 8), (0, 11)], sorted(out)
    return out


def run_nvim(tmp_path: Path, lua: str, wait_ms: int = 60000):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "sub" / "model.py").write_text(BAD)
    (project / "other.py").write_text(BAD)
    (tmp_path / "init.lua").write_text(lua)
    (tmp_path / "wait.lua").write_text(WAIT)
    result = tmp_path / "result.txt"
    env = clean_env(SPECLINT_NVIM_RESULT=str(result), SPECLINT_NVIM_WAIT_MS=str(wait_ms), HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
                    PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([NVIM, "--headless", "--clean", "-u", str(tmp_path / "init.lua"), "sub/model.py",
                           "-c", "edit other.py", "-c", f"luafile {tmp_path / 'wait.lua'}"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    lines = result.read_text().splitlines() if result.exists() else []
    return proc, lines, project


def test_the_readme_snippet_for_this_neovim_gets_diagnostics(tmp_path):
    version = nvim_version()
    chosen = max(v for v in snippets() if v <= version)
    proc, lines, project = run_nvim(tmp_path, snippets()[chosen])
    assert lines[:1] == ["waited=true"], (proc.stdout, proc.stderr, lines)
    assert lines.count(f"client speclint {project}") == 1, lines  # one server for the project root
    assert sorted(l for l in lines if l.startswith("diag ")) == [
        f"diag model.py:{BAD_LINE} SL005", f"diag other.py:{BAD_LINE} SL005"]


def test_snippets_for_newer_neovims_fail_as_the_readme_says(tmp_path):
    version = nvim_version()
    newer = [v for v in snippets() if v > version]
    if not newer:
        pytest.skip("this Neovim runs every snippet")
    proc, lines, _ = run_nvim(tmp_path, snippets()[min(newer)], wait_ms=5000)  # (it fails at once)
    assert lines[:1] == ["waited=false"]
    if min(newer) == (0, 8):
        assert "attempt to index field 'fs'" in proc.stdout + proc.stderr
