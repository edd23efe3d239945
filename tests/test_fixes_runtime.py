"""Issue 13: the fixes against real TensorFlow.  Each fixable rule's doc Example that the runtime
shim reports when it runs (tests/test_runtime_rule_docs.py's harness: every model_fn built in
TRAIN, EVAL and PREDICT through the estimator's own _call_model_fn) is fixed with every fix
(safe and unsafe) and run again: the shim no longer reports the rule, and reports nothing new."""
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from test_fixes_rule_docs import FIXABLE, _diagnose, _fixable_blocks  # noqa: E402
from test_runtime_rule_docs import ON_TPU, _run_block, _runnable  # noqa: E402
from speclint.fixes.run import fix_text  # noqa: E402
from speclint.runtime.checks import dispatch  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
RUNTIME = dispatch.registered_codes()


@pytest.mark.parametrize("rule", [r for r in FIXABLE if r.code in RUNTIME], ids=lambda r: r.code)
def test_fixed_examples_run_clean_under_the_shim(rule, tmp_path):
    ran = 0
    for i, block, _ in _fixable_blocks(rule):
        if not _runnable(block):
            continue
        before = _run_block(rule.code, block, rule.code in ON_TPU, tmp_path)
        if before is None or rule.code not in before:
            continue  # the harness cannot show this one (see test_runtime_rule_docs.KNOWN_MISSES)
        fixed, done, _, _, _ = fix_text(block, _diagnose(f"{rule.code}-{i}.py"), unsafe=True)
        after = _run_block(rule.code, fixed, rule.code in ON_TPU, tmp_path)
        assert after is not None, fixed
        assert rule.code not in after, (rule.code, i, sorted(after), fixed)
        assert after <= before, (rule.code, i, sorted(after - before))
        ran += 1
    if not ran:
        pytest.skip(f"{rule.code}: no fixable Example the runtime harness reports")
