"""The language server end to end: `speclint server` in a subprocess, driven over stdio by a real
LSP client (pytest-lsp) that impersonates VS Code's or Neovim's capabilities.

Proves: diagnostics are published on open, on change and on save, and cleared on close; ranges are
in the negotiated position encoding (UTF-16 by default, UTF-8 and UTF-32 when the client asks),
right on a line with non-ASCII and astral characters; severity, code, codeDescription.href (the
rule's doc) and source; the "Ignore SLnnn on this line" action and the safe fix, applied as the
client would apply them, make the diagnostic go away; the workspace's pyproject configuration
applies and is re-read when the watched file changes (and a broken one is reported, not fatal);
its baseline hides known findings; a file that does not parse yields SL000 and the server keeps
working; shutdown exits with 0.
"""
from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from integrations_support import ROOT, TYPO, clean_env

pytest.importorskip("pygls.lsp.server")  # the `lsp` extra (also in `test`)

ASTRAL = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])

        def host_fn(note, loss):
            return []

        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=loss, train_op=tf.no_op(), host_call=(host_fn, [tf.constant(["ñ😀"]), loss]))
    """)
LINE = 10  # 0-based line of the SL005 diagnostic (`loss` after the string with "ñ😀")
FIXED = ASTRAL.replace("]), loss]", "]), tf.reshape(loss, [1])]")
SYNTAX_ERROR = "import tensorflow as tf\n\ndef model_fn(features, labels, mode:\n    return tf.estimator.EstimatorSpec(mode)\n"


def record_publish(client: LanguageClient, params: types.PublishDiagnosticsParams):
    client.published.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def record_registration(client: LanguageClient, params: types.RegistrationParams):
    client.registrations.extend(params.registrations)


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record_publish
    features[types.CLIENT_REGISTER_CAPABILITY] = record_registration
    register_lsp_features(client, features)
    client.published = []
    client.registrations = []
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "speclint", "server"],
                                              client_factory=make_client, server_env=clean_env()))
async def client(lsp_client: LanguageClient):
    yield
    if not getattr(lsp_client, "shut_down", False):
        await lsp_client.shutdown_session()


# ---- helpers: what a client does -----------------------------------------------------------------
async def initialize(client, workspace: Path, capabilities="visual-studio-code", encodings=None):
    caps = client_capabilities(capabilities)
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")]))
    return result


async def wait_for(predicate, what):
    for _ in range(600):  # up to 60 s on a loaded machine; returns as soon as it holds
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


async def diagnostics_for(client, uri, version, after=0):
    """The diagnostics published for `uri` at `version` (None: a clear) after the first `after` publishes."""
    def find():
        for p in client.published[after:]:
            if p.uri == uri and p.version == version:
                return p
    params = await wait_for(find, f"diagnostics for {uri} version {version}")
    return list(params.diagnostics)


def open_doc(client, uri, text, version=1):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))


def change_doc(client, uri, text, version):
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def units(text: str, encoding: str) -> int:
    return {"utf-8": len(text.encode("utf-8")), "utf-32": len(text),
            "utf-16": len(text.encode("utf-16-le")) // 2}[encoding]


def offset(lines, pos: types.Position, encoding: str) -> int:
    """Character offset (code points) of an LSP position, as a client computes it."""
    line = lines[pos.line]
    count = 0
    for i, ch in enumerate(line):
        if count >= pos.character:
            return sum(len(l) for l in lines[:pos.line]) + i
        count += units(ch, encoding)
    return sum(len(l) for l in lines[:pos.line]) + len(line)


def apply_edit(text: str, edit: types.WorkspaceEdit, uri: str, encoding="utf-16") -> str:
    if edit.document_changes:
        edits = [e for dc in edit.document_changes if dc.text_document.uri == uri for e in dc.edits]
    else:
        edits = edit.changes[uri]
    lines = text.splitlines(keepends=True)
    spans = sorted(((offset(lines, e.range.start, encoding), offset(lines, e.range.end, encoding), e.new_text)
                    for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


async def code_actions(client, uri, diagnostic):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))


# ---- tests -----------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_diagnostics_lifecycle_ignore_action_and_clean_shutdown(client: LanguageClient, tmp_path):
    await initialize(client, tmp_path)
    uri = (tmp_path / "model.py").as_uri()

    open_doc(client, uri, ASTRAL)
    (diag,) = await diagnostics_for(client, uri, 1)
    line = ASTRAL.splitlines()[LINE]
    start = line.index("loss]")
    # UTF-16: "😀" counts 2, "ñ" 1; code points would be one less
    assert diag.range == types.Range(start=types.Position(LINE, units(line[:start], "utf-16")),
                                     end=types.Position(LINE, units(line[:start + 4], "utf-16")))
    assert units(line[:start], "utf-16") == start + 1
    assert (diag.code, diag.source, diag.severity) == ("SL005", "speclint", types.DiagnosticSeverity.Error)
    assert diag.code_description.href.endswith("/SL005-outfeed-scalar-tensor.md")
    assert diag.message.startswith("`host_call` tensor[1] `loss` is a scalar")

    change_doc(client, uri, FIXED, 2)  # edit the misuse away
    assert await diagnostics_for(client, uri, 2) == []

    change_doc(client, uri, ASTRAL, 3)
    (diag,) = await diagnostics_for(client, uri, 3)
    actions = await code_actions(client, uri, diag)
    (ignore,) = [a for a in actions if a.title == "Ignore SL005 on this line"]
    assert ignore.kind == types.CodeActionKind.QuickFix
    text = apply_edit(ASTRAL, ignore.edit, uri)
    assert text.splitlines()[LINE] == line + "  # noqa: SL005"
    change_doc(client, uri, text, 4)
    assert await diagnostics_for(client, uri, 4) == []

    change_doc(client, uri, ASTRAL, 5)
    assert len(await diagnostics_for(client, uri, 5)) == 1
    n = len(client.published)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert await diagnostics_for(client, uri, None, after=n) == []

    await client.shutdown_session()
    client.shut_down = True
    assert client._server.returncode == 0
    assert client.error is None


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_ranges_in_the_negotiated_encoding(client: LanguageClient, tmp_path, encoding):
    result = await initialize(client, tmp_path, encodings=[encoding])
    assert result.capabilities.position_encoding == encoding
    uri = (tmp_path / "model.py").as_uri()
    open_doc(client, uri, ASTRAL)
    (diag,) = await diagnostics_for(client, uri, 1)
    line = ASTRAL.splitlines()[LINE]
    start = line.index("loss]")
    assert (diag.range.start.character, diag.range.end.character) == (
        units(line[:start], encoding), units(line[:start + 4], encoding))


@pytest.mark.asyncio
async def test_safe_fix_and_extending_an_existing_noqa(client: LanguageClient, tmp_path):
    await initialize(client, tmp_path, capabilities="neovim")
    uri = (tmp_path / "typo.py").as_uri()
    open_doc(client, uri, TYPO)
    (diag,) = await diagnostics_for(client, uri, 1)
    assert diag.code == "SL018" and diag.data["fix"]["applicability"] == "safe"
    actions = await code_actions(client, uri, diag)
    titles = [a.title for a in actions]
    assert titles == ["Replace `eval_metric_op` with `eval_metric_ops` (SL018)", "Ignore SL018 on this line"]
    fixed = apply_edit(TYPO, actions[0].edit, uri)
    assert "eval_metric_ops={}" in fixed and "eval_metric_op=" not in fixed
    change_doc(client, uri, fixed, 2)
    assert await diagnostics_for(client, uri, 2) == []

    with_noqa = TYPO.replace("eval_metric_op={})", "eval_metric_op={})  # noqa: E501")
    change_doc(client, uri, with_noqa, 3)
    (diag,) = await diagnostics_for(client, uri, 3)
    (ignore,) = [a for a in await code_actions(client, uri, diag) if a.title.startswith("Ignore")]
    text = apply_edit(with_noqa, ignore.edit, uri)
    assert "eval_metric_op={})  # noqa: E501, SL018\n" in text
    change_doc(client, uri, text, 4)
    assert await diagnostics_for(client, uri, 4) == []


@pytest.mark.asyncio
async def test_save_relints_and_unparsable_files_give_SL000(client: LanguageClient, tmp_path):
    await initialize(client, tmp_path)
    uri = (tmp_path / "broken.py").as_uri()
    open_doc(client, uri, SYNTAX_ERROR)
    (diag,) = await diagnostics_for(client, uri, 1)
    assert diag.code == "SL000" and "syntax error" in diag.message
    # hostile input does not crash the server: NUL bytes, lone surrogates, absurd nesting
    for version, text in enumerate(["EstimatorSpec\x00(", "EstimatorSpec = '\ud800'\n",
                                    "EstimatorSpec(" + "(" * 5000 + ")" * 5000 + ")\n"], start=2):
        change_doc(client, uri, text, version)
        codes = {d.code for d in await diagnostics_for(client, uri, version)}
        assert codes <= {"SL000"}, (version, codes)
    # the last one kills libcst's native parser (stack overflow): the checker process, not the server
    assert codes == {"SL000"}
    # still serving: a good file, then a save of the bad one
    other = (tmp_path / "model.py").as_uri()
    open_doc(client, other, FIXED)
    assert await diagnostics_for(client, other, 1) == []
    change_doc(client, other, ASTRAL, 2)
    await diagnostics_for(client, other, 2)
    n = len(client.published)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=other)))
    (diag,) = await diagnostics_for(client, other, 2, after=n)  # published again on save
    assert diag.code == "SL005"
    assert client.error is None


@pytest.mark.asyncio
async def test_workspace_configuration_and_reload(client: LanguageClient, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.speclint]\nignore = ["outfeed-scalar-tensor"]\n', encoding="utf-8")
    (tmp_path / "src").mkdir()
    await initialize(client, tmp_path)
    uri = (tmp_path / "src" / "model.py").as_uri()
    open_doc(client, uri, ASTRAL)
    assert await diagnostics_for(client, uri, 1) == []  # ignored by the workspace configuration
    # the server asked the client to watch configuration files
    watchers = await wait_for(lambda: [w for r in client.registrations
                                       if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
                                       for w in r.register_options["watchers"]], "a file watcher registration")
    assert {"globPattern": "**/pyproject.toml"} in watchers

    def changed():
        n = len(client.published)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))
        return n

    pyproject.write_text('[tool.speclint]\nselect = ["ALL"]\n', encoding="utf-8")
    n = changed()
    (diag,) = await diagnostics_for(client, uri, 1, after=n)
    assert diag.code == "SL005"

    pyproject.write_text('[tool.speclint]\nselct = ["ALL"]\n', encoding="utf-8")  # a typo in the key
    n = changed()
    assert await diagnostics_for(client, uri, 1, after=n) == []
    message = await wait_for(lambda: [m for m in client.messages if "selct" in m.message], "an error message")
    assert message[0].type == types.MessageType.Error

    pyproject.write_text('[tool.speclint]\ntarget = "cpu"\n', encoding="utf-8")  # TPU-only rules off
    n = changed()
    assert await diagnostics_for(client, uri, 1, after=n) == []
    pyproject.write_text('[tool.speclint]\ntarget = "tpu"\n', encoding="utf-8")
    n = changed()
    assert len(await diagnostics_for(client, uri, 1, after=n)) == 1
    assert client.error is None


@pytest.mark.asyncio
async def test_rapid_changes_end_with_the_latest_text(client: LanguageClient, tmp_path):
    await initialize(client, tmp_path)
    uri = (tmp_path / "model.py").as_uri()
    open_doc(client, uri, FIXED)
    assert await diagnostics_for(client, uri, 1) == []
    for version in range(2, 12):  # typing: each change supersedes the previous one
        change_doc(client, uri, ASTRAL if version % 2 else FIXED, version)
    (diag,) = await diagnostics_for(client, uri, 11)
    assert diag.code == "SL005"
    versions = [p.version for p in client.published if p.uri == uri]
    assert versions == sorted(versions)  # never an older text's diagnostics after a newer one's


@pytest.mark.asyncio
async def test_helpers_in_other_modules_are_read_from_disk(client: LanguageClient):
    tree = ROOT / "fixtures" / "xmod_bert"
    await initialize(client, tree)
    path = tree / "run_classifier.py"
    uri = path.as_uri()
    open_doc(client, uri, path.read_text(encoding="utf-8"))
    found = {(d.range.start.line + 1, d.code) for d in await diagnostics_for(client, uri, 1)}
    # `host_call` built with a helper imported from builders.py; metric_fn from metrics.py
    assert {(22, "SL005"), (27, "SL002")} <= found


@pytest.mark.asyncio
async def test_the_configured_baseline_hides_known_findings(client: LanguageClient, tmp_path):
    """Findings in the baseline (written by `speclint --write-baseline` from the file on disk) are
    not shown, also after the buffer moves the code; an edit of the flagged line makes it new."""
    import subprocess

    (tmp_path / "pyproject.toml").write_text('[tool.speclint]\nbaseline = "speclint-baseline.json"\n', encoding="utf-8")
    path = tmp_path / "model.py"
    path.write_text(ASTRAL, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "--write-baseline", "speclint-baseline.json",
                    "model.py"], cwd=tmp_path, check=True, env=clean_env(), capture_output=True)
    await initialize(client, tmp_path)
    uri = path.as_uri()
    open_doc(client, uri, ASTRAL)
    assert await diagnostics_for(client, uri, 1) == []
    change_doc(client, uri, "import os\n\n\n" + ASTRAL, 2)  # moved down three lines, unsaved
    assert await diagnostics_for(client, uri, 2) == []
    change_doc(client, uri, ASTRAL.replace("]), loss]", "]), (loss)]"), 3)
    (diag,) = await diagnostics_for(client, uri, 3)
    assert (diag.code, diag.range.start.line) == ("SL005", LINE)
    # a broken baseline: every finding is shown, and the error once
    (tmp_path / "speclint-baseline.json").write_text("{", encoding="utf-8")
    change_doc(client, uri, ASTRAL, 4)
    assert len(await diagnostics_for(client, uri, 4)) == 1
    await wait_for(lambda: [m for m in client.messages if "invalid baseline file" in m.message], "an error message")
    assert client.error is None
