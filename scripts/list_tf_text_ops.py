"""List the ops tensorflow-text registers, for the SavedModel op audit.

TF Serving links tensorflow-text 2.20 from release 2.20 on, and 2.12.1 in releases 2.12 – 2.19
(tensorflow/serving's workspace.bzl), so each list is made in a venv of its own with the matching
tensorflow beside it:

    python3 -m venv /tmp/tft220 && /tmp/tft220/bin/pip install "tensorflow==2.20.*" "tensorflow-text==2.20.*"
    /tmp/tft220/bin/python scripts/list_tf_text_ops.py > tf_pipeline/export/tf_text_2_20_ops.txt
    python3 -m venv /tmp/tft212 && /tmp/tft212/bin/pip install "tensorflow==2.12.*" "tensorflow-text==2.12.1"
    /tmp/tft212/bin/python scripts/list_tf_text_ops.py > tf_pipeline/export/tf_text_2_12_ops.txt
"""

import tensorflow as tf
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c_api


def registered_ops() -> set[str]:
    ops = op_def_pb2.OpList()
    ops.ParseFromString(c_api.TF_GetBuffer(c_api.TF_GetAllOpList()))
    return {op.name for op in ops.op}


core = registered_ops()
import tensorflow_text  # noqa: E402  (registers its ops)

print(f"# ops registered by tensorflow-text {tensorflow_text.__version__} (tensorflow {tf.__version__})")
print("\n".join(sorted(registered_ops() - core)))
