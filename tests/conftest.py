import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


# -- process-global state: what a test module changes is undone before the next module runs, so the
# whole suite passes in any order (module-scoped fixtures may keep state within their module).
import pytest  # noqa: E402

_FRAMEWORK_FLAG_MODULES = ("absl", "tensorflow")


def _absl_flags():
    mod = sys.modules.get("absl.flags")
    return mod.FLAGS if mod is not None else None


def _control_flow_v2():
    mod = sys.modules.get("tensorflow.python.ops.control_flow_util")
    return None if mod is None else mod.ENABLE_CONTROL_FLOW_V2


@pytest.fixture(autouse=True, scope="module")
def _global_state_is_restored(request):
    flags = _absl_flags()
    flags_before = set(flags) if flags is not None else set()
    control_flow = _control_flow_v2()
    yield
    leaks = []
    flags = _absl_flags()
    if flags is not None:  # flags that fixture scripts define at import (several define --use_tpu)
        for name in set(flags) - flags_before:
            module = flags.find_module_defining_flag(name) or ""
            if not module.startswith(_FRAMEWORK_FLAG_MODULES) and name in flags:
                delattr(flags, name)
    cfu = sys.modules.get("tensorflow.python.ops.control_flow_util")
    if cfu is not None and control_flow is not None and cfu.ENABLE_CONTROL_FLOW_V2 != control_flow:
        cfu.ENABLE_CONTROL_FLOW_V2 = control_flow
        leaks.append("control flow v2 switched " + ("off" if control_flow else "on"))
    patching = sys.modules.get("speclint.runtime.patching")
    if patching is not None and patching.installed():
        while patching.installed():
            patching.uninstall()
        leaks.append("the runtime shim left installed")
    simulate_run = sys.modules.get("speclint.runtime.simulate_run")
    if simulate_run is not None and simulate_run.installed():
        simulate_run.uninstall_for_run()
        leaks.append("the --simulate-tpu hook left installed")
    if leaks:
        pytest.fail(f"{request.node.name} left process state behind: {'; '.join(leaks)}", pytrace=False)


# What the tests make with `tempfile` (`mkdtemp` in runtime_support and the simulation tests, some
# at import, model directories, pools' own) lives in one directory per session, removed at its
# end: a run used to leave about 600 directories in /tmp.  pytest's own `tmp_path` base is fixed
# first and stays where it is.
_TEMPDIR_BEFORE = []


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    import tempfile

    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        factory.getbasetemp()
    _TEMPDIR_BEFORE.append((tempfile.tempdir, tempfile.mkdtemp(prefix="speclint-tests-")))
    tempfile.tempdir = _TEMPDIR_BEFORE[-1][1]


def pytest_unconfigure(config):
    import shutil
    import tempfile

    if _TEMPDIR_BEFORE:
        before, root = _TEMPDIR_BEFORE.pop()
        tempfile.tempdir = before
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _graphs_are_freed_before_pytest_reports():
    """Nothing after pytest's result line.  TF1 graphs built by the tests hold `tf_should_use`
    wrappers that are never run (the TPU simulation stops at the first Session.run, so e.g. the
    `report_uninitialized_variables` op of tpusim_models' scaffold never runs), and TF logs
    "Object was never used ..." with a stack when such a wrapper is freed.  The runtime shim keeps
    the last few specs it saw (speclint.runtime.calls._RECENT, for checks right after a
    model_fn returns), and with them their graphs, until the process exits: freed then, they
    printed ~70 lines of TF tracebacks after the result line.  Free them at the end of the session's
    last test instead, where pytest captures output as it does for the graphs freed during the run."""
    yield
    patching = sys.modules.get("speclint.runtime.patching")
    calls = sys.modules.get("speclint.runtime.calls")
    if patching is not None and calls is not None and not patching.installed():
        calls._RECENT.clear()
    gc.collect()


@pytest.fixture(autouse=True)
def _parses_are_not_shared_between_tests():
    """speclint keeps its recent parses by content (static/parse.py); a test that replaces libcst's
    parser, or counts what it is given, must see its own parse."""
    from speclint.static import parse

    parse.clear()
    yield
