"""The per-file pipeline and the run over many files.

read -> prefilter -> cache lookup -> parse -> analyse -> checks -> positions (reported nodes only)
-> diagnostics -> suppressions -> cache store.  The static analyser (and libcst) is imported only
when a file survives the prefilter and misses the cache.

Reading, the prefilter and the cache are done in the main process (they cost less than sending a
file to another process); the files left are analysed in a process pool when there are enough of
them (`POOL_MIN_BYTES`), else in the main process.  Results keep the walk's order either way.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from speclint import files, heap, importcache, rulebook, schedule
from speclint.config import Config, Resolver
from speclint.diagnostics import Diagnostic
from speclint.record import Record
from speclint.static import safeparse  # (standard library only: no libcst)


class FileResult(Record):
    FIELDS = ("path", "diagnostics", "skipped", "internal_error", "deps", "cached")

    def __init__(self, path: str, diagnostics: list[Diagnostic] | None = None, skipped: bool = False,
                 internal_error: str | None = None, deps: dict[str, str | None] | None = None,
                 cached: bool = False) -> None:
        self.path = path
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.skipped = skipped  # no Estimator API mentioned: not parsed
        self.internal_error = internal_error
        # Other linted modules the analysis consulted (the module index), {absolute path: sha256
        # of the content} (cache.content_hash), and files whose absence decided where an import
        # resolves (hash None); a cache entry is valid only while each still hashes so (or is
        # still absent).
        self.deps = {} if deps is None else deps
        self.cached = cached  # served from the cache


class RunResult(Record):
    FIELDS = ("files", "baselined")

    def __init__(self, files: list[FileResult] | None = None, baselined: int = 0) -> None:
        self.files = [] if files is None else files
        self.baselined = baselined  # diagnostics a baseline hid (speclint.baseline.apply)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        # a finding inside an imported module can be reported by each module that imports it
        unique: dict[tuple, Diagnostic] = {}
        for f in self.files:
            for d in f.diagnostics:
                key = _identity(d)
                if key not in unique or (d.fix and not unique[key].fix):  # the file's own copy has the fix
                    unique[key] = d
        out = list(unique.values())
        out.sort(key=Diagnostic.sort_key)
        return out

    @property
    def internal_errors(self) -> list[FileResult]:
        return [f for f in self.files if f.internal_error]


def _identity(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.message)


def display_path(path: str) -> str:
    """Relative to the current directory when under it, with forward slashes; printable (bytes
    of a file name that are not UTF-8 are shown as `\\xNN`)."""
    if path == "-":
        return path
    abspath = os.path.abspath(path)
    cwd = os.getcwd()
    prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
    rel = abspath[len(prefix):] if abspath.startswith(prefix) else abspath
    rel = rel.replace(os.sep, "/")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        rel = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return rel


def _diag(code: str, path: str, message: str, rng=(1, 0, 1, 0)) -> Diagnostic:
    rule = rulebook.load()[code]
    line, col, end_line, end_col = rng
    return Diagnostic(path, line, col + 1, end_line, end_col + 1, code, rule.name, rule.severity,
                      message, "static")


def check_source(data: bytes, path: str, config: Config, rel_path: str | None = None, *,
                 file: str | None = None, index=None, prefilter: bool = True,
                 resolver: Resolver | None = None, users: Sequence[tuple[str, bool]] = (),
                 incremental: bool = False) -> FileResult:
    """Lint one file's bytes. `path` is the path to report; `file` the file on disk (if any) and
    `index` the run's module index, for helpers imported from other linted modules; `resolver`
    gives the configuration of such a module (its own rules apply to findings located in it;
    without a resolver, `config`'s); `users` the project's modules that use its model_fns, as
    (path, whether it may narrow the modes) (`users_for`: how they run is seen from there).
    `prefilter=False` analyses the file even when it never mentions the Estimator API (the
    robustness sweep uses it to exercise the parser path).  `incremental=True` (a language
    server's document, checked after every edit) parses again only the top-level statements that
    changed since the last check of `path`.  More keyword options may be added."""
    result = FileResult(path)
    if prefilter and not files.may_matter(data):
        result.skipped = True
        return result
    enabled = config.enabled_codes(rel_path)
    pipeline = importcache.analyser()  # imports libcst: only for files that may matter

    # the whole analysis runs on a thread with a big stack: deep trees, whatever the caller's stack
    return safeparse.run_with_big_stack(_analyse, pipeline, data, path, config, enabled, result, file, index,
                                        resolver, users, path if incremental else None)


def enabled_for_module(resolver: Resolver | None, config: Config, other: str) -> frozenset:
    """The rules that apply to findings located in another module `other`: its own configuration
    (a nested pyproject.toml, its per-file-ignores), else the importer's `config`."""
    from speclint.config import ConfigError

    if resolver is not None:
        try:
            config = resolver.for_file(other)
        except ConfigError:
            pass  # (a broken config outside the run: the importer's applies; a run reports it itself)
    return config.enabled_codes(config.relative(other))


def _analyse(pipeline, data: bytes, path: str, config: Config, enabled: frozenset, result: FileResult,
             file: str | None, index, resolver: Resolver | None = None, users=(),
             key: str | None = None) -> FileResult:
    parsed = pipeline.parse(data, key) if key is not None else pipeline.parse(data)
    if parsed.error is not None:
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(reason=parsed.error), parsed.error_range))
        return result

    def enabled_for(other: str) -> frozenset:
        return enabled_for_module(resolver, config, other)

    try:
        outcome = pipeline.diagnose(parsed, path, config.target, enabled, file=file, index=index,
                                    enabled_for=enabled_for, show=display_path,
                                    all_modes=config.modes == "all", users=users or ())
        result.diagnostics, result.deps = outcome.diagnostics, outcome.deps
    except pipeline.BodyRejected:
        whole = pipeline.parse_whole(data)
        if whole.error is None:
            raise  # (another module's body: an internal error of this file's check)
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(reason=whole.error),
                                            whole.error_range))
    except RecursionError:
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(
                reason="the code is nested too deeply to analyse")))
    except MemoryError:
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(
                reason=f"there is not enough memory to analyse the file ({len(data) / 2**20:,.1f} MiB)")))
    return result


def _sl000(shown: str, config: Config, rel: str | None, reason: str) -> FileResult:
    result = FileResult(shown)
    if "SL000" in config.enabled_codes(rel):
        result.diagnostics.append(_diag("SL000", shown, rulebook.load()["SL000"].message(reason=reason)))
    return result


# A file bigger than the parse limit (safeparse.MAX_PARSE_BYTES) is not read whole: it is scanned in
# chunks for the prefilter tokens and, if it mentions them, reported as SL000 "too large" (libcst
# would need about 0.9 GB of memory per MB of it).  Only regular files are read: a FIFO would block
# forever, /dev/zero never ends.
_CHUNK = 16 * 1024 * 1024
_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class TooLarge(Exception):
    def __init__(self, size: int, matters: bool, exact: bool = True):
        super().__init__(size)
        self.size, self.matters, self.exact = size, matters, exact


class NotRegularFile(OSError):
    pass


def _not_regular(mode: int, path: str) -> NotRegularFile:
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a file")
    return NotRegularFile(0, f"not a regular file ({kind})", path)


def _read(path: str) -> bytes:
    """The file's bytes; OSError when it cannot be read (gone, unreadable, a directory, not a
    regular file); TooLarge past the parse limit."""
    st = os.stat(path)  # (a FIFO or device is looked at, never opened)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(st.st_mode, path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as fh:
        st = os.fstat(fd)  # (replaced since the stat above?)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode, path)
        return read_limited(fh, st.st_size)


def read_limited(fh, size: int | None = None) -> bytes:
    """Read a binary stream (a file of `size` bytes, or stdin) up to the parse limit; TooLarge
    beyond it, after streaming the rest through the prefilter."""
    limit = safeparse.MAX_PARSE_BYTES
    if size is not None and size > limit:
        return _too_large_stream(fh, b"", size)
    data = fh.read(limit + 1)
    if len(data) > limit:  # a stream, or a file that grew
        return _too_large_stream(fh, data, None)
    return data


def _too_large_stream(fh, head: bytes, size: int | None):
    if files.may_matter(head):
        raise TooLarge(size or len(head), True, exact=size is not None)
    matters, read = _stream_matters(fh, head)
    raise TooLarge(size or len(head) + read, matters, exact=size is not None or not matters)


def _stream_matters(fh, head: bytes = b""):
    """The prefilter over the rest of a stream, read in chunks (overlapping by the longest token):
    (matters, bytes read); stops at the first match."""
    overlap = max(len(t) for t in files.PREFILTER_TOKENS) - 1
    tail = head[-overlap:] if overlap else b""
    read = 0
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return False, read
        read += len(chunk)
        if files.may_matter(tail + chunk):
            return True, read
        tail = chunk[-overlap:] if overlap else b""


def _too_large(exc: TooLarge, shown: str, config: Config, rel: str | None) -> FileResult:
    if not exc.matters:
        return FileResult(shown, skipped=True)
    if exc.exact:
        reason = safeparse.too_large(exc.size)
    else:  # a stream (stdin), read only until it first mentioned the API
        reason = (f"the input is too large to analyse (more than {exc.size:,} bytes; "
                  f"the limit is {safeparse.MAX_PARSE_BYTES / 2**20:g} MiB)")
    return _sl000(shown, config, rel, reason)


def _safe_check(data: bytes, shown: str, config: Config, rel: str | None, options: dict) -> FileResult:
    try:
        return check_source(data, shown, config, rel, **options)
    except Exception as exc:  # noqa: BLE001 - a bug in speclint must not stop the run
        return FileResult(shown, internal_error=f"{type(exc).__name__}: {exc}")


def check_file(entry: files.Entry, config: Config, index=None, **options) -> FileResult:
    """Lint one walked file (no cache). Keyword options are passed on to `check_source`."""
    shown = display_path(entry.path)
    rel = config.relative(entry.path)
    if entry.error is not None:
        return _sl000(shown, config, rel, f"cannot read file ({entry.error})")
    try:
        data = _read(entry.path)
    except OSError as exc:
        return _sl000(shown, config, rel, f"cannot read file ({exc.strerror or exc})")
    except TooLarge as exc:
        return _too_large(exc, shown, config, rel)
    return _safe_check(data, shown, config, rel, dict(options, file=entry.path, index=index))


def module_index(entries):
    """The run's module index (imported lazily: it belongs to the static engine)."""
    from speclint.static.modules import ModuleIndex

    return ModuleIndex((e.path for e in entries if e.error is None), disk=True)


# ---- a run over many files -------------------------------------------------------------------
# Below this many bytes of files to analyse (after the prefilter and the cache), a run stays in
# one process.  Measured with bench/bench_pool.py on the 2-core benchmark machine: a forked
# 2-worker pool starts and stops in about 8 ms, a file's round trip costs 0.14 ms, and the engine
# analyses about 0.4 MB/s per core.  So the pool could pay from ~10 KB on an idle machine; 64 KB
# (~0.15 s of analysis) keeps the worst case (no idle core: the machine is busy) to ~5 % while
# an idle core can save up to half.
POOL_MIN_BYTES = 64 * 1024


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Work(Record):
    FIELDS = ("index", "data", "shown", "config", "rel", "file", "abspath", "cache", "chash", "ckey", "codes_for",
              "users")

    def __init__(self, index: int, data: bytes, shown: str, config: Config, rel: str | None, file: str,
                 abspath: str, cache=None, chash: str = "", ckey: str = "", codes_for=None, users: tuple = ()):
        self.index = index
        self.data = data
        self.shown = shown
        self.config = config
        self.rel = rel
        self.file = file  # the path as walked (read by the module index)
        self.abspath = abspath
        self.cache = cache  # cache.Cache
        self.chash = chash
        self.ckey = ckey
        self.codes_for = codes_for  # consulted module -> cache.codes_key of its enabled rules
        self.users = users  # the project's modules using its model_fns, (path, narrows) (users_for)


_WORKER_OPTIONS: dict = {}  # a pool worker's check_source options (set once, by the initializer)


def _init_worker(options: dict, parent_pid: int | None = None) -> None:
    global _WORKER_OPTIONS
    if parent_pid is not None:  # die with the run, even when it is killed (SIGTERM, SIGKILL)
        from speclint import lifetime

        lifetime.bind_to_parent(parent_pid)
    _WORKER_OPTIONS = options
    from speclint.static import retire

    retire.start()  # (the worker's analyses are retired between its files: _pool_task)
    heap.worker(heap.RETIRING_YOUNG_THRESHOLD)


def _pool_task(data: bytes, shown: str, config: Config, rel: str | None, file: str, users=()) -> FileResult:
    from speclint.static import retire

    result = _safe_check(data, shown, config, rel, dict(_WORKER_OPTIONS, file=file, users=users))
    retire.sweep()
    return result


def _start_pool(jobs: int, options: dict):
    """`jobs` worker processes (speclint.workers) holding `options` (the module index among them:
    sent once per worker, not once per file)."""
    from speclint import workers

    if workers.forks():  # forked, they inherit libcst and the rulebook, loaded here once
        importcache.analyser()
        rulebook.load()
    return workers.Workers(jobs, _init_worker, (options, os.getpid()), _pool_batch)


def check_paths(paths: Iterable[str], resolver: Resolver, *, jobs: int = 1, caches=None,
                prefilter: bool = True, progress=None, **options) -> RunResult:
    """Lint every file under `paths`.  `jobs`: worker processes (1: none); `caches`: a
    `cache.Caches` or None; `progress(done, total)` is called as files are finished; other keyword
    options are passed on to `check_source`.  The result is the same, in the same order, whatever
    `jobs` and `caches` are."""
    with heap.run(heap.RETIRING_YOUNG_THRESHOLD):  # (its analyses are retired: _run_here)
        return _check_paths(paths, resolver, jobs, caches, prefilter, progress, options)


def _check_paths(paths, resolver: Resolver, jobs: int, caches, prefilter: bool, progress, options: dict) -> RunResult:
    entries = list(files.walk(paths, resolver))  # the walk is cheap; the index needs every path
    if progress is not None:
        progress = _counting(progress, len(entries))
    options = dict(options, prefilter=prefilter, resolver=resolver)
    keys: list = []  # the run's cache key, made when a file is first looked up (hashlib: ~4 ms)

    def key_of_run() -> str:
        if not keys:
            from speclint import cache as cache_mod

            keys.append(cache_mod.run_key({os.path.abspath(e.path) for e in entries if e.error is None}))
        return keys[0]
    project = _RunProject()
    slots: list[FileResult | None] = [None] * len(entries)
    works: list[_Work] = []
    try:
        for i, entry in enumerate(entries):
            config = resolver.for_file(entry.path)
            work = _prepare(i, entry, config, caches, prefilter, key_of_run, slots, resolver, project)
            if work is None:
                if progress is not None:
                    progress()
            else:
                works.append(work)
    finally:
        project.save()
    if not works:
        return RunResult([r for r in slots if r is not None])
    if "index" not in options:  # (not built for a run the prefilter skips entirely)
        options["index"] = module_index(entries)
    run_key = key_of_run() if caches is not None else ""
    if jobs > 1 and len(works) > 1 and sum(len(w.data) for w in works) >= POOL_MIN_BYTES:
        _run_pool(works, jobs, options, slots, run_key, progress)
    else:
        _run_here(schedule.users_first(works), options, slots, run_key, progress)
    return RunResult([r for r in slots if r is not None])


class _RunProject:
    """The project index of a run (speclint.project): each project root walked once per run,
    loaded from and saved to that project's cache."""

    def __init__(self):
        self.fresh: set = set()
        self.stores: dict = {}
        self.roots: dict = {}  # directory -> its project root

    def users(self, abspath: str, store=None) -> tuple:
        from speclint import project

        directory = os.path.dirname(abspath)
        if directory not in self.roots:
            self.roots[directory] = project.project_root(abspath)
        root = self.roots[directory]
        if root is None:
            return ()
        if store is not None:
            self.stores.setdefault(root, store)
        index = project.index_for(root, store, refresh=root not in self.fresh)
        self.fresh.add(root)
        return index.users_of(abspath) or ()

    def save(self) -> None:
        if not self.stores:  # (no file needed the index: not even imported)
            return
        from speclint import project

        for root, store in self.stores.items():
            project.save(store, root)


def users_for(path: str, config: Config | None = None) -> tuple:
    """The project's modules that use the model_fns of the file at `path` (`speclint.project`),
    for a check of that one file outside a run (the language server, flake8, stdin); the project
    index is persisted in the project's cache (`config.root`'s) unless caching is off."""
    from speclint import project

    store = None
    if config is not None:
        from speclint.cache import Caches

        store = Caches().for_project(config.root)
    try:
        users = project.users_for(path, store)
        root = project.project_root(path)
        if root is not None:
            project.save(store, root)
    except (OSError, RecursionError, ValueError):
        return ()
    return users or ()


def _counting(report, total: int):
    """`report(done, total)` as a callable that counts one more finished file per call."""
    done = [0]

    def tick() -> None:
        done[0] += 1
        report(done[0], total)
    return tick


def _run_pool(works: list[_Work], jobs: int, options: dict, slots, run_key: str, progress) -> None:
    """The works analysed by `jobs` worker processes, each fed the chunks of its own range
    (`schedule.Ranges`: the next chunk of a range goes to the worker that analysed the files before
    it, and holds the helper modules they follow)."""
    from speclint.workers import Died

    jobs = min(jobs, len(works))
    ranges = schedule.Ranges(works, jobs)
    chunks: list[list | None] = [None] * jobs
    pool = _start_pool(jobs, options)
    alive = set(range(jobs))

    def finish(chunk, results) -> None:
        for work, result in zip(chunk, results):
            _finish(work, result, slots, run_key)
            if progress is not None:
                progress()

    def feed_idle() -> None:  # (a dead worker's range is taken over by the others)
        for worker in sorted(alive):
            if not pool.busy[worker]:
                chunks[worker] = ranges.next_chunk(worker)
                if chunks[worker]:
                    pool.submit(worker, [_task(w) for w in chunks[worker]])

    try:
        feed_idle()
        while any(pool.busy):
            for worker, results in pool.results():
                if isinstance(results, Died):  # a crash, out of memory: isolate each file of the chunk
                    results = [_isolated(w, options, results) for w in chunks[worker]]
                    if not pool.alive(worker):
                        pool.stop(worker)
                        alive.discard(worker)
                finish(chunks[worker], results)
            feed_idle()
        for worker in range(jobs):  # every worker died: what is left, file by file
            chunk = ranges.next_chunk(worker)
            while chunk:
                finish(chunk, [_isolated(w, options, RuntimeError("no analysis process left")) for w in chunk])
                chunk = ranges.next_chunk(worker)
    finally:
        pool.close()


def _run_here(works: list[_Work], options: dict, slots, run_key: str, progress) -> None:
    from speclint.static import retire

    with retire.tracking():
        for work in works:
            result = _safe_check(work.data, work.shown, work.config, work.rel,
                                 dict(options, file=work.file, users=work.users))
            retire.sweep()
            _finish(work, result, slots, run_key)
            if progress is not None:
                progress()


def _task(work: _Work) -> tuple:
    return work.data, work.shown, work.config, work.rel, work.file, work.users


def _pool_batch(tasks: list[tuple]) -> list[FileResult]:
    return [_pool_task(*t) for t in tasks]


def _prepare(i, entry, config, caches, prefilter, key_of_run, slots, resolver=None, project=None) -> _Work | None:
    """Read, prefilter and look up one file; a _Work when it still needs analysing.  `key_of_run()`:
    the run's cache key."""
    shown = display_path(entry.path)
    rel = config.relative(entry.path)
    if entry.error is not None:
        slots[i] = _sl000(shown, config, rel, f"cannot read file ({entry.error})")
        return None
    try:
        data = _read(entry.path)
    except OSError as exc:
        slots[i] = _sl000(shown, config, rel, f"cannot read file ({exc.strerror or exc})")
        return None
    except TooLarge as exc:
        slots[i] = _too_large(exc, shown, config, rel)
        return None
    if prefilter and not files.may_matter(data):
        slots[i] = FileResult(shown, skipped=True)
        return None
    abspath = os.path.abspath(entry.path)
    work = _Work(i, data, shown, config, rel, entry.path, abspath)
    if project is not None:
        work.users = project.users(abspath, caches.for_project(config.root) if caches is not None else None)
    if caches is not None:
        from speclint import cache as cache_mod

        work.cache = caches.for_project(config.root)
        work.chash = cache_mod.content_hash(data)
        work.ckey = cache_mod.config_key(config.enabled_codes(rel), config.target + "/" + config.modes, prefilter)
        if work.users:  # a new user, or one gone, changes the result (an edited one: its deps)
            work.ckey += "|users:" + cache_mod.run_key(f"{u}\0{int(n)}" for u, n in work.users)
        work.codes_for = lambda other: cache_mod.codes_key(enabled_for_module(resolver, config, other))
        hit = work.cache.get(abspath, work.chash, work.ckey, key_of_run(), shown, display_path, work.codes_for)
        if hit is not None:
            slots[i] = FileResult(shown, diagnostics=hit[0], deps=hit[1], cached=True)
            return None
    return work


def _isolated(work: _Work, options: dict, first: Exception) -> FileResult:
    """Retry one file in a fresh (spawned) worker of its own, so a file that kills a worker is
    named and the others are not blamed."""
    from speclint.workers import Died, Workers

    try:
        pool = Workers(1, _init_worker, (options, os.getpid()), _pool_batch, fresh=True)
    except Exception as exc:  # noqa: BLE001 - no process could be started: say so, go on
        return FileResult(work.shown, internal_error=f"the analysis process died ({first}); no process could be "
                                                     f"started to retry it ({type(exc).__name__}: {exc})")
    try:
        pool.submit(0, [_task(work)])
        results = pool.results()[0][1]
    finally:
        pool.close()
    if isinstance(results, Died):  # (a task that raised says only what it raised)
        said = str(results) if results.exit_code is not None else f"the analysis process died ({results})"
        return FileResult(work.shown, internal_error=said)
    return results[0]


def _finish(work: _Work, result: FileResult, slots, run_key: str) -> None:
    slots[work.index] = result
    if work.cache is not None and result.internal_error is None:
        dep_codes = {d: work.codes_for(d) for d, h in result.deps.items() if h is not None}
        work.cache.put(work.abspath, work.chash, work.ckey, run_key, work.shown, result.diagnostics, result.deps,
                       dep_codes)


def check_stdin(data, filename: str | None, resolver: Resolver, **options) -> RunResult:
    """Lint code read from stdin: `data` is its bytes or a binary stream (read up to the parse
    limit, as a file is)."""
    name = filename or "-"
    config = resolver.for_path(Path(filename) if filename else Path(os.getcwd()))
    rel = config.relative(filename) if filename else None
    shown = display_path(name)
    if not isinstance(data, (bytes, bytearray)):
        try:
            data = read_limited(data)
        except TooLarge as exc:
            return RunResult([_too_large(exc, shown, config, rel)])
    index = None
    users: tuple = ()
    if filename:  # an editor piping a buffer: its imports are followed on disk
        from speclint.static.modules import ModuleIndex

        index = ModuleIndex((), disk=True)
        users = users_for(filename, config)
    options = dict(options, file=os.path.abspath(filename) if filename else None, index=index, resolver=resolver,
                   users=users)
    return RunResult([_safe_check(data, shown, config, rel, options)])
