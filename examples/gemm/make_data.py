"""Deterministic inputs for gemm.kiln (python3 make_data.py; needs numpy)."""
import numpy as np, os
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
rng = np.random.default_rng(7)
np.save(os.path.join(d, "a.npy"), rng.integers(-128, 128, (32, 64)).astype(np.int8))
np.save(os.path.join(d, "b.npy"), rng.integers(-128, 128, (64, 16)).astype(np.int8))
