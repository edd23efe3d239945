"""speclint's runtime shim: the same rules, checked on the real objects while the model is built.

    import speclint.runtime as slr
    slr.install()                 # or: with slr.shim("warn"): ...
    est = tf.compat.v1.estimator.tpu.TPUEstimator(model_fn=model_fn, ...)   # model_fn is checked

    @slr.check_model_fn           # explicit, without install()
    def model_fn(features, labels, mode, params): ...

`SPECLINT_RUNTIME=raise|warn|off` picks the mode when install() is given none; `off` disables the
shim (install() and check_model_fn become no-ops).  TensorFlow is imported only when the shim is
used; without an Estimator API, install() raises TensorFlowUnavailable with what to install.

Interface for other parts of speclint (e.g. the TPU simulation in `simulate.py`):
`patching.install/uninstall/shim`, `patching.wrap_model_fn(fn, estimator)`, `context.COLLECTOR`
(diagnostics so far), `context.SETTINGS` (mode, target, select), `checks.dispatch.registered_codes()`.
"""
from __future__ import annotations

from speclint.runtime.errors import SpecLintError, SpecLintWarning
from speclint.runtime.tfapi import TensorFlowUnavailable

__all__ = [
    "install", "uninstall", "installed", "shim", "check_model_fn", "wrap_model_fn",
    "diagnostics", "clear", "SpecLintError", "SpecLintWarning", "TensorFlowUnavailable",
    "simulate_tpu",
]


def install(mode=None, *, target="auto", select=None):
    from speclint.runtime import patching as _shim
    return _shim.install(mode, target=target, select=select)


def uninstall():
    from speclint.runtime import patching as _shim
    return _shim.uninstall()


def installed():
    from speclint.runtime import patching as _shim
    return _shim.installed()


def shim(mode=None, *, target="auto", select=None):
    from speclint.runtime import patching as _shim
    return _shim.shim(mode, target=target, select=select)


def check_model_fn(fn=None, *, estimator=None):
    from speclint.runtime import patching as _shim
    return _shim.check_model_fn(fn, estimator=estimator)


def wrap_model_fn(fn, estimator=None):
    from speclint.runtime import patching as _shim
    return _shim.wrap_model_fn(fn, estimator)


def diagnostics():
    """Every runtime diagnostic reported in this process so far (sorted)."""
    from speclint.runtime.context import COLLECTOR
    return COLLECTOR.diagnostics()


def clear():
    from speclint.runtime.context import COLLECTOR
    COLLECTOR.clear()


def simulate_tpu(model_fn, input_fn, **kwargs):
    """Build the real TPUEstimator graph on CPU (see `speclint.runtime.simulate`)."""
    from speclint.runtime.simulate import simulate_tpu as _simulate_tpu

    return _simulate_tpu(model_fn, input_fn, **kwargs)
