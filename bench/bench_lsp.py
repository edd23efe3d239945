"""Latency of the language server (`speclint server`), driven over stdio by pytest-lsp's client.

    python bench/bench_lsp.py [--in-place] [FILE ...]    # default: the largest fixtures and a file with no TF code

With --in-place each file is opened where it is (inside its repository, so the helpers it imports
are followed from disk, as in an editor); otherwise as a copy in an empty workspace.  A change
appends a line of code (`_bench_edit_N = N`).

For each file: the median over N rounds of the time from the client sending a notification to
receiving the diagnostics: `save` (the engine in the worker process plus the round trip), `change`
(the same after the server's debounce pause: half as long as the document's last check took, between
MIN_DEBOUNCE_SECONDS and DEBOUNCE_SECONDS) and the first `open` after start
(includes nothing of the server's start: the worker is warmed up at initialisation).
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp import LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402

from speclint.lsp import DEBOUNCE_SECONDS, MIN_DEBOUNCE_SECONDS  # noqa: E402

ROUNDS = 7


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)

    def record(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.published.append((time.perf_counter(), params))

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    register_lsp_features(client, features)
    client.published = []
    return client


async def wait(client, uri, version, after):
    while True:
        for t, p in client.published[after:]:
            if p.uri == uri and p.version == version:
                return t, p
        await asyncio.sleep(0.001)


async def measure(files, in_place=False):
    client = make_client()
    # (from this checkout: `python -m` looks in the current directory first)
    await client.start_io(sys.executable, "-m", "speclint", "server", cwd=str(ROOT))
    workspace = Path(tempfile.mkdtemp())
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=workspace.as_uri()))
    await asyncio.sleep(2)  # let the worker process start and warm up
    rows = []
    for path in files:
        text = Path(path).read_text(encoding="utf-8")
        uri = Path(path).resolve().as_uri() if in_place else (workspace / Path(path).name).as_uri()
        n = len(client.published)
        t0 = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        t1, params = await wait(client, uri, 1, n)
        opened = t1 - t0
        saves, changes = [], []
        for i in range(ROUNDS):
            version = 2 + i
            n = len(client.published)
            t0 = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + f"\n_bench_edit_{i} = {i}\n")]))
            t1, _ = await wait(client, uri, version, n)
            changes.append(t1 - t0)
            n = len(client.published)
            t0 = time.perf_counter()
            client.text_document_did_save(types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            t1, _ = await wait(client, uri, version, n)
            saves.append(t1 - t0)
        rows.append((Path(path).name, text.count("\n"), len(params.diagnostics), opened,
                     statistics.median(saves), statistics.median(changes)))
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    await client.shutdown_session()
    return rows


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return
    in_place = "--in-place" in argv
    argv = [a for a in argv if a != "--in-place"]
    missing = [a for a in argv if not Path(a).is_file()]
    if missing:
        sys.exit(f"bench_lsp.py: not a file: {', '.join(missing)} (see --help)")
    files = argv or [str(p) for p in sorted((ROOT / "fixtures").glob("*.py"),
                                            key=lambda p: -p.stat().st_size)[:3]] + [str(ROOT / "speclint" / "cli.py")]
    rows = asyncio.run(measure(files, in_place))
    print(f"language server latency (median of {ROUNDS}; change includes the debounce: half the last check's "
          f"time, {MIN_DEBOUNCE_SECONDS * 1000:.0f}-{DEBOUNCE_SECONDS * 1000:.0f} ms)\n")
    print("| file | lines | diagnostics | first open ms | save ms | change ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, lines, diags, opened, save, change in rows:
        print(f"| {name} | {lines:,} | {diags} | {opened * 1000:.0f} | {save * 1000:.0f} | {change * 1000:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
