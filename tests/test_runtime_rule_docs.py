"""Each runtime rule's doc examples, executed under the shim: every runnable `## Example` block is
reported with the rule's code, every runnable `## Use instead` block is not.  A block runs each
model_fn it defines in TRAIN, EVAL and PREDICT through the estimator's own _call_model_fn (a
TPUEstimator(use_tpu=False) when it builds TPUEstimatorSpecs, else an Estimator), with features
and params that answer any key.  Blocks that cannot run on TF 2.15 (tf.contrib, missing helper
modules, rules about code that only runs on TPU or at export) are listed with the reason."""
import re
import types

import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from runtime_support import build, build_on_tpu  # noqa: E402
from speclint import rulebook  # noqa: E402
from speclint.runtime import context, patching  # noqa: E402
from speclint.runtime.checks import dispatch  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
BOOK = rulebook.load()
RUNTIME = sorted(dispatch.registered_codes())

# Blocks that need the TPU call convention (params["use_tpu"] True) to show the rule.
ON_TPU = {"SL012", "SL017", "SL031", "SL034", "SL043", "SL047"}
# Example blocks the runtime does not report under this harness, and why (each must stay
# unreported, so the table cannot go stale).
KNOWN_MISSES = {
    ("SL013", 1): "the bad scaffold is passed only when params['export_moving_average'] is set; "
                  "the run has it off (the runtime sees the configuration that runs)",
    ("SL014", 0): "scaffold_fn calls init_from_checkpoint(params['init_checkpoint']) first; the "
                  "harness has no checkpoint, so it raises before returning None",
    ("SL017", 0): "case (b), a branch that drops scaffold_fn: invisible at runtime by design",
    ("SL020", 1): "needs float labels of shape [batch, 1]; the harness feeds int class ids",
    ("SL021", 1): "needs 4-D image features; the harness feeds [batch, 3]",
    ("SL021", 2): "needs float labels; the harness feeds int class ids",
}
# The estimator a rule's examples are about when the block does not construct one.
KIND = {"SL033": "plain"}
# Rules whose examples are not model_fn modules the harness can drive.
NOT_DRIVEN = {
    "SL029": "needs an export with a serving receiver (covered in test_runtime_rules.py)",
    "SL040": "reported when the estimator is constructed (covered in test_runtime_rules.py)",
    "SL041": "needs a params dict without batch_size (covered in test_runtime_rules.py)",
    "SL045": "reported when the estimator is constructed (the doc's blocks, with parity, in test_runtime_tpu_api.py)",
}


@pytest.fixture(autouse=True)
def offline_keras_weights(monkeypatch):
    """SL047's Example builds ResNet50 with its ImageNet weights: the download (94 MB) is refused,
    as on a machine without network (the shim reports before Keras downloads)."""
    try:
        from keras.src.utils import data_utils
    except ImportError:
        return

    def get_file(*args, **kwargs):
        raise OSError("speclint tests: no download")
    monkeypatch.setattr(data_utils, "get_file", get_file)


class _AnyFeatures(dict):
    """features[key] for any key: label ids int32 [4], token ids/masks int32 [4, 6], else float."""

    def __missing__(self, key):
        k = str(key)
        if "label" in k:
            value = tf.zeros([4], tf.int32)
        elif k.endswith(("ids", "mask")):
            value = tf.zeros([4, 6], tf.int32)
        else:
            value = tf.ones([4, 3])
        self[key] = value
        return value


def _AnyParams():  # noqa: N802 - what the doc examples read from params
    return {"num_classes": 3, "learning_rate": 0.1, "model_dir": "/tmp/speclint-rt-docs",
            "num_labels": 3, "hidden_units": [4], "export_moving_average": False,
            "init_checkpoint": None, "use_one_hot_embeddings": False}


def _model_fns(namespace, module_name):
    out = []
    for value in list(namespace.values()):
        if isinstance(value, types.FunctionType) and value.__module__ == module_name:
            names = value.__code__.co_varnames[: value.__code__.co_argcount]
            if names[:1] == ("features",) and "mode" in names:
                out.append(value)
    return out


_COUNTER = iter(range(10 ** 6))


def _run_block(code, block, on_tpu, directory):
    """Write the block to a real file (the shim reports user files only) and run it."""
    name = f"speclint_doc_{code}_{next(_COUNTER)}"
    path = directory / f"{name}.py"
    path.write_text(block, encoding="utf-8")
    namespace = {"__name__": name}
    # statement by statement: a module-level estimator the harness cannot configure (e.g.
    # TPUEstimator(use_tpu=True) without a TPU RunConfig) must not hide the model_fns
    import ast
    for stmt in ast.parse(block).body:
        try:
            exec(compile(ast.Module([stmt], type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
        except Exception:  # noqa: BLE001
            if isinstance(stmt, (ast.FunctionDef, ast.Import, ast.ImportFrom)):
                return None
    fns = _model_fns(namespace, name)
    if not fns:
        return None
    # the estimator the block constructs, else the one its spec class goes with
    if code in KIND:
        kind = KIND[code]
    elif re.search(r"\bTPUEstimator\(", block):
        kind = "tpu"
    elif re.search(r"\bEstimator\(", block):
        kind = "plain"
    else:
        kind = "tpu" if "TPUEstimatorSpec" in block else "plain"
    patching.install("collect")
    context.COLLECTOR.clear()
    try:
        for fn in fns:
            for mode in ("train", "eval", "predict"):
                try:
                    features = lambda: _AnyFeatures(x=tf.ones([4, 3]))  # noqa: E731
                    labels = None if mode == "predict" else (lambda: tf.zeros([4], tf.int64))
                    # TPUEstimator(eval_on_tpu=False) evaluates on CPU (params["use_tpu"] False)
                    if on_tpu and not (mode == "eval" and "eval_on_tpu=False" in block):
                        build_on_tpu(fn, mode, params=_AnyParams(), features=features, labels=labels)
                    else:
                        extra = dict(eval_on_tpu=False) if kind == "tpu" and "eval_on_tpu=False" in block else {}
                        build(fn, mode, kind=kind, params=_AnyParams(), features=features, labels=labels, **extra)
                except Exception:  # noqa: BLE001 - TF's own error after the shim reported
                    pass
        return {d.code for d in context.COLLECTOR.diagnostics()}
    finally:
        patching.uninstall()


def _runnable(block):
    if re.search(r"\btf\.contrib\b|^from tensorflow\.contrib|^import (modeling|optimization)", block, re.M):
        return False
    return True


@pytest.mark.parametrize("code", [c for c in RUNTIME if c not in NOT_DRIVEN])
def test_doc_examples_under_the_shim(code, tmp_path):
    rule = BOOK[code]
    examples = rule.examples()
    ran_bad = 0
    for index, block in enumerate(examples.get("Example", [])):
        if not _runnable(block):
            continue
        found = _run_block(code, block, code in ON_TPU, tmp_path)
        if found is None:
            continue
        if (code, index) in KNOWN_MISSES:
            assert code not in found, f"stale KNOWN_MISSES entry {(code, index)}"
            continue
        ran_bad += 1
        assert code in found, f"{code}: Example {index} was not reported at runtime (got {sorted(found)})"
    for block in examples.get("Use instead", []):
        if not _runnable(block):
            continue
        found = _run_block(code, block, code in ON_TPU, tmp_path)
        if found is None:
            continue
        assert code not in found, f"{code}: a Use instead block was reported at runtime"
    if ran_bad == 0:
        pytest.skip(f"{code}: no Example block the harness can run (tf.contrib, helpers or no model_fn)")
