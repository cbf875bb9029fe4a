import os

# Tests run on the CPU, with a predictable thread count on 2-core CI machines.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
