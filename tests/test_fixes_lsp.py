"""Issue 13, fixes in the editor: each fix is a `quickfix` code action of its diagnostic (a safe
one preferred, an unsafe one titled so and never preferred), and `source.fixAll.speclint` applies
every safe fix of the document at once.  Driven through pytest-lsp like tests/test_lsp.py."""
import textwrap

import pytest
from lsprotocol import types

from test_lsp import (  # noqa: F401 - `client` is a fixture
    apply_edit, change_doc, client, diagnostics_for, initialize, open_doc,
)

pytest.importorskip("pygls.lsp.server")

DOC = textwrap.dedent("""\
    import tensorflow as tf


    def model_fn(features, labels, mode, params):
        logits = tf.compat.v1.layers.dense(features["x"], 2)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hook = tf.compat.v1.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
        train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(
            tf.reduce_mean(loss), global_step=tf.compat.v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, train_op=train_op, training_hooks=hook, prediction={"logits": logits})
    """)


async def actions_for(client, uri, diagnostics, only=None, rng=None):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=rng or diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics, only=only)))


@pytest.mark.asyncio
async def test_quick_fixes_per_diagnostic_and_fix_all(client, tmp_path):
    result = await initialize(client, tmp_path)
    kinds = result.capabilities.code_action_provider.code_action_kinds
    assert types.CodeActionKind.QuickFix in kinds and "source.fixAll.speclint" in kinds
    uri = (tmp_path / "model.py").as_uri()
    open_doc(client, uri, DOC)
    diags = await diagnostics_for(client, uri, 1)
    by_code = {d.code: d for d in diags}
    assert set(by_code) == {"SL018", "SL020", "SL030"}, [(d.code, d.message[:60]) for d in diags]

    (hook_fix,) = [a for a in await actions_for(client, uri, [by_code["SL030"]])
                   if a.title.startswith("Wrap")]
    assert hook_fix.kind == types.CodeActionKind.QuickFix and hook_fix.is_preferred
    assert "training_hooks=[hook]" in apply_edit(DOC, hook_fix.edit, uri)

    (loss_fix,) = [a for a in await actions_for(client, uri, [by_code["SL020"]])
                   if a.title.startswith("Reduce")]
    assert loss_fix.title.endswith("(SL020, unsafe)") and not loss_fix.is_preferred
    assert "loss=tf.reduce_mean(loss)" in apply_edit(DOC, loss_fix.edit, uri)

    whole = types.Range(start=types.Position(0, 0), end=types.Position(len(DOC.splitlines()), 0))
    (fix_all,) = await actions_for(client, uri, diags, only=[types.CodeActionKind.SourceFixAll], rng=whole)
    assert fix_all.kind == "source.fixAll.speclint"
    fixed = apply_edit(DOC, fix_all.edit, uri)
    assert "training_hooks=[hook]" in fixed and "predictions={" in fixed
    assert "loss=loss," in fixed  # the unsafe fix is not part of fixAll
    change_doc(client, uri, fixed, 2)
    assert [d.code for d in await diagnostics_for(client, uri, 2)] == ["SL020"]
    # a quick-fix request does not get the source action, and a source request no quick fixes
    assert all(a.kind == types.CodeActionKind.QuickFix for a in await actions_for(client, uri, diags))
    assert await actions_for(client, uri, diags, only=[types.CodeActionKind.Source], rng=whole) != []
    clean = fixed.replace("loss=loss,", "loss=tf.reduce_mean(loss),")
    change_doc(client, uri, clean, 3)
    assert await diagnostics_for(client, uri, 3) == []
    assert not await actions_for(client, uri, diags, only=["source.fixAll.speclint"], rng=whole)
