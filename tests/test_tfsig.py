"""speclint.tfsig decides TF's `function_utils.fn_args` once: the runtime engine (a live callable,
runtime/signature.py) and the static engine (apis.HostFnSignature, a description read from the
source) ask it, and both agree with TensorFlow itself."""
import functools

import pytest

from speclint import apis, tfsig


def _plain(features, labels, mode, params):
    pass


def _defaults(features, labels=None, *, mode, params=None):
    pass


def _star(features, *args, config=None, **kwargs):
    pass


def _posonly(a, b, /, c, d=1):
    pass


class _Model:
    def model_fn(self, features, labels, mode):
        pass

    def __call__(self, features, labels, mode, params):
        pass


class _SubPartial(functools.partial):  # not flattened by functools.partial(...)
    pass


CALLABLES = {
    "plain": _plain,
    "defaults": _defaults,
    "star": _star,
    "posonly": _posonly,
    "lambda": lambda x, y=2: None,
    "bound method": _Model().model_fn,
    "callable object": _Model(),
    "partial positional": functools.partial(_plain, 1),
    "partial keyword": functools.partial(_plain, labels=None),
    "partial both": functools.partial(_plain, 1, mode="train"),
    "partial of a method": functools.partial(_Model().model_fn, 1),
    "nested partial (flattened)": functools.partial(functools.partial(_plain, labels=1), 2),
    "nested partial (kept)": _SubPartial(_SubPartial(_plain, labels=1), 2),
}


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_the_runtime_description_gives_what_tf_gives(name):
    tf = pytest.importorskip("tensorflow")  # noqa: F841
    from tensorflow.python.util import function_utils

    from speclint.runtime import signature
    fn = CALLABLES[name]
    assert signature.estimator_args(fn) == tuple(function_utils.fn_args(fn))


@pytest.mark.parametrize("name", ["plain", "defaults", "star", "posonly", "lambda", "bound method",
                                  "partial positional", "partial keyword", "partial both",
                                  "partial of a method", "nested partial (flattened)"])
def test_the_static_description_gives_the_same(name):
    """What the static engine builds (one partial level: Python flattens nested partials) decides
    the same as the live description."""
    from speclint.runtime import signature
    fn = CALLABLES[name]
    params, is_method, partials = signature.tf_signature(fn)
    assert len(partials) <= 1
    bound_positional, bound_keywords = partials[0] if partials else (0, frozenset())
    sig = apis.HostFnSignature(tuple(params), bound_positional, frozenset(bound_keywords), is_method)
    assert sig.fn_args() == signature.estimator_args(fn)


def test_fn_args_on_a_neutral_description():
    P = tfsig.Param
    params = [P("self", "positional"), P("features", "positional"), P("labels", "positional", True),
              P("args", "var_positional"), P("mode", "keyword_only"), P("kw", "var_keyword")]
    assert tfsig.fn_args(params) == ("self", "features", "labels")
    assert tfsig.fn_args(params, is_method=True) == ("features", "labels")
    assert tfsig.fn_args(params, is_method=True, partials=[(1, ())]) == ("labels",)
    assert tfsig.fn_args(params, partials=[(0, {"features"})]) == ("self", "labels")
    # partials apply innermost first: the outer one counts positions in what the inner one left
    assert tfsig.fn_args(params, partials=[(0, {"self"}), (1, ())]) == ("labels",)
    assert apis.Param is tfsig.Param
