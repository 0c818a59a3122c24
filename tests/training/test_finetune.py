"""Fine-tuning with Keras: a tiny model learns a synthetic task; bad data gets errors naming the line."""

import json
import random

import numpy as np
import pytest

from tf_pipeline import InvalidInputError, load_pipeline
from tf_pipeline.training.data import LabelledText, read_labelled
from tf_pipeline.training.evaluate import evaluate
from tf_pipeline.training.finetune import finetune

GOOD = ["great", "wonderful", "excellent", "lovely", "perfect"]
BAD = ["awful", "terrible", "horrible", "broken", "boring"]
FILLER = ["the", "film", "food", "service", "hotel", "was", "really", "quite", "app", "and", "room", "staff"]


def synthetic(count: int, seed: int) -> list[LabelledText]:
    """Texts whose label is given by which sentiment word they contain, among random filler words."""
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        label = index % 2
        words = rng.sample(FILLER, rng.randint(2, 6))
        words.insert(rng.randint(0, len(words)), rng.choice(GOOD if label else BAD))
        examples.append(LabelledText(" ".join(words), "pos" if label else "neg"))
    return examples


@pytest.fixture(scope="module")
def tuned(tiny_checkpoint, tmp_path_factory):
    folder, _, _ = tiny_checkpoint("distilbert", num_labels=2)
    output = tmp_path_factory.mktemp("tuned") / "model"
    result = finetune(synthetic(240, seed=1), output, model=folder, epochs=6, batch_size=16,
                      learning_rate=2e-3, max_length=32, seed=0, patience=2, progress=False,
                      freeze_embeddings=False)  # a random tiny model must learn its embeddings
    return result, output


def test_tiny_model_learns_the_task(tuned):
    result, _ = tuned
    heldout = synthetic(100, seed=99)
    assert evaluate(result.pipeline, heldout)["accuracy"] >= 0.85
    assert result.labels == ["neg", "pos"]
    assert 1 <= result.best_epoch <= len(result.history)


def test_checkpoint_reloads_and_predicts_the_same(tuned):
    result, output = tuned
    texts = [example.text for example in synthetic(20, seed=7)]
    reloaded = load_pipeline(output)
    assert reloaded.labels == ["neg", "pos"]
    np.testing.assert_allclose(
        reloaded.run(texts)["logits"],
        result.pipeline.run(texts)["logits"], atol=1e-5,
    )
    metrics = json.loads((output / "metrics.json").read_text())
    assert [epoch["epoch"] for epoch in metrics["history"]] == list(range(1, len(metrics["history"]) + 1))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= metrics["history"][0].keys()
    best = min(metrics["history"], key=lambda epoch: epoch["val_loss"])
    assert metrics["best_epoch"] == best["epoch"]


def test_refuses_to_overwrite(tuned):
    _, output = tuned
    with pytest.raises(InvalidInputError, match="already exists"):
        finetune(synthetic(10, 0), output, model="unused")


def test_cli_finetune_from_csv_with_validation_file(tiny_checkpoint, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    folder, _, _ = tiny_checkpoint("distilbert", num_labels=2)
    train, validation = tmp_path / "train.csv", tmp_path / "valid.jsonl"
    train.write_text("text,label\n" + "".join(f'"{e.text}",{1 if e.label == "pos" else 0}\n' for e in synthetic(60, 3)))
    validation.write_text("".join(json.dumps({"text": e.text, "label": 1 if e.label == "pos" else 0}) + "\n" for e in synthetic(20, 4)))
    cli = str(Path(sys.executable).parent / "tf-pipeline")
    done = subprocess.run([cli, "finetune", "--data", train, "--validation-data", validation, "--model", folder,
                           "--output", tmp_path / "out", "--epochs", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["labels"] == ["LABEL_0", "LABEL_1"]
    assert "epoch 1/1" in done.stderr
    assert load_pipeline(tmp_path / "out").labels == ["LABEL_0", "LABEL_1"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.csv", "text,score\nfine,1\n", r"a.csv line 1: missing column 'label'"),
        ("b.jsonl", '{"text": "fine", "label": "pos"}\n{"text": "ok"}\n', r"b.jsonl line 2: missing 'label'"),
        ("c.csv", "text,label\nfine,pos\n  ,neg\n", r"c.csv line 3: empty text"),
        ("d.jsonl", '{"text": "fine", "label": "pos"}\n{"text": "", "label": "neg"}\n', r"d.jsonl line 2: empty text"),
        ("e.jsonl", '{"text": "fine", "label": "pos"}\nnot json\n', r"e.jsonl line 2: not a JSON object"),
        ("f.txt", "just some\nlines of prose\n", "neither CSV.* nor JSONL"),
    ],
)
def test_bad_data_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        finetune(path, tmp_path / "out")


def test_one_label_and_unseen_validation_label(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps({"text": f"text {i}", "label": "pos"}) + "\n" for i in range(5)))
    with pytest.raises(InvalidInputError, match="only one label"):
        finetune(one, tmp_path / "out")
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps({"text": f"text {i}", "label": ["pos", "neg"][i % 2]}) + "\n" for i in range(6)))
    other = tmp_path / "valid.jsonl"
    other.write_text(json.dumps({"text": "x", "label": "pos"}) + "\n" + json.dumps({"text": "y", "label": "meh"}) + "\n")
    with pytest.raises(InvalidInputError, match=r"valid.jsonl line 2: validation label 'meh'"):
        finetune(two, tmp_path / "out", validation_data=other)


def test_evaluate_refuses_labels_the_model_does_not_have(tuned, tmp_path):
    result, _ = tuned
    data = tmp_path / "maybe.jsonl"
    rows = [("great film", "pos"), ("hard to say", "MAYBE"), ("who knows", "UNSURE"), ("still unsure", "MAYBE")]
    data.write_text("".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows))
    with pytest.raises(InvalidInputError, match=r"does not have \(neg, pos\): 'MAYBE' first at .*maybe.jsonl line 2; "
                                                 r"'UNSURE' first at .*maybe.jsonl line 3\."):
        evaluate(result.pipeline, read_labelled(data))
    with pytest.raises(InvalidInputError, match="does not have .*: 5 first at an example"):
        evaluate(result.pipeline, [LabelledText("fine", 5)])


@pytest.mark.parametrize("settings, message", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(learning_rate=-1.0), "learning_rate is out of range"),
    (dict(label_smoothing=1.5), "label_smoothing is out of range"),
    (dict(weight_average=1.0), "weight_average is out of range"),
    (dict(weight_average=0.99, patience=1), "exclude each other"),
    (dict(learning_rat=1e-4), "Unknown fine-tuning setting"),
])
def test_bad_recipe_settings(tmp_path, settings, message):
    with pytest.raises(InvalidInputError, match=message):
        finetune(synthetic(10, 0), tmp_path / "out", model="unused", **settings)


def test_frozen_layers_must_leave_one_trainable(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("distilbert", num_labels=2)
    with pytest.raises(InvalidInputError, match="frozen_layers=9, but this distilbert model has 2 layers"):
        finetune(synthetic(20, 0), tmp_path / "out", model=folder, frozen_layers=9, progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("architecture", ["mpnet", "bert"])
def test_top_layers_train_over_cached_states_and_leave_the_rest_as_it_was(tiny_checkpoint, tmp_path, architecture):
    from tf_pipeline.checkpoints.loading import load_checkpoint

    folder, _, _ = tiny_checkpoint(architecture, num_labels=2)
    result = finetune(synthetic(480, seed=1), tmp_path / "out", model=folder, top_layers=2, epochs=12, batch_size=16,
                      learning_rate=3e-3, max_length=32, progress=False)  # random tiny layers: slow to start learning
    assert evaluate(result.pipeline, synthetic(100, seed=99))["accuracy"] >= 0.85
    assert [set(epoch) for epoch in result.history] == [{"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}] * 12
    before = load_checkpoint(folder, task="feature-extraction").model
    after = load_checkpoint(tmp_path / "out", task="text-classification").model
    body = getattr(after, after.base_model_prefix)
    for weight in body.embeddings.weights:  # the embeddings stay as pretrained; the layers trained
        same = next(w for w in before.weights if w.name.split("/", 1)[1] == weight.name.split("/", 1)[1])
        np.testing.assert_array_equal(weight.numpy(), same.numpy())
    texts = [example.text for example in synthetic(20, seed=7)]
    np.testing.assert_allclose(load_pipeline(tmp_path / "out").run(texts)["logits"],
                               result.pipeline.run(texts)["logits"], atol=1e-5)


@pytest.mark.parametrize("architecture", ["mpnet", "bert"])
def test_lower_states_are_the_full_models_hidden_states_without_running_the_layers_above(tiny_checkpoint, architecture):
    import tensorflow as tf

    from tf_pipeline.checkpoints.loading import load_checkpoint
    from tf_pipeline.training.top_layers import lower_states

    checkpoint = load_checkpoint(tiny_checkpoint(architecture, num_labels=2)[0], task="text-classification")
    texts = [example.text for example in synthetic(24, seed=3)]
    ids = checkpoint.tokenizer(texts)["input_ids"]
    body = getattr(checkpoint.model, checkpoint.model.base_model_prefix)
    layers = list(body.encoder.layer)
    batches = lower_states(checkpoint.model, {"input_ids": ids}, [0] * len(texts), depths=[0, 1], batch_size=8,
                           progress=False)
    assert body.encoder.layer == layers and len(layers) > 1  # the full stack is back
    shortest_first = sorted(range(len(texts)), key=lambda row: len(ids[row]))
    for index, ((hidden, mask, _), (embedded, _, _)) in enumerate(zip(batches[1], batches[0])):
        rows = shortest_first[8 * index:8 * index + 8]
        padded = np.full(mask.shape, checkpoint.config.pad_token_id or 0, dtype=np.int32)
        for position, row in enumerate(rows):
            padded[position, :len(ids[row])] = ids[row]
        full = body(input_ids=tf.constant(padded), attention_mask=mask, output_hidden_states=True, training=False)
        np.testing.assert_allclose(hidden.numpy(), full.hidden_states[1].numpy(), atol=1e-5)
        np.testing.assert_allclose(embedded.numpy(), full.hidden_states[0].numpy(), atol=1e-6)


def test_top_layers_refuses_what_it_cannot_train(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("distilbert", num_labels=2)
    with pytest.raises(InvalidInputError, match="top_layers is not supported for distilbert.*frozen_layers"):
        finetune(synthetic(20, 0), tmp_path / "out", model=folder, top_layers=1, progress=False)
    folder, _, _ = tiny_checkpoint("mpnet", num_labels=2)
    with pytest.raises(InvalidInputError, match="top_layers=3, but this mpnet model has 2 layers"):
        finetune(synthetic(20, 0), tmp_path / "out", model=folder, top_layers=3, progress=False)
    with pytest.raises(InvalidInputError, match="top_layers .* excludes frozen_layers"):
        finetune(synthetic(20, 0), tmp_path / "out", model=folder, top_layers=1, frozen_layers=1)
    assert not (tmp_path / "out").exists()


def synthetic_pairs(count: int, seed: int) -> list[LabelledText]:
    """Pairs with one sentiment word on each side: "pos" when the good word is in the first text, "neg"
    when it is in the second. Only the order of the pair tells the labels apart."""
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        label = index % 2
        sides = [" ".join(rng.sample(FILLER, rng.randint(1, 4)) + [rng.choice(words)]) for words in (GOOD, BAD)]
        first, second = sides if label else sides[::-1]
        examples.append(LabelledText(first, "pos" if label else "neg", text_pair=second))
    return examples


def test_a_tiny_model_learns_a_task_of_text_pairs(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert", num_labels=2)
    result = finetune(synthetic_pairs(320, seed=1), tmp_path / "pairs", model=folder, epochs=10, batch_size=16,
                      learning_rate=2e-3, max_length=32, seed=0, progress=False, freeze_embeddings=False,
                      validation_split=0.2)
    losses = [epoch["loss"] for epoch in result.history]
    assert losses[-1] < 0.5 * losses[0], losses
    heldout = synthetic_pairs(100, seed=99)
    assert evaluate(result.pipeline, heldout)["accuracy"] >= 0.85
    swapped = [LabelledText(e.text_pair, e.label, text_pair=e.text) for e in heldout]  # the same words, the other order
    assert evaluate(result.pipeline, swapped)["accuracy"] <= 0.15


def test_cached_lower_states_of_pairs_are_the_model_s_own(tiny_checkpoint):
    """--top-layers trains over states computed once: for pairs, with each token's segment (token_type_ids)."""
    from tf_pipeline.training.finetune import tokenize
    from tf_pipeline.training.top_layers import lower_states

    _, model, tokenizer = tiny_checkpoint("bert", num_labels=2)
    examples = synthetic_pairs(12, seed=5)
    encoded = tokenize(tokenizer, examples, 32)
    assert any(1 in types for types in encoded["token_type_ids"])
    [(states, mask, _)] = lower_states(model, encoded, [0] * len(examples), [1], batch_size=64, progress=False)[1]
    order = sorted(range(len(examples)), key=lambda row: len(encoded["input_ids"][row]))
    for position, row in enumerate(order):
        alone = model.bert(**{name: np.array([values[row]]) for name, values in encoded.items()},
                           output_hidden_states=True, training=False).hidden_states[1][0]
        np.testing.assert_allclose(states[position, :len(alone)], alone, atol=1e-5)


def test_pair_files_are_read_and_evaluated_from_the_command_line(tiny_checkpoint, tmp_path):
    import csv
    import subprocess
    import sys
    from pathlib import Path

    folder, _, _ = tiny_checkpoint("bert", num_labels=2)
    with open(tmp_path / "train.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["query", "passage", "relevant"])
        writer.writerows([e.text, e.text_pair, e.label] for e in synthetic_pairs(40, 3))
    (tmp_path / "test.jsonl").write_text("".join(json.dumps({"text": e.text, "text_pair": e.text_pair, "label": e.label})
                                                 + "\n" for e in synthetic_pairs(20, 4)))
    cli = str(Path(sys.executable).parent / "tf-pipeline")
    done = subprocess.run([cli, "finetune", "--data", str(tmp_path / "train.csv"), "--output", str(tmp_path / "model"),
                           "--model", str(folder), "--text-column", "query", "--text-pair-column", "passage",
                           "--label-column", "relevant", "--epochs", "1", "--max-length", "32"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["train_size"] == 36
    done = subprocess.run([cli, "evaluate", "--data", str(tmp_path / "test.jsonl"), "--model", str(tmp_path / "model")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    examples = read_labelled(tmp_path / "test.jsonl")
    assert json.loads(done.stdout) == evaluate(load_pipeline(tmp_path / "model"), examples)
    assert examples[0].text_pair is not None
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"text": "a", "text_pair": "b", "label": "pos"}\n{"text": "c", "label": "neg"}\n')
    with pytest.raises(InvalidInputError, match="mixed.jsonl line 2 has no text_pair"):
        read_labelled(mixed)
    with pytest.raises(InvalidInputError, match="short.csv line 3: empty passage"):
        (tmp_path / "short.csv").write_text("text,passage,label\na,b,pos\nc,,neg\n")
        read_labelled(tmp_path / "short.csv", text_pair_column="passage")
