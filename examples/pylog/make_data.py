"""A deterministic test image for map_dot.kiln (python3 make_data.py; needs numpy)."""
import numpy as np, os
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
y, x = np.mgrid[0:12, 0:12]
img = (np.sin(x / 2.0) * np.cos(y / 3.0) + 1) / 2 * 0.99
np.save(os.path.join(d, "img.npy"), img.astype(np.float32))

# The stencils of gaussian.kiln, jacobi.kiln and sobel.kiln: their inputs and numpy's
# results (f32 operations in the programs' order, so kiln must match them bit for bit;
# tests/examples.rs compares).
f32 = np.float32
rng = np.random.default_rng(15)

gimg = rng.random((16, 20)).astype(f32)
gw = np.array([[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]], f32)
gout = np.zeros((14, 18), f32)
for u in range(3):  # dot's order: row-major over the window
    for v in range(3):
        gout = gout + gimg[u:u + 14, v:v + 18] * gw[u, v]
np.save(os.path.join(d, "gauss_img.npy"), gimg)
np.save(os.path.join(d, "gauss_ref.npy"), gout)

ja = rng.random((16, 16)).astype(f32)
A, B = ja.copy(), ja.copy()
for t in range(6):
    B[1:-1, 1:-1] = f32(0.2) * (A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[2:, 1:-1] + A[:-2, 1:-1])
    A[1:-1, 1:-1] = f32(0.2) * (B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[2:, 1:-1] + B[:-2, 1:-1])
np.save(os.path.join(d, "jacobi_a.npy"), ja)
np.save(os.path.join(d, "jacobi_ref.npy"), A)

simg = (rng.random((18, 24)) * 256).astype(np.uint8)
kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
ky = kx.T
s = simg.astype(np.int64)
gx = sum(s[u:u + 16, v:v + 22] * kx[u, v] for u in range(3) for v in range(3))
gy = sum(s[u:u + 16, v:v + 22] * ky[u, v] for u in range(3) for v in range(3))
np.save(os.path.join(d, "sobel_img.npy"), simg)
np.save(os.path.join(d, "sobel_ref.npy"), np.sqrt((gx * gx + gy * gy).astype(f32)))
