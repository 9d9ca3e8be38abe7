"""A deterministic test image for map_dot.kiln (python3 make_data.py; needs numpy)."""
import numpy as np, os
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
y, x = np.mgrid[0:12, 0:12]
img = (np.sin(x / 2.0) * np.cos(y / 3.0) + 1) / 2 * 0.99
np.save(os.path.join(d, "img.npy"), img.astype(np.float32))
