"""Dense layers traced as matmul: the same products, and TFLite graphs without run-time shape arithmetic."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from tf_pipeline import SavedModelPipeline, convert_to_tflite, export_saved_model, load_pipeline
from tf_pipeline.export.tflite.graph import dense_as_matmul


def graph_facts(path) -> dict:
    """Op names of a converted file (its flatbuffer; the zip after it is ignored), whether every
    FULLY_CONNECTED input has a known last dimension, and the positions each 3-D one has when the file
    runs a ``[2, 7]`` batch (TFLite's own kernels, which keep every tensor's shape)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(path.read_bytes()))
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    subgraph = model.subgraphs[0]
    ops, fc_inputs_known, fc_inputs = [], True, []
    for op in subgraph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        ops.append(names[max(code.builtinCode, code.deprecatedBuiltinCode)])
        if ops[-1] == "FULLY_CONNECTED":
            signature = subgraph.tensors[op.inputs[0]].shapeSignature
            shape = [int(size) for size in (signature if signature is not None else subgraph.tensors[op.inputs[0]].shape)]
            fc_inputs_known &= shape[-1] > 0
            fc_inputs.append(op.inputs[0])
    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    runner = interpreter.get_signature_runner("serving_default")
    runner(**{name: np.ones([2, 7], np.int32) for name in runner.get_input_details()})
    shapes = {detail["index"]: detail["shape"] for detail in interpreter.get_tensor_details()}
    positions = [int(shapes[index][1]) for index in fc_inputs if len(shapes[index]) == 3]
    return {"ops": ops, "fc_inputs_known": fc_inputs_known, "fc_positions": positions}


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


@pytest.mark.parametrize("quantize", ["none", pytest.param("dynamic-int8", marks=pytest.mark.slow)])
def test_converted_graphs_keep_no_shape_arithmetic_around_dense_layers(tiny_checkpoint, tmp_path, quantize):
    """From a checkpoint and from a SavedModel export: every dense layer is one FULLY_CONNECTED whose input
    keeps its hidden size, with no REDUCE_PROD of shapes before it, and the last layer runs for the first
    token only (docs/tflite.md, "The graph")."""
    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    export = SavedModelPipeline(export_saved_model(pipe, tmp_path / "export"))
    for source in (pipe, export):
        facts = graph_facts(convert_to_tflite(source, tmp_path / "m.tflite", quantize=quantize))
        assert facts["fc_inputs_known"]
        assert "REDUCE_PROD" not in facts["ops"]
        assert facts["ops"].count("FULLY_CONNECTED") == 6 * pipe.config.num_hidden_layers + 2  # + pooler, classifier
        layers = pipe.config.num_hidden_layers  # the last one's query, attention output and feed-forward: first token
        assert sorted(facts["fc_positions"]) == [1] * 4 + [7] * (6 * (layers - 1) + 2)
