"""Issue 16, the language server as real editors drive it: percent-encoded file: URIs (item 1),
non-Python documents and the shutdown/exit protocol (item 10).

The URI and language tests use the pytest-lsp client of tests/test_lsp.py; the protocol tests speak
raw JSON-RPC to `speclint server` over its stdio, so that the exact answers (an error for a request
after shutdown) and the exit code are observed rather than interpreted by a client library.
"""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pygls.lsp.server")

from lsprotocol import types  # noqa: E402

import test_lsp as L  # noqa: E402 - the pytest-lsp helpers (initialize, open_doc, diagnostics_for)
from test_lsp import client  # noqa: E402,F401 - the pytest-lsp fixture
from integrations_support import clean_env  # noqa: E402

# ---- item 1: every file: URI a real editor sends -------------------------------------------------
# Path.as_uri() percent-encodes like VS Code does (a space is %20, + is %2B, % is %25, non-ASCII is
# UTF-8 bytes in %XX); pygls keys its documents by the decoded URI.
@pytest.mark.asyncio
@pytest.mark.parametrize("folder", ["with space", "plus+sign", "100%", "ñandú 😀"])
async def test_diagnostics_for_percent_encoded_paths(client, tmp_path, folder):
    work = tmp_path / folder
    work.mkdir()
    await L.initialize(client, tmp_path)
    uri = (work / "model.py").as_uri()
    assert "%" in uri
    L.open_doc(client, uri, L.ASTRAL)
    (diag,) = await L.diagnostics_for(client, uri, 1)
    assert diag.code == "SL005"
    L.change_doc(client, uri, L.FIXED, 2)
    assert await L.diagnostics_for(client, uri, 2) == []
    # code actions are answered for the same URI (they look the document up too)
    L.change_doc(client, uri, L.ASTRAL, 3)
    (diag,) = await L.diagnostics_for(client, uri, 3)
    actions = await L.code_actions(client, uri, diag)
    assert [a.title for a in actions] == [  # SL005's fix is unsafe: offered, not preferred (issue 13)
        "Give it a batch dimension: `tf.reshape(loss, [1])` (SL005, unsafe)", "Ignore SL005 on this line"]


@pytest.mark.asyncio
async def test_windows_drive_letter_uri_as_vscode_sends_it(client, tmp_path):
    # VS Code on Windows sends file:///c%3A/Users/...: the colon percent-encoded
    await L.initialize(client, tmp_path)
    uri = "file:///c%3A/Users/dev/project/model.py"
    L.open_doc(client, uri, L.ASTRAL)
    (diag,) = await L.diagnostics_for(client, uri, 1)
    assert diag.code == "SL005"


@pytest.mark.asyncio
async def test_configuration_reload_rechecks_percent_encoded_documents(client, tmp_path):
    work = tmp_path / "my project"
    work.mkdir()
    pyproject = work / "pyproject.toml"
    pyproject.write_text('[tool.speclint]\nignore = ["SL005"]\n', encoding="utf-8")
    await L.initialize(client, work)
    uri = (work / "model.py").as_uri()
    L.open_doc(client, uri, L.ASTRAL)
    assert await L.diagnostics_for(client, uri, 1) == []
    pyproject.write_text('[tool.speclint]\nselect = ["ALL"]\n', encoding="utf-8")
    n = len(client.published)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))
    (diag,) = await L.diagnostics_for(client, uri, 1, after=n)  # published under the client's URI
    assert diag.code == "SL005"


# ---- item 10: only Python documents are checked ----------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("language, name", [("markdown", "NOTES.md"), ("json", "config.json"),
                                            ("log", "train.log"), ("plaintext", "model.py.txt")])
async def test_non_python_documents_are_not_linted(client, tmp_path, language, name):
    await L.initialize(client, tmp_path)
    other = (tmp_path / name).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=other, language_id=language, version=1,
        text="Use tf.estimator.tpu.TPUEstimatorSpec (EstimatorSpec) like this:\n\n  host_call = (fn, [loss])\n")))
    # the twin: a Python document opened after it is checked (by the same single worker, in order)
    uri = (tmp_path / "model.py").as_uri()
    L.open_doc(client, uri, L.ASTRAL)
    (diag,) = await L.diagnostics_for(client, uri, 1)
    assert diag.code == "SL005"
    assert [p for p in client.published if p.uri == other and p.diagnostics] == []


# ---- item 10: shutdown and exit, as the specification says ------------------------------------------
class RawClient:
    """JSON-RPC over the server's stdio, one message at a time."""

    def __init__(self, cwd: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "speclint", "server"], cwd=cwd, env=clean_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.inbox: "queue.Queue" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)  # the server closed its output
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(out.read(length)))

    def send(self, method, params=None, request=True):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return msg.get("id")

    def receive(self, timeout=60):
        try:
            msg = self.inbox.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no message from the server within {timeout} s")
        assert msg is not None, "the server closed its output"
        return msg

    def response(self, msg_id):
        """The answer to request `msg_id` (notifications and server requests in between are skipped)."""
        while True:
            msg = self.receive()
            if msg.get("id") == msg_id and "method" not in msg:
                return msg

    def initialize(self, root: Path):
        answer = self.response(self.send("initialize", {"processId": None, "rootUri": root.as_uri(),
                                                         "capabilities": {}}))
        assert "capabilities" in answer["result"]
        self.send("initialized", {}, request=False)

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def raw(tmp_path):
    started = []

    def start():
        c = RawClient(tmp_path)
        started.append(c)
        c.initialize(tmp_path)
        return c
    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def test_requests_after_shutdown_are_invalid_and_exit_is_0(raw, tmp_path):
    c = raw()
    uri = (tmp_path / "model.py").as_uri()
    assert c.response(c.send("shutdown"))["result"] is None
    answer = c.response(c.send("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []}}))
    assert answer["error"]["code"] == types.ErrorCodes.InvalidRequest
    assert "result" not in answer
    c.send("exit", request=False)
    assert c.wait() == 0


def test_exit_without_shutdown_exits_1(raw):
    c = raw()
    c.send("exit", request=False)
    assert c.wait() == 1
