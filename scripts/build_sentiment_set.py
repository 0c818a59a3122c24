"""Build the shipped sentiment set (tf_pipeline/training/sentiment/*.jsonl) from the hand-written sources in data/.

Every sentence was written by hand for this project; none comes from a public dataset or site.
Source files hold lines "+ text" (POSITIVE) and "- text" (NEGATIVE); "# name" lines name the
topic of the lines below.

- data/sentiment_source_*.txt (the first 752 sentences, short product and service statements):
  for each label, every fifth sentence in file order is the fixed held-out split, the rest train.
- data/train/*.txt (film, series and book reviews by critics and viewers, hard cases, products,
  apps, games, places, services): for each file and label, every tenth sentence goes to the
  validation split (for choosing training settings), the rest to train.
- data/evaluation/*.txt (written separately, in another voice, hard cases over-represented): the
  independent evaluation split, never used for training or for choosing settings.
- data/critics/*.txt (written separately again, by other writers, in the voice of published film
  critics, at the lengths of sentences pulled from reviews): the critics split, never used for
  training or for choosing settings either.

A sentence already in an earlier split (held-out, evaluation, critics, validation, train, in that order),
exactly or after lowercasing and collapsing whitespace and punctuation, is dropped from the later
one; each split is then balanced by dropping the last sentences of its larger label.

    .venv/bin/python scripts/build_sentiment_set.py [--output DIR]
"""

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
LABELS = {"+": "POSITIVE", "-": "NEGATIVE"}
SPLITS = ("heldout", "evaluation", "critics", "validation", "train")  # earlier splits win a shared sentence


def normalise(text: str) -> str:
    """The form two sentences are compared in: lowercase, punctuation and whitespace collapsed."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def read_source(path: Path) -> list[dict]:
    examples, topic = [], ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("#"):
            topic = line.lstrip("# ").strip()
        elif line[:2] in {"+ ", "- "} and line[2:].strip():
            examples.append({"text": line[2:].strip(), "label": LABELS[line[0]], "topic": topic, "origin": path.stem})
        elif line.strip():
            raise SystemExit(f"{path}:{number}: expected '+ text', '- text' or '# topic', got {line[:40]!r}")
    return examples


def every_nth(examples: list[dict], n: int) -> tuple[list[dict], list[dict]]:
    """Per label, every n-th example in file order (the first included) and the rest."""
    picked, rest = [], []
    for label in LABELS.values():
        group = [example for example in examples if example["label"] == label]
        for index, example in enumerate(group):
            (picked if index % n == 0 else rest).append(example)
    return picked, rest


def gather() -> dict[str, list[dict]]:
    splits = {name: [] for name in SPLITS}
    first = [example for path in sorted(DATA.glob("sentiment_source_*.txt")) for example in read_source(path)]
    for example in first:
        example.pop("origin")  # the first set's lines keep their original fields
    heldout, train = every_nth(first, 5)
    splits["heldout"] += heldout
    splits["train"] += train
    for path in sorted((DATA / "train").glob("*.txt")):
        validation, train = every_nth(read_source(path), 10)
        splits["validation"] += validation
        splits["train"] += train
    for split in ("evaluation", "critics"):
        for path in sorted((DATA / split).glob("*.txt")):
            splits[split] += read_source(path)
    return splits


def deduplicate_and_balance(splits: dict[str, list[dict]]) -> dict[str, list[dict]]:
    seen, clean = set(), {}
    for name in SPLITS:
        kept = []
        for example in splits[name]:
            key = normalise(example["text"])
            if key not in seen:
                seen.add(key)
                kept.append(example)
        groups = {label: [e for e in kept if e["label"] == label] for label in LABELS.values()}
        size = min(len(group) for group in groups.values())
        keep = {id(e) for group in groups.values() for e in group[:size]}
        clean[name] = [e for e in kept if id(e) in keep]
    return clean


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the shipped sentiment splits from data/.")
    parser.add_argument("--output", default=str(ROOT / "tf_pipeline" / "training" / "sentiment"), help="default: tf_pipeline/training/sentiment")
    out = Path(parser.parse_args().output)
    out.mkdir(parents=True, exist_ok=True)
    for name, examples in deduplicate_and_balance(gather()).items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as file:
            for example in examples:
                file.write(json.dumps(example, ensure_ascii=False) + "\n")
        counts = {label: sum(e["label"] == label for e in examples) for label in LABELS.values()}
        print(f"{name}: {len(examples)} sentences {counts}")


if __name__ == "__main__":
    main()
