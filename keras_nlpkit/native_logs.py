"""Dropping the C++ log lines TensorFlow and the TFLite converter print that say nothing actionable.

TensorFlow's start-up lines (oneDNN, CUDA, CPU features) and the converter's
quantizer summary are written by C++ straight to file descriptor 2, before or
beside anything Python can filter, and `TF_CPP_MIN_LOG_LEVEL` does not reach all
of them. `filtered_stderr` captures descriptor 2 around one short call and prints
back every other line, so warnings that matter are kept.
"""

import contextlib
import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"oneDNN custom operations|Could not find cuda drivers|cpu_feature_guard|"
    r"To enable the following instructions|absl::InitializeLog|failed call to cuInit|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    r"^fully_quantize: |tf\.lite\.Interpreter is deprecated|_INTERPRETER_DELETION_WARNING|"
    r"TF 2\.20\. Please use the LiteRT|migration guide|^\s*for details\.\s*$|"
    r"^INFO: Created TensorFlow Lite XNNPACK delegate"
)


@contextlib.contextmanager
def filtered_stderr(noise=NOISE):
    """Runs the body with descriptor 2 captured; re-prints the lines `noise` does not match."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().decode("utf-8", "replace").splitlines()
                if line.strip() and not noise.search(line)
            ]
            if kept:
                print("\n".join(kept), file=sys.stderr)
