import atexit
import os
import shutil
import tempfile

# Tests run on the CPU, and train into a throw-away model cache (papermill kernels inherit both).
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
if "XAIKIT_CACHE_DIR" not in os.environ:
    os.environ["XAIKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="xaikit-test-cache-")
    atexit.register(shutil.rmtree, os.environ["XAIKIT_CACHE_DIR"], ignore_errors=True)
