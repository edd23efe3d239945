"""Issue 16, item 9: simulate_tpu leaves nothing behind.  Each call builds a real TPUEstimator in a
temporary model_dir; TF caches a summary FileWriter for that directory (FileWriterCache), which
owns a logging thread (EventLoggerThread) and an open events file.  After the call the directory is
removed, so all three must go with it: no thread, no open handle to a deleted file, no cache entry.
"""
import os
import tempfile
import threading

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

import tpusim_models as models  # noqa: E402

from speclint.runtime.simulate import simulate_tpu  # noqa: E402

PREFIX = "speclint-tpusim-"


def _state():
    from tensorflow.python.summary.writer.writer_cache import FileWriterCache

    threads = sorted(t.name for t in threading.enumerate() if t.is_alive())
    handles = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if PREFIX in target:
            handles.append(target)
    with FileWriterCache._lock:
        cached = sorted(k for k in FileWriterCache._cache if PREFIX in str(k))
    return threads, sorted(handles), cached


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list open files")
def test_simulate_tpu_leaves_no_thread_open_file_or_writer_behind():
    params = {"summary_dir": tempfile.mkdtemp(prefix="speclint-leak-summaries-"), "init_checkpoint": None}
    before = _state()
    for _ in range(2):
        result = simulate_tpu(models.good_bert_model_fn, models.input_fn, params=params,
                              modes=("train", "eval"), shim=False)
        # the twin: the graph really was built (a failing build would never create the writer)
        assert result.outcomes["train"].status == "built", result.outcomes
        assert _state() == before
