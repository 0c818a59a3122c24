"""Sentence embeddings and feature extraction on the shipped MiniLM-L6 (real weights):
answers like HF's TF FeatureExtractionPipeline (in .venv) and sentence-transformers (in .venv-torch)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tf_pipeline import InvalidInputError, pipeline
from tf_pipeline.checkpoints.locations import default_encoder_dir
from tf_pipeline.training.data import sentiment_set

TORCH_PYTHON = Path(__file__).resolve().parents[2] / ".venv-torch" / "bin" / "python"
TEXTS = ["The soup was cold but the staff were lovely.", "Terrible.", "A film that takes its time and earns it, " * 12]


@pytest.fixture(scope="module")
def embedder():
    return pipeline("sentence-embeddings")  # the shipped encoder


@pytest.fixture(scope="module")
def extractor():
    return pipeline("feature-extraction", model=default_encoder_dir())


@pytest.fixture(scope="module")
def hf_extractor(extractor):
    from transformers import pipeline as hf_pipeline

    return hf_pipeline("feature-extraction", model=extractor.model, tokenizer=extractor.tokenizer, framework="tf",
                       dtype=None)


def test_the_shipped_encoder_is_read_as_sentence_transformers_lays_it_out(embedder):
    assert embedder.task.pooling == ("mean",) and embedder.task.normalize
    assert embedder.task.max_seq_length == 256 and embedder.max_length == 256
    assert pipeline(model=default_encoder_dir()).task.name == "sentence-embeddings"  # inferred from modules.json


def test_feature_extraction_answers_like_hf(extractor, hf_extractor):
    ours, theirs = extractor(TEXTS), hf_extractor(TEXTS)
    assert len(ours) == len(theirs) == len(TEXTS)
    for a, b in zip(ours, theirs):
        assert np.shape(a) == np.shape(b)  # [1][tokens][hidden], each text its own tokens
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-4)
    single = extractor(TEXTS[0], return_tensors=True)
    expected = hf_extractor(TEXTS[0], return_tensors=True)
    assert isinstance(single, tf.Tensor) and single.shape == expected.shape
    np.testing.assert_allclose(single.numpy(), expected.numpy(), atol=1e-4)
    short = extractor(TEXTS[2], tokenize_kwargs={"truncation": True, "max_length": 8})
    assert np.shape(short) == np.shape(hf_extractor(TEXTS[2], tokenize_kwargs={"truncation": True, "max_length": 8}))
    with pytest.raises(InvalidInputError, match="truncation given twice"):
        extractor("x", truncation=True, tokenize_kwargs={"truncation": True})


def test_embeddings_are_mean_pooled_normalised_token_vectors(embedder, hf_extractor):
    vectors = embedder(TEXTS[:2])
    assert isinstance(vectors, np.ndarray) and vectors.shape == (2, 384) and vectors.dtype == np.float32
    for vector, tokens in zip(vectors, hf_extractor(TEXTS[:2])):
        mean = np.array(tokens[0]).mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)


def test_encode_arguments(embedder):
    one = embedder(TEXTS[0])
    assert one.shape == (384,)
    np.testing.assert_allclose(embedder(TEXTS, batch_size=1), embedder(TEXTS), atol=1e-5)
    cut = embedder(TEXTS[:2], truncate_dim=64, normalize_embeddings=True)
    assert cut.shape == (2, 64)
    np.testing.assert_allclose(np.linalg.norm(cut, axis=1), 1.0, atol=1e-5)
    assert isinstance(embedder(TEXTS[:2], convert_to_tensor=True), tf.Tensor)
    as_list = embedder(TEXTS[:2], convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == 2
    assert embedder([]).shape == (0, 384)
    for bad in ({"output_value": "token_embeddings"}, {"precision": "int8"}, {"truncate_dim": 0}, {"top_k": 1}):
        with pytest.raises(InvalidInputError):
            embedder(TEXTS[0], **bad)
    with pytest.raises(InvalidInputError, match="empty or only whitespace"):
        embedder(["fine", "  "])


def test_defaults_given_when_the_pipeline_is_made():
    pipe = pipeline("sentence-embeddings", truncate_dim=16)
    assert pipe(TEXTS[0]).shape == (16,)
    with pytest.raises(InvalidInputError, match="takes no argument top_k"):
        pipeline("sentence-embeddings", top_k=2)


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_PYTHON.exists(), reason="no .venv-torch (scripts/setup_torch.sh makes it) for sentence-transformers")
def test_embeddings_match_sentence_transformers_on_the_same_weights(embedder, tmp_path):
    texts = [example.text for example in sentiment_set("heldout") + sentiment_set("evaluation")][:300] + TEXTS
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    code = ("import json, sys\n"
            "from sentence_transformers import SentenceTransformer\n"
            "model = SentenceTransformer(sys.argv[1], device='cpu')\n"
            "texts = json.load(open(sys.argv[2]))\n"
            "json.dump(model.encode(texts, batch_size=32).tolist(), open(sys.argv[3], 'w'))\n")
    subprocess.run([str(TORCH_PYTHON), "-c", code, str(default_encoder_dir()), str(tmp_path / "texts.json"),
                    str(tmp_path / "theirs.json")], check=True, env={**os.environ, "USE_TF": "0"}, timeout=600)
    theirs = np.array(json.loads((tmp_path / "theirs.json").read_text()), np.float32)
    ours = embedder(texts)
    cosine = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    assert ours.shape == theirs.shape
    assert cosine.min() >= 0.99999
    assert np.max(np.abs(ours - theirs)) <= 1e-5
