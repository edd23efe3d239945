"""Time `simulate_tpu` and print a table: what one TPU graph-build simulation costs per mode.

    python bench/bench_simulate.py [REPEATS]     # needs tensorflow-cpu 2.15 + tensorflow-estimator

Rows: the BERT-style model_fn of tests/tpusim_models.py, simulated per mode under control flow v2
and v1 (median of REPEATS runs, after one warm-up run), next to a real one-step CPU run of the same
model_fn with `TPUEstimator(use_tpu=False)` (what a CPU test costs). Also the one-time cost of
importing TensorFlow in this process.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main(repeats: int = 3) -> None:
    start = time.perf_counter()
    import tensorflow  # noqa: F401
    import tpusim_models as models
    from tensorflow_estimator.python.estimator.tpu import tpu_config, tpu_estimator
    from speclint.runtime.simulate import MODES, simulate_tpu
    import_s = time.perf_counter() - start
    params = {"summary_dir": tempfile.mkdtemp()}

    def sim(mode, cf):
        t = time.perf_counter()
        result = simulate_tpu(models.good_bert_model_fn, models.input_fn, params=params, modes=(mode,),
                              control_flow=cf, shim=False)
        assert result.built and not result, result
        return time.perf_counter() - t

    def cpu(mode):
        est = tpu_estimator.TPUEstimator(
            model_fn=models.good_bert_model_fn, use_tpu=False, params=dict(params),
            config=tpu_config.RunConfig(model_dir=tempfile.mkdtemp()),
            train_batch_size=16, eval_batch_size=16, predict_batch_size=16)
        t = time.perf_counter()
        if mode == "train":
            est.train(models.input_fn, steps=1)
        elif mode == "eval":
            est.evaluate(models.input_fn, steps=1)
        else:
            next(est.predict(models.input_fn))
        return time.perf_counter() - t

    rows = []
    for mode in MODES:
        cells = []
        for fn in (lambda: sim(mode, "v2"), lambda: sim(mode, "v1"), lambda: cpu(mode)):
            fn()  # warm-up
            cells.append(statistics.median(fn() for _ in range(repeats)))
        rows.append((mode, *cells))
    print(f"TensorFlow import: {import_s:.1f} s (once per process)\n")
    print("| mode | simulate_tpu, control flow v2 (s) | simulate_tpu, control flow v1 (s) | one CPU step, use_tpu=False (s) |")
    print("| --- | ---: | ---: | ---: |")
    for mode, v2, v1, c in rows:
        print(f"| {mode} | {v2:.2f} | {v1:.2f} | {c:.2f} |")
    print(f"| all three | {sum(r[1] for r in rows):.2f} | {sum(r[2] for r in rows):.2f} | "
          f"{sum(r[3] for r in rows):.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
