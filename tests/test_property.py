"""Issue 6: the static engine never raises, whatever the source text (hypothesis + hypothesmith).

`check_source` is called directly (not through `check_file`, which would turn an exception into
an internal error): any exception fails the test, and so does an internal error.  The prefilter
is bypassed so that every example reaches the parser and the analyser.
"""
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speclint import engine
from speclint.config import Config

CONFIG = Config(root=Path(".").resolve(), select=("ALL",))
# Deterministic (derandomize) so that CI is reproducible; hypothesmith's generators are slow, so
# they get fewer examples (about 25 s for all of this module on a loaded 2-core machine).
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
GRAMMAR = settings(SETTINGS, max_examples=40)
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles its output

MODEL_FN = '''\
import tensorflow.compat.v1 as tf
from tensorflow.compat.v1.estimator.tpu import TPUEstimatorSpec

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    value = ({expr})
    def metric_fn(a, b=None):
        return {{"m": tf.metrics.mean(a)}}
    if mode == tf.estimator.ModeKeys.EVAL:
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [value, {expr}]))
    return TPUEstimatorSpec(mode, loss=value, train_op={expr}, host_call=({expr}))
'''


def assert_never_raises(data: bytes) -> None:
    for target in ("auto", "tpu"):
        config = Config(root=CONFIG.root, select=CONFIG.select, target=target)
        result = engine.check_source(data, "prop.py", config, prefilter=False)
        assert result.internal_error is None
        for d in result.diagnostics:
            assert d.line >= 1 and d.column >= 1 and d.message


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    assert_never_raises(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_any_text(text):
    assert_never_raises(text.encode("utf-8", "surrogatepass"))


@GRAMMAR
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(source):
    assert_never_raises(source.encode("utf-8", "surrogatepass"))


@GRAMMAR
@given(hypothesmith.from_node())
def test_programs_libcst_can_build(source):
    assert_never_raises(source.encode("utf-8", "surrogatepass"))


@GRAMMAR
@given(hypothesmith.from_grammar(start="eval_input").map(str.strip).filter(bool))
def test_generated_expressions_inside_a_model_fn(expr):
    # arbitrary expressions where the rules look: spec fields, host-call tuples, metric tensors
    assert_never_raises(MODEL_FN.format(expr=expr).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.lists(st.sampled_from([
    "def model_fn(features, labels, mode, params):\n", "    ", "return ", "tf.estimator.EstimatorSpec(",
    "TPUEstimatorSpec(", "mode, ", "loss=", "train_op=", "host_call=(", "eval_metrics=(", "[", "]", "(",
    ")", "{", "}", "lambda a: a", "metric_fn, ", "tf.reshape(x, [1])", "x", ", ", "*args", "**kw",
    "if mode == tf.estimator.ModeKeys.TRAIN:\n", "\n", "    def metric_fn(a, b):\n", "pass\n",
    "import tensorflow as tf\n", "from tensorflow.compat.v1.estimator.tpu import TPUEstimatorSpec as S\n",
    "scaffold_fn=", "predictions=", "# noqa: SL005\n", "\\\n", "'''", "\t", "@decorator\n", ":=",
]), max_size=60).map("".join))
def test_spec_shaped_fragments(source):
    # near-misses of real model_fn code: the analyser, not just the parser, gets odd trees
    assert_never_raises(source.encode())


@pytest.mark.parametrize("seed", [
    "x = (yield)", "async def f():\n    await x\n", "match x:\n    case [a, *b]: pass\n",
    "def f[T](x: T) -> T: ...\n", "type X = int\n", "x = f'{a!r:>{w}}'\n", "print 'py2'\n",
    "lambda: (yield)\n", "class C(metaclass=M): pass\n", "del (a), [b]\n", "global x\n",
    "x: int\n", "a[b:c:d, ...] = e\n", "with (a as b, c as d): pass\n", "try:\n    pass\nexcept* E:\n    pass\n",
])
def test_syntax_corners(seed):
    assert_never_raises((seed + "\nEstimatorSpec\n").encode())
    assert_never_raises(MODEL_FN.format(expr="x").encode() + b"\n" + seed.encode())
