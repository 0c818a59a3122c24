"""What the benchmark can run: our variants, the peers, the text sets. Names only, no TensorFlow
import, so the CLI can list them cheaply.

Example:
    >>> "ort_fp32" in VENV_PEERS, TEXT_SETS
    (True, ('mixed', 'short', 'pairs'))
"""

OURS = ("tf_pipeline", "tf_pipeline_input_order", "tf_pipeline_xla", "saved_model_strings", "saved_model_ids",
        "tflite_float32", "tflite_dynamic_int8")
VENV_PEERS = ("hf_pt_pipeline", "optimum_ort_pipeline", "ort_fp32", "ort_dynamic_int8")  # run by torch_python
PEERS = ("hf_tf_pipeline", *VENV_PEERS)
VARIANTS = ("hf_tf_pipeline", *OURS, *VENV_PEERS)
ORT_PEERS = ("optimum_ort_pipeline", "ort_fp32", "ort_dynamic_int8")
TEXT_SETS = ("mixed", "short", "pairs")  # mixed-length reviews; the shipped short sentences; query–passage pairs
DEFAULT_TEXT_SETS = ("mixed", "short")  # what `bench` measures unless --text-sets names others
