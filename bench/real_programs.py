"""Public TPU/Estimator programs run tiny on CPU, with and without speclint's runtime shim.

    python bench/real_programs.py            # every program, every variant, the table + overheads
    python bench/real_programs.py mnist_tpu  # one program
    python bench/real_programs.py --timing-only --repeat   # overheads only, best of 3 (CPU time)

The programs are vendored under bench/programs/<name>/ (Apache-2.0, licence headers kept; each
README says the upstream commit and every patch: synthetic data, seeds, TF 2.15 spellings, and an
injected bug selected by $SPECLINT_BENCH_BUG). For each program:

- `python prog.py` (the program's own outputs: every line starting with RESULT),
- `speclint run prog.py` and `speclint run --simulate-tpu prog.py`: the outputs must be identical
  (compared exactly) and the correct program must get zero diagnostics,
- each injected bug under the default `speclint run` (and `--simulate-tpu`): the rule expected.

tests/test_real_programs.py runs the same checks (a subset of variants) in CI.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent / "programs"


@dataclass
class Program:
    name: str
    script: str  # relative to ROOT
    args: List[str]  # "{tmp}" is replaced by a fresh directory
    bugs: Dict[str, str]  # $SPECLINT_BENCH_BUG value -> the rule code expected
    upstream: str = ""
    setup: Optional[str] = None  # a module function `setup(tmp)` in the program's directory


PROGRAMS = [
    Program("mnist_tpu", "mnist_tpu/mnist_tpu.py",
            ["--use_tpu=False", "--model_dir={tmp}/model", "--batch_size=16", "--train_steps=2",
             "--eval_steps=1", "--iterations=1", "--num_shards=8"],
            {"scalar_eval_metrics": "SL005"},
            "tensorflow/tpu models/official/mnist/mnist_tpu.py"),
    Program("iris_tpu", "iris_tpu/custom_tpuestimator.py",
            ["--use_tpu=False", "--model_dir={tmp}/model", "--batch_size=16", "--train_steps=2",
             "--eval_steps=1", "--iterations=1"],
            {"metric_fn_closure": "SL007", "estimator_spec_eval_metrics": "SL018"},
            "tensorflow/tpu models/samples/core/get_started/custom_tpuestimator.py"),
    Program("bert_classifier", "bert_classifier/run_classifier.py",
            ["--task_name=cola", "--do_train=true", "--do_eval=true", "--do_predict=true",
             "--data_dir={tmp}/data", "--vocab_file={tmp}/data/vocab.txt",
             "--bert_config_file={tmp}/data/bert_config.json", "--output_dir={tmp}/out",
             "--max_seq_length=16", "--train_batch_size=8", "--eval_batch_size=8",
             "--predict_batch_size=8", "--num_train_epochs=1", "--use_tpu=false",
             "--iterations_per_loop=1", "--num_tpu_cores=8"],
            {"scalar_host_call": "SL005", "logging_hook_loss": "SL031"},
            "google-research/bert run_classifier.py", setup="bench_data"),
    Program("bert_pretraining", "bert_classifier/run_pretraining.py",
            ["--input_file={tmp}/data/pretrain.tfrecord", "--output_dir={tmp}/out",
             "--bert_config_file={tmp}/data/bert_config.json", "--do_train=true", "--do_eval=true",
             "--train_batch_size=8", "--eval_batch_size=8", "--max_seq_length=16",
             "--max_predictions_per_seq=3", "--num_train_steps=2", "--num_warmup_steps=1",
             "--max_eval_steps=1", "--use_tpu=false", "--iterations_per_loop=1",
             "--num_tpu_cores=8"],
            {"scaffold_reads_input": "SL015"},
            "google-research/bert run_pretraining.py", setup="bench_data"),
    Program("simclr", "simclr/run.py",
            ["--train_mode=pretrain", "--mode=train_then_eval", "--dataset=cifar10", "--eval_split=test",
             "--image_size=32", "--resnet_depth=18", "--proj_out_dim=16", "--use_blur=False",
             "--train_batch_size=8", "--eval_batch_size=64", "--train_steps=2", "--checkpoint_steps=1",
             "--use_tpu=False", "--model_dir={tmp}/model"],
            {"scalar_contrast_loss": "SL005"},
            "google-research/simclr run.py (TF1)"),
]


def _env(bug: str = "") -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0", CUDA_VISIBLE_DEVICES="")
    env.pop("SPECLINT_RUNTIME", None)
    if bug:
        env["SPECLINT_BENCH_BUG"] = bug
    else:
        env.pop("SPECLINT_BENCH_BUG", None)
    return env


@dataclass
class RunResult:
    outputs: List[str]
    codes: List[str]
    diagnostics: list
    returncode: int
    seconds: float
    stderr: str = ""
    cpu: float = 0.0  # the child's user + system CPU seconds (less sensitive to a shared machine)


def _prepare(prog: Program, tmp: str) -> List[str]:
    if prog.setup:
        directory = str((ROOT / prog.script).parent)
        code = (f"import sys; sys.path.insert(0, {directory!r}); import {prog.setup} as m; "
                f"m.setup({tmp!r})")
        subprocess.run([sys.executable, "-c", code], check=True, env=_env(), capture_output=True)
    return [a.replace("{tmp}", tmp) for a in prog.args]


def run(prog: Program, variant: str, bug: str = "", stop_at_first: bool = False) -> RunResult:
    """variant: "python" | "run" | "simulate". stop_at_first: `--mode raise` (the program stops
    at the first offending model_fn; enough to see an injected bug, and cheaper)."""
    with tempfile.TemporaryDirectory(prefix=f"speclint-real-{prog.name}-") as tmp:
        args = _prepare(prog, tmp)
        script = str(ROOT / prog.script)
        report = os.path.join(tmp, "diagnostics.json")
        if variant == "python":
            cmd = [sys.executable, script] + args
        else:
            cmd = [sys.executable, "-m", "speclint", "run", "--output-format", "json",
                   "--output-file", report]
            if variant == "simulate":
                cmd.append("--simulate-tpu")
            if stop_at_first:
                cmd += ["--mode", "raise"]
            cmd += [script] + args
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, env=_env(bug), capture_output=True, text=True, cwd=tmp)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        outputs = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        diags = []
        if variant != "python" and os.path.exists(report):
            with open(report, encoding="utf-8") as fh:
                text = fh.read().strip()
            diags = json.loads(text) if text else []
        codes = sorted({d["code"] for d in diags})
        return RunResult(outputs, codes, diags, proc.returncode, seconds, proc.stderr, cpu)


_UNREACHED_DRIVER = """
import json, sys
from speclint.runtime import runner, simulate_run
out = runner.run_program(sys.argv[1], sys.argv[2:], mode="warn",
                         before_run=simulate_run.install_for_run, after_run=simulate_run.uninstall_for_run)
print("SPECLINT_JSON " + json.dumps(dict(codes=sorted({d.code for d in out.diagnostics}),
      diagnostics=[f"{d.code} {d.path}:{d.line} {d.message[:200]}" for d in out.diagnostics],
      unreached=[list(u) for u in simulate_run.UNREACHED], exit=out.exit_code)))
"""


def run_unreached(prog: Program, overrides: Dict[str, str], bug: str = "") -> dict:
    """`speclint run --simulate-tpu` in-process in a child (what the CLI runs), with some of the
    program's flags overridden (e.g. train only): the diagnostics and `simulate_run.UNREACHED`, the
    modes the program did not reach and what their simulation did."""
    with tempfile.TemporaryDirectory(prefix=f"speclint-real-{prog.name}-") as tmp:
        args = [a for a in _prepare(prog, tmp) if a.split("=")[0] not in overrides]
        args += [f"{k}={v}" for k, v in overrides.items()]
        proc = subprocess.run([sys.executable, "-c", _UNREACHED_DRIVER, str(ROOT / prog.script)] + args,
                              env=_env(bug), capture_output=True, text=True, cwd=tmp)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SPECLINT_JSON ")), None)
        if line is None:
            raise AssertionError(f"{prog.name}: no report (exit {proc.returncode}): {proc.stderr[-3000:]}")
        return json.loads(line[len("SPECLINT_JSON "):])


def check_program(prog: Program, variants=("python", "run", "simulate"), bug_variants=("run", "simulate"),
                  stop_at_first: bool = False, repeat: int = 1):
    """(results, rows, failures): one row per injected bug for the table. `repeat`: run each
    correct variant that many times and keep the fastest (CPU time)."""
    failures = []
    res = {}
    for v in variants:
        runs = [run(prog, v) for _ in range(repeat)]
        res[v] = min(runs, key=lambda r: r.cpu)
        if any(r.outputs != runs[0].outputs for r in runs):
            failures.append(f"{prog.name} {v}: outputs differ between repeated runs")
    base = res.get("python")
    for v, r in res.items():
        if not r.outputs:
            failures.append(f"{prog.name} {v}: no RESULT lines (exit {r.returncode}): {r.stderr[-2000:]}")
        if base is not None and r.outputs != base.outputs:
            failures.append(f"{prog.name} {v}: outputs differ from python's")
        if v != "python" and r.diagnostics:
            failures.append(f"{prog.name} {v}: false alarms on the correct program: "
                            + "; ".join(f"{d['code']} {d['path']}:{d['line']} {d['message'][:200]}"
                                        for d in r.diagnostics))
    rows = []
    for bug, code in prog.bugs.items():
        caught = {}
        for v in bug_variants:
            r = run(prog, v, bug, stop_at_first)
            caught[v] = code in r.codes
            if not caught[v]:
                failures.append(f"{prog.name} bug {bug}: {code} not reported by {v} (got {r.codes})")
        rows.append((prog.name, bug, code, caught))
    return res, rows, failures


def main(argv) -> int:
    args = argv[1:]
    timing_only = "--timing-only" in args  # skip the injected bugs
    repeat = 3 if "--repeat" in args else 1
    names = [a for a in args if not a.startswith("--")] or [p.name for p in PROGRAMS]
    all_failures = []
    table = ["| program | injected bug (rule) | default `speclint run` | `--simulate-tpu` | false alarms (run / simulate) | outputs identical |",
             "| --- | --- | --- | --- | --- | --- |"]
    timing = ["| program | python: wall s / CPU s | speclint run: wall s / CPU s | CPU overhead "
              "| --simulate-tpu: wall s / CPU s | CPU overhead |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for prog in PROGRAMS:
        if prog.name not in names:
            continue
        res, rows, failures = check_program(prog, bug_variants=() if timing_only else ("run", "simulate"),
                                            repeat=repeat)
        if timing_only:
            rows = []
        all_failures += failures
        same = all(r.outputs == res["python"].outputs for r in res.values()) and bool(res["python"].outputs)
        alarms = f"{len(res['run'].diagnostics)} / {len(res['simulate'].diagnostics)}"
        for name, bug, code, caught in rows:
            table.append(f"| {name} | {bug} ({code}) | {'yes' if caught['run'] else 'NO'} | "
                         f"{'yes' if caught['simulate'] else 'NO'} | {alarms} | {'yes' if same else 'NO'} |")
        p, r, s = (res[v] for v in ("python", "run", "simulate"))
        timing.append(f"| {prog.name} | {p.seconds:.1f} / {p.cpu:.1f} | {r.seconds:.1f} / {r.cpu:.1f} | "
                      f"{100 * (r.cpu - p.cpu) / p.cpu:+.0f}% | {s.seconds:.1f} / {s.cpu:.1f} | "
                      f"{100 * (s.cpu - p.cpu) / p.cpu:+.0f}% |")
        print(f"{prog.name}: done", file=sys.stderr, flush=True)
    print("\n".join(table))
    print()
    print("\n".join(timing))
    if all_failures:
        print("\nFAILURES:\n" + "\n".join(all_failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
