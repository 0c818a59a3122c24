"""``tf-pipeline finetune``: fine-tune a classifier on a labelled file (Keras fit)."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from tf_pipeline.cli.options import positive_int
from tf_pipeline.training.default_model import MPNET_RECIPE
from tf_pipeline.training.recipe import Recipe

NAME = "finetune"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="fine-tune a model on a labelled CSV, TSV or JSONL file (Keras fit)",
        description=(
            "Fine-tune with Keras compile/fit on a CSV or TSV file (a header naming the text and label columns) or "
            "a JSONL file ({\"text\", \"label\"} per line); text pairs (NLI, paraphrase, query-passage relevance) "
            "add a second text per example (--text-pair-column, or \"text_pair\" in JSONL). Labels are names or "
            "integer ids. The defaults are the "
            "recipe that built the small default model (AdamW, warm-up then linear decay, texts of similar length "
            "batched together); --top-layers trains only the top layers, as the default model was "
            "(docs/training.md). Writes a standard HF checkpoint that --model loads, plus metrics.json; prints "
            "the metrics as JSON."
        ),
    )
    parser.add_argument("--data", required=True, help="training data, CSV, TSV or JSONL")
    parser.add_argument("--output", required=True, help="folder for the fine-tuned checkpoint (e.g. saved_models/NAME)")
    parser.add_argument("--model", help="checkpoint to start from (default: the shipped MiniLM-L6 encoder)")
    parser.add_argument("--text-column", default="text", help="the column (or JSON field) with the texts (default: text)")
    parser.add_argument("--label-column", default="label", help="the column (or JSON field) with the labels (default: label)")
    parser.add_argument("--text-pair-column", metavar="NAME",
                        help="text pairs: the column with each example's second text (a JSONL \"text_pair\" field is "
                             "read without it)")
    held_out = parser.add_mutually_exclusive_group()
    held_out.add_argument("--validation-split", type=float, default=0.1,
                          help="share of --data held out for validation (default: 0.1)")
    held_out.add_argument("--validation-data", help="a separate validation file instead of --validation-split")
    default = MPNET_RECIPE
    recipe = parser.add_argument_group(
        f"recipe (defaults: the small default model's; the default model's adds --top-layers {default.top_layers} "
        f"--epochs {default.epochs} --learning-rate {default.learning_rate:.0e})")
    recipe.add_argument("--epochs", type=positive_int, default=Recipe.epochs, help="epochs of the classifier (default: %(default)s)")
    recipe.add_argument("--batch-size", type=positive_int, default=Recipe.batch_size, help="default: %(default)s")
    recipe.add_argument("--learning-rate", type=float, default=Recipe.learning_rate, help="peak AdamW learning rate (default: %(default)s)")
    recipe.add_argument("--warmup", type=float, default=Recipe.warmup, help="share of steps warming up, then linear decay to 0 (default: %(default)s)")
    recipe.add_argument("--weight-decay", type=float, default=Recipe.weight_decay, help="AdamW weight decay (default: %(default)s)")
    recipe.add_argument("--label-smoothing", type=float, default=Recipe.label_smoothing, help="default: %(default)s")
    recipe.add_argument("--max-length", type=positive_int, default=Recipe.max_length, help="truncate texts to this many tokens (default: %(default)s)")
    recipe.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction, default=Recipe.freeze_embeddings,
                        help="keep the token embeddings as pretrained (default: %(default)s)")
    recipe.add_argument("--frozen-layers", type=int, default=Recipe.frozen_layers,
                        help="keep this many of the lowest encoder layers as pretrained (default: %(default)s)")
    recipe.add_argument("--top-layers", type=int, default=Recipe.top_layers,
                        help="train only the top N encoder layers and the head, over the lower layers' outputs "
                             "computed once: much faster on a large encoder (BERT-style and MPNet models; "
                             "default: %(default)s = the whole model)")
    recipe.add_argument("--contrastive-epochs", type=int, default=Recipe.contrastive_epochs,
                        help="SetFit-style stage first: epochs pulling same-label texts together (default: %(default)s)")
    recipe.add_argument("--weight-average", type=float, default=Recipe.weight_average,
                        help="keep a moving average of the weights with this momentum, e.g. 0.99 (default: %(default)s = off)")
    recipe.add_argument("--patience", type=positive_int, default=Recipe.patience,
                        help="early stopping: stop after N epochs without lower validation loss and keep the best epoch "
                             "(default: off, every epoch runs)")
    recipe.add_argument("--seed", type=int, default=Recipe.seed, help="random seed (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.training.finetune import finetune

    recipe = Recipe(**{item.name: getattr(args, item.name) for item in fields(Recipe)})
    result = finetune(
        args.data, args.output, model=args.model, recipe=recipe, validation_split=args.validation_split,
        validation_data=args.validation_data, overwrite=args.overwrite, text_column=args.text_column,
        label_column=args.label_column, text_pair_column=args.text_pair_column,
    )
    print(json.dumps(result.metrics()))
