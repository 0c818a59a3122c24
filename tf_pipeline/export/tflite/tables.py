"""Dynamic-int8 .tflite files: embedding tables re-quantized with one scale per column.

The converter's dynamic-range quantization stores each embedding table as int8 with one scale for
the whole table, and the looked-up rows are dequantized after the ``GATHER``. One scale for 30k
words of very different ranges is what moved most int8 labels away from float32 (docs/tflite.md,
"Quantization"). The table is re-quantized with one scale per hidden dimension (the same int8 size);
the ``DEQUANTIZE`` keeps a per-tensor scale of 1 and a ``MUL`` by the column scales follows it,
because XNNPACK runs both while a per-column ``DEQUANTIZE`` runs in TFLite's reference kernel (10%
of the time on single sentences).

Example:
    >>> flatbuffer = quantize_tables_per_column(converter.convert(), saved_model_matrices("workdir/saved_model"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

MATCHING_SHARE = 0.999  # share of int8 values a float weight must reproduce to be the table's source


def quantize_tables_per_column(flatbuffer: bytes, weights: Sequence[np.ndarray]) -> bytes:
    """``flatbuffer`` with every per-tensor int8 ``GATHER`` table that only feeds ``DEQUANTIZE``
    re-quantized per column from its float source in ``weights``; other tensors are untouched."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    gather, dequantize = (_opcode_indices(model, op) for op in (schema.BuiltinOperator.GATHER,
                                                              schema.BuiltinOperator.DEQUANTIZE))
    done = {}  # table buffer → its column scales (a table looked up twice is re-quantized once)
    for subgraph in model.subgraphs:
        consumers = defaultdict(list)
        for op in subgraph.operators:
            for index in op.inputs:
                consumers[index].append(op)
        for op in list(subgraph.operators):
            if op.opcodeIndex not in gather:
                continue
            users = consumers[op.outputs[0]]
            table, rows = subgraph.tensors[op.inputs[0]], subgraph.tensors[op.outputs[0]]
            if not users or not {user.opcodeIndex for user in users} <= dequantize or rows.quantization is None:
                continue
            if table.buffer not in done:
                done[table.buffer] = _requantize(model, table, weights)
            if done[table.buffer] is not None:
                rows.quantization.scale, rows.quantization.zeroPoint = [1.0], [0]
                for user in users:
                    _scale_columns_after(model, subgraph, user, done[table.buffer])
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def saved_model_matrices(saved_model: str | os.PathLike) -> list[np.ndarray]:
    """Every 2-D float variable a SavedModel holds (where embedding tables come from)."""
    reader = tf.train.load_checkpoint(str(Path(saved_model) / "variables" / "variables"))
    dtypes = reader.get_variable_to_dtype_map()
    return [reader.get_tensor(name) for name, shape in reader.get_variable_to_shape_map().items()
            if len(shape) == 2 and dtypes[name].is_floating]


def _opcode_indices(model, builtin: int) -> set[int]:
    return {index for index, code in enumerate(model.operatorCodes)
            if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin}


def _requantize(model, table, weights: Sequence[np.ndarray]) -> np.ndarray | None:
    """Per-column int8 values for ``table`` (its scale set to 1) and their column scales, if it is a
    per-tensor int8 constant whose float source is exactly one of ``weights``."""
    quantization, buffer = table.quantization, model.buffers[table.buffer]
    if (table.type != schema.TensorType.INT8 or buffer.data is None or len(table.shape) != 2
            or quantization is None or quantization.scale is None or len(quantization.scale) != 1):
        return None
    ints = np.frombuffer(bytes(buffer.data), np.int8).reshape(tuple(table.shape))
    scale, zero = quantization.scale[0], quantization.zeroPoint[0]
    sources = [weight for weight in weights if weight.shape == ints.shape
               and np.mean(np.clip(np.round(weight / scale) + zero, -128, 127) == ints) >= MATCHING_SHARE]
    if len(sources) != 1:
        return None
    scales = (np.maximum(np.abs(sources[0]).max(axis=0), np.finfo(np.float32).tiny) / 127).astype(np.float32)
    buffer.data = np.frombuffer(np.clip(np.round(sources[0] / scales), -127, 127).astype(np.int8).tobytes(), np.uint8)
    table.quantization.scale, table.quantization.zeroPoint = [1.0], [0]
    return scales


def _scale_columns_after(model, subgraph, dequantize, scales: np.ndarray) -> None:
    """Insert ``MUL(dequantized rows, scales)`` after ``dequantize`` and give its users the product."""
    rows = dequantize.outputs[0]
    constant = _add_tensor(model, subgraph, f"{_name(subgraph, rows)}/column_scales", list(scales.shape),
                           data=scales)
    product = _add_tensor(model, subgraph, f"{_name(subgraph, rows)}/scaled", list(subgraph.tensors[rows].shape),
                          signature=subgraph.tensors[rows].shapeSignature)
    for op in subgraph.operators:
        op.inputs = [product if index == rows else index for index in op.inputs]
    subgraph.outputs = [product if index == rows else index for index in subgraph.outputs]
    for signature in model.signatureDefs or []:  # a signature output names tensors by index too
        if model.subgraphs[signature.subgraphIndex] is subgraph:
            for output in signature.outputs or []:
                output.tensorIndex = product if output.tensorIndex == rows else output.tensorIndex
    mul = schema.OperatorT()
    mul.opcodeIndex = _opcode_index(model, schema.BuiltinOperator.MUL)
    mul.inputs, mul.outputs = [rows, constant], [product]
    mul.builtinOptionsType, mul.builtinOptions = schema.BuiltinOptions.MulOptions, schema.MulOptionsT()
    subgraph.operators.insert(subgraph.operators.index(dequantize) + 1, mul)


def _add_tensor(model, subgraph, name: str, shape: list[int], *, data: np.ndarray | None = None,
                signature=None) -> int:
    """A new float32 tensor (a constant when ``data`` is given); its index."""
    buffer = schema.BufferT()
    if data is not None:
        buffer.data = np.frombuffer(data.tobytes(), np.uint8)
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.name, tensor.type, tensor.shape = name.encode(), schema.TensorType.FLOAT32, np.array(shape, np.int32)
    tensor.shapeSignature = signature
    tensor.buffer = len(model.buffers) - 1
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _opcode_index(model, builtin: int) -> int:
    """The model's operator code for ``builtin``, added if the model has none."""
    found = _opcode_indices(model, builtin)
    if found:
        return min(found)
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _name(subgraph, index: int) -> str:
    name = subgraph.tensors[index].name
    return name.decode() if isinstance(name, bytes) else str(name)
