"""TensorFlow's C++ start-up lines are hidden when TF_CPP_MIN_LOG_LEVEL asks, and only then."""

import os
import subprocess
import sys

IMPORT = "from tf_pipeline.quiet import import_tensorflow; import sys; tf = import_tensorflow(); print(tf.__version__)"


def run(level: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, timeout=300, env=env)


def test_import_is_quiet_when_the_level_asks_and_stderr_comes_back():
    done = run("1")
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
    assert "I0000" not in done.stderr and "oneDNN" not in done.stderr, done.stderr
    broken = subprocess.run([sys.executable, "-c", IMPORT.replace("print(tf.__version__)", "sys.stderr.write('after')")],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert broken.stderr.endswith("after")  # stderr is back once TensorFlow is imported


def test_nothing_is_hidden_unless_asked():
    done = run(None)
    assert done.returncode == 0
    assert "oneDNN custom operations" in done.stderr  # what TensorFlow 2.21 prints at import
