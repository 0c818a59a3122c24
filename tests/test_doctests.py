"""The docstring examples that can run, run (those that need a model or a file are marked ``+SKIP``)."""

import doctest
import importlib
import pkgutil

import pytest

import tf_pipeline

SKIPPED = ("tf_pipeline.cli.__main__",)  # runs the program on import
MODULES = sorted(info.name for info in pkgutil.walk_packages(tf_pipeline.__path__, "tf_pipeline.")
                 if info.name not in SKIPPED)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs=vars(module).copy()):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
