"""How a file's model_fns run, seen from the modules that use them (the project view).

A user module (found by `speclint.project`) imports a model_fn, or a builder of one, and gives it
to an Estimator or TPUEstimator that it trains, evaluates, predicts with or exports.  Its analysis
follows the import (`modules.py`) and runs the model_fn with the user's values: the estimator's
kind, use_tpu / eval_on_tpu / export_to_tpu, params, the flags both modules read, and only the
modes the user invokes when every use of its estimators is visible (`ModuleAnalyzer.invoked_modes`).

For the file being checked this gives:
- the findings located in it that its users' analyses make (a tree run reports them too, from each
  user's own check; so the file checked alone gets them as well), and
- its model_fns that a user runs (`claimed`, by qualified name): the file's own analysis does not
  run them again on their own in every mode, which would report what no use of them runs.

Each user's analysis is kept per process (a user that imports several model files is analysed once
per worker while it and the modules it consulted are unchanged).
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Optional, Sequence, Tuple

import libcst as cst

from speclint import rulebook
from speclint.static import lazydefs, modules, retire
from speclint.static.analyzer import ModuleAnalyzer, qualified_name
from speclint.static.checks import runner
from speclint.static.checks.base import CheckContext
from speclint.static.parse import parse
from speclint.static.walk import header_children


@dataclass
class UserRun:
    """What one user's analysis says about each module it consulted."""
    digest: Optional[str]  # sha256 of the user module
    consulted: Dict[str, tuple]  # path -> (sha256, analyzer or None), as modules.recording gives
    _findings: Optional[Dict[str, list]] = None  # module path -> [Finding] located in it (`located`)
    claimed: Dict[str, FrozenSet[str]] = field(default_factory=dict)  # module path -> qualified names run as model_fns
    stats: Dict[str, Optional[tuple]] = field(default_factory=dict)  # path -> (mtime_ns, size) when analysed
    an: object = None  # the analysis (its own check reuses it: see `shared_run`)
    found: list = field(default_factory=list)  # every finding of every rule

    def located(self, path: str) -> list:
        """The findings located in the module at `path` (sorted out when first asked: a run kept
        only for its own check never pays for it)."""
        if self._findings is None:
            self._findings = {}
            libs = [(p, lib) for p, (_, lib) in self.consulted.items() if lib is not None]
            for f in self.found:
                for p, lib in libs:
                    if _inside(f.at, lib):
                        self._findings.setdefault(p, []).append(f)
                        break
        return self._findings.get(path, [])


@dataclass
class View:
    """The project view of one file."""
    claimed: FrozenSet[str] = frozenset()
    lib: object = None  # the file's own library analysis, as the users' analyses saw it
    findings: list = field(default_factory=list)  # located in `lib.module`


_RUNS: "OrderedDict[tuple, UserRun]" = OrderedDict()
_MAX_RUNS = 8  # (each keeps the modules it consulted alive)


def _stat(path: str) -> Optional[tuple]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _key(user: str, index, target: str, all_modes: bool) -> tuple:
    return (user, target, all_modes, index.paths, index.disk)


def _fresh(key) -> Optional[UserRun]:
    hit = _RUNS.get(key)
    if hit is not None and all(_stat(p) == s for p, s in hit.stats.items()):
        _RUNS.move_to_end(key)
        return hit
    return None


def shared_run(file: Optional[str], data: bytes, index, target: str, all_modes: bool) -> Optional[UserRun]:
    """The analysis of `file` made as another file's user, when it is of these very bytes: the
    file's own check (without a project view of its own) is the same analysis."""
    if file is None or index is None:
        return None
    hit = _fresh(_key(os.path.abspath(file), index, target, all_modes))
    return hit if hit is not None and hit.digest == hashlib.sha256(data).hexdigest() else None


def remember(file: Optional[str], data: bytes, index, target: str, all_modes: bool, an, found: list,
             consulted: Dict[str, tuple]) -> None:
    """Keep a file's own analysis (no project view of its own, every rule's findings) for the
    files it uses: a tree run analyses each user once per process."""
    if file is None or index is None or not os.path.isfile(file):
        return
    if modules.file_digest(file) != hashlib.sha256(data).hexdigest():
        return  # (not the file on disk: an editor's buffer)
    _store(_key(os.path.abspath(file), index, target, all_modes),
           _build(os.path.abspath(file), hashlib.sha256(data).hexdigest(), an, found, consulted))


def _user_run(user: str, index, target: str, all_modes: bool) -> Optional[UserRun]:
    key = _key(user, index, target, all_modes)
    hit = _fresh(key)
    if hit is not None:
        return hit
    try:
        with open(user, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    parsed = parse(data)
    if parsed.module is None:
        return None
    with modules.recording() as consulted:
        try:
            an = ModuleAnalyzer(parsed.module, path=user, index=index, all_modes=all_modes).analyze()
        except Exception:  # noqa: BLE001 - the user's own check reports it; this file goes on without it
            return None
        ctx = CheckContext(target=target, module_run=an.module_run)
        found = runner.run(an.spec_facts, ctx, set(rulebook.load().by_code))
    return _store(key, _build(user, hashlib.sha256(data).hexdigest(), an, found, dict(consulted)))


def _store(key, run: UserRun) -> UserRun:
    _RUNS[key] = run
    while len(_RUNS) > _MAX_RUNS:
        _RUNS.popitem(last=False)
    return run


def _build(user: str, digest: str, an, found: list, consulted: Dict[str, tuple]) -> UserRun:
    run = UserRun(digest, dict(consulted), an=an, found=list(found))
    by_module = {id(lib.module): p for p, (_, lib) in run.consulted.items() if lib is not None}
    ran = [(fn_module(an, fn), fn) for fn in an.model_fns]
    # and the functions that built a spec while a model_fn ran (`_model_fn(features, labels, mode,
    # params, use_tpu_estimator_spec=...)` delegated to): run there with the model_fn's values
    ran += [(f.run.mod, f.run.node) for f in an.spec_facts
            if f.run.root.ctx is not None and isinstance(f.run.node, cst.FunctionDef)]
    for lib, fn in ran:
        if lib is not None and id(lib.module) in by_module:
            p = by_module[id(lib.module)]
            run.claimed[p] = run.claimed.get(p, frozenset()) | {qualified_name(lib, fn)}
    run.stats = {p: _stat(p) for p in list(run.consulted) + [user]}
    return run


def fn_module(an, fn):
    """The analyzer of the module a function is written in (its own, or a followed module's)."""
    run = an.primary_run.get(fn)
    return run.mod if run is not None else None


def _inside(node, lib) -> bool:
    ids, unread = _node_ids(lib)
    if id(node) in ids:
        return True
    if any(fn.parsed for fn in unread):  # (bodies read since: an analysis ran them)
        still: list = []
        for fn in unread:
            if fn.parsed:
                _collect(fn.body, ids, still)
            else:
                still.append(fn)
        unread[:] = still
        return id(node) in ids
    return False


_IDS: "OrderedDict[int, tuple]" = OrderedDict()


def _node_ids(lib) -> tuple:
    """(ids of every node of a followed module, its lazy functions whose bodies are not parsed
    yet: `lazydefs.py`), kept with the module, which keeps the nodes alive."""
    hit = _IDS.get(id(lib))
    if hit is None or hit[0] is not lib:
        ids: set = set()
        unread: list = []
        _collect(lib.module, ids, unread)
        hit = _IDS[id(lib)] = (lib, ids, unread)
        while len(_IDS) > _MAX_RUNS * 4:
            _IDS.popitem(last=False)
    return hit[1], hit[2]


def _collect(root, ids: set, unread: list) -> None:
    """ids of the nodes under `root`; an unparsed lazy body is left unread (no finding is in it)."""
    stack = [root]
    while stack:
        n = stack.pop()
        ids.add(id(n))
        if lazydefs.unread(n) is not None:
            unread.append(n)
            stack.extend(header_children(n))
        else:
            stack.extend(n.children)


def view(file: str, data: bytes, users: Sequence[Tuple[str, bool]], index, target: str, all_modes: bool,
         consulted: Dict[str, tuple]) -> Optional[View]:
    """The project view of `file` (whose bytes being checked are `data`) from its `users` ((path,
    whether it narrows the modes: a test does not, see speclint.project)), or None
    when there is none: no users, or the file as checked is not the file on disk (an editor's
    unsaved buffer: the users see the saved file).  What the users' analyses consulted is added to
    `consulted` (the cache's deps), with each user itself."""
    if not users or index is None or file is None:
        return None
    file = os.path.abspath(file)
    digest = hashlib.sha256(data).hexdigest()
    out = View()
    claimed = set()
    for user, narrows in users:
        run = _user_run(user, index, target, all_modes)
        consulted.setdefault(user, (run.digest if run is not None else modules.file_digest(user), None))
        if run is None:
            continue
        for p, entry in run.consulted.items():
            modules.record_into(consulted, p, entry)
        mine = run.consulted.get(file)
        if mine is None or mine[0] != digest or mine[1] is None:
            continue  # the user does not reach this file, or saw another version of it
        out.lib = out.lib or mine[1]  # (each finding is placed in the tree its user saw)
        if narrows:
            claimed |= run.claimed.get(file, frozenset())
        out.findings.extend((mine[1], f) for f in run.located(file))
    if out.lib is None:
        return None
    out.claimed = frozenset(claimed)
    return out


@retire.keeper
def kept_analyses():
    """The analyses this process keeps between files (retire.py)."""
    for run in list(_RUNS.values()):
        yield run.an
        for _, lib in list(run.consulted.values()):
            yield lib
    for lib, _, _ in list(_IDS.values()):
        yield lib


def clear() -> None:
    _RUNS.clear()
    _IDS.clear()
