"""speclint's language server: `speclint server` (stdio; needs the `lsp` extra, pygls >= 2.1).

- Diagnostics are pushed on open and save at once, and on change after a short pause in typing
  (debounced); closing a document clears them.  Each run goes through the same engine as
  `speclint check` (`engine.check_source` with the `[tool.speclint]` configuration that applies to
  the file), on the editor's text.
- Ranges are in the position encoding negotiated with the client (UTF-16 unless the client
  offers UTF-8 or UTF-32), computed from speclint's code-point columns on Python's own line
  breaks (`\\r\\n`, `\\r`, `\\n`, as the LSP defines them too).
- Code actions: per diagnostic, its fix as a `quickfix` (a safe fix is the preferred action; an
  unsafe one is offered too, titled "(unsafe)", never preferred) and "Ignore SLnnn on this line"
  (adds or extends a `# noqa:` comment); for the document, `source.fixAll.speclint` applies every
  safe fix (fixes that overlap wait for the next request, as `--fix` waits for its next pass).
- The configuration is re-read when a `pyproject.toml` / `speclint.toml` changes (the server asks
  the client to watch them) or is saved in the editor; open documents are checked again.
- Findings recorded in the configuration's `baseline` are not shown (speclint.baseline; the file
  is re-read when it changes).
- Only Python documents are checked (languageId `python`; a `.py`/`.pyi` URI when the client sends
  no languageId): Markdown, JSON or log files the client also syncs get nothing.
- Documents are found under the URI the client sent, percent-encoded or not (pygls keys them by the
  decoded URI: `file:///a%20b/m.py`, `file:///c%3A/...` as VS Code sends Windows paths), and
  diagnostics are published under the client's own spelling of it.
- The protocol's end: a request after `shutdown` is answered with InvalidRequest; `exit` ends the
  process with 0 after `shutdown`, else 1.
- A document that cannot be parsed yields SL000.  The engine runs in a worker process, so that
  even a crash of native code (libcst's parser on absurdly nested input) restarts the worker and
  yields SL000 rather than killing the server; a Python exception in speclint is logged
  (window/logMessage) and yields no diagnostics for that document.
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
import time
import tokenize
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from speclint import __version__
from speclint.diagnostics import Diagnostic

log = logging.getLogger("speclint.lsp")

DEBOUNCE_SECONDS = 0.3  # the longest pause after the last keystroke before a document is checked
# ... and the shortest: the pause is half as long as the document's last check took (a fast check
# starts soon; a slow one does not keep the checker process busy with text typed over)
MIN_DEBOUNCE_SECONDS = 0.05
CONFIG_FILES = ("pyproject.toml", "speclint.toml", ".speclint.toml")
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
PYTHON_LANGUAGE_IDS = ("python",)
PYTHON_SUFFIXES = (".py", ".pyi")


# ---- documents ---------------------------------------------------------------------------------
def document_key(uri: str) -> str:
    """How pygls keys its documents (and how speclint keys its state): the percent-decoded URI, so
    `file:///a%20b.py` and `file:///a b.py` are one document."""
    return unquote(uri)


def is_python(language_id: Optional[str], uri: str) -> bool:
    """Whether a document is Python: by the client's languageId, else by the URI's suffix."""
    if language_id:
        return language_id.lower() in PYTHON_LANGUAGE_IDS
    return unquote(urlparse(uri).path).endswith(PYTHON_SUFFIXES)


# ---- positions ---------------------------------------------------------------------------------
def split_lines(text: str) -> List[str]:
    """Lines as Python and the LSP count them (not str.splitlines, which also breaks at \\f, \\u2028...)."""
    return _LINE_BREAK.split(text)


def client_units(prefix: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8", errors="surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(prefix)
    return len(prefix.encode("utf-16-le", errors="surrogatepass")) // 2


def to_position(lines: List[str], line: int, column: int, encoding: str) -> types.Position:
    """speclint's 1-based line and 1-based code-point column -> an LSP position."""
    index = min(max(line - 1, 0), len(lines) - 1)
    text = lines[index]
    return types.Position(line=index, character=client_units(text[:max(column - 1, 0)], encoding))


def to_range(lines: List[str], line: int, column: int, end_line: int, end_column: int, encoding: str) -> types.Range:
    return types.Range(start=to_position(lines, line, column, encoding),
                       end=to_position(lines, end_line, end_column, encoding))


# ---- linting -----------------------------------------------------------------------------------
def source_bytes(text: str) -> bytes:
    """The editor's text as the bytes the file would hold (honouring a coding declaration)."""
    data = text.encode("utf-8", errors="replace")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return data


def check_in_worker(data: bytes, path: str, config, rel: Optional[str], file: Optional[str]) -> List[Diagnostic]:
    """Runs in the worker process: the same per-file engine as `speclint check` (helpers imported
    from other modules are read from disk)."""
    from speclint import engine
    from speclint.ondisk import OnDiskIndex

    index = OnDiskIndex() if file else None
    users = engine.users_for(file, config) if file else ()  # the project view (speclint.project)
    # findings the engine places in an imported module belong to that file, not to this document
    return [d for d in engine.check_source(data, path, config, rel, file=file, index=index, users=users,
                                           incremental=True).diagnostics
            if d.path == path]


def warm_up() -> None:
    """Runs in the worker process once it starts: pay for the imports before the first keystroke."""
    from speclint import heap, importcache, rulebook

    importcache.analyser()  # imports libcst

    rulebook.load()
    heap.worker()  # the collector as in a run (the imports and the rulebook frozen: never garbage)


def crash_diagnostic(path: str) -> Diagnostic:
    from speclint import rulebook

    rule = rulebook.load()["SL000"]
    reason = "speclint's checker process crashed on this text (please report this)"
    return Diagnostic(path, 1, 1, 1, 1, rule.code, rule.name, rule.severity, rule.message(reason=reason))


class SpeclintProtocol(LanguageServerProtocol):
    """pygls's protocol, with the end the specification asks for: after `shutdown`, a request is
    answered with InvalidRequest (pygls would drop it, leaving the client waiting)."""

    def handle_message(self, message):
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if (getattr(self._server, "shut_down", False) and method is not None and msg_id is not None
                and method != types.EXIT):
            self._send_response(msg_id, error=types.ResponseError(
                code=types.ErrorCodes.InvalidRequest, message=f"{method}: the server has been shut down"))
            return
        super().handle_message(message)


class SpeclintServer(LanguageServer):
    def __init__(self) -> None:
        # full document sync: every change carries the whole text, so line splitting is never
        # pygls's (str.splitlines) but the engine's
        super().__init__("speclint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full,
                         protocol_cls=SpeclintProtocol)
        self.debounce = DEBOUNCE_SECONDS
        self._took: Dict[str, float] = {}  # document_key -> seconds its last check took
        self._resolver = None
        # keyed by document_key(uri); _open maps it to the URI as the client spelled it
        self._open: Dict[str, str] = {}
        self._pending: Dict[str, asyncio.Task] = {}
        self._latest: Dict[str, Tuple[Optional[int], str, List[Diagnostic]]] = {}
        self.shut_down = False  # a `shutdown` request was answered
        self._shown_errors: set = set()
        self._pool: Optional[ProcessPoolExecutor] = None

    # -- configuration --
    @property
    def resolver(self):
        if self._resolver is None:
            from speclint.config import Resolver

            self._resolver = Resolver()
        return self._resolver

    def reload_configuration(self) -> None:
        self._resolver = None
        self._shown_errors.clear()
        for uri in list(self._open.values()):
            self.schedule(uri, 0)

    def document(self, uri: str):
        """The open document `uri` names (percent-encoded or not), else None."""
        docs = self.workspace.text_documents
        doc = docs.get(document_key(uri))
        return doc if doc is not None else docs.get(uri)

    def opened(self, uri: str) -> None:
        self._open[document_key(uri)] = uri

    def closed(self, uri: str) -> None:
        self._open.pop(document_key(uri), None)
        self._took.pop(document_key(uri), None)
        self.clear(uri)

    # -- the engine --
    def _workers(self) -> ProcessPoolExecutor:
        # The engine runs in a worker process: a crash in it (a native parser overflowing its
        # stack on absurd nesting, say) costs a restart of the worker, not the editor's server.
        # One worker: each run is one file; spawn, not fork, because this process has threads.  The
        # worker dies with the server, however the editor ends it (speclint.lifetime).
        if self._pool is None:
            from speclint import lifetime

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=lifetime.bind_to_parent, initargs=(os.getpid(),))
        return self._pool

    async def lint(self, uri: str, text: str) -> List[Diagnostic]:
        """Diagnostics for one document's text; never raises."""
        from speclint.config import ConfigError

        fs_path = to_fs_path(uri) if uri.startswith("file:") else None
        path = Path(fs_path) if fs_path else Path(self.workspace.root_path or os.getcwd())
        try:
            config = self.resolver.for_path(path)
        except ConfigError as exc:
            self.tell_config_error(str(exc))
            return []
        rel = config.relative(path) if fs_path else None
        if rel is not None and config.is_excluded(rel):
            return []
        shown = fs_path or uri
        loop = asyncio.get_running_loop()
        data = source_bytes(text)
        try:
            for attempt in (1, 2):
                pool = self._workers()
                try:
                    diags = await loop.run_in_executor(pool, check_in_worker, data, shown, config, rel, fs_path)
                    return self.without_baselined(config, shown, text, diags)
                except BrokenProcessPool:
                    # the worker died: on this text, or on another one queued before it; a second
                    # attempt in a fresh worker tells the two apart
                    if self._pool is pool:
                        self._pool = None
                    log.error("the checker process died while checking %s (attempt %d)", uri, attempt)
            return [crash_diagnostic(shown)]
        except Exception as exc:  # noqa: BLE001 - a bug in speclint must not take the editor down
            log.error("speclint failed on %s: %s: %s", uri, type(exc).__name__, exc)
            self.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error,
                message=f"speclint: internal error while checking {uri}: {type(exc).__name__}: {exc} "
                        "(please report this)"))
            return []

    def without_baselined(self, config, path: str, text: str, diags: List[Diagnostic]) -> List[Diagnostic]:
        """The diagnostics not in the configuration's baseline (all of them, and the error shown
        once, when the baseline cannot be read)."""
        from speclint import baseline
        from speclint.config import ConfigError

        try:
            return baseline.filter_document(config, path, text, diags)
        except ConfigError as exc:
            self.tell_config_error(str(exc))
            return diags

    def tell_config_error(self, message: str) -> None:
        """A bad configuration: shown once until the configuration changes."""
        if message not in self._shown_errors:
            self._shown_errors.add(message)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"speclint: {message}"))

    async def current(self, uri: str) -> Tuple[Optional[int], str, List[Diagnostic]]:
        """(version, text, diagnostics) for the document as it is now."""
        doc = self.document(uri)
        if doc is None or not is_python(doc.language_id, uri):
            return None, "", []
        cached = self._latest.get(document_key(uri))
        if cached is not None and cached[0] == doc.version and cached[1] == doc.source:
            return cached
        version, text = doc.version, doc.source
        return version, text, await self.lint(uri, text)

    def stop_workers(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- publishing --
    def change_delay(self, uri: str) -> float:
        """The pause after an edit before the document is checked: half as long as its last
        check took, between MIN_DEBOUNCE_SECONDS and `debounce`."""
        took = self._took.get(document_key(uri))
        if took is None:
            return self.debounce
        return min(self.debounce, max(MIN_DEBOUNCE_SECONDS, took / 2))

    def schedule(self, uri: str, delay: float) -> None:
        key = document_key(uri)
        task = self._pending.pop(key, None)
        if task is not None:
            task.cancel()
        self._pending[key] = asyncio.ensure_future(self._lint_and_publish(uri, delay))

    async def _lint_and_publish(self, uri: str, delay: float) -> None:
        key = document_key(uri)
        try:
            if delay:
                await asyncio.sleep(delay)
            doc = self.document(uri)
            if doc is None or not is_python(doc.language_id, uri):
                return
            version, text = doc.version, doc.source
            started = time.perf_counter()
            diags = await self.lint(uri, text)
            self._took[key] = time.perf_counter() - started
            doc = self.document(uri)
            if doc is None or doc.version != version or doc.source != text:
                return  # edited meanwhile: a newer run is scheduled
            self._latest[key] = (version, text, diags)
            self.publish(self._open.get(key, uri), version, text, diags)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001
            log.exception("publishing diagnostics for %s failed", uri)
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]

    def publish(self, uri: str, version: Optional[int], text: str, diags: List[Diagnostic]) -> None:
        lines = split_lines(text)
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[self.to_lsp(d, lines, encoding) for d in diags]))

    def clear(self, uri: str) -> None:
        key = document_key(uri)
        task = self._pending.pop(key, None)
        if task is not None:
            task.cancel()
        self._latest.pop(key, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @staticmethod
    def to_lsp(d: Diagnostic, lines: List[str], encoding: str) -> types.Diagnostic:
        return types.Diagnostic(
            range=to_range(lines, d.line, d.column, d.end_line, d.end_column, encoding),
            message=d.message,
            severity=SEVERITY.get(d.severity, types.DiagnosticSeverity.Warning),
            code=d.code,
            code_description=types.CodeDescription(href=d.url) if d.url else None,
            source="speclint",
            data={"name": d.name, "fix": d.fix},
        )

    # -- code actions --
    async def code_actions(self, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        version, text, diags = await self.current(uri)
        if not diags:
            return []
        lines = split_lines(text)
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        wanted = params.range
        only = params.context.only if params.context else None
        actions: List[types.CodeAction] = []
        if only and _wants(only, FIX_ALL):  # a source action: only when asked for by kind
            fix_all = self._fix_all(uri, version, text, diags, lines, encoding)
            if fix_all is not None:
                actions.append(fix_all)
        if not _wants(only, types.CodeActionKind.QuickFix):
            return actions
        ignore_lines: Dict[Tuple[int, str], types.Diagnostic] = {}
        for d in diags:
            lsp_diag = self.to_lsp(d, lines, encoding)
            if not _overlaps(lsp_diag.range, wanted):
                continue
            if d.fixable(unsafe=True):
                safe = d.fixable()
                edits = _text_edits(d, lines, encoding)
                actions.append(types.CodeAction(
                    title=f"{d.fix['message']} ({d.code}{'' if safe else ', unsafe'})",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[lsp_diag], is_preferred=safe,
                    edit=self._workspace_edit(uri, version, edits)))
            if d.code != "SL000":
                ignore_lines.setdefault((d.line, d.code), lsp_diag)
        for (line, code), lsp_diag in ignore_lines.items():
            edit = suppression_edit(text, lines, line, code, encoding)
            if edit is not None:
                actions.append(types.CodeAction(
                    title=f"Ignore {code} on this line", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diag], edit=self._workspace_edit(uri, version, [edit])))
        return actions

    def _fix_all(self, uri, version, text, diags, lines, encoding) -> Optional[types.CodeAction]:
        """`source.fixAll.speclint`: every safe fix of the document (speclint.fixes.edits picks
        the ones that do not overlap), or None when there is none."""
        from speclint.fixes import edits as fix_edits

        _, applied = fix_edits.apply(text, [d for d in diags if d.fixable()])
        if not applied:
            return None
        changes = [e for d in applied for e in _text_edits(d, lines, encoding)]
        return types.CodeAction(title=f"Fix all speclint fixes ({len(applied)})", kind=FIX_ALL,
                                edit=self._workspace_edit(uri, version, changes))

    def _workspace_edit(self, uri: str, version: Optional[int], edits: List[types.TextEdit]) -> types.WorkspaceEdit:
        caps = self.client_capabilities
        versioned = bool(caps.workspace and caps.workspace.workspace_edit
                         and caps.workspace.workspace_edit.document_changes)
        if versioned:
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=edits)])
        return types.WorkspaceEdit(changes={uri: edits})

    # -- watching the configuration --
    def watch_configuration(self) -> None:
        caps = self.client_capabilities
        dynamic = (caps.workspace and caps.workspace.did_change_watched_files
                   and caps.workspace.did_change_watched_files.dynamic_registration)
        if not dynamic:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES])
        self.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="speclint-config-watcher", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options)]))


FIX_ALL = "source.fixAll.speclint"


def _wants(only, kind: str) -> bool:
    """Whether a code action of `kind` is asked for (`only`: the client's kinds; LSP kinds are
    hierarchical: `source` asks for `source.fixAll.speclint` too)."""
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _text_edits(d: Diagnostic, lines: List[str], encoding: str) -> List[types.TextEdit]:
    """The fix's edits in the client's positions."""
    return [types.TextEdit(range=to_range(lines, e["line"], e["column"], e["end_line"], e["end_column"], encoding),
                           new_text=e["content"]) for e in d.fix["edits"]]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p):
        return (p.line, p.character)
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


_NOQA_CODES = re.compile(r"(#\s*noqa\s*:\s*[\w\-]+(?:\s*,\s*[\w\-]+)*)", re.I)
_SPECLINT_IGNORE = re.compile(r"(#\s*speclint:\s*ignore\[[^\]]*)\]", re.I)


def suppression_edit(text: str, lines: List[str], line: int, code: str, encoding: str) -> Optional[types.TextEdit]:
    """The edit that makes `line` (1-based) suppress `code`: extend its `# noqa: ...` or
    `# speclint: ignore[...]` comment, else append `  # noqa: CODE`.  None where a comment cannot
    go (the line ends inside a string or with a backslash continuation)."""
    if not 0 < line <= len(lines):
        return None
    comment = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and tok.start[0] == line:
                comment = tok
            elif tok.start[0] <= line < tok.end[0] and tok.type not in (tokenize.NL, tokenize.NEWLINE):
                return None  # a token (a string) runs past the end of the line
            elif tok.start[0] > line:
                break
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    content = lines[line - 1]
    if comment is not None:
        for pattern in (_SPECLINT_IGNORE, _NOQA_CODES):
            m = pattern.search(comment.string)
            if m:  # insert ", CODE" after the codes already listed
                at = comment.start[1] + m.end(1) + 1
                return types.TextEdit(range=to_range(lines, line, at, line, at, encoding), new_text=f", {code}")
    if content.rstrip().endswith("\\") and comment is None:
        return None
    end = len(content)
    return types.TextEdit(range=to_range(lines, line, end + 1, line, end + 1, encoding),
                          new_text=f"  # noqa: {code}")


# ---- the server and its handlers -----------------------------------------------------------------
def create_server() -> SpeclintServer:
    server = SpeclintServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: SpeclintServer, params: types.InitializedParams) -> None:
        ls.watch_configuration()
        ls._workers().submit(warm_up)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: SpeclintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.opened(params.text_document.uri)
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: SpeclintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.change_delay(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: SpeclintServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.rsplit("/", 1)[-1] in CONFIG_FILES:
            ls.reload_configuration()
        else:
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: SpeclintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(ls: SpeclintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.rsplit("/", 1)[-1] in CONFIG_FILES for change in params.changes):
            ls.reload_configuration()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
    async def code_action(ls: SpeclintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        try:
            return await ls.code_actions(params)
        except Exception:  # noqa: BLE001
            log.exception("code actions for %s failed", params.text_document.uri)
            return []

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SpeclintServer, params) -> None:
        ls.shut_down = True
        ls.stop_workers()

    return server


def main() -> None:
    level = os.environ.get("SPECLINT_LSP_LOG", "WARNING").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(name)s: %(levelname)s: %(message)s")
    server = create_server()
    try:
        server.start_io()
    finally:
        server.stop_workers()
    # pygls swallows the SystemExit of its `exit` handler; the specification's exit code: 0 after
    # a shutdown request, else 1 (also when the client just closed the connection)
    sys.exit(0 if server.shut_down else 1)
