"""TFAutoModel on the default weights against golden values from transformers' PyTorch BertModel.

tests/golden/minilm_seed.npz is made by scripts/make_golden.sh (PyTorch, in its own venv).
"""

from pathlib import Path

import numpy as np

from conftest import SEED_SENTENCES
from tf_pipeline import load_checkpoint
from tf_pipeline.checkpoints.locations import default_encoder_dir

GOLDEN = Path(__file__).parent / "golden" / "minilm_seed.npz"


def test_last_hidden_state_matches_pytorch():
    golden = np.load(GOLDEN)
    checkpoint = load_checkpoint(default_encoder_dir(), task="feature-extraction")
    assert checkpoint.model.__class__.__name__ == "TFBertModel"
    inputs = checkpoint.tokenizer(SEED_SENTENCES, padding=True, truncation=True, return_tensors="tf")
    np.testing.assert_array_equal(inputs["input_ids"].numpy(), golden["input_ids"])
    np.testing.assert_array_equal(inputs["attention_mask"].numpy(), golden["attention_mask"])
    hidden = checkpoint.model(**inputs, training=False).last_hidden_state.numpy()
    assert hidden.shape == (2, 16, 384)
    np.testing.assert_allclose(hidden, golden["last_hidden_state"], atol=1e-4)
