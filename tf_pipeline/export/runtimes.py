"""The runtimes a checkpoint answers on, one argument away (``load_pipeline(runtime=...)``,
``--runtime``). Names only, no TensorFlow import, so the CLI can offer them cheaply.

Example:
    >>> RUNTIMES
    ('tf', 'tflite', 'tflite-int8')
    >>> TFLITE_QUANTIZE["tflite-int8"]      # convert_to_tflite's quantize for that runtime
    'dynamic-int8'
"""

QUANTIZATIONS = ("none", "float16", "dynamic-int8", "int8")  # convert_to_tflite's quantize
FLAVOURS = ("ids", "strings")  # what a .tflite file takes: token ids, or the texts themselves
TFLITE_QUANTIZE = {"tflite": "none", "tflite-int8": "dynamic-int8"}
RUNTIMES = ("tf", *TFLITE_QUANTIZE)
