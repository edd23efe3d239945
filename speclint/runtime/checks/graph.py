"""What the model_fn call built in its graph: TF1 summaries in a TPU model_fn (SL012), the global
step update behind train_op (SL023), CrossShardOptimizer versus the TPU (SL043)."""
from __future__ import annotations

from collections import deque

from speclint import apis
from speclint.runtime import locate
from speclint.runtime.checks import return_check
from speclint.runtime.context import Finding
from speclint.runtime.values import created_in_call, mode_value


def new_ops(call):
    graph = call.graph
    if graph is None:
        return []
    return [op for op in graph.get_operations() if created_in_call(op, call)]


def _spec_like(result, tf):
    return isinstance(result, (tf.EstimatorSpec, tf.TPUEstimatorSpec))


@return_check("SL012")
def tpu_summaries(result, con, call, tf):
    if not call.on_tpu or not _spec_like(result, tf):
        return
    seen = set()
    for op in new_ops(call):
        if op.type in apis.V1_SUMMARY_OP_TYPES and op.type != "MergeSummary":
            loc = locate.tensor_origin(op) or call.model_fn_location()
            key = (loc.path, loc.line) if loc else None
            if key in seen:
                continue
            seen.add(key)
            yield Finding("SL012", "default", dict(op=op.type, name=op.name), loc)


def _global_step_written(train_op, gs, limit: int = 20000) -> bool:
    """Whether an op among train_op's ancestors (inputs and control inputs) writes `gs`."""
    target_names = {gs.op.name}
    handle = getattr(gs, "handle", None)
    if handle is not None:
        target_names.add(handle.op.name)
    start = getattr(train_op, "op", train_op)
    queue, seen = deque([start]), {start}
    while queue and len(seen) < limit:
        op = queue.popleft()
        if op.inputs and (op.type in apis.ASSIGN_OP_TYPES or op.type.startswith(("ResourceApply", "Apply", "Assign"))):
            if op.inputs[0].op.name in target_names:
                return True
        for nxt in list(op.control_inputs) + [t.op for t in op.inputs]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return len(seen) >= limit  # too big to tell: assume fine


@return_check("SL023")
def global_step(result, con, call, tf):
    if not _spec_like(result, tf) or mode_value(call.mode) != apis.TRAIN:
        return
    train_op = result.train_op
    if train_op is None or call.on_tpu:
        return
    graph = getattr(train_op, "graph", None)
    if graph is None or (tf.FuncGraph and isinstance(graph, tf.FuncGraph)):
        return
    gs = tf.v1.train.get_global_step(graph)
    if gs is None or _global_step_written(train_op, gs):
        return
    loc = con.field_location("train_op") if con else call.model_fn_location()
    expr = con.expr("train_op", "train_op") if con else "train_op"
    yield Finding("SL023", "default", dict(expr=expr), loc)


@return_check("SL043")
def cross_shard(result, con, call, tf):
    if not _spec_like(result, tf) or mode_value(call.mode) != apis.TRAIN or result.train_op is None:
        return
    ops = new_ops(call)
    sums = [op for op in ops if op.type == apis.CROSS_REPLICA_SUM_OP]
    loc = con.field_location("train_op") if con else call.model_fn_location()
    if call.on_tpu:
        replicas = getattr(call.param(apis.PARAMS_CONTEXT), "num_replicas", None)
        if not sums and isinstance(replicas, int) and replicas > 1:
            yield Finding("SL043", "missing", dict(replicas=replicas), loc)
    elif sums and call.param(apis.PARAMS_USE_TPU) is False:
        yield Finding("SL043", "off_tpu", dict(), locate.tensor_origin(sums[0]) or loc)
