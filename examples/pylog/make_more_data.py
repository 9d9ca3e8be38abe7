"""Inputs and numpy references of the PyLog-style programs (matmul, cholesky, seidel,
bubble_sort, knn, vadd, prefix_sum, packed, lu, kmeans_step): python3 make_more_data.py.

Each reference is computed the way the program computes it, one float64 operation at a
time in the same order (np.float64 scalars), so kiln's results must equal it bit for bit;
where numpy has a library function (np.cumsum, np.sort, np.linalg.cholesky) the test
data is chosen so that it agrees too, and the script checks that."""
import numpy as np, os
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ref = os.path.join(d, "ref")
os.makedirs(ref, exist_ok=True)
rng = np.random.default_rng(2026)
f = np.float64

def save(name, a):
    np.save(os.path.join(d, name), a)

def save_ref(name, a):
    np.save(os.path.join(ref, name), a)

# matmul
a = rng.standard_normal((8, 6)); b = rng.standard_normal((6, 5))
save("mm_a.npy", a); save("mm_b.npy", b)
c = np.zeros((8, 5))
for i in range(8):
    for j in range(5):
        t = f(0.0)
        for k in range(6):
            t = t + a[i, k] * b[k, j]
        c[i, j] = t
save_ref("matmul.npy", c)

# cholesky and lu of one symmetric positive definite matrix
m = rng.standard_normal((6, 6)); spd = m @ m.T + 6 * np.eye(6)
save("spd_6.npy", spd)
L = np.zeros((6, 6))
for i in range(6):
    for j in range(i + 1):
        s = f(0.0)
        for k in range(j):
            s = s + L[i, k] * L[j, k]
        L[i, j] = np.sqrt(spd[i, i] - s) if i == j else (spd[i, j] - s) / L[j, j]
assert np.allclose(L, np.linalg.cholesky(spd))
save_ref("cholesky.npy", L)
A = spd.copy()
for k in range(6):
    for i in range(k + 1, 6):
        A[i, k] = A[i, k] / A[k, k]
        for j in range(k + 1, 6):
            A[i, j] = A[i, j] - A[i, k] * A[k, j]
save_ref("lu.npy", A)

# seidel
g = rng.uniform(0, 100, (10, 12))
save("grid_10x12.npy", g)
G = g.copy()
for t in range(4):
    for i in range(1, 9):
        for j in range(1, 11):
            G[i, j] = (G[i - 1, j] + G[i, j - 1] + G[i, j] + G[i, j + 1] + G[i + 1, j]) / f(5.0)
save_ref("seidel.npy", G)

# bubble sort
u = rng.integers(-30000, 30000, 24).astype(np.int16)
save("unsorted_24.npy", u)
save_ref("bubble_sort.npy", np.sort(u))

# knn
refs = rng.uniform(-1, 1, (20, 3)); queries = rng.uniform(-1, 1, (5, 3))
save("knn_refs.npy", refs); save("knn_queries.npy", queries)
def dist2(p, q):
    s = f(0.0)
    for k in range(3):
        s = s + (p[k] - q[k]) * (p[k] - q[k])
    return s
D = np.array([[dist2(refs[r], queries[q]) for r in range(20)] for q in range(5)])
save_ref("knn_nearest.npy", D.argmin(axis=1).astype(np.uint8))
save_ref("knn_best.npy", D.min(axis=1))

# vadd (float32)
va = rng.standard_normal(16).astype(np.float32); vb = rng.standard_normal(16).astype(np.float32)
save("va.npy", va); save("vb.npy", vb)
save_ref("vadd.npy", va + vb)

# prefix sums
x = rng.integers(-2048, 2048, 32).astype(np.int16)
save("ints_32.npy", x)
cs = np.cumsum(x.astype(np.int64)).astype(np.int32)   # kiln writes int<17> as int32
save_ref("prefix_sum.npy", cs)
save_ref("prefix_max.npy", np.array(cs.max()))

# packed words
la = rng.integers(0, 65536, 8).astype(np.uint16); lb = rng.integers(0, 65536, 8).astype(np.uint16)
save("lanes_a.npy", la); save("lanes_b.npy", lb)
save_ref("packed.npy", (la.astype(np.uint32) + lb.astype(np.uint32)).astype(np.uint16))

# one k-means step
pts = np.concatenate([rng.normal(c, 0.3, (14, 2)) for c in ([0, 0], [2, 2], [0, 3])])[:40]
cen = np.array([[0.1, 0.2], [1.8, 2.1], [0.3, 2.7]])
save("km_points.npy", pts); save("km_centres.npy", cen)
dd = np.array([[sum((pts[p, k] - cen[c, k]) ** 2 for k in range(2)) for c in range(3)] for p in range(40)])
lab = dd.argmin(axis=1)
new = cen.copy()
for c in range(3):
    n = int((lab == c).sum())
    for k in range(2):
        s = f(0.0)
        for p in range(40):
            if lab[p] == c:
                s = s + pts[p, k]
        new[c, k] = s / n if n > 0 else cen[c, k]
save_ref("km_labels.npy", lab.astype(np.uint8))
save_ref("km_centres_new.npy", new)
