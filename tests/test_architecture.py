"""The import arrows point one way (docs/architecture.md), and loading never trains."""

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "tf_pipeline"
LAYERS = {  # a module may import its own subpackage and lower layers, never higher or beside
    "errors": 0, "atomic": 0.5, "quiet": 0.5, "tasks": 0.8,
    "tokenizers": 1, "checkpoints": 1,
    "runners": 2,
    "export": 3, "training": 3,
    "benchmark": 4, "beam": 4,
    "api": 5,
    "cli": 6,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every tf_pipeline module ``path`` imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tf_pipeline"):
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names
                      if (PACKAGE.parent / f"{node.module}.{alias.name}".replace(".", "/")).with_suffix(".py").is_file()}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("tf_pipeline")}
        assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: use absolute imports"
    return names


def layer(module: str) -> tuple[str, int]:
    part = module.split(".")[1] if "." in module else ""
    return part, LAYERS[part]


def modules() -> dict[str, set[str]]:
    return {module_name(path): imported_modules(path) for path in PACKAGE.rglob("*.py")}


def test_every_module_belongs_to_a_layer():
    assert {layer(name)[0] for name in modules() if name != "tf_pipeline"} <= set(LAYERS)


def test_imports_point_down_only():
    wrong = []
    for name, imports in modules().items():
        if name == "tf_pipeline":  # the lazy public namespace
            continue
        own, rank = layer(name)
        for target in imports - {"tf_pipeline"}:
            other, other_rank = layer(target)
            if other != own and other_rank >= rank:
                wrong.append(f"{name} → {target}")
    assert not wrong, wrong


def test_no_import_cycle():
    imports_of = modules()
    graph = {name: imports & imports_of.keys() for name, imports in imports_of.items()}
    done, path = set(), []

    def visit(node):
        assert node not in path, " → ".join(path[path.index(node):] + [node])
        if node in done:
            return
        path.append(node)
        for target in graph.get(node, ()):
            visit(target)
        path.pop()
        done.add(node)

    for node in graph:
        visit(node)


def test_loading_the_default_never_builds_it(tmp_path):
    code = ("from tf_pipeline import CheckpointNotFoundError, load_checkpoint\n"
            "try:\n    load_checkpoint()\nexcept CheckpointNotFoundError as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_PIPELINE_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "tf-pipeline build-default" in done.stdout
    assert not any(tmp_path.iterdir())  # nothing was built
