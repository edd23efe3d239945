"""Parity (issue 4, item 7): every fixture that can run under TF 2.15 on CPU is executed under
the shim (each model_fn, in each mode, through the estimator's own _call_model_fn), and the
runtime engine must report the same rule codes as the static engine on it, at the same lines, with
the same message text (issue 15; the differences of today are listed in MESSAGE_DIFFERENCES).  Where one engine
cannot see a rule, the table below says so, per fixture and rule, with the reason; an entry that
no longer applies fails the test, so the table cannot go stale.  Fixtures that cannot run are
listed with the reason.  (The TPU-graph half, simulate_tpu on TPU-targeted fixtures, is the TPU
simulation's test.)"""
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from expect import actual  # noqa: E402
from runtime_support import build, build_on_tpu, v1  # noqa: E402
from speclint.runtime import context, patching  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

NOT_RUNNABLE = {
    "albert_classifier_buggy.py": "imports google-research/albert's `albert_modeling` and `optimization` and tf.contrib (TF 1.x only)",
    "bert_multilabel_gpu_port.py": "imports google-research/bert's `modeling` and `optimization`",
    "bert_run_classifier.py": "imports google-research/bert's `modeling` and `optimization`",
    "hostcalls_multitask_classifier.py": "imports google-research/bert's `modeling` and `optimization` and tf.contrib (TF 1.x only)",
    "electra_pretraining.py": "imports ELECTRA's `model` and `util` packages",
    "od_model_lib.py": "imports the Object Detection API (`object_detection`)",
    "tpu_constructor_mistakes.py": "main() reads absl flags the fixture does not define (master, use_tpu, "
                                   "batch_size) and MobileNetV2 downloads ImageNet weights; SL045-SL047's "
                                   "parity is tested on their rule docs' blocks in test_runtime_tpu_api.py",
    "resnet_main.py": "imports tensorflow/tpu's `resnet_model`",
    "resnet_main_buggy.py": "imports `resnet_model` and tf.contrib (TF 1.x only)",
    "t2t_style_model.py": "needs tf.contrib.summary / tensor2tensor hparams (TF 1.x only)",
}


@dataclass
class Run:
    model_fn: str  # attribute of the fixture module, or "name(args)" evaluated in it
    kind: str  # "tpu" (TPUEstimator(use_tpu=False)) | "plain" (Estimator) | "on_tpu" (TPU call)
    params: dict
    features: object  # () -> features
    labels: object  # () -> labels
    modes: tuple = ("train", "eval", "predict")


@dataclass
class Fixture:
    runs: list
    setup: object = None
    pre_load: object = None
    static_only: dict = field(default_factory=dict)  # code -> why the runtime cannot see it here
    runtime_only: dict = field(default_factory=dict)  # code -> why the static engine cannot


def _xy(n_feat=3):
    return lambda: {"x": tf.ones([4, n_feat])}, lambda: tf.zeros([4], tf.int32)


def _tabular():
    cols = [tf.feature_column.numeric_column("x", shape=[3])]
    p = {"hidden_units": [4], "learning_rate": 0.1, "feature_columns": cols}
    feats = lambda: {"x": tf.ones([4, 3])}  # noqa: E731
    return [Run("ctr_model_fn", "tpu", p, feats, lambda: tf.zeros([4], tf.int32)),
            Run("ranking_model_fn", "tpu", p, feats, lambda: tf.zeros([4], tf.float32)),
            Run("regressor_model_fn", "plain", p, feats, lambda: tf.zeros([4], tf.float32))]


def _spec_helpers():
    p = {"num_classes": 3, "learning_rate": 0.1, "model_dir": "/tmp/speclint-parity", "eval_batch_size": 4}
    feats = lambda: {"images": tf.ones([4, 32, 32, 3]), "source_ids": tf.range(4)}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
    return [Run("detection_model_fn", "tpu", p, feats, labels),
            Run("cpu_model_fn", "plain", dict(p, use_tpu=False), feats, labels)]


def _mnist_setup(mod):
    flags = mod.flags
    for name, value in (("learning_rate", 0.01), ("model_dir", "/tmp/speclint-parity"), ("report_top5", False)):
        if name not in flags.FLAGS:
            {float: flags.DEFINE_float, str: flags.DEFINE_string, bool: flags.DEFINE_bool}[type(value)](name, value, "")
    if not flags.FLAGS.is_parsed():
        flags.FLAGS(["parity"])


def _mnist():
    feats = lambda: {"image": tf.ones([4, 784])}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
    return [Run("functools.partial(_model_fn, data_format='channels_last', num_classes=10)", "tpu", {}, feats, labels),
            Run("_fashion_model_fn", "tpu", {}, feats, labels),
            Run("cpu_model_fn", "plain", None, feats, labels)]


def _joint_nlu():
    p = {"vocab_size": 20, "emb_dim": 4, "hidden": 4, "learning_rate": 0.1}
    feats = lambda: {"token_ids": tf.zeros([4, 5], tf.int32)}  # noqa: E731
    labels = lambda: {"intent": tf.zeros([4], tf.int32)}  # noqa: E731
    return [Run("intent_model_fn", "tpu", p, feats, labels)]


def _fields_multitask():
    bert_feats = lambda: {"input_ids": tf.zeros([4, 8], tf.int32)}  # noqa: E731
    bert_labels = lambda: {"label_ids": tf.zeros([4], tf.int32), "score": tf.zeros([4])}  # noqa: E731
    image = {"num_classes": 3, "learning_rate": 0.1, "weight_decay": 1e-4}
    tab = {"feature_columns": [tf.feature_column.numeric_column("x", shape=[3])], "hidden_units": [4],
           "learning_rate": 0.1}
    x = lambda: {"x": tf.ones([4, 3])}  # noqa: E731
    return [Run("model_fn_builder(3, 2e-5, False)", "tpu", None, bert_feats, bert_labels),
            Run("image_model_fn", "tpu", image, lambda: {"image": tf.ones([4, 8, 8, 3])},
                lambda: tf.zeros([4], tf.int32)),
            Run("tabular_model_fn", "tpu", tab, x, lambda: tf.zeros([4], tf.float64)),
            Run("cpu_model_fn", "plain", None, x, lambda: tf.zeros([4], tf.int32))]


def _tf2_image():
    net = ("lambda images, training: tf.compat.v1.layers.dense("
           "tf.compat.v1.layers.flatten(images), 10)")
    p = {"steps_per_epoch": 10}
    feats = lambda: {"image": tf.ones([4, 8, 8, 3])}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int64)  # noqa: E731
    return [Run(f"build_model_fn({net}, 10, '/tmp/speclint-parity', {use_tpu})", "tpu", p, feats, labels)
            for use_tpu in (False,)]  # the script passes flags.use_tpu to both: consistent


def _modes_text():
    feats = lambda: {"input_ids": tf.zeros([4, 128], tf.int64), "label_ids": tf.zeros([4], tf.int64)}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int64)  # noqa: E731
    return [Run("model_fn_builder(3, 0.1, False)", "tpu", None, feats, labels),
            Run("tagging_model_fn", "tpu", {"num_tags": 3, "export": False}, feats, labels),
            Run("regression_model_fn", "plain", None, feats, lambda: tf.zeros([4]))]


def _pairing_setup(mod):
    _absl_flags_parsed(mod)
    import tempfile
    directory = tempfile.mkdtemp(prefix="speclint-parity-ckpt-")
    with tf.Graph().as_default():  # a checkpoint for research_model_fn's init_from_checkpoint
        v1.get_variable("other/v", [1])
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            mod.FLAGS.checkpoint = v1.train.Saver().save(sess, directory + "/model.ckpt")


def _pairing():
    p = dict(num_classes=3, optimizer="momentum", momentum=0.9, boundaries=[1000],
             rates=[0.08, 0.008], warm_start_path=None, checkpoint=None,
             model_dir="/tmp/speclint-parity", learning_rate=0.1)
    feats = lambda: {"images": tf.ones([4, 3]), "image_info": tf.ones([4, 5]),  # noqa: E731
                     "pooled_output": tf.ones([4, 3]), "label_ids": tf.zeros([4], tf.int64)}
    return [Run("mask_rcnn_model_fn", "tpu", p, feats, lambda: tf.zeros([4], tf.int64)),
            Run("retinanet_model_fn", "tpu", p, feats, lambda: {"targets": tf.zeros([4, 3])}),
            # the GPU port only trains and evaluates (it never builds a PREDICT spec)
            Run("classifier_model_fn_builder(2, 2e-5)", "plain", None, feats,
                lambda: tf.zeros([4], tf.int64), modes=("train", "eval")),
            Run("fixed_classifier_model_fn", "plain", {"num_labels": 2}, feats,
                lambda: tf.zeros([4], tf.int64), modes=("train", "eval")),
            Run("research_model_fn", "on_tpu", p, feats, lambda: tf.zeros([4], tf.int64)),
            Run("keras_research_model_fn", "on_tpu", p, feats, lambda: tf.zeros([4], tf.int64))]


def _absl_flags_parsed(mod):
    flags = getattr(mod, "flags", None) or mod.tf.flags
    if not flags.FLAGS.is_parsed():
        flags.FLAGS(["parity"])


def _forget_flags(*names):
    from absl import flags
    for name in names:
        if name in flags.FLAGS:
            delattr(flags.FLAGS, name)


RUNNABLE = {
    "tabular_models_mixups.py": Fixture(_tabular()),
    "spec_helpers.py": Fixture(_spec_helpers()),
    "mnist_partial_model_fns.py": Fixture(_mnist(), setup=_mnist_setup),
    "fields_multitask_tpu.py": Fixture(
        _fields_multitask(), setup=_absl_flags_parsed,
        pre_load=lambda: _forget_flags("use_tpu", "num_train_steps", "output_dir"),
        static_only={
            "SL026": "the PREDICT spec is never built at runtime: the line before "
                     "(LABEL_PRIOR, SL032) already fails in TF2, where a module-level constant is "
                     "an eager tensor",
            "SL028": "same: the PREDICT spec is never built (SL032 fails first)",
        }),
    "hostcalls_tf2_image_classifier.py": Fixture(_tf2_image()),
    "pairing_detection_trainer.py": Fixture(
        _pairing(), setup=_pairing_setup,
        pre_load=lambda: _forget_flags("use_tpu", "checkpoint", "model_dir"),
        static_only={
            "SL014": "research_model_fn's scaffold_fn is called by TF's TPU program (simulate_tpu) "
                     "or its CPU conversion; the TPU call convention used here does neither",
            "SL016": "init_from_checkpoint outside scaffold_fn: not practical to see at runtime",
            "SL017": "case (b), a branch that drops scaffold_fn, is invisible at runtime (and "
                     "mask_rcnn_model_fn is rejected at construction, SL040)",
            "SL039": "labels used in PREDICT: the runtime sees only the generic error TF raises",
        }),
    "modes_text_classifier.py": Fixture(
        _modes_text(), setup=_absl_flags_parsed,
        pre_load=lambda: _forget_flags("mode", "use_tpu", "train_batch_size", "eval_batch_size",
                                       "predict_batch_size", "data_dir"),
        static_only={
            "SL037": "comparing mode with a string is not visible in the objects TF gets",
            "SL039": "labels used in PREDICT: the runtime sees only the generic error TF raises",
            "SL038": "tagging_model_fn fails on `labels` (SL039) before it can fall through in PREDICT",
            "SL041": "the KeyError is in baseline_input_fn, an input_fn: the shim checks model_fns",
            "SL044": "an input_fn's batching: the shim checks model_fns",
        },
        runtime_only={
            "SL043": "the parity run is TPUEstimator(use_tpu=False), where tagging_model_fn's "
                     "unconditional CrossShardOptimizer does fail; the script defaults to "
                     "--use_tpu=True, which is what the static engine assumes",
        }),
    "joint_nlu_tpu.py": Fixture(_joint_nlu(), static_only={
        "SL001": "in slot_model_fn, which needs tf.contrib.crf (TF 1.x only) and cannot run here",
        "SL015": "in slot_model_fn, which needs tf.contrib.crf (TF 1.x only) and cannot run here",
    }),
}


def test_every_fixture_is_classified():
    names = {p.name for p in FIXTURES.glob("*.py")} | {
        p.name + "/" for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert names == set(RUNNABLE) | set(NOT_RUNNABLE) | {"xmod_bert/"}  # the package: below
    assert not set(RUNNABLE) & set(NOT_RUNNABLE)


def _load(name):
    spec = importlib.util.spec_from_file_location(f"parity_{name[:-3]}", FIXTURES / name)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _runtime_codes(name, fixture):
    if fixture.pre_load:
        fixture.pre_load()
    mod = _load(name)
    if fixture.setup:
        fixture.setup(mod)
    patching.install("collect")
    context.COLLECTOR.clear()
    failures = []
    try:
        for run in fixture.runs:
            fn = eval(run.model_fn, vars(mod))  # noqa: S307 - a name or partial(...) from the table
            for mode in run.modes:
                try:
                    labels = None if mode == "predict" else run.labels
                    if run.kind == "on_tpu":
                        build_on_tpu(fn, mode, params=run.params, features=run.features, labels=labels)
                    else:
                        build(fn, mode, kind=run.kind, params=run.params, features=run.features,
                              labels=labels)
                except Exception as exc:  # noqa: BLE001 - TF's own error after the shim reported
                    failures.append(f"{run.model_fn} {mode}: {type(exc).__name__}: {str(exc)[:200]}")
        return context.COLLECTOR.diagnostics(), failures
    finally:
        patching.uninstall()


_RUNS = {}


def _both(name):
    """(static diagnostics, runtime diagnostics, TF failures) of a runnable fixture, run once."""
    if name not in _RUNS:
        source = (FIXTURES / name).read_text(encoding="utf-8")
        _, static = actual(source, name)
        runtime, failures = _runtime_codes(name, RUNNABLE[name])
        _RUNS[name] = static, runtime, failures
    return _RUNS[name]


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_static_and_runtime_report_the_same_codes(name):
    fixture = RUNNABLE[name]
    static, runtime, failures = _both(name)
    static_codes = {d.code for d in static}
    if not static_codes:  # a clean fixture builds in every mode (no TF error swallowed unseen)
        assert failures == []
    runtime_codes = {d.code for d in runtime if d.path.endswith(name)}
    assert set(fixture.static_only) <= static_codes - runtime_codes, "stale static_only entry"
    assert set(fixture.runtime_only) <= runtime_codes - static_codes, "stale runtime_only entry"
    assert static_codes - set(fixture.static_only) == runtime_codes - set(fixture.runtime_only), (
        [f"{d.line}: {d.code} {d.message[:120]}" for d in runtime], sorted(static_codes))
    # and at the same lines: both engines point at the same construct
    static_sites = {(d.line, d.code) for d in static if d.code not in fixture.static_only}
    runtime_sites = {(d.line, d.code) for d in runtime
                     if d.path.endswith(name) and d.code not in fixture.runtime_only}
    assert static_sites == runtime_sites
    assert all(d.engine == "runtime" for d in runtime)


# ---------------------------------------------------------------------------------------------
# Messages (issue 15): where both engines report the same misuse (same rule, same line) they say
# the same thing, word for word.  These differ today, each for the reason given; each is a strict
# xfail below, so one that no longer differs fails until it is removed from this table.
MESSAGE_DIFFERENCES = {
    ("joint_nlu_tpu.py", 68, "SL018"):
        "the static engine adds when the spec is built (' (this spec is built only in EVAL: at the first "
        "evaluate())'): it sees every path; the runtime sees only the modes that ran, so it cannot say 'only'",
    ("pairing_detection_trainer.py", 135, "SL033"):
        "`when`: the static engine says 'in the first train(), evaluate() or predict()', the runtime names "
        "the call it saw ('the first evaluate() call' / 'the first train() call'): two runtime messages",
    ("pairing_detection_trainer.py", 169, "SL043"):
        "the static engine quotes `optimizer.minimize` and names the class (`RMSPropOptimizer`); the runtime "
        "sees the apply ops in the graph, not the optimizer object ('a RMSProp optimizer'), and quotes the call",
    ("pairing_detection_trainer.py", 170, "SL031"):
        "the static engine quotes the tensor (`accuracy`) and the hook class in backticks; the runtime quotes "
        "the hook construction (it finds the hook object, not the expression of the tensor inside it)",
}


def _messages_by_site(name):
    """{(line, code): set of messages} of each engine, at the sites both report."""
    fixture = RUNNABLE[name]
    static, runtime, _ = _both(name)
    by_static, by_runtime = {}, {}
    for d in static:
        if d.code not in fixture.static_only:
            by_static.setdefault((d.line, d.code), set()).add(d.message)
    for d in runtime:
        if d.path.endswith(name) and d.code not in fixture.runtime_only:
            by_runtime.setdefault((d.line, d.code), set()).add(d.message)
    common = set(by_static) & set(by_runtime)
    return {k: by_static[k] for k in common}, {k: by_runtime[k] for k in common}


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_static_and_runtime_say_the_same_at_the_same_site(name):
    static, runtime = _messages_by_site(name)
    known = {(line, code) for f, line, code in MESSAGE_DIFFERENCES if f == name}
    assert known <= set(static), "stale MESSAGE_DIFFERENCES entry: no longer a site both engines report"
    for site in sorted(set(static) - known):
        assert static[site] == runtime[site], site


@pytest.mark.parametrize("case", [
    pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=why), id=f"{case[0]}:{case[1]}:{case[2]}")
    for case, why in sorted(MESSAGE_DIFFERENCES.items())])
def test_message_differences_between_the_engines(case):
    name, line, code = case
    static, runtime = _messages_by_site(name)
    assert static[(line, code)] == runtime[(line, code)]


# ---------------------------------------------------------------------------------------------
# fixtures/xmod_bert/: one model_fn assembled from sibling modules (package and script-style
# imports).  Compared with the `# expect:` annotations of every file in the package (what the
# static engine reports over the tree, tests/test_fixtures.py), module by module.
XMOD_STATIC_ONLY = {
    "SL039": "labels used in PREDICT (modeling.create_model): the runtime sees only TF's generic error",
    "SL100": "an unused suppression comment is a static meta diagnostic",
    "SL101": "a blanket `# noqa` is a static meta diagnostic",
}


def test_xmod_bert_package_same_codes_at_the_same_lines():
    from expect import expected
    package = FIXTURES / "xmod_bert"
    want = set()
    for path in package.glob("*.py"):
        for (line, code), n in expected(path.read_text(encoding="utf-8")).items():
            if code not in XMOD_STATIC_ONLY:
                want.add((path.name, line, code))
    assert {c for _, _, c in want} >= {"SL002", "SL005"}
    saved = sys.path[:]
    sys.path[:0] = [str(FIXTURES), str(package)]
    try:
        import importlib
        run_classifier = importlib.import_module("xmod_bert.run_classifier")
        builders = importlib.import_module("builders")
        trainer = importlib.import_module("trainer")
        feats = lambda: {"input_ids": tf.zeros([4, 6], tf.int32), "label_ids": tf.zeros([4], tf.int32),  # noqa: E731
                         "is_real_example": tf.ones([4])}
        labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
        patching.install("collect")
        context.COLLECTOR.clear()
        try:
            # as the scripts' main()s build them: use_tpu=True, so on the TPU call convention
            for fn, modes in ((run_classifier.model_fn_builder(2, 5e-5, True), ("train", "eval", "predict")),
                              (builders.model_fn_builder(2, 1e-4, True), ("train",)),
                              (trainer.ClassifierTrainer(2, True).model_fn, ("train", "eval"))):
                for mode in modes:
                    try:
                        build_on_tpu(fn, mode, features=feats,
                                     labels=None if mode == "predict" else labels)
                    except Exception:  # noqa: BLE001 - TF's own error after the shim reported
                        pass
            runtime = context.COLLECTOR.diagnostics()
            got = {(Path(d.path).name, d.line, d.code) for d in runtime}
        finally:
            patching.uninstall()
    finally:
        sys.path[:] = saved
    assert got == want
    # and word for word what the static engine says there (over the package, as tests/test_fixtures.py)
    from speclint import engine
    from speclint.config import Resolver
    static = engine.check_paths([str(package)], Resolver(overrides={"select": ("ALL",)})).diagnostics
    static_messages, runtime_messages = {}, {}
    for d in static:
        static_messages.setdefault((Path(d.path).name, d.line, d.code), set()).add(d.message)
    for d in runtime:
        runtime_messages.setdefault((Path(d.path).name, d.line, d.code), set()).add(d.message)
    assert set(runtime_messages) <= set(static_messages)
    for site, messages in runtime_messages.items():
        assert messages == static_messages[site], site
