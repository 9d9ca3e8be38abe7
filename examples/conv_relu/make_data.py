"""Deterministic inputs for conv_relu.kiln (python3 make_data.py; needs numpy)."""
import numpy as np, os
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
rng = np.random.default_rng(2024)
np.save(os.path.join(d, "x.npy"), rng.uniform(-4, 4, (8, 18, 18)).astype(np.float32))
np.save(os.path.join(d, "w.npy"), rng.integers(-2, 2, (8, 8, 3, 3)).astype(np.int8))
np.save(os.path.join(d, "bias.npy"), (rng.integers(-16, 16, 8) / 16).astype(np.float32))
