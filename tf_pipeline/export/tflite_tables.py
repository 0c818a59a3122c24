"""Dynamic-int8 .tflite files: embedding tables re-quantized with one scale per column.

The converter's dynamic-range quantization stores each embedding table as int8 with one scale for
the whole table, and the looked-up rows are dequantized after the ``GATHER``. One scale for 30k
words of very different ranges is what moved most int8 labels away from float32 (docs/tflite.md,
"Quantization"): one scale per hidden dimension keeps the same int8 table and file size and the
same ops, and the looked-up rows carry the same per-column scales into their ``DEQUANTIZE``.

Example:
    >>> flatbuffer = quantize_tables_per_column(converter.convert(), saved_model_matrices("workdir/saved_model"))
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
    for subgraph in model.subgraphs:
        consumers = defaultdict(list)
        for op in subgraph.operators:
            for index in op.inputs:
                consumers[index].append(op.opcodeIndex)
        for op in subgraph.operators:
            if op.opcodeIndex in gather and consumers[op.outputs[0]] and set(consumers[op.outputs[0]]) <= dequantize:
                _requantize(model, subgraph.tensors[op.inputs[0]], subgraph.tensors[op.outputs[0]], weights)
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


def _requantize(model, table, rows, weights: Sequence[np.ndarray]) -> None:
    """Per-column scales for ``table`` (and the looked-up ``rows``), if it is a per-tensor int8 constant
    whose float source is exactly one of ``weights``."""
    quantization, buffer = table.quantization, model.buffers[table.buffer]
    if (table.type != schema.TensorType.INT8 or buffer.data is None or len(table.shape) != 2
            or rows.quantization is None or quantization is None or quantization.scale is None
            or len(quantization.scale) != 1):
        return
    ints = np.frombuffer(bytes(buffer.data), np.int8).reshape(tuple(table.shape))
    scale, zero = quantization.scale[0], quantization.zeroPoint[0]
    sources = [weight for weight in weights if weight.shape == ints.shape
               and np.mean(np.clip(np.round(weight / scale) + zero, -128, 127) == ints) >= MATCHING_SHARE]
    if len(sources) != 1:
        return
    scales = np.maximum(np.abs(sources[0]).max(axis=0), np.finfo(np.float32).tiny) / 127
    buffer.data = np.frombuffer(np.clip(np.round(sources[0] / scales), -127, 127).astype(np.int8).tobytes(), np.uint8)
    for tensor in (table, rows):
        tensor.quantization.scale = scales.astype(np.float32).tolist()
        tensor.quantization.zeroPoint = [0] * len(scales)
        tensor.quantization.quantizedDimension = len(tensor.shape) - 1
