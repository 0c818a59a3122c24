"""Build the shipped sentiment set from data/sentiment_source_*.txt.

The source files were written by hand for this project (lines "+ text" are POSITIVE,
"- text" NEGATIVE, "#" lines name the topic). For each label, every fifth sentence in
file order goes to the fixed held-out split, the rest to training, so both cover every
topic and style. Output: tf_pipeline/sentiment/{train,heldout}.jsonl.

    .venv/bin/python scripts/build_sentiment_set.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"+": "POSITIVE", "-": "NEGATIVE"}


def read_sources() -> list[dict]:
    examples, topic = [], ""
    for path in sorted((ROOT / "data").glob("sentiment_source_*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                topic = line.lstrip("# ").strip()
            elif line[:2] in {"+ ", "- "}:
                examples.append({"text": line[2:].strip(), "label": LABELS[line[0]], "topic": topic})
    texts = [example["text"] for example in examples]
    duplicates = {text for text in texts if texts.count(text) > 1}
    assert not duplicates, f"duplicate sentences: {duplicates}"
    return examples


def main() -> None:
    splits = {"train": [], "heldout": []}
    for label in LABELS.values():
        group = [example for example in read_sources() if example["label"] == label]
        for index, example in enumerate(group):
            splits["heldout" if index % 5 == 0 else "train"].append(example)
    out = ROOT / "tf_pipeline" / "sentiment"
    out.mkdir(exist_ok=True)
    for name, examples in splits.items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as file:
            for example in examples:
                file.write(json.dumps(example, ensure_ascii=False) + "\n")
        counts = {label: sum(e["label"] == label for e in examples) for label in LABELS.values()}
        print(f"{name}: {len(examples)} sentences {counts}")


if __name__ == "__main__":
    main()
