"""Dense layers traced as matmul: the same products, and TFLite graphs without run-time shape arithmetic."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from tf_pipeline import SavedModelPipeline, convert_to_tflite, export_saved_model, load_pipeline
from tf_pipeline.export.tflite_graph import dense_as_matmul


def graph_facts(path) -> dict:
    """Op names of a converted file (its flatbuffer; the zip after it is ignored), and whether every
    FULLY_CONNECTED input has a known last dimension."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(path.read_bytes()))
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    subgraph = model.subgraphs[0]
    ops, fc_inputs_known = [], True
    for op in subgraph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        ops.append(names[max(code.builtinCode, code.deprecatedBuiltinCode)])
        if ops[-1] == "FULLY_CONNECTED":
            signature = subgraph.tensors[op.inputs[0]].shapeSignature
            shape = signature if signature is not None else subgraph.tensors[op.inputs[0]].shape
            fc_inputs_known &= int(shape[-1]) > 0
    return {"ops": ops, "fc_inputs_known": fc_inputs_known}


def test_dense_as_matmul_computes_the_same_products_and_restores_tensordot():
    original = tf.tensordot
    dense = tf_keras.layers.Dense(5)  # the Keras HF's TF models are built with
    x = tf.random.stateless_normal([2, 3, 4], seed=[1, 2])
    expected = dense(x).numpy()
    with dense_as_matmul():
        assert tf.tensordot is not original and tf.compat.v2.tensordot is not original
        np.testing.assert_allclose(dense(x).numpy(), expected, atol=1e-6)
        traced = tf.function(dense).get_concrete_function(tf.TensorSpec([None, None, 4]))
        other = tf.tensordot(x, tf.ones([3, 2]), [[1], [0]])  # not a dense layer's axes: unchanged
    np.testing.assert_allclose(traced(x).numpy(), expected, atol=1e-6)
    assert "Prod" not in {node.op for node in traced.graph.as_graph_def().node}  # no run-time shape arithmetic
    np.testing.assert_allclose(other.numpy(), original(x, tf.ones([3, 2]), [[1], [0]]).numpy())
    with pytest.raises(RuntimeError), dense_as_matmul():
        raise RuntimeError("restored on errors too")
    assert tf.tensordot is original and tf.compat.v2.tensordot is original


@pytest.mark.parametrize("quantize", ["none", "dynamic-int8"])
def test_converted_graphs_keep_no_shape_arithmetic_around_dense_layers(tiny_checkpoint, tmp_path, quantize):
    """From a checkpoint and from a SavedModel export: every dense layer is one FULLY_CONNECTED whose input
    keeps its hidden size, with no REDUCE_PROD of shapes before it (docs/tflite.md, "The graph")."""
    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    export = SavedModelPipeline(export_saved_model(pipe, tmp_path / "export"))
    for source in (pipe, export):
        facts = graph_facts(convert_to_tflite(source, tmp_path / "m.tflite", quantize=quantize))
        assert facts["fc_inputs_known"]
        assert "REDUCE_PROD" not in facts["ops"]
        assert facts["ops"].count("FULLY_CONNECTED") == 6 * pipe.config.num_hidden_layers + 2  # + pooler, classifier
