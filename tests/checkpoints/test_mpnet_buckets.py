"""MPNet's relative-position buckets from a table: HF's own buckets, and no float64 left in the graph."""

import tensorflow as tf
from transformers.models.mpnet.modeling_tf_mpnet import TFMPNetEncoder

from tf_pipeline.checkpoints.loading import load_checkpoint
from tf_pipeline.checkpoints.mpnet_buckets import MAX_DISTANCE, bucket_table


def test_the_table_holds_hfs_bucket_for_every_relative_position():
    for buckets in (32, 16):
        relative = tf.range(-513, 514)
        expected = TFMPNetEncoder._relative_position_bucket(relative, num_buckets=buckets).numpy()
        assert (bucket_table(max_distance=MAX_DISTANCE, num_buckets=buckets, positions=514) == expected).all()


def test_a_loaded_mpnet_has_no_float64_ops(tiny_checkpoint):
    checkpoint = load_checkpoint(tiny_checkpoint("mpnet", num_labels=2)[0], task="text-classification")
    model = checkpoint.model
    spec = tf.TensorSpec([None, None], tf.int32)
    graph = tf.function(lambda ids, mask: model(input_ids=ids, attention_mask=mask).logits).get_concrete_function(spec, spec).graph
    assert not [op.type for op in graph.get_operations() if any(out.dtype == tf.float64 for out in op.outputs)]
