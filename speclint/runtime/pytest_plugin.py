"""pytest plugin (entry point `pytest11: speclint`), opt-in: `pytest --speclint-runtime`.

With the option, the shim is installed for the whole session in raise mode (`--speclint-target`
as `speclint run --target`; by default the TPU path of a model_fn run with use_tpu=False is
checked too, as under `speclint run`): a test whose model_fn violates a rule fails with speclint's
diagnostics (SpecLintError is raised where the model_fn
returns, inside the test).  Diagnostics that a test swallowed (e.g. `pytest.raises(Exception)`)
still fail it: the plugin checks what was reported during each test.
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("speclint")
    group.addoption("--speclint-runtime", action="store_true", default=False,
                    help="check every Estimator/TPUEstimator model_fn the tests build (speclint runtime shim)")
    group.addoption("--speclint-runtime-mode", choices=("raise", "warn"), default="raise",
                    help="raise (default): fail the test at the model_fn; warn: emit SpecLintWarning and fail the test at teardown")
    group.addoption("--speclint-target", choices=("auto", "tpu", "cpu"), default="auto",
                    help="where TPU-only rules apply: auto (default: the TPU path of every model_fn given to a "
                         "TPUEstimator, also when the test runs it with use_tpu=False), tpu (every spec), cpu (none)")


def pytest_configure(config):
    if not config.getoption("--speclint-runtime", default=False):
        return
    from speclint.runtime import patching
    from speclint.runtime.tfapi import TensorFlowUnavailable
    try:
        active = patching.install(config.getoption("--speclint-runtime-mode"),
                                  target=config.getoption("--speclint-target", default="auto"))
    except TensorFlowUnavailable as exc:
        raise pytest.UsageError(f"--speclint-runtime: {exc}") from None
    config._speclint_runtime_active = active
    config.addinivalue_line("markers", "speclint_ignore: do not fail this test on speclint runtime diagnostics")


def pytest_unconfigure(config):
    if getattr(config, "_speclint_runtime_active", False):
        from speclint.runtime import patching
        patching.uninstall()
        config._speclint_runtime_active = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not getattr(item.config, "_speclint_runtime_active", False):
        yield
        return
    from speclint.runtime.context import COLLECTOR
    before = len(COLLECTOR.diagnostics())
    outcome = yield
    found = COLLECTOR.diagnostics()
    if len(found) > before and outcome.excinfo is None and item.get_closest_marker("speclint_ignore") is None:
        from speclint.runtime.errors import SpecLintError
        seen = set(map(id, found[:before]))
        new = [d for d in found if id(d) not in seen]
        error = SpecLintError(new)
        if hasattr(outcome, "force_exception"):  # pluggy >= 1.1
            outcome.force_exception(error)
        else:
            raise error
