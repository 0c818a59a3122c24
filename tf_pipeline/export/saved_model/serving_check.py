"""Load an export the way TF Serving does, in a process that has not imported transformers.

Run by :func:`tf_pipeline.export.saved_model.verify.verify_export` as ``python -m tf_pipeline.export.saved_model.serving_check DIR``;
reads ``{"texts": [...], "ids": {name: [[...]]}, "pairs": [...], "requests": {signature: {input: value}}}`` on stdin and writes JSON on stdout: the op
audit and every signature's outputs, from the TF1 session loader with the ``serve`` tag.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def graph_ops(export_dir: str) -> set[str]:
    """Every op type in the SavedModel: the graph and all functions in its library."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(Path(export_dir, "saved_model.pb").read_bytes())
    ops = set()
    for meta_graph in saved_model.meta_graphs:
        ops |= {node.op for node in meta_graph.graph_def.node}
        for function in meta_graph.graph_def.library.function:
            ops |= {node.op for node in function.node_def}
    return ops


def audit_ops(export_dir: str) -> dict:
    """Split the ops into core TensorFlow (registered here) and the rest (tensorflow-text's, or unknown).

    Must run before tensorflow_text is imported, so that "registered" means core TensorFlow.
    """
    from tensorflow.python.framework import op_def_registry

    ops = graph_ops(export_dir)
    core = sorted(op for op in ops if op_def_registry.get(op) is not None)
    return {"core": core, "other": sorted(ops - set(core))}


def run_signatures(export_dir: str, texts: list[str], ids: dict, pairs: list[str] | None = None,
                   only: str | None = None, requests: dict | None = None) -> dict:
    """Run each signature (or ``only`` that one) by its signature def, TF1 style, like TF Serving's session bundle.

    ``pairs``: the second texts (one per text) for a signature that takes ``text`` and ``text_pair``;
    ``requests``: the inputs of a task's own signatures, by signature name.
    """
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (TF Serving links these ops)

    results = {}
    with tf.compat.v1.Session(graph=tf.Graph()) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
        for name, signature in meta_graph.signature_def.items():
            if name.startswith("__") or (only is not None and name != only):
                continue
            feeds = (_encoded((requests or {})[name]) if name in (requests or {})
                     else _feeds(signature, texts, ids, pairs))
            fetches = {key: info.name for key, info in signature.outputs.items()}
            values = session.run(fetches, {signature.inputs[key].name: value for key, value in feeds.items()})
            results[name] = {
                "method_name": signature.method_name,
                "outputs": {key: _jsonable(value) for key, value in values.items()},
            }
    return results


def _feeds(signature, texts: list[str], ids: dict, pairs: list[str] | None) -> dict:
    import tensorflow as tf

    inputs = set(signature.inputs)
    if inputs == {"text"}:
        return {"text": [text.encode("utf-8") for text in texts]}
    if inputs == {"text", "text_pair"}:
        return {"text": [text.encode("utf-8") for text in texts], "text_pair": [text.encode("utf-8") for text in pairs]}
    if inputs == {"inputs"}:
        return {"inputs": [
            tf.train.Example(features=tf.train.Features(feature={
                "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode("utf-8")]))
            })).SerializeToString()
            for text in texts
        ]}
    return {name: ids[name] for name in inputs}


def _encoded(request: dict) -> dict:
    """A JSON request's values as the session takes them: strings (and lists of them) as UTF-8 bytes."""
    def encode(value):
        if isinstance(value, str):
            return value.encode("utf-8")
        return [encode(item) for item in value] if isinstance(value, list) else value

    return {name: encode(value) for name, value in request.items()}


def _jsonable(value):
    if value.dtype.kind in {"S", "O"}:
        return [_jsonable(item) if hasattr(item, "dtype") and item.ndim else item.decode("utf-8") for item in value]
    return value.tolist()


def main(export_dir: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    request = json.load(sys.stdin)
    report = {"ops": audit_ops(export_dir)}
    report["signatures"] = run_signatures(export_dir, request["texts"], request["ids"], request.get("pairs"),
                                          requests=request.get("requests"))
    if request.get("pair_ids"):  # the export's own answer to the pairs, as ids: the reference without a checkpoint
        report["pair_reference"] = run_signatures(export_dir, [], request["pair_ids"], only="predict_ids")["predict_ids"]["outputs"]
    report["transformers_imported"] = "transformers" in sys.modules
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
