"""Parity: on the TPU-targeted fixtures that can run, the static engine and simulate_tpu (the real
TPU graph build on CPU, TF 2.15) report the same rule codes for each model_fn (and where both report
a misuse at the same line, their messages are compared: SIMULATED_MESSAGE_DIFFERENCES).

Codes are compared per model_fn (static diagnostics inside its `def`, simulated codes over the modes
it serves); meta codes (SL1xx, about suppression comments) are static-only by nature. Every
TPU-targeted fixture is either simulated here or listed in NOT_RUNNABLE with the reason, and every
static diagnostic on a TPU fixture is covered by a simulated model_fn or by that list; rules the
simulation cannot observe at all are listed in SIMULATION_BLIND.
"""
import ast
import functools
import importlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow.compat.v1")
pytest.importorskip("tensorflow_estimator")

from speclint import rulebook, tpu_failures  # noqa: E402
from speclint.runtime.simulate import MODES, simulate_tpu  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BATCH = 16  # global batch: 2 per core on the simulated 8 cores


# -- input functions (static shapes, as TPU needs) ------------------------------------------------
def _batched(features, labels, params):
    ds = tf.data.Dataset.from_tensor_slices((features, labels) if labels is not None else features)
    return ds.repeat().batch(params["batch_size"], drop_remainder=True)


def nlu_input_fn(params):
    return _batched({"token_ids": tf.random.uniform([64, 8], 1, 100, tf.int32)},
                    {"intent": tf.zeros([64], tf.int32)}, params)


def detection_input_fn(params):
    return _batched({"images": tf.random.normal([64, 32, 32, 3]), "source_ids": tf.range(64)},
                    tf.zeros([64], tf.int32), params)


def mnist_input_fn(params):
    return _batched({"image": tf.random.normal([64, 784])}, tf.zeros([64], tf.int32), params)


def tabular_input_fn(params):
    return _batched({"x": tf.random.normal([64, 4])}, tf.zeros([64], tf.float32), params)


def bert_input_fn(params):
    return _batched({"input_ids": tf.random.uniform([64, 8], 0, 100, tf.int32),
                     "label_ids": tf.zeros([64], tf.int32), "is_real_example": tf.ones([64])},
                    tf.zeros([64], tf.int32), params)


# -- loading fixture modules -------------------------------------------------------------------------
# Fixture scripts define their own absl flags (several define --use_tpu): each file is imported
# fresh, after the flags of the previously imported fixture were removed.
_FIXTURE_FLAGS = set()


def _load(relpath):
    from absl import flags
    for name in _FIXTURE_FLAGS:
        if name in flags.FLAGS:
            delattr(flags.FLAGS, name)
    _FIXTURE_FLAGS.clear()
    before = set(flags.FLAGS)
    path = FIXTURES / relpath
    for p in (str(FIXTURES), str(path.parent)):
        if p not in sys.path:
            sys.path.insert(0, p)
    name = relpath[:-3].replace("/", ".")
    sys.modules.pop(name, None)
    module = importlib.import_module(name)
    setup = FLAG_SETUP.get(relpath)
    if setup:
        setup(flags)
    flags.FLAGS.mark_as_parsed()
    _FIXTURE_FLAGS.update(set(flags.FLAGS) - before)
    return module


def _checkpoint():
    directory = tempfile.mkdtemp(prefix="speclint-parity-ckpt-")
    with tf.Graph().as_default():
        for scope in ("backbone", "resnet50"):
            with tf.variable_scope(scope):
                tf.get_variable("w", [2])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, directory + "/model.ckpt")


CHECKPOINT = _checkpoint()


def _pairing_flags(flags):
    flags.FLAGS.checkpoint = CHECKPOINT
    flags.FLAGS.model_dir = tempfile.mkdtemp(prefix="speclint-parity-")


def _mnist_flags(flags):  # the fixture reads flags its (absent) main module would define
    # (other test modules may have defined them already in this process: absl flags are global)
    for define, name, value in ((flags.DEFINE_float, "learning_rate", 0.01),
                                (flags.DEFINE_string, "model_dir", tempfile.mkdtemp(prefix="speclint-parity-")),
                                (flags.DEFINE_bool, "report_top5", False)):
        if name not in flags.FLAGS:
            define(name, value, "speclint parity test")


FLAG_SETUP = {"pairing_detection_trainer.py": _pairing_flags, "mnist_partial_model_fns.py": _mnist_flags}


def detector_input_fn(params):
    return _batched({"images": tf.random.normal([64, 8]), "image_info": tf.zeros([64, 5])},
                    tf.zeros([64], tf.int64), params)


def retinanet_input_fn(params):
    return _batched({"images": tf.random.normal([64, 8])}, {"targets": tf.zeros([64, 4])}, params)


def multitask_input_fn(params):
    return _batched({"input_ids": tf.zeros([64, 16], tf.int32)},
                    {"label_ids": tf.zeros([64], tf.int32), "score": tf.zeros([64])}, params)


def image_input_fn(params):
    return _batched({"image": tf.random.normal([64, 4, 4, 3])}, tf.zeros([64], tf.int32), params)


def tf2_network(images, training):  # hostcalls_tf2_image_classifier.py takes the network as an argument
    del training
    return tf.layers.dense(tf.layers.flatten(images), 10)


def pandas_input_fn(params):  # the fixture's regression reads a pandas frame: float64 labels
    return _batched({"x": tf.random.normal([64, 4])}, tf.zeros([64], tf.float64), params)


def text_input_fn(params):
    return _batched({"input_ids": tf.zeros([64, 128], tf.int32), "label_ids": tf.zeros([64], tf.int32)},
                    tf.zeros([64], tf.int32), params)


@dataclass
class Case:
    file: str
    defs: tuple  # the model_fn's def and the helpers it uses: the static diagnostics inside them count
    model_fn: object  # module -> model_fn
    input_fn: object
    params: dict
    sim: frozenset  # what simulate_tpu reports
    static: frozenset  # what the static engine reports inside `defs`
    why: dict = field(default_factory=dict)  # every code one engine reports and the other not: why
    modes: tuple = MODES

    @property
    def id(self):
        return f"{self.file}:{self.defs[0]}"


def _fs(*codes):
    return frozenset(codes)


FEATURE_COLUMNS = [tf.feature_column.numeric_column("x", shape=[4])]
DETECTOR_PARAMS = dict(num_classes=4, optimizer="momentum", momentum=0.9, boundaries=[1000],
                       rates=[0.08, 0.008], warm_start_path=None, checkpoint=CHECKPOINT,
                       model_dir=tempfile.mkdtemp())
MASKED_BY_SL014 = "masked: the TRAIN and EVAL builds stop at SL014 (scaffold_fn returns None) first"
LABELS_IN_PREDICT = ("the parity input_fn yields labels in every mode, so the simulated PREDICT has them; "
                     "with a features-only predict input_fn the op on None fails in generic TF code")

CASES = [
    Case("joint_nlu_tpu.py", ("intent_model_fn", "encode"), lambda m: m.intent_model_fn, nlu_input_fn,
         dict(vocab_size=100, emb_dim=8, hidden=8, learning_rate=1e-3),
         _fs("SL013", "SL018"), _fs("SL013", "SL018")),
    Case("spec_helpers.py", ("detection_model_fn", "_build_spec", "SpecFactory", "_host_call_fn"),
         lambda m: m.detection_model_fn, detection_input_fn,
         dict(num_classes=2, learning_rate=0.1, model_dir=tempfile.mkdtemp()), _fs(), _fs()),
    Case("mnist_partial_model_fns.py", ("_model_fn", "metric_fn", "_train_op", "_host_call_fn"),
         lambda m: functools.partial(m._model_fn, data_format="channels_last", num_classes=10),
         mnist_input_fn, {}, _fs(), _fs()),
    Case("mnist_partial_model_fns.py", ("_fashion_model_fn", "_weighted_metric_fn"),
         lambda m: m._fashion_model_fn, mnist_input_fn, {}, _fs("SL002"), _fs("SL002")),
    Case("tabular_models_mixups.py", ("ctr_model_fn",), lambda m: m.ctr_model_fn, tabular_input_fn,
         dict(hidden_units=[8], learning_rate=0.1, feature_columns=FEATURE_COLUMNS),
         _fs("SL020", "SL002"), _fs("SL020", "SL002")),
    Case("tabular_models_mixups.py", ("ranking_model_fn",), lambda m: m.ranking_model_fn, tabular_input_fn,
         dict(hidden_units=[8], learning_rate=0.1, feature_columns=FEATURE_COLUMNS),
         _fs("SL019", "SL003"), _fs("SL019", "SL003")),
    Case("xmod_bert/run_classifier.py", ("model_fn_builder",), lambda m: m.model_fn_builder(2, 5e-5, True),
         bert_input_fn, {}, _fs("SL005", "SL002"), _fs("SL005", "SL002")),
    # the builder's model_fn raises ValueError outside TRAIN by design (its estimator only trains)
    Case("xmod_bert/builders.py", ("model_fn_builder",), lambda m: m.model_fn_builder(2, 1e-4, True),
         bert_input_fn, {}, _fs("SL005"), _fs("SL005"), modes=("train",)),
    Case("xmod_bert/trainer.py", ("ClassifierTrainer.model_fn",),
         lambda m: m.ClassifierTrainer(2, True).model_fn, bert_input_fn, {}, _fs("SL002"), _fs("SL002")),
    # Mask R-CNN: TF rejects the partial itself (defaulted `variable_filter_fn` left unbound)
    Case("pairing_detection_trainer.py", ("_model_fn", "_build_optimizer", "_learning_rate"),
         lambda m: m.mask_rcnn_model_fn, detector_input_fn, DETECTOR_PARAMS, _fs("SL040"), _fs("SL040", "SL017"),
         why={"SL017": "the dropped scaffold_fn is on the CPU return (use_tpu=False); silently wrong there"}),
    # RetinaNet evaluates on CPU (eval_on_tpu=False): its TPU modes are train and predict
    Case("pairing_detection_trainer.py", ("retinanet_model_fn",), lambda m: m.retinanet_model_fn,
         retinanet_input_fn, DETECTOR_PARAMS, _fs(), _fs("SL039"), why={"SL039": LABELS_IN_PREDICT},
         modes=("train", "predict")),
    Case("pairing_detection_trainer.py", ("research_model_fn", "_metric_fn"), lambda m: m.research_model_fn,
         detector_input_fn, dict(num_classes=4, learning_rate=0.1), _fs("SL014", "SL034"),
         _fs("SL014", "SL016", "SL034", "SL043", "SL031", "SL035"),
         why={"SL016": MASKED_BY_SL014 + "; PREDICT stops at SL034",
              "SL031": MASKED_BY_SL014,
              "SL043": "control flow v2 skips TF's check; with v1, " + MASKED_BY_SL014,
              "SL035": "CPU path only (as_estimator_spec); on TPU eval reads spec.eval_metrics directly"}),
    # its estimator only trains (train_batch_size only)
    Case("pairing_detection_trainer.py", ("keras_research_model_fn",), lambda m: m.keras_research_model_fn,
         detector_input_fn, dict(num_classes=4), _fs("SL043"), _fs("SL043"), modes=("train",)),
    Case("fields_multitask_tpu.py", ("model_fn_builder", "create_model", "get_train_op"),
         lambda m: m.model_fn_builder(3, 2e-5, True), multitask_input_fn, {}, _fs("SL028"),
         _fs("SL023", "SL032", "SL026", "SL028", "SL030"),
         why={"SL023": "training hangs at run time (apply_gradients without global_step); the graph builds",
              "SL032": "inside the TPU computation TF captures the module-level tensor instead of raising: "
                       "the build goes on and PREDICT stops at SL028",
              "SL026": "masked: PREDICT stops at SL028 (export_outputs are checked when the spec is built)",
              "SL030": "on the CPU branch (`if not use_tpu`), which the TPU build never takes"}),
    Case("fields_multitask_tpu.py", ("image_model_fn",), lambda m: m.image_model_fn, image_input_fn,
         dict(num_classes=3, weight_decay=1e-4, learning_rate=0.1), _fs(), _fs()),
    Case("fields_multitask_tpu.py", ("tabular_model_fn",), lambda m: m.tabular_model_fn, pandas_input_fn,
         dict(feature_columns=FEATURE_COLUMNS, hidden_units=[8], learning_rate=0.1),
         _fs("SL102"), _fs("SL024", "SL021", "SL022"),
         why={"SL102": "the TPU infeed rejects the float64 labels of the pandas input_fn before model_fn "
                       "runs (\"float64 is not a supported TPU infeed type\"): no rule covers it",
              "SL024": "masked: every mode stops at the float64 infeed first",
              "SL021": "masked: every mode stops at the float64 infeed first",
              "SL022": "masked: every mode stops at the float64 infeed first"}),
    # clean TF2-compat host calls: TF2 summaries in host_call (batch-1 idiom), per-example eval tensors
    Case("hostcalls_tf2_image_classifier.py", ("build_model_fn", "host_call_fn", "metric_fn"),
         lambda m: m.build_model_fn(tf2_network, 10, tempfile.mkdtemp(prefix="speclint-parity-"), True),
         image_input_fn, {"steps_per_epoch": 10}, _fs(), _fs()),
    Case("modes_text_classifier.py", ("model_fn_builder", "create_model", "estimator_spec_train",
                                      "estimator_spec_eval", "metric_fn"),
         lambda m: m.model_fn_builder(3, 2e-5, True), text_input_fn, {}, _fs(), _fs("SL036"),
         why={"SL036": "silently wrong: TPU ignores the spec's mode"}),
    Case("modes_text_classifier.py", ("tagging_model_fn",), lambda m: m.tagging_model_fn, text_input_fn,
         {"num_tags": 9, "export": False}, _fs("SL038"), _fs("SL038", "SL039"), why={"SL039": LABELS_IN_PREDICT}),
]

# TPU-targeted fixture code the simulation cannot run, and why (the static engine alone sees it).
NOT_RUNNABLE = {
    "albert_classifier_buggy.py": "imports albert_modeling / optimization (ALBERT's modules, not shipped) "
                                  "and tf.contrib (absent from TF 2.x)",
    "bert_multilabel_gpu_port.py": "imports BERT's modeling / optimization (not shipped)",
    "bert_run_classifier.py": "imports BERT's modeling / optimization (not shipped)",
    "electra_pretraining.py": "imports ELECTRA's model / util packages (not shipped)",
    "tpu_constructor_mistakes.py": "SL045-SL047 are static-only: the constructor raises before any graph is built, and the model_fn downloads ImageNet weights",
    "od_model_lib.py": "imports the Object Detection API (not shipped)",
    "resnet_main.py": "imports resnet_model (not shipped)",
    "resnet_main_buggy.py": "imports resnet_model (not shipped) and tf.contrib (absent from TF 2.x)",
    "t2t_style_model.py": "uses tf.contrib (absent from TF 2.x)",
    "hostcalls_multitask_classifier.py": "imports BERT's modeling / optimization (not shipped) and "
                                         "tf.contrib (absent from TF 2.x)",
    "joint_nlu_tpu.py:slot_model_fn": "tf.contrib.crf (absent from TF 2.x): its SL001 and SL015 are seen "
                                      "by the static engine only",
    "modes_text_classifier.py:eval_input_fn_builder": "an input_fn reading TFRecord files (the parity run "
                                                      "feeds synthetic data); SL044 is reproduced in "
                                                      "test_simulate_tpu.py",
    "modes_text_classifier.py:baseline_input_fn": "the input_fn of the plain-Estimator baseline",
}

# Fixture modules without a TPUEstimatorSpec of their own: helpers of a simulated model_fn (their
# static diagnostics must be rules the simulation cannot see, SIMULATION_BLIND) or entry points.
HELPER_MODULES = {
    "xmod_bert/__init__.py": "package marker",
    "xmod_bert/metrics.py": "metric_fn of xmod_bert/run_classifier.py's model_fn (simulated)",
    "xmod_bert/modeling.py": "create_model of the xmod_bert model_fns (simulated through them)",
    "xmod_bert/run_pretraining.py": "entry point building builders.model_fn_builder's model_fn (simulated)",
}

# Rules whose failure the TPU graph build never shows (the static engine, or the runtime shim on
# the real objects, has to find them), and rules the simulation only shows under control flow v1.
SIMULATION_BLIND = {
    "SL006": "silently wrong: per-core vectors are concatenated; nothing is raised",
    "SL017": "silently wrong: the dropped scaffold / host_call raises nothing",
    "SL023": "training hangs at run time; the graph builds",
    "SL025": "fails while predict() iterates, after Session.run",
    "SL029": "export only: the SavedModel silently lacks the signature",
    "SL035": "CPU path (as_estimator_spec) only",
    "SL036": "silently wrong: TPU ignores spec.mode",
    "SL037": "a dead branch: what fails depends on the fall-through",
    "SL039": "PREDICT with labels=None fails in a generic op, not TPU-specific",
    "SL042": "silently wrong: the host function sees the concatenated batch",
}
V1_ONLY = {"SL043": "control flow v2 (TF2's default) skips TF's CrossShardOptimizer check; "
                    "simulate_tpu(..., control_flow='v1') reports it"}


def _span(path, qualname):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    node = None
    for part in qualname.split("."):
        node = next(n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part)
        body = node.body
    return node.lineno, node.end_lineno


@functools.lru_cache(maxsize=1)
def _static():
    from speclint import engine
    from speclint.config import Resolver

    result = engine.check_paths([str(FIXTURES)], Resolver(overrides={"select": ("ALL",)}))
    by_file = {}
    for d in result.diagnostics:
        if not d.code.startswith("SL1"):
            by_file.setdefault(Path(os.path.abspath(d.path)), []).append(d)
    return by_file


def _static_codes(case):
    path = FIXTURES / case.file
    spans = [_span(path, name) for name in case.defs]
    return {d.code for d in _static().get(path, []) if any(a <= d.line <= b for a, b in spans)}


SIMULATED = {}


@pytest.fixture(scope="module")
def simulated():
    if not SIMULATED:
        modules = {}
        for case in CASES:  # cases of one file are consecutive: its flags stay until the next file
            if case.file not in modules:
                modules = {case.file: _load(case.file)}
            SIMULATED[case.id] = simulate_tpu(case.model_fn(modules[case.file]), case.input_fn,
                                              params=case.params, modes=case.modes, batch_size=BATCH,
                                              shim=False)
    return SIMULATED


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_static_and_simulated_codes_agree(case, simulated):
    result = simulated[case.id]
    assert result.codes == set(case.sim), [(d.line, d.code, d.message[:160]) for d in result]
    assert _static_codes(case) == set(case.static)
    assert set(case.why) == set(case.sim) ^ set(case.static), "explain every difference"
    for outcome in result.outcomes.values():  # what did not fail built its graph
        assert outcome.status == "built" or outcome.code in case.sim, outcome


# Messages (issue 15): where the simulation and the static engine report the same misuse (same rule,
# same line) they should say the same thing.  Today the simulation words TF's own failure with the
# rule's `tpu_build` template (SL102's `mapped` one for rules without it) and quotes TF's error,
# while the static engine words the misuse with its own variant: every such site differs, by design.
# Each is a strict xfail, so one that comes to agree fails until it is removed from this table.
_TPU_BUILD = "the simulation reports TF's TPU build failure in the rule's `tpu_build` wording ({tf}); " \
             "the static engine its own `{variant}` variant"
SIMULATED_MESSAGE_DIFFERENCES = {
    ("tabular_models_mixups.py:ranking_model_fn", 82, "SL019"):
        _TPU_BUILD.format(tf="SL102 `mapped`: SL019 has no tpu_build variant", variant="missing"),
    ("pairing_detection_trainer.py:_model_fn", 59, "SL040"):
        _TPU_BUILD.format(tf="TF's 'has following not expected args' with the partial's repr", variant="unexpected"),
    ("pairing_detection_trainer.py:research_model_fn", 163, "SL034"):
        _TPU_BUILD.format(tf="TF's 'estimator_spec used by TPU prediction must have type`TPUEstimatorSpec`'",
                          variant="predict"),
    ("pairing_detection_trainer.py:keras_research_model_fn", 181, "SL043"):
        _TPU_BUILD.format(tf="TF's 'CrossShardOptimizer only works with tf.training.Optimizer'", variant="keras"),
    ("modes_text_classifier.py:tagging_model_fn", 110, "SL038"):
        _TPU_BUILD.format(tf="TF's 'must have type`TPUEstimatorSpec`. Got <class 'NoneType'>'", variant="falls_through"),
}


def _messages_by_site(case, simulated):
    """{(line, code): set of messages} of the static engine (inside the case's defs) and of the
    simulation (in the case's file), at the sites both report."""
    path = FIXTURES / case.file
    spans = [_span(path, name) for name in case.defs]
    by_static, by_simulated = {}, {}
    for d in _static().get(path, []):
        if any(a <= d.line <= b for a, b in spans):
            by_static.setdefault((d.line, d.code), set()).add(d.message)
    for d in simulated[case.id]:
        if Path(os.path.abspath(d.path)) == path:
            by_simulated.setdefault((d.line, d.code), set()).add(d.message)
    common = set(by_static) & set(by_simulated)
    return {k: by_static[k] for k in common}, {k: by_simulated[k] for k in common}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_static_and_simulated_say_the_same_at_the_same_site(case, simulated):
    static, sim = _messages_by_site(case, simulated)
    known = {(line, code) for cid, line, code in SIMULATED_MESSAGE_DIFFERENCES if cid == case.id}
    assert known <= set(static), "stale SIMULATED_MESSAGE_DIFFERENCES entry: no longer a site both report"
    for site in sorted(set(static) - known):
        assert static[site] == sim[site], site
    # where they differ, the simulation's text is exactly the rule's TOML wording of TF's failure
    from speclint.runtime.simulate import _message
    outcomes = simulated[case.id].outcomes
    for line, code in known:
        worded = {_message(code, "", mode, o.error)[2] for mode, o in outcomes.items() if o.code == code}
        assert sim[(line, code)] <= worded, (line, code)


@pytest.mark.parametrize("site", [
    pytest.param(site, marks=pytest.mark.xfail(strict=True, reason=why), id=f"{site[0]}:{site[1]}:{site[2]}")
    for site, why in sorted(SIMULATED_MESSAGE_DIFFERENCES.items())])
def test_simulated_message_differences(site, simulated):
    case_id, line, code = site
    case = next(c for c in CASES if c.id == case_id)
    static, sim = _messages_by_site(case, simulated)
    assert static[(line, code)] == sim[(line, code)]


def test_sl040_on_a_partial_is_what_tf_says(simulated):
    result = simulated["pairing_detection_trainer.py:_model_fn"]
    assert all("has following not expected args: ['variable_filter_fn']" in o.error
               for o in result.outcomes.values())


def test_every_tpu_fixture_is_simulated_or_explained():
    covered = {}
    for case in CASES:
        covered.setdefault(FIXTURES / case.file, []).extend(_span(FIXTURES / case.file, n) for n in case.defs)
    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "TPUEstimatorSpec" not in text:  # defines a TPU model_fn
            continue
        rel = str(path.relative_to(FIXTURES))
        spans = covered.get(path, [])
        assert spans or rel in NOT_RUNNABLE, f"{rel}: TPU fixture neither simulated nor explained"
        for d in _static().get(path, []):
            if any(a <= d.line <= b for a, b in spans) or rel in NOT_RUNNABLE:
                continue
            fn = _enclosing_def(path, d.line)
            assert f"{rel}:{fn}" in NOT_RUNNABLE or _plain_estimator(path, fn), \
                f"{rel}:{d.line} {d.code} in {fn}: not simulated and not explained"


def test_every_other_fixture_module_is_explained():
    for path in sorted(FIXTURES.rglob("*.py")):
        rel = str(path.relative_to(FIXTURES))
        if "TPUEstimatorSpec" in path.read_text(encoding="utf-8"):
            assert rel not in HELPER_MODULES, f"{rel} is TPU-targeted: simulate it or list it in NOT_RUNNABLE"
            continue
        assert rel in HELPER_MODULES, f"{rel}: neither a TPU fixture nor a listed helper module"
        for d in _static().get(path, []):
            assert d.code in SIMULATION_BLIND, f"{rel}:{d.line} {d.code}: not simulated and not explained"
    assert {p for p in HELPER_MODULES if not (FIXTURES / p).exists()} == set(), "stale HELPER_MODULES entry"


def _enclosing_def(path, line):
    """The top-level def (or Class.method) containing `line`."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.lineno <= line <= node.end_lineno:
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and sub.lineno <= line <= sub.end_lineno:
                        return f"{node.name}.{sub.name}"
            return node.name
    return "<module>"


def _plain_estimator(path, fn):
    """model_fns for a plain tf.estimator.Estimator: the runtime shim's parity, not the TPU's."""
    return fn in {"regressor_model_fn", "cpu_model_fn", "classifier_model_fn_builder",
                  "fixed_classifier_model_fn", "regression_model_fn"}


def test_blind_spots_are_real_rules_and_not_in_the_failure_table():
    book = rulebook.load()
    mapped = {e.code for e in tpu_failures.TPU_BUILD_FAILURES}
    for code in list(SIMULATION_BLIND) + list(V1_ONLY):
        assert book.lookup(code) is not None, code
    assert not set(SIMULATION_BLIND) & mapped
    assert set(V1_ONLY) <= mapped
