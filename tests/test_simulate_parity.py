"""Parity: on the TPU-targeted fixtures that can run, the static engine and simulate_tpu (the real
TPU graph build on CPU, TF 2.15) report the same rule codes for each model_fn.

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
def _load(relpath):
    path = FIXTURES / relpath
    for p in (str(FIXTURES), str(path.parent)):
        if p not in sys.path:
            sys.path.insert(0, p)
    name = relpath[:-3].replace("/", ".")
    return importlib.import_module(name)


def _checkpoint():
    directory = tempfile.mkdtemp(prefix="speclint-parity-ckpt-")
    with tf.Graph().as_default():
        for scope in ("backbone", "resnet50"):
            with tf.variable_scope(scope):
                tf.get_variable("w", [2])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, directory + "/model.ckpt")


def _pairing_flags():
    from absl import flags
    _load("pairing_detection_trainer.py")  # defines --use_tpu, --checkpoint, --model_dir
    flags.FLAGS.mark_as_parsed()
    flags.FLAGS.checkpoint = CHECKPOINT
    flags.FLAGS.model_dir = flags.FLAGS.model_dir or tempfile.mkdtemp(prefix="speclint-parity-")


def detector_input_fn(params):
    return _batched({"images": tf.random.normal([64, 8]), "image_info": tf.zeros([64, 5])},
                    tf.zeros([64], tf.int64), params)


def retinanet_input_fn(params):
    return _batched({"images": tf.random.normal([64, 8])}, {"targets": tf.zeros([64, 4])}, params)


def _mnist_flags():
    from absl import flags
    _pairing_flags()  # defines --model_dir first
    for name, default, define in (("learning_rate", 0.01, flags.DEFINE_float),
                                  ("model_dir", tempfile.mkdtemp(), flags.DEFINE_string),
                                  ("report_top5", False, flags.DEFINE_bool)):
        if name not in flags.FLAGS:
            define(name, default, "speclint parity test")
    flags.FLAGS.mark_as_parsed()


@dataclass
class Case:
    file: str
    qualname: str  # the def whose span the static diagnostics are taken from
    model_fn: object  # module -> model_fn
    input_fn: object
    params: dict
    expected: frozenset  # both engines must report exactly these codes (guards against a vacuous pass)
    modes: tuple = MODES
    setup: object = None
    static_only: dict = field(default_factory=dict)  # code -> why the TPU build cannot show it here

    @property
    def id(self):
        return f"{self.file}:{self.qualname}"


CHECKPOINT = _checkpoint()
DETECTOR_PARAMS = dict(num_classes=4, optimizer="momentum", momentum=0.9, boundaries=[1000],
                       rates=[0.08, 0.008], warm_start_path=None, checkpoint=CHECKPOINT,
                       model_dir=tempfile.mkdtemp())
MASKED_BY_SL014 = "the TRAIN and EVAL builds stop at the earlier SL014 (scaffold_fn returns None)"

CASES = [
    # Mask R-CNN: TF rejects the partial itself (see test_static_engine_misses_sl040_on_a_partial);
    # SL017 is the CPU return, which the TPU build never takes
    Case("pairing_detection_trainer.py", "_model_fn", lambda m: m.mask_rcnn_model_fn, detector_input_fn,
         DETECTOR_PARAMS, frozenset({"SL040"}), setup=_pairing_flags,
         static_only={"SL017": "silently wrong on the CPU path (use_tpu=False); the TPU path is not affected"}),
    # RetinaNet evaluates on CPU (eval_on_tpu=False): its TPU modes are train and predict
    Case("pairing_detection_trainer.py", "retinanet_model_fn", lambda m: m.retinanet_model_fn,
         retinanet_input_fn, DETECTOR_PARAMS, frozenset(), modes=("train", "predict"), setup=_pairing_flags),
    Case("pairing_detection_trainer.py", "research_model_fn", lambda m: m.research_model_fn, detector_input_fn,
         dict(num_classes=4, learning_rate=0.1), frozenset({"SL014", "SL034"}), setup=_pairing_flags,
         static_only={
             "SL016": MASKED_BY_SL014 + "; PREDICT stops at SL034",
             "SL031": MASKED_BY_SL014,
             "SL043": "control flow v2 skips TF's check; with v1 " + MASKED_BY_SL014,
             "SL035": "CPU path only (as_estimator_spec); on TPU eval reads spec.eval_metrics directly",
         }),
    # its estimator only trains (train_batch_size only)
    Case("pairing_detection_trainer.py", "keras_research_model_fn", lambda m: m.keras_research_model_fn,
         detector_input_fn, dict(num_classes=4), frozenset({"SL043"}), modes=("train",), setup=_pairing_flags),
    Case("joint_nlu_tpu.py", "intent_model_fn", lambda m: m.intent_model_fn, nlu_input_fn,
         dict(vocab_size=100, emb_dim=8, hidden=8, learning_rate=1e-3), frozenset({"SL013", "SL018"})),
    Case("spec_helpers.py", "detection_model_fn", lambda m: m.detection_model_fn, detection_input_fn,
         dict(num_classes=2, learning_rate=0.1, model_dir=tempfile.mkdtemp()), frozenset()),
    Case("mnist_partial_model_fns.py", "_model_fn",
         lambda m: functools.partial(m._model_fn, data_format="channels_last", num_classes=10),
         mnist_input_fn, {}, frozenset(), setup=_mnist_flags),
    Case("mnist_partial_model_fns.py", "_fashion_model_fn", lambda m: m._fashion_model_fn, mnist_input_fn,
         {}, frozenset({"SL002"}), setup=_mnist_flags),
    Case("tabular_models_mixups.py", "ctr_model_fn", lambda m: m.ctr_model_fn, tabular_input_fn,
         dict(hidden_units=[8], learning_rate=0.1,
              feature_columns=[tf.feature_column.numeric_column("x", shape=[4])]),
         frozenset({"SL020", "SL002"})),
    Case("tabular_models_mixups.py", "ranking_model_fn", lambda m: m.ranking_model_fn, tabular_input_fn,
         dict(hidden_units=[8], learning_rate=0.1,
              feature_columns=[tf.feature_column.numeric_column("x", shape=[4])]),
         frozenset({"SL019", "SL003"})),
    Case("xmod_bert/run_classifier.py", "model_fn_builder", lambda m: m.model_fn_builder(2, 5e-5, True),
         bert_input_fn, {}, frozenset({"SL005", "SL002"})),
    # the builder's model_fn raises ValueError outside TRAIN by design (its estimator only trains)
    Case("xmod_bert/builders.py", "model_fn_builder", lambda m: m.model_fn_builder(2, 1e-4, True),
         bert_input_fn, {}, frozenset({"SL005"}), modes=("train",)),
    Case("xmod_bert/trainer.py", "ClassifierTrainer.model_fn", lambda m: m.ClassifierTrainer(2, True).model_fn,
         bert_input_fn, {}, frozenset({"SL002"})),
]

# TPU-targeted fixture code the simulation cannot run, and why (the static engine alone sees it).
NOT_RUNNABLE = {
    "albert_classifier_buggy.py": "imports albert_modeling / optimization (ALBERT's modules, not shipped) "
                                  "and tf.contrib (absent from TF 2.x)",
    "bert_multilabel_gpu_port.py": "imports BERT's modeling / optimization (not shipped)",
    "bert_run_classifier.py": "imports BERT's modeling / optimization (not shipped)",
    "electra_pretraining.py": "imports ELECTRA's model / util packages (not shipped)",
    "od_model_lib.py": "imports the Object Detection API (not shipped)",
    "resnet_main.py": "imports resnet_model (not shipped)",
    "resnet_main_buggy.py": "imports resnet_model (not shipped) and tf.contrib (absent from TF 2.x)",
    "t2t_style_model.py": "uses tf.contrib (absent from TF 2.x)",
    "joint_nlu_tpu.py:slot_model_fn": "tf.contrib.crf (absent from TF 2.x): its SL001 and SL015 are seen "
                                      "by the static engine only",
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
    start, end = _span(path, case.qualname)
    return {d.code for d in _static().get(path, []) if start <= d.line <= end}


SIMULATED = {}


@pytest.fixture(scope="module")
def simulated():
    if not SIMULATED:
        for case in CASES:
            if case.setup:
                case.setup()
            module = _load(case.file)
            SIMULATED[case.id] = simulate_tpu(case.model_fn(module), case.input_fn, params=case.params,
                                              modes=case.modes, batch_size=BATCH, shim=False)
    return SIMULATED


# Cases where the engines disagree today; strict xfail, so a fix on either side shows up here.
KNOWN_DISAGREEMENTS = {
    "pairing_detection_trainer.py:_model_fn":
        "real TF rejects `functools.partial(_model_fn, model=...)`: the defaulted `variable_filter_fn` "
        "stays in fn_args (\"has following not expected args: ['variable_filter_fn']\", SL040 in every mode); "
        "the static engine does not report SL040 there and the fixture is not annotated with it",
}


def _params(case):
    return [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_DISAGREEMENTS[c.id], strict=True))
            if c.id in KNOWN_DISAGREEMENTS else c for c in case]


@pytest.mark.parametrize("case", _params(CASES), ids=lambda c: c.id)
def test_static_and_simulated_codes_agree(case, simulated):
    result = simulated[case.id]
    sim_codes = result.codes
    assert sim_codes == set(case.expected), [(d.line, d.code, d.message[:160]) for d in result]
    assert _static_codes(case) == set(case.expected) | set(case.static_only)
    # what did not fail built its graph (no unmapped failure hides behind an expected code)
    for outcome in result.outcomes.values():
        assert outcome.status == "built" or outcome.code in case.expected, outcome


def test_every_tpu_fixture_is_simulated_or_explained():
    covered = {}
    for case in CASES:
        covered.setdefault(FIXTURES / case.file, []).append(_span(FIXTURES / case.file, case.qualname))
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
                  "fixed_classifier_model_fn"}


def test_static_engine_misses_sl040_on_a_partial(simulated):
    """What the simulation alone sees on the Mask R-CNN fixture (reported to the lead)."""
    result = simulated["pairing_detection_trainer.py:_model_fn"]
    assert result.codes == {"SL040"}
    assert all("has following not expected args: ['variable_filter_fn']" in o.error
               for o in result.outcomes.values())
    assert _static_codes(CASES[0]) == {"SL017"}


def test_blind_spots_are_real_rules_and_not_in_the_failure_table():
    book = rulebook.load()
    mapped = {e.code for e in tpu_failures.TPU_BUILD_FAILURES}
    for code in list(SIMULATION_BLIND) + list(V1_ONLY):
        assert book.lookup(code) is not None, code
    assert not set(SIMULATION_BLIND) & mapped
    assert set(V1_ONLY) <= mapped
