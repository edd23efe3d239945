"""The input pipeline a TPU run would build, while the TPU simulation builds the graph.

Programs decide `drop_remainder` from their TPU flag before the input_fn exists (BERT:
`eval_drop_remainder = True if FLAGS.use_tpu else False`, then
`file_based_input_fn_builder(..., drop_remainder=eval_drop_remainder)`): on a TPU run the
batches have a static size, on the CPU run the simulation starts from they do not. Setting the
flag for the simulated build (`tpupath.tpu_flags`) cannot redo that earlier computation, so the
simulation would report the CPU pipeline's dynamic batch as a TPU failure.

So while a simulated build runs, a `batch` / `padded_batch` / `map_and_batch` call in the user's
code whose `drop_remainder=` is a *variable* (the program's own decision) gets
`drop_remainder=True`, as the program passes on TPU. A literal `drop_remainder=False`, or no
`drop_remainder` at all, is left alone: that dynamic batch is the real SL044 bug.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import sys

from speclint.runtime import locate


def _variable_keyword(frame, names=("drop_remainder",)) -> bool:
    """The call at `frame`'s current line passes drop_remainder= as a name/attribute/subscript."""
    loc = locate.frame_location(frame)
    if loc is None:
        return False
    node = locate.outermost_call_at(locate.abs_path_of(frame), loc.line)
    if node is None:
        return False
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        for kw in call.keywords:
            if kw.arg in names and isinstance(kw.value, (ast.Name, ast.Attribute, ast.Subscript)):
                return True
    return False


def _wrap(original):
    @functools.wraps(original)
    def batch(*args, **kwargs):
        if kwargs.get("drop_remainder") is False:
            frame = sys._getframe(1)
            if locate.is_user_file(frame.f_code.co_filename):
                try:
                    if _variable_keyword(frame):
                        kwargs["drop_remainder"] = True
                except Exception:  # noqa: BLE001 - never break the build over this
                    pass
        return original(*args, **kwargs)

    return batch


@contextlib.contextmanager
def tpu_batches():
    """For the block: variable `drop_remainder=False` batches in user code become static."""
    targets = []
    try:
        from tensorflow.python.data.ops import dataset_ops
        for cls in (dataset_ops.DatasetV2, dataset_ops.DatasetV1):
            for attr in ("batch", "padded_batch"):
                if attr in vars(cls):
                    targets.append((cls, attr))
        from tensorflow.python.data.experimental.ops import batching
        targets.append((batching, "map_and_batch"))
        import tensorflow as tf
        for mod in (tf.data.experimental, tf.compat.v1.data.experimental):
            if getattr(mod, "map_and_batch", None) is getattr(batching, "map_and_batch", None):
                targets.append((mod, "map_and_batch"))
    except Exception:  # noqa: BLE001 - another TF layout: nothing to adjust
        targets = []
    saved = []
    try:
        for owner, attr in targets:
            original = vars(owner)[attr] if isinstance(owner, type) else getattr(owner, attr)
            saved.append((owner, attr, original))
            setattr(owner, attr, _wrap(original))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)
