"""What the model_fn call built in its graph: TF1 summaries in a TPU model_fn (SL012), the global
step update behind train_op (SL023), CrossShardOptimizer versus the TPU (SL043)."""
from __future__ import annotations

from collections import deque

from speclint import apis
from speclint.finding import Finding
from speclint.runtime import locate
from speclint.runtime.checks.registry import construction_check, return_check
from speclint.runtime.objects import created_in_call, mode_value


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
            loc = locate.call_location(locate.tensor_origin(op)) or call.model_fn_location()
            key = (loc.path, loc.line) if loc else None
            if key in seen:
                continue
            seen.add(key)
            yield Finding("SL012", loc, "default", dict(
                call=locate.source_at(loc, op.name), op=apis.V1_SUMMARY_V2_NAMES.get(op.type, "scalar")))


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


@construction_check("SL023")
def global_step(con, call, tf):
    """Checked when the TRAIN spec is built (a TF error later in the same constructor must not
    hide it)."""
    if call is None or mode_value(call.mode) != apis.TRAIN or call.on_tpu:
        return
    train_op = con.args.get("train_op")
    if isinstance(train_op, tf.Variable) or not isinstance(train_op, (tf.Tensor, tf.Operation)):
        return  # SL022's business
    graph = getattr(train_op, "graph", None)
    if graph is None or (tf.FuncGraph and isinstance(graph, tf.FuncGraph)):
        return
    gs = tf.v1.train.get_global_step(graph)
    if gs is None or _global_step_written(train_op, gs):
        return
    apply_op = _apply_op(train_op)
    origin = locate.call_location(locate.tensor_origin(apply_op)) if apply_op is not None else None
    loc = origin or (con.field_location("train_op") if con else call.model_fn_location())
    expr = locate.source_at(origin, "train_op") if origin else (con.expr("train_op", "train_op") if con else "train_op")
    method = "apply_gradients" if "apply_gradients" in expr else "minimize"
    yield Finding("SL023", loc, "v1", dict(expr=expr, method=method))


def _apply_op(train_op, limit: int = 5000):
    """The first gradient-applying op among train_op's ancestors (its user line names the
    optimizer call)."""
    start = getattr(train_op, "op", train_op)
    queue, seen = deque([start]), {start}
    while queue and len(seen) < limit:
        op = queue.popleft()
        if op.type.startswith(("ResourceApply", "Apply")):
            return op
        for nxt in list(op.control_inputs) + [t.op for t in op.inputs]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return None


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
            apply_op = next((op for op in ops if op.type.startswith(("ResourceApply", "Apply"))), None)
            if apply_op is None:
                return  # no optimizer step in this graph (e.g. Mesh-TF reduces itself)
            origin = locate.call_location(locate.tensor_origin(apply_op))
            opt = apply_op.type.replace("ResourceApply", "").replace("Apply", "") or "the"
            yield Finding("SL043", origin or loc, "missing", dict(expr=locate.source_at(origin, "train_op"),
                                                                  opt=f"a {opt} optimizer"))
    elif sums and call.param(apis.PARAMS_USE_TPU) is False:
        origin = locate.tensor_origin(sums[0])
        wrap = locate.find_call_in_function(origin, "CrossShardOptimizer") or locate.call_location(origin)
        yield Finding("SL043", wrap or loc, "off_tpu", dict(
            expr=locate.source_at(wrap, "CrossShardOptimizer(...)"),
            why="although this model_fn call does not run on TPU (params['use_tpu'] is False)"))
