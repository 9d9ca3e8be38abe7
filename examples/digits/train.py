#!/usr/bin/env python3
"""Train the small digits CNN of examples/digits and export it for kiln.

Run once from anywhere:  python3 examples/digits/train.py
Needs numpy and scikit-learn only. Deterministic: fixed seeds, float64 numpy on the CPU;
re-running rewrites data/ byte for byte. `--seed N --out DIR` trains another network (other
initial weights and batch order, same split) into DIR, for accuracy.py --data DIR.

Data: scikit-learn's UCI handwritten digits (`load_digits`: 1797 8x8 images, pixel values
0..16, 10 classes). Pixels are divided by 16, so every input is a multiple of 1/16 in
[0, 1]: exact in f32 and in kiln's input type ufixed<8, 1>. The split is fixed and
stratified: train_test_split(test_size=0.3, random_state=0, stratify=y), i.e. 1257
training and 540 held-out images.

Network (channel-major, one image [1, 8, 8]):
    conv1  3x3, 1 -> 8, pad 1, + bias, relu, maxpool 2     -> [8, 4, 4]
    conv2  3x3, 8 -> 16, pad 1, + bias, relu, maxpool 2    -> [16, 2, 2]
    flatten (c, i, j order)                                 -> [64]
    fc1    64 -> 32, + bias, relu                           -> [32]
    fc2    32 -> 10, + bias                                 -> logits [10]

Training: softmax cross-entropy, Adam (lr 3e-3, cosine decay to 0), batch 32, 40 epochs,
He initialisation, all from numpy's default_rng(0). About 5 s.

Exported (data/):
  w1..w4.npy  float32 weights ([8,1,3,3], [16,8,3,3], [32,64], [10,32])
  b1..b4.npy  float32 biases, rounded to multiples of 2^-12 after training, so that the
              quantized scripts hold them exactly in fixed<20, 8> (the float model is
              evaluated with the rounded biases too: it is the exported model)
  x_test.npy  float32 [540, 1, 8, 8] held-out images, y_test.npy int64 [540] labels
  x_one.npy: the first held-out image (digits_one.kiln's default input)
  x_head.npy, y_head.npy: the first 60 held-out images and labels (for C-simulation and
              the interpreter, which are slower)
  summary.json: accuracies and the activation calibration (below)

Two float accuracies are reported: the float64 model (numpy, as trained) and a float32
forward pass that adds in exactly kiln's order (each sum starts at 0 and adds its terms in
the order of the kiln generator, one IEEE float32 rounding per multiply and per add, bias
added after the sum). The second is what `kiln run examples/digits/digits.kiln` computes,
bit for bit, and prints as its accuracy: float32(correct) / float32(540).

Activation calibration (for the quantized networks, digits_q.kiln): each quantized layer
converts relu(s * acc + b) to an activation type ufixed<B, I, rnd, sat> (B = 8 or 4 bits;
the conversion rounds to the nearest step 2^(I-B) and saturates at 2^I - 2^(I-B)). For
each layer and each B, I is the integer among ceil(log2(max)) - 3 .. ceil(log2(max)) that
minimises the mean squared error between the float model's activations on the TRAINING set
and their conversion to ufixed<B, I, rnd, sat> (max: the largest activation of that layer
on the training set). The activations calibrated are the relu outputs of conv1, conv2
(before pooling: that is where the quantized network converts) and fc1.
"""
import argparse
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

SEED = 0
EPOCHS = 40
BATCH = 32
LR = 3e-3
BIAS_FRAC = 12          # biases rounded to multiples of 2^-12
N_HEAD = 60             # images in x_head.npy


# ----------------------------------------------------------------------------- data

def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.images / 16.0)[:, None].astype(np.float64)        # [1797, 1, 8, 8]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    return xtr, ytr, xte, yte


# ----------------------------------------------------------------------------- layers (float64)

def pad1(x):
    return np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))


def im2col3(x):
    """[N, C, H, W] -> [N, H, W, C*9] for a 3x3 convolution with padding 1."""
    v = np.lib.stride_tricks.sliding_window_view(pad1(x), (3, 3), axis=(2, 3))  # N C H W 3 3
    n, c, h, w = v.shape[:4]
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n, h, w, c * 9)


def conv_fwd(x, w, b):
    k = w.shape[0]
    cols = im2col3(x)
    y = cols @ w.reshape(k, -1).T + b                        # N H W K
    return y.transpose(0, 3, 1, 2), cols


def conv_bwd(dy, cols, x_shape, w, need_dx):
    k, c, r, s = w.shape
    dyt = dy.transpose(0, 2, 3, 1)                           # N H W K
    dw = np.einsum("nhwk,nhwp->kp", dyt, cols).reshape(w.shape)
    db = dyt.sum((0, 1, 2))
    dx = None
    if need_dx:
        n, _, h, wd = dy.shape
        dcols = (dyt @ w.reshape(k, -1)).reshape(n, h, wd, c, r, s)
        dxp = np.zeros((n, c, h + 2, wd + 2))
        for u in range(r):
            for v in range(s):
                dxp[:, :, u:u + h, v:v + wd] += dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
        dx = dxp[:, :, 1:-1, 1:-1]
    return dw, db, dx


def pool_fwd(x):
    n, c, h, w = x.shape
    v = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    idx = v.argmax(-1)
    return np.take_along_axis(v, idx[..., None], -1)[..., 0], idx


def pool_bwd(dy, idx, shape):
    n, c, h, w = shape
    d = np.zeros(dy.shape + (4,))
    np.put_along_axis(d, idx[..., None], dy[..., None], -1)
    return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def softmax_ce(logits, y):
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


# ----------------------------------------------------------------------------- the model

def init_params(rng):
    def he(shape, fan_in):
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return {
        "w1": he((8, 1, 3, 3), 9), "b1": np.zeros(8),
        "w2": he((16, 8, 3, 3), 72), "b2": np.zeros(16),
        "w3": he((32, 64), 64), "b3": np.zeros(32),
        "w4": he((10, 32), 32) * 0.5, "b4": np.zeros(10),
    }


def forward(p, x):
    """Float64 forward pass; returns logits and the cache for backward."""
    z1, cols1 = conv_fwd(x, p["w1"], p["b1"])
    a1 = np.maximum(z1, 0)
    p1, i1 = pool_fwd(a1)
    z2, cols2 = conv_fwd(p1, p["w2"], p["b2"])
    a2 = np.maximum(z2, 0)
    p2, i2 = pool_fwd(a2)
    f = p2.reshape(len(x), -1)
    z3 = f @ p["w3"].T + p["b3"]
    a3 = np.maximum(z3, 0)
    logits = a3 @ p["w4"].T + p["b4"]
    cache = (x, z1, cols1, a1, p1, i1, z2, cols2, a2, i2, f, z3, a3)
    return logits, cache


def backward(p, dlogits, cache):
    x, z1, cols1, a1, p1, i1, z2, cols2, a2, i2, f, z3, a3 = cache
    g = {}
    g["w4"] = dlogits.T @ a3
    g["b4"] = dlogits.sum(0)
    da3 = dlogits @ p["w4"]
    dz3 = da3 * (z3 > 0)
    g["w3"] = dz3.T @ f
    g["b3"] = dz3.sum(0)
    df = dz3 @ p["w3"]
    dp2 = df.reshape(p1.shape[0], 16, 2, 2)
    da2 = pool_bwd(dp2, i2, a2.shape)
    dz2 = da2 * (z2 > 0)
    g["w2"], g["b2"], dp1 = conv_bwd(dz2, cols2, p1.shape, p["w2"], True)
    da1 = pool_bwd(dp1, i1, a1.shape)
    dz1 = da1 * (z1 > 0)
    g["w1"], g["b1"], _ = conv_bwd(dz1, cols1, x.shape, p["w1"], False)
    return g


def activations(p, x):
    """The relu outputs that the quantized network converts: conv1, conv2 (before pooling), fc1."""
    _, c = forward(p, x)
    return {"a1": c[3], "a2": c[8], "a3": c[12]}


def train(p, x, y, rng):
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    steps_per_epoch = (len(x) + BATCH - 1) // BATCH
    total = EPOCHS * steps_per_epoch
    t = 0
    for ep in range(EPOCHS):
        perm = rng.permutation(len(x))
        losses = []
        for s in range(steps_per_epoch):
            idx = perm[s * BATCH:(s + 1) * BATCH]
            logits, cache = forward(p, x[idx])
            loss, dl = softmax_ce(logits, y[idx])
            losses.append(loss)
            g = backward(p, dl, cache)
            lr = LR * 0.5 * (1 + np.cos(np.pi * t / total))
            t += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v2[k] = b2 * v2[k] + (1 - b2) * g[k] ** 2
                mh = m[k] / (1 - b1 ** t)
                vh = v2[k] / (1 - b2 ** t)
                p[k] -= lr * mh / (np.sqrt(vh) + eps)
        if ep % 10 == 9 or ep == EPOCHS - 1:
            acc = (predict64(p, x) == y).mean()
            print(f"epoch {ep + 1}: loss {np.mean(losses):.4f}, train accuracy {acc:.4f}")
    return p


def predict64(p, x):
    return forward(p, x)[0].argmax(1)


# ----------------------------------------------------------------------------- kiln's f32 order

def conv_f32_kiln(x, w, b):
    """3x3 convolution, pad 1, in float32, summing (c, u, v) in order from 0, then + bias."""
    n, c, h, wd = x.shape
    k = w.shape[0]
    xp = pad1(x)
    acc = np.zeros((n, k, h, wd), np.float32)
    for ci in range(c):
        for u in range(3):
            for v in range(3):
                acc = acc + xp[:, None, ci, u:u + h, v:v + wd] * w[None, :, ci, u, v, None, None]
    return acc + b[None, :, None, None]


def dense_f32_kiln(x, w, b):
    acc = np.zeros((x.shape[0], w.shape[0]), np.float32)
    for j in range(x.shape[1]):
        acc = acc + x[:, j, None] * w[None, :, j]
    return acc + b[None, :]


def predict_f32_kiln(p32, x):
    """The float32 forward pass of digits.kiln, same operations in the same order."""
    x = x.astype(np.float32)
    a1 = np.maximum(conv_f32_kiln(x, p32["w1"], p32["b1"]), np.float32(0))
    p1 = pool_fwd(a1)[0]
    a2 = np.maximum(conv_f32_kiln(p1, p32["w2"], p32["b2"]), np.float32(0))
    p2 = pool_fwd(a2)[0]
    f = p2.reshape(len(x), -1)
    a3 = np.maximum(dense_f32_kiln(f, p32["w3"], p32["b3"]), np.float32(0))
    logits = dense_f32_kiln(a3, p32["w4"], p32["b4"])
    assert logits.dtype == np.float32
    return logits.argmax(1)        # first largest, like kiln's argmax


# ----------------------------------------------------------------------------- calibration

def quant_ufixed(v, bits, ibits):
    """ufixed<bits, ibits, rnd, sat> of reals >= 0: round half up to 2^(ibits-bits), saturate."""
    step = 2.0 ** (ibits - bits)
    return np.clip(np.floor(v / step + 0.5), 0, 2 ** bits - 1) * step


def calibrate(acts, bits):
    out = []
    for name in ("a1", "a2", "a3"):
        a = acts[name].ravel()
        top = int(np.ceil(np.log2(a.max())))
        best = min(range(top - 3, top + 1), key=lambda i: (np.mean((quant_ufixed(a, bits, i) - a) ** 2), -i))
        out.append(best)
    return out


def main():
    ap = argparse.ArgumentParser(description="Train the digits CNN and export it for kiln.")
    ap.add_argument("--seed", type=int, default=SEED, help="initial weights and batch order (default 0)")
    ap.add_argument("--out", default=DATA, help="the output directory (default: data/ next to this script)")
    args = ap.parse_args()
    out = args.out
    xtr, ytr, xte, yte = load_data()
    print(f"train {len(ytr)}, test {len(yte)}")
    rng = np.random.default_rng(args.seed)
    p = init_params(rng)
    p = train(p, xtr, ytr, rng)
    for k in ("b1", "b2", "b3", "b4"):
        p[k] = np.round(p[k] * 2 ** BIAS_FRAC) / 2 ** BIAS_FRAC
        assert np.all(np.abs(p[k]) < 128)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    # The float64 model with the float32-rounded weights (what is exported).
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    acc64 = float((predict64(p64, xte) == yte).mean())
    pred32 = predict_f32_kiln(p32, xte)
    correct32 = int((pred32 == yte).sum())
    acc32 = float(np.float32(correct32) / np.float32(len(yte)))
    agree = int((pred32 == predict64(p64, xte)).sum())
    print(f"float64 test accuracy {acc64:.6f}; float32 in kiln's order {correct32}/{len(yte)} "
          f"= {np.float32(acc32)} (predictions agree on {agree}/{len(yte)})")
    acts = activations(p64, xtr)
    calib = {str(b): calibrate(acts, b) for b in (8, 4)}
    maxes = {k: float(v.max()) for k, v in acts.items()}
    print(f"activation maxima on the training set {maxes}; integer bits {calib}")

    os.makedirs(out, exist_ok=True)
    for k, v in p32.items():
        np.save(os.path.join(out, f"{k}.npy"), v)
    np.save(os.path.join(out, "x_test.npy"), xte.astype(np.float32))
    np.save(os.path.join(out, "y_test.npy"), yte.astype(np.int64))
    np.save(os.path.join(out, "x_head.npy"), xte[:N_HEAD].astype(np.float32))
    np.save(os.path.join(out, "x_one.npy"), xte[0].astype(np.float32))  # digits_one.kiln's default
    np.save(os.path.join(out, "y_head.npy"), yte[:N_HEAD].astype(np.int64))
    head32 = int((pred32[:N_HEAD] == yte[:N_HEAD]).sum())
    summary = {
        "split": "train_test_split(test_size=0.3, random_state=0, stratify=y)",
        "n_train": int(len(ytr)),
        "n_test": int(len(yte)),
        "float64_accuracy": acc64,
        "float32_kiln_order_correct": correct32,
        "float32_kiln_order_accuracy": acc32,
        "float32_kiln_order_accuracy_str": str(np.float32(acc32)),
        "float32_head_correct": head32,
        "activation_max_train": maxes,
        "activation_int_bits": calib,
    }
    if args.seed != SEED:
        summary["seed"] = args.seed
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
        fh.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
